/// The `poll(2)` timeout, in milliseconds, that ends at `deadline`: -1 (wait for ever) without
/// one, `nil` once it has passed. Rounded up, so a wait never wakes just short of the deadline.
func pollTimeout(until deadline: ContinuousClock.Instant?) -> Int32? {
    guard let deadline else { return -1 }
    let remaining = deadline - ContinuousClock.now
    if remaining <= .zero { return nil }
    let (seconds, attoseconds) = remaining.components
    return Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1)
}

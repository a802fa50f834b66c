extension String {
    /// The text cut to `cap` characters, with a note saying how many were left out.
    /// `unknownRemainder` says that even more was dropped before the text got here (a child's
    /// capture limit), so the count is a lower bound.
    func capped(at cap: Int, unknownRemainder: Bool = false) -> String {
        let total = count
        guard total > cap || unknownRemainder else { return self }
        let kept = total > cap ? String(prefix(max(0, cap))) : self
        let omitted = max(0, total - cap)
        let separator = kept.isEmpty || kept.hasSuffix("\n") ? "" : "\n"
        let amount = unknownRemainder ? "more than \(omitted)" : "\(omitted)"
        return kept + separator + "[output truncated: \(amount) chars omitted]"
    }

    var trimmingTrailingNewlines: String {
        var result = self
        while let last = result.last, last == "\n" || last == "\r\n" || last == "\r" { result.removeLast() }
        return result
    }
}

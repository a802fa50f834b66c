/// Opens once migrations have run. Background services wait on it, so a first start does not
/// log errors about tables and functions that are still being created.
public actor SchemaReady {
    private var ready = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    public init() {}

    public func open() {
        ready = true
        waiters.forEach { $0.resume() }
        waiters = []
    }

    public func wait() async {
        if ready { return }
        await withCheckedContinuation { waiters.append($0) }
    }
}

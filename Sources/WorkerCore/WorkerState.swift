import Foundation

/// The worker's lifecycle: registering -> polling -> draining -> stopped, with `abort` as the
/// escalation a second signal brings. The actor is the one place that knows how many slots are
/// busy, so heartbeats report real values.
actor WorkerState {
    enum Phase: String, Sendable {
        case registering, polling, draining, stopped
    }

    let slots: Int
    private(set) var phase: Phase = .registering
    private(set) var aborting = false
    private(set) var active: Set<UUID> = []
    private(set) var completed = 0
    private(set) var controlReachable = true
    private var slotWaiters: [CheckedContinuation<Void, Never>] = []

    init(slots: Int) { self.slots = slots }

    var freeSlots: Int { max(slots - active.count, 0) }
    var acceptingWork: Bool { phase == .polling && !aborting }

    /// idle / busy / draining, as the light heartbeat reports it.
    var status: String {
        if phase == .draining || phase == .stopped || aborting { return "draining" }
        return active.isEmpty ? "idle" : "busy"
    }

    func setPhase(_ phase: Phase) {
        self.phase = phase
        wakeSlotWaiters()
    }

    func taskStarted(_ id: UUID) { active.insert(id) }

    func taskFinished(_ id: UUID) {
        if active.remove(id) != nil { completed += 1 }
        wakeSlotWaiters()
    }

    func contact(ok: Bool) { controlReachable = ok }

    /// Begins a drain; false when one was already under way (the caller then escalates).
    func beginDrain() -> Bool {
        guard phase != .draining && phase != .stopped else { return false }
        phase = .draining
        wakeSlotWaiters()
        return true
    }

    func beginAbort() {
        aborting = true
        if phase != .stopped { phase = .draining }
        wakeSlotWaiters()
    }

    /// Returns when a slot frees up or the worker stops taking work.
    func waitForFreeSlot() async {
        if freeSlots > 0 || !acceptingWork { return }
        await withCheckedContinuation { slotWaiters.append($0) }
    }

    private func wakeSlotWaiters() {
        let waiters = slotWaiters
        slotWaiters = []
        waiters.forEach { $0.resume() }
    }
}

import Foundation
import Glibc

/// What /proc says about processes, for the questions `kill(2)` cannot answer.
enum ProcessTable {
    struct Entry: Sendable, Equatable {
        var pid: pid_t
        /// The one-letter state: R, S, D, Z (zombie), X (dead), T (stopped), ...
        var state: Character
        var parent: pid_t
        var processGroup: pid_t

        /// A zombie has exited and only waits for its parent (or init) to collect its status;
        /// it runs no code and holds no resources but its pid.
        var isDead: Bool { state == "Z" || state == "X" }
    }

    /// Parses /proc/<pid>/stat. The command name is in parentheses and may itself contain
    /// spaces and parentheses, so the fields are counted from the last ')'.
    static func parseStat(_ text: String) -> Entry? {
        guard let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")"),
              let pid = pid_t(text[..<open].trimmingCharacters(in: .whitespaces))
        else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count >= 3, let state = fields[0].first,
              let parent = pid_t(fields[1]), let group = pid_t(fields[2])
        else { return nil }
        return Entry(pid: pid, state: state, parent: parent, processGroup: group)
    }

    static func entry(_ pid: pid_t) -> Entry? {
        guard let text = KernelFile.read("/proc/\(pid)/stat", limit: 4096) else { return nil }
        return parseStat(text)
    }

    /// Whether the process exists and has not exited (a zombie counts as gone).
    static func isAlive(_ pid: pid_t) -> Bool {
        guard let entry = entry(pid) else { return false }
        return !entry.isDead
    }

    /// Members of a process group that have not exited.
    static func livingMembers(ofGroup group: pid_t) -> [pid_t] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return names.compactMap { name -> pid_t? in
            guard let pid = pid_t(name), let entry = entry(pid) else { return nil }
            return entry.processGroup == group && !entry.isDead ? pid : nil
        }
    }

    /// True once no process in the group is still running.
    ///
    /// `kill(-pgid, 0)` alone is not enough: it succeeds while any member is a zombie, and
    /// zombies linger wherever PID 1 does not reap orphans (containers without an init, this
    /// project's CI VM). A zombie cannot act, so only the /proc check decides in that case;
    /// the cheap syscall answers the common case.
    static func isGroupGone(_ group: pid_t) -> Bool {
        if kill(-group, 0) == -1, errno == ESRCH { return true }
        return livingMembers(ofGroup: group).isEmpty
    }
}

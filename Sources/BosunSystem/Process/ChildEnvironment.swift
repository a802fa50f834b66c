/// The environment a task process may see.
public enum ChildEnvironment {
    /// Variables systemd hands to the worker about the worker itself. A child that inherited
    /// NOTIFY_SOCKET could report READY/STOPPING or pet the watchdog on the worker's behalf;
    /// LISTEN_* would make it try to adopt sockets it does not own; CREDENTIALS_DIRECTORY
    /// points at the worker's secrets. INVOCATION_ID stays: it only names the service run and
    /// lets a task's logs be correlated with the worker's.
    public static let removedNames: Set<String> = [
        "NOTIFY_SOCKET",
        "WATCHDOG_USEC",
        "WATCHDOG_PID",
        "LISTEN_FDS",
        "LISTEN_PID",
        "LISTEN_FDNAMES",
        "MAINPID",
        "MANAGERPID",
        "SYSTEMD_EXEC_PID",
        "CREDENTIALS_DIRECTORY",
        "JOURNAL_STREAM",
    ]

    /// Variables with this prefix (in any case) configure the worker: its API key, tokens and
    /// control URL. None of them may reach a task process.
    public static let removedPrefix = "BOSUN_"

    /// `environment` without the worker's systemd plumbing and without any `BOSUN_*` variable.
    public static func scrubbed(_ environment: [String: String]) -> [String: String] {
        environment.filter { name, _ in
            !removedNames.contains(name) && !name.uppercased().hasPrefix(removedPrefix)
        }
    }
}

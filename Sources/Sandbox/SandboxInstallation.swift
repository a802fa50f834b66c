import Foundation

/// Where the exec helper and the profiles are on this host.
///
/// The helper sits next to the worker binary unless `BOSUN_SANDBOX_HELPER` names it. Profiles
/// come from `BOSUN_SANDBOX_PROFILES`, else the first of `/etc/bosun/sandbox-profiles`,
/// `<bin>/../share/bosun/sandbox-profiles` and `./sandbox-profiles` (a source checkout) that exists.
public struct SandboxInstallation: Sendable, Equatable {
    public var helper: String
    public var profilesDirectory: String

    public init(helper: String, profilesDirectory: String) {
        self.helper = helper
        self.profilesDirectory = profilesDirectory
    }

    public static func locate(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        executable: String = CommandLine.arguments[0]
    ) -> SandboxInstallation {
        let binDirectory = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
        let helper = environment["BOSUN_SANDBOX_HELPER"].flatMap { $0.isEmpty ? nil : $0 }
            ?? binDirectory.appendingPathComponent("bosun-sandbox").path
        if let profiles = environment["BOSUN_SANDBOX_PROFILES"], !profiles.isEmpty {
            return SandboxInstallation(helper: helper, profilesDirectory: profiles)
        }
        let candidates = [
            "/etc/bosun/sandbox-profiles",
            binDirectory.appendingPathComponent("../share/bosun/sandbox-profiles").standardized.path,
            FileManager.default.currentDirectoryPath + "/sandbox-profiles",
        ]
        var isDirectory: ObjCBool = false
        let found = candidates.first { FileManager.default.fileExists(atPath: $0, isDirectory: &isDirectory) && isDirectory.boolValue }
        return SandboxInstallation(helper: helper, profilesDirectory: found ?? candidates[0])
    }

    /// Loads and compiles a profile by name; an unknown or bad profile is an error, never a fallback.
    public func compile(profile name: String) throws -> CompiledProfile {
        try CompiledProfile(try SandboxProfile.load(name: name, directory: profilesDirectory))
    }
}

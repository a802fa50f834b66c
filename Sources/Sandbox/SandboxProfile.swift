import Foundation

/// A sandbox profile: OCI/Docker seccomp JSON plus Bosun's own `bosun` object (rlimits, network,
/// writable paths). Profiles live in `sandbox-profiles/NAME.json`.
public struct SandboxProfile: Codable, Sendable, Equatable {
    /// The profile's name (the file name without `.json`); not part of the JSON.
    public var name: String = ""
    /// Where it was loaded from; not part of the JSON.
    public var source: String = ""

    public var defaultAction: String?
    public var defaultErrnoRet: UInt32?
    public var architectures: [String]?
    public var syscalls: [Syscall]?
    public var bosun: Limits?

    public struct Syscall: Codable, Sendable, Equatable {
        public var names: [String]
        public var action: String
        public var args: [Argument]?
        public var errnoRet: UInt32?
        public var comment: String?

        public init(names: [String], action: String, args: [Argument]? = nil, errnoRet: UInt32? = nil, comment: String? = nil) {
            self.names = names
            self.action = action
            self.args = args
            self.errnoRet = errnoRet
            self.comment = comment
        }
    }

    public struct Argument: Codable, Sendable, Equatable {
        public var index: UInt32
        public var value: UInt64
        public var valueTwo: UInt64?
        /// `SCMP_CMP_EQ|NE|LT|LE|GT|GE|MASKED_EQ`; for MASKED_EQ `value` is the mask and
        /// `valueTwo` the expected masked value (as in Docker's profiles).
        public var op: String

        public init(index: UInt32, value: UInt64, valueTwo: UInt64? = nil, op: String) {
            self.index = index
            self.value = value
            self.valueTwo = valueTwo
            self.op = op
        }
    }

    public enum Network: String, Codable, Sendable {
        case none
        case host
    }

    public struct Limits: Codable, Sendable, Equatable {
        public var rlimits: Rlimits?
        public var network: Network?
        /// Paths the tool may write beneath (Landlock); `$WORKSPACE` is the execution's
        /// workspace. Empty or absent: no write restriction.
        public var writablePaths: [String]?
        /// `"unconfined"` declares on purpose that there is no syscall filter (the trusted
        /// profile). Without it a profile must have a `defaultAction`.
        public var seccomp: String?

        enum CodingKeys: String, CodingKey {
            case rlimits, network, seccomp
            case writablePaths = "writable_paths"
        }

        public init(rlimits: Rlimits? = nil, network: Network? = nil, writablePaths: [String]? = nil, seccomp: String? = nil) {
            self.rlimits = rlimits
            self.network = network
            self.writablePaths = writablePaths
            self.seccomp = seccomp
        }
    }

    public struct Rlimits: Codable, Sendable, Equatable {
        public var cpuSeconds: UInt64?
        public var addressSpaceBytes: UInt64?
        public var openFiles: UInt64?
        public var processes: UInt64?
        public var fileSizeBytes: UInt64?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case cpuSeconds = "cpu_seconds"
            case addressSpaceBytes = "address_space_bytes"
            case openFiles = "open_files"
            case processes
            case fileSizeBytes = "file_size_bytes"
        }

        public init(cpuSeconds: UInt64? = nil, addressSpaceBytes: UInt64? = nil, openFiles: UInt64? = nil, processes: UInt64? = nil, fileSizeBytes: UInt64? = nil) {
            self.cpuSeconds = cpuSeconds
            self.addressSpaceBytes = addressSpaceBytes
            self.openFiles = openFiles
            self.processes = processes
            self.fileSizeBytes = fileSizeBytes
        }

        /// `(helper name, value)` pairs for `bosun-sandbox --rlimit NAME=VALUE`.
        public var settings: [(name: String, value: UInt64)] {
            [
                (CodingKeys.cpuSeconds.rawValue, cpuSeconds), (CodingKeys.addressSpaceBytes.rawValue, addressSpaceBytes),
                (CodingKeys.openFiles.rawValue, openFiles), (CodingKeys.processes.rawValue, processes),
                (CodingKeys.fileSizeBytes.rawValue, fileSizeBytes),
            ].compactMap { pair in pair.1.map { (pair.0, $0) } }
        }
    }

    enum CodingKeys: String, CodingKey {
        case defaultAction, defaultErrnoRet, architectures, syscalls, bosun
    }

    public init(
        name: String, defaultAction: String?, defaultErrnoRet: UInt32? = nil, architectures: [String]? = nil,
        syscalls: [Syscall]? = nil, bosun: Limits? = nil
    ) {
        self.name = name
        self.defaultAction = defaultAction
        self.defaultErrnoRet = defaultErrnoRet
        self.architectures = architectures
        self.syscalls = syscalls
        self.bosun = bosun
    }

    /// True when the profile has no syscall filter (`bosun.seccomp: "unconfined"`).
    public var isUnconfined: Bool { defaultAction == nil }
    public var network: Network { bosun?.network ?? .host }
    public var rlimits: Rlimits { bosun?.rlimits ?? Rlimits() }
    public var writablePaths: [String] { bosun?.writablePaths ?? [] }
}

// MARK: Loading

extension SandboxProfile {
    /// Loads `directory/name.json`. An unknown name is an error, never a fallback.
    public static func load(name: String, directory: String) throws -> SandboxProfile {
        let valid = !name.isEmpty && name.utf8.allSatisfy { c in
            (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
                || c == UInt8(ascii: "-") || c == UInt8(ascii: "_")
        }
        guard valid else {
            throw SandboxProfileError(.unknownProfile, file: name, "profile names are [a-z0-9_-]+")
        }
        let path = (directory as NSString).appendingPathComponent("\(name).json")
        guard FileManager.default.fileExists(atPath: path) else {
            throw SandboxProfileError(.unknownProfile, file: path, "unknown profile \"\(name)\" (no such file)")
        }
        var profile = try load(path: path)
        profile.name = name
        return profile
    }

    /// Loads and validates one profile file.
    public static func load(path: String) throws -> SandboxProfile {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw SandboxProfileError(.unreadable, file: path, "cannot read: \(error.localizedDescription)")
        }
        var profile = try decode(data, file: path)
        profile.source = path
        profile.name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        return profile
    }

    /// Decodes and validates JSON. Unknown keys are errors: a misspelt `defaultAction` must not
    /// quietly turn a profile into no filter at all.
    public static func decode(_ data: Data, file: String) throws -> SandboxProfile {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw SandboxProfileError(.malformed, file: file, "not valid JSON: \(error.localizedDescription)")
        }
        try checkKeys(object, file: file)
        let profile: SandboxProfile
        do {
            profile = try JSONDecoder().decode(SandboxProfile.self, from: data)
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw SandboxProfileError(.invalidField, file: file, field: path(context.codingPath), context.debugDescription)
        } catch let DecodingError.keyNotFound(key, context) {
            throw SandboxProfileError(.invalidField, file: file, field: path(context.codingPath + [key]), "required field is missing")
        } catch let DecodingError.dataCorrupted(context) {
            throw SandboxProfileError(.invalidField, file: file, field: path(context.codingPath), context.debugDescription)
        } catch {
            throw SandboxProfileError(.malformed, file: file, "\(error)")
        }
        try profile.validate(file: file)
        return profile
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        var out = ""
        for key in keys {
            if let index = key.intValue {
                out += "[\(index)]"
            } else {
                out += out.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return out
    }

    private static func checkKeys(_ object: Any, file: String) throws {
        func check(_ value: Any?, _ allowed: Set<String>, _ field: String) throws {
            guard let dict = value as? [String: Any] else { return }
            for key in dict.keys.sorted() where !allowed.contains(key) {
                let name = field.isEmpty ? key : "\(field).\(key)"
                throw SandboxProfileError(.unknownField, file: file, field: name, "unknown field (allowed: \(allowed.sorted().joined(separator: ", ")))")
            }
        }
        guard let root = object as? [String: Any] else {
            throw SandboxProfileError(.malformed, file: file, "the top level must be a JSON object")
        }
        try check(root, ["defaultAction", "defaultErrnoRet", "architectures", "syscalls", "bosun", "comment"], "")
        for (i, entry) in ((root["syscalls"] as? [Any]) ?? []).enumerated() {
            try check(entry, ["names", "action", "args", "errnoRet", "comment"], "syscalls[\(i)]")
            for (j, arg) in (((entry as? [String: Any])?["args"] as? [Any]) ?? []).enumerated() {
                try check(arg, ["index", "value", "valueTwo", "op"], "syscalls[\(i)].args[\(j)]")
            }
        }
        let bosun = root["bosun"] as? [String: Any]
        try check(bosun, ["rlimits", "network", "writable_paths", "seccomp"], "bosun")
        try check(bosun?["rlimits"], Set(Rlimits.CodingKeys.allCases.map(\.rawValue)), "bosun.rlimits")
        // Foundation reports a negative UInt64 as "not valid JSON" without a path: check here.
        for (key, value) in (bosun?["rlimits"] as? [String: Any]) ?? [:] {
            let number = (value as? NSNumber)?.doubleValue
            if number == nil || number! < 0 || number!.rounded() != number! {
                throw SandboxProfileError(.invalidField, file: file, field: "bosun.rlimits.\(key)", "\(value) is not a non-negative integer")
            }
        }
    }

    /// Checks every field; syscall, action and architecture names are resolved with libseccomp.
    public func validate(file: String) throws {
        func fail(_ field: String, _ message: String) -> SandboxProfileError {
            SandboxProfileError(.invalidField, file: file, field: field, message)
        }
        switch (defaultAction, bosun?.seccomp) {
        case (nil, "unconfined"?):
            if let syscalls, !syscalls.isEmpty { throw fail("syscalls", "an unconfined profile has no syscall rules") }
            if architectures != nil { throw fail("architectures", "an unconfined profile has no architectures") }
        case (nil, _):
            throw fail("defaultAction", "required (or declare \"bosun\": {\"seccomp\": \"unconfined\"} for no syscall filter)")
        case (let action?, nil):
            _ = try Seccomp.action(action, errno: defaultErrnoRet).get(file: file, field: "defaultAction")
        case (_, let value?):
            throw fail("bosun.seccomp", "\"\(value)\" is not allowed here (only \"unconfined\", without a defaultAction)")
        }
        if let errno = defaultErrnoRet, !(1...4095).contains(errno) {
            throw fail("defaultErrnoRet", "\(errno) is not an errno (1...4095)")
        }
        for (i, arch) in (architectures ?? []).enumerated() where Seccomp.architecture(arch) == nil {
            throw fail("architectures[\(i)]", "unknown architecture \"\(arch)\"")
        }
        if let architectures, !architectures.isEmpty,
            !architectures.contains(where: { Seccomp.architecture($0) == Seccomp.nativeArchitecture })
        {
            throw fail("architectures", "does not include this host's architecture")
        }
        for (i, rule) in (syscalls ?? []).enumerated() {
            let field = "syscalls[\(i)]"
            if rule.names.isEmpty { throw fail("\(field).names", "empty") }
            for (j, name) in rule.names.enumerated() where !Seccomp.isKnownSyscall(name) {
                throw fail("\(field).names[\(j)]", "unknown syscall \"\(name)\"")
            }
            _ = try Seccomp.action(rule.action, errno: rule.errnoRet).get(file: file, field: "\(field).action")
            if let errno = rule.errnoRet, !(1...4095).contains(errno) {
                throw fail("\(field).errnoRet", "\(errno) is not an errno (1...4095)")
            }
            for (j, arg) in (rule.args ?? []).enumerated() {
                if arg.index > 5 { throw fail("\(field).args[\(j)].index", "\(arg.index) is not 0...5") }
                if Seccomp.comparison(arg.op) == nil { throw fail("\(field).args[\(j)].op", "unknown comparison \"\(arg.op)\"") }
            }
        }
        let limits = rlimits
        for (name, value) in limits.settings where value == 0 && name != Rlimits.CodingKeys.fileSizeBytes.rawValue {
            throw fail("bosun.rlimits.\(name)", "0 would stop every tool from running")
        }
        for (i, path) in writablePaths.enumerated() {
            let ok = path == "$WORKSPACE" || path.hasPrefix("$WORKSPACE/") || (path.hasPrefix("/") && !path.contains("$"))
            if !ok { throw fail("bosun.writable_paths[\(i)]", "\"\(path)\" is neither absolute nor under $WORKSPACE") }
        }
    }
}

// MARK: Strength (the seam for "an agent's profile cannot be weaker than its policy allows")

extension SandboxProfile {
    /// How much a profile confines: `trusted < standard < strict`.
    public enum Strength: Int, Comparable, Sendable, CustomStringConvertible {
        /// No syscall filter (limits only).
        case trusted = 0
        /// Syscall filter, host network.
        case standard = 1
        /// Syscall filter and no network.
        case strict = 2

        public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
        public var description: String { ["trusted", "standard", "strict"][rawValue] }
    }

    /// Derived from what the profile does, not from its name.
    public var strength: Strength {
        if isUnconfined { return .trusted }
        return network == .none ? .strict : .standard
    }

    public func isAtLeast(_ minimum: Strength) -> Bool { strength >= minimum }
    public func isAtLeast(_ other: SandboxProfile) -> Bool { strength >= other.strength }
}

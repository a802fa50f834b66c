import Foundation

/// Where `{{secret.NAME}}` values come from on a worker: one file per secret, named by the
/// secret. That is the layout of systemd credentials (`LoadCredential=` / `SetCredentialEncrypted=`,
/// exposed as `$CREDENTIALS_DIRECTORY`) and of Kubernetes secret volumes, so operators keep secrets
/// where their platform already manages them. Files are read when a server starts, for the names
/// it references only; nothing is cached or put into the worker's own environment.
public struct SecretDirectory: Sendable, Equatable {
    public let path: String
    /// A secret larger than this is refused (a misplaced file, not a token).
    public static let maxValueBytes = 64 * 1024

    public init(path: String) {
        self.path = path
    }

    /// Throws unless `path` is a readable directory.
    public func check() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw MCPError(.invalidConfiguration, "secrets directory '\(path)' does not exist or is not a directory")
        }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw MCPError(.invalidConfiguration, "secrets directory '\(path)' is not readable")
        }
    }

    /// Whether `name` can name a file here: no path separators, no hidden or parent entries.
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 255 && !name.hasPrefix(".")
            && name.unicodeScalars.allSatisfy { scalar in
                scalar.isASCII
                    && (CharacterSet.alphanumerics.contains(scalar) || scalar == "_" || scalar == "-" || scalar == ".")
            }
    }

    /// The values of `names` that exist here. A missing secret is simply absent (the server that
    /// references it then fails to start, naming it); an unreadable or oversized one throws.
    /// One trailing newline is dropped, as `echo value > file` writes one.
    public func values(for names: Set<String>) throws -> [String: String] {
        var values: [String: String] = [:]
        for name in names where Self.isValidName(name) {
            let file = (path as NSString).appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: file) else { continue }
            guard let data = FileManager.default.contents(atPath: file) else {
                throw MCPError(.unknownSecret, "secret \(name): cannot read \(file)")
            }
            guard data.count <= Self.maxValueBytes else {
                throw MCPError(.unknownSecret, "secret \(name): \(file) is larger than \(Self.maxValueBytes) bytes")
            }
            var value = String(decoding: data, as: UTF8.self)
            if value.hasSuffix("\r\n") {
                value.removeLast(1)  // "\r\n" is one Character
            } else if value.hasSuffix("\n") {
                value.removeLast()
            }
            values[name] = value
        }
        return values
    }
}

extension MCPServerConfig {
    /// The names of every `{{secret.NAME}}` in `env`.
    public var referencedSecrets: Set<String> {
        var names: Set<String> = []
        for value in env.values {
            // The same scan as `substitute`: `{{ secret.NAME }}`, spaces inside the braces allowed.
            var rest = value[...]
            while let open = rest.range(of: "{{"), let close = rest[open.upperBound...].range(of: "}}") {
                let inner = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
                if inner.hasPrefix("secret.") { names.insert(String(inner.dropFirst("secret.".count))) }
                rest = rest[close.upperBound...]
            }
        }
        return names
    }
}

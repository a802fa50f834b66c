import BosunProtocol
import Foundation
import Glibc

/// The hook input JSON in a private temporary directory, for the hooks' stdin.
struct HookInputFile: Sendable {
    let directory: String
    var path: String { directory + "/input.json" }

    init(_ payload: JSONValue) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(payload)
        var template = Array((NSTemporaryDirectory().trimmingTrailingSlashes + "/bosun-hook-XXXXXX").utf8CString)
        guard let created = mkdtemp(&template) else {
            throw ToolFailure("cannot create a temporary directory: \(String(cString: strerror(errno)))")
        }
        directory = String(cString: created)
        try FileAccess.write(data, to: directory + "/input.json", display: "the hook input")
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }
}

extension String {
    fileprivate var trimmingTrailingSlashes: String {
        var result = self
        while result.count > 1, result.hasSuffix("/") { result.removeLast() }
        return result
    }
}

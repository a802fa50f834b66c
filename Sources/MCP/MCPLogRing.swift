/// The last lines a server wrote to stderr, bounded in lines and bytes. stderr is logs, never
/// protocol: it is kept for diagnostics and error messages only.
public struct MCPLogRing: Sendable {
    public let maxLines: Int
    public let maxLineBytes: Int
    private var storage: [String] = []
    private var head = 0

    public init(maxLines: Int = 200, maxLineBytes: Int = 2048) {
        self.maxLines = max(1, maxLines)
        self.maxLineBytes = max(16, maxLineBytes)
    }

    public mutating func append(_ line: String) {
        var line = line
        if line.utf8.count > maxLineBytes {
            line = String(decoding: line.utf8.prefix(maxLineBytes), as: UTF8.self) + "..."
        }
        if storage.count < maxLines {
            storage.append(line)
        } else {
            storage[head] = line
            head = (head + 1) % maxLines
        }
    }

    /// Oldest first.
    public var lines: [String] { Array(storage[head...] + storage[..<head]) }

    /// The last `count` lines joined, for error messages.
    public func tail(_ count: Int) -> String { lines.suffix(count).joined(separator: "\n") }
}

import BosunProtocol
import Foundation
import Logging

/// A swift-log handler that writes one JSON object per line to standard error:
/// `{"ts":..., "level":..., "label":..., "msg":..., <metadata>...}`.
///
/// Correlation ids travel as metadata (`bosun.request.id`, `bosun.execution.id`,
/// `bosun.worker.id`, `bosun.org.id`), never baked into the message text.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    public var metadataProvider: Logger.MetadataProvider?
    let label: String

    public init(label: String, level: Logger.Level = .info, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.logLevel = level
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        write(level: event.level, message: event.message, metadata: event.metadata)
    }

    func write(level: Logger.Level, message: Logger.Message, metadata extra: Logger.Metadata?) {
        var fields: [String: Logger.MetadataValue] = [
            "ts": .string(InternetDate.format(Date())),
            "level": .string(level.rawValue),
            "label": .string(label),
            "msg": .string(message.description),
        ]
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra { merged.merge(extra) { _, new in new } }
        for (key, value) in merged where fields[key] == nil {
            fields[key] = value
        }
        var line = ""
        Self.append(.dictionary(fields), to: &line)
        line.append("\n")
        FileHandle.standardError.write(Data(line.utf8))
    }

    /// JSON by hand: JSONSerialization costs +4.7 MB of resident memory on Linux (it pulls in
    /// ICU), a lot for a worker whose idle footprint is measured. Keys are sorted.
    static func append(_ value: Logger.MetadataValue, to out: inout String) {
        switch value {
        case .string(let text): appendString(text, to: &out)
        case .stringConvertible(let convertible): appendString(convertible.description, to: &out)
        case .array(let values):
            out.append("[")
            for (index, item) in values.enumerated() {
                if index > 0 { out.append(",") }
                append(item, to: &out)
            }
            out.append("]")
        case .dictionary(let values):
            out.append("{")
            for (index, key) in values.keys.sorted().enumerated() {
                if index > 0 { out.append(",") }
                appendString(key, to: &out)
                out.append(":")
                append(values[key]!, to: &out)
            }
            out.append("}")
        }
    }

    static func appendString(_ text: String, to out: inout String) {
        out.append("\"")
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out.append("\\\"")
            case "\\": out.append("\\\\")
            case "\n": out.append("\\n")
            case "\r": out.append("\\r")
            case "\t": out.append("\\t")
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out.append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
            default: out.unicodeScalars.append(scalar)
            }
        }
        out.append("\"")
    }
}

public enum BosunLogging {
    /// Installs JSON (default) or human-readable logs for the whole process, once at start.
    /// With a `ring`, every record is also kept there (the worker's log tail).
    public static func bootstrap(level: Logger.Level = .info, format: String = "json", ring: LogRing? = nil) {
        LoggingSystem.bootstrap { label in
            let handler: any LogHandler
            if format == "text" {
                var stream = StreamLogHandler.standardError(label: label)
                stream.logLevel = level
                handler = stream
            } else {
                handler = JSONLogHandler(label: label, level: level)
            }
            guard let ring else { return handler }
            return RingLogHandler(wrapping: handler, ring: ring, label: label)
        }
    }
}

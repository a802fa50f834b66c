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
        var fields: [String: Any] = [
            "ts": Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)),
            "level": level.rawValue,
            "label": label,
            "msg": message.description,
        ]
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra { merged.merge(extra) { _, new in new } }
        for (key, value) in merged where fields[key] == nil {
            fields[key] = Self.plain(value)
        }
        guard var data = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]) else { return }
        data.append(0x0A)
        FileHandle.standardError.write(data)
    }


    static func plain(_ value: Logger.MetadataValue) -> Any {
        switch value {
        case .string(let text): text
        case .stringConvertible(let convertible): convertible.description
        case .array(let values): values.map(plain)
        case .dictionary(let values): values.mapValues(plain)
        }
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

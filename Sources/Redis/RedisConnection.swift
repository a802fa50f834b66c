import CHiredis
import Dispatch
import Foundation

/// A reply from Redis, copied out of hiredis' memory.
public enum RedisReply: Sendable, Equatable {
    case string(String)
    case integer(Int64)
    case array([RedisReply])
    case status(String)
    case null
    case error(String)
}

public struct RedisError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A `redis://[user:password@]host:port[/db]` URL.
public struct RedisURL: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var username: String?
    public var password: String?
    public var database: Int

    public init(_ text: String) throws {
        guard let components = URLComponents(string: text), components.scheme == "redis" else {
            throw RedisError("a Redis URL must look like redis://[user:password@]host:port[/db], got '\(text)'")
        }
        // `percentEncodedHost`, not `host`: `host` runs the name through IDNA (ICU's UTS #46),
        // which maps about 1.6 MB of ICU code and data into every worker that reads its Redis URL
        // (docs/ARCHITECTURE.md, "Measured (bosun bench worker ...)").
        var host = components.percentEncodedHost.flatMap { $0.removingPercentEncoding } ?? ""
        if host.hasPrefix("["), host.hasSuffix("]") {
            host = String(host.dropFirst().dropLast())  // an IPv6 literal; hiredis takes it bare
        }
        self.host = host.isEmpty ? "127.0.0.1" : host
        port = components.port ?? 6379
        username = components.user.flatMap { $0.isEmpty ? nil : $0.removingPercentEncoding }
        password = components.password.flatMap { $0.removingPercentEncoding }
        database = components.path.split(separator: "/").first.flatMap { Int($0) } ?? 0
    }

    /// The URL without credentials, safe to log.
    public var description: String {
        "redis://\(host.contains(":") ? "[\(host)]" : host):\(port)/\(database)"
    }
}

/// One hiredis connection, owned by one serial queue (hiredis is blocking and not thread-safe).
/// The only file in Bosun that calls hiredis (0.14 on Debian 12: RESP2 replies only). Reconnects on the next command after an error.
public final class RedisConnection: @unchecked Sendable {
    public let url: RedisURL
    let timeout: Duration
    private let queue = DispatchQueue(label: "bosun.redis")
    // Touched only on `queue`.
    private var context: UnsafeMutablePointer<redisContext>?

    public init(url: RedisURL, timeout: Duration = .seconds(2)) {
        self.url = url
        self.timeout = timeout
    }

    deinit {
        if let context { redisFree(context) }
    }

    /// Runs one command (`["SET", "k", "v"]`). A Redis error reply is returned as `.error`;
    /// connection problems throw.
    public func command(_ arguments: [String]) async throws -> RedisReply {
        try await pipeline([arguments])[0]
    }

    /// Sends several commands in one round trip and returns their replies in order.
    ///
    /// A connection that was already open may have been closed by the server meanwhile (Redis
    /// restarted, an idle timeout); that failure surfaces only on first use, so the commands are
    /// sent once more on a fresh connection. Heartbeat and ACL commands are safe to repeat.
    public func pipeline(_ commands: [[String]]) async throws -> [RedisReply] {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                let reused = self.context != nil
                do {
                    continuation.resume(returning: try self.runPipeline(commands))
                } catch where reused {
                    continuation.resume(with: Result { try self.runPipeline(commands) })
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    public func ping() async throws {
        let reply = try await command(["PING"])
        guard reply == .status("PONG") else { throw RedisError("unexpected PING reply: \(reply)") }
    }

    private func runPipeline(_ commands: [[String]]) throws -> [RedisReply] {
        let context = try connected()
        for arguments in commands {
            try append(arguments, to: context)
        }
        var replies: [RedisReply] = []
        for _ in commands {
            var raw: UnsafeMutableRawPointer?
            guard redisGetReply(context, &raw) == REDIS_OK, let raw else {
                let message = Self.errorText(context)
                disconnect()
                throw RedisError("Redis at \(url) failed: \(message)")
            }
            let reply = raw.assumingMemoryBound(to: redisReply.self)
            replies.append(Self.convert(reply))
            freeReplyObject(raw)
        }
        return replies
    }

    private func append(_ arguments: [String], to context: UnsafeMutablePointer<redisContext>) throws {
        let cStrings = arguments.map { strdup($0) }
        defer { cStrings.forEach { free($0) } }
        var pointers: [UnsafePointer<CChar>?] = cStrings.map { UnsafePointer($0) }
        var lengths: [Int] = arguments.map { $0.utf8.count }
        let status = pointers.withUnsafeMutableBufferPointer { argv in
            lengths.withUnsafeMutableBufferPointer { argvlen in
                redisAppendCommandArgv(context, Int32(arguments.count), argv.baseAddress, argvlen.baseAddress)
            }
        }
        guard status == REDIS_OK else {
            disconnect()
            throw RedisError("could not send a command to Redis at \(url)")
        }
    }

    private func connected() throws -> UnsafeMutablePointer<redisContext> {
        if let context, context.pointee.err == 0 { return context }
        disconnect()
        let tv = timeval(
            tv_sec: Int(timeout.components.seconds), tv_usec: Int(timeout.components.attoseconds / 1_000_000_000_000))
        guard let context = redisConnectWithTimeout(url.host, Int32(url.port), tv) else {
            throw RedisError("could not allocate a Redis connection")
        }
        if context.pointee.err != 0 {
            let message = Self.errorText(context)
            redisFree(context)
            throw RedisError("cannot connect to Redis at \(url): \(message)")
        }
        redisSetTimeout(context, tv)
        self.context = context
        if let password = url.password {
            let auth = url.username.map { ["AUTH", $0, password] } ?? ["AUTH", password]
            try append(auth, to: context)
            try expectOK(context, what: "AUTH")
        }
        if url.database != 0 {
            try append(["SELECT", String(url.database)], to: context)
            try expectOK(context, what: "SELECT")
        }
        return context
    }

    private func expectOK(_ context: UnsafeMutablePointer<redisContext>, what: String) throws {
        var raw: UnsafeMutableRawPointer?
        guard redisGetReply(context, &raw) == REDIS_OK, let raw else {
            disconnect()
            throw RedisError("Redis \(what) failed at \(url)")
        }
        let reply = Self.convert(raw.assumingMemoryBound(to: redisReply.self))
        freeReplyObject(raw)
        if case .error(let message) = reply {
            disconnect()
            throw RedisError("Redis \(what) was refused: \(message)")
        }
    }

    private func disconnect() {
        if let context { redisFree(context) }
        context = nil
    }

    private static func errorText(_ context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: context.pointee.errstr) { bytes in
            String(decoding: bytes.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
    }

    private static func convert(_ reply: UnsafeMutablePointer<redisReply>) -> RedisReply {
        let r = reply.pointee
        func text() -> String {
            guard let str = r.str else { return "" }
            return String(decoding: UnsafeRawBufferPointer(start: str, count: Int(r.len)), as: UTF8.self)
        }
        switch Int32(r.type) {
        case REDIS_REPLY_STRING: return .string(text())
        case REDIS_REPLY_STATUS: return .status(text())
        case REDIS_REPLY_ERROR: return .error(text())
        case REDIS_REPLY_INTEGER: return .integer(r.integer)
        case REDIS_REPLY_NIL: return .null
        case REDIS_REPLY_ARRAY:
            var items: [RedisReply] = []
            for index in 0..<Int(r.elements) {
                if let element = r.element[index] { items.append(convert(element)) }
            }
            return .array(items)
        default: return .null
        }
    }
}

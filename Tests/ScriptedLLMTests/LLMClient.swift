import AsyncHTTPClient
import BosunProtocol
import Foundation
import Logging
import NIOCore
import ScriptedLLM

/// Real HTTP to a scripted LLM server, the way a provider client talks to it.
struct LLMClient: Sendable {
    let baseURL: String

    init(_ server: ScriptedLLMServer) { baseURL = server.url }

    struct Reply: Sendable {
        var status: Int
        /// Header values by lower-case name.
        var headers: [String: String]
        var body: Data
        /// Set when the connection broke before the body was complete.
        var error: (any Error)?
        /// When each body part arrived.
        var arrivals: [ContinuousClock.Instant]

        func header(_ name: String) -> String? { headers[name.lowercased()] }

        var text: String { String(decoding: body, as: UTF8.self) }
        var json: JSONValue? { try? JSONDecoder().decode(JSONValue.self, from: body) }
        var events: [SSEEvent] { SSEEvent.parse(text) }
    }

    func post(
        _ path: String, _ body: JSONValue, headers: [(String, String)] = [], timeout: TimeAmount = .seconds(30)
    ) async throws -> Reply {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return try await post(path, raw: try encoder.encode(body), headers: headers, timeout: timeout)
    }

    func post(
        _ path: String, raw: Data, headers: [(String, String)] = [], timeout: TimeAmount = .seconds(30)
    ) async throws -> Reply {
        try await send("POST", path, raw: raw, headers: headers, timeout: timeout)
    }

    func send(
        _ method: String, _ path: String, raw: Data? = nil, headers: [(String, String)] = [],
        timeout: TimeAmount = .seconds(30)
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = .init(rawValue: method)
        if let raw {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: raw))
        }
        for (name, value) in headers { request.headers.replaceOrAdd(name: name, value: value) }
        let response = try await HTTPClient.shared.execute(request, timeout: timeout)
        var body = Data()
        var arrivals: [ContinuousClock.Instant] = []
        var failure: (any Error)?
        do {
            for try await part in response.body {
                arrivals.append(.now)
                body.append(contentsOf: part.readableBytesView)
            }
        } catch {
            failure = error
        }
        var headerValues: [String: String] = [:]
        for header in response.headers { headerValues[header.name.lowercased()] = header.value }
        return Reply(
            status: Int(response.status.code), headers: headerValues, body: body, error: failure, arrivals: arrivals)
    }
}

/// One server-sent event as a client parses it.
struct SSEEvent: Sendable, Equatable {
    var event: String?
    var data: String

    var json: JSONValue? { try? JSONDecoder().decode(JSONValue.self, from: Data(data.utf8)) }

    static func parse(_ text: String) -> [SSEEvent] {
        text.components(separatedBy: "\n\n").compactMap { block in
            var event: String?
            var data: [String] = []
            for line in block.split(separator: "\n", omittingEmptySubsequences: true) {
                if line.hasPrefix("event: ") { event = String(line.dropFirst(7)) }
                if line.hasPrefix("data: ") { data.append(String(line.dropFirst(6))) }
            }
            return data.isEmpty ? nil : SSEEvent(event: event, data: data.joined(separator: "\n"))
        }
    }
}

extension JSONValue {
    subscript(index: Int) -> JSONValue? {
        guard let array = arrayValue, array.indices.contains(index) else { return nil }
        return array[index]
    }

    var intValue: Int? { numberValue.map { Int($0) } }
}

enum Fixtures {
    static let logger: Logger = {
        var logger = Logger(label: "scripted-llm-test")
        logger.logLevel = .warning
        return logger
    }()

    static func openAI(
        _ text: String = "Hi", model: String = "openai/gpt-4o-mini", stream: Bool = false, includeUsage: Bool = false,
        tools: [String] = [], system: String? = nil
    ) -> JSONValue {
        var messages: [JSONValue] = []
        if let system { messages.append(["role": "system", "content": .string(system)]) }
        messages.append(["role": "user", "content": .string(text)])
        var body: [String: JSONValue] = ["model": .string(model), "messages": .array(messages)]
        if stream { body["stream"] = true }
        if includeUsage { body["stream_options"] = ["include_usage": true] }
        if !tools.isEmpty {
            body["tools"] = .array(
                tools.map { ["type": "function", "function": ["name": .string($0), "parameters": ["type": "object"]]] })
        }
        return .object(body)
    }

    static func anthropic(
        _ text: String = "Hi", model: String = "claude-sonnet-4-5", stream: Bool = false, tools: [String] = [],
        system: String? = nil
    ) -> JSONValue {
        var body: [String: JSONValue] = [
            "model": .string(model), "max_tokens": 1024, "messages": [["role": "user", "content": .string(text)]],
        ]
        if stream { body["stream"] = true }
        if let system { body["system"] = .string(system) }
        if !tools.isEmpty {
            body["tools"] = .array(tools.map { ["name": .string($0), "input_schema": ["type": "object"]] })
        }
        return .object(body)
    }
}

func withServer(
    script: ScriptedLLMScript? = nil, requireKey: String? = nil,
    _ body: (ScriptedLLMServer, LLMClient) async throws -> Void
) async throws {
    let server = try await ScriptedLLMServer.start(script: script, requireKey: requireKey, logger: Fixtures.logger)
    do {
        try await body(server, LLMClient(server))
    } catch {
        await server.stop()
        throw error
    }
    await server.stop()
}

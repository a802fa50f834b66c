import BosunProtocol
import Foundation
import Testing

/// `JSONValueCoder` (and `WireCoding.encode`/`decode` on top of it) must write exactly the bytes
/// Foundation's JSONEncoder writes with `WireCoding.encoder()`, read what `WireCoding.decoder()`
/// reads, and refuse what it refuses, with the same coding paths.
@Suite struct JSONValueCodingTests {
    static let started = Date(timeIntervalSince1970: 1_795_000_000.125)

    static let agent = AgentSpec(
        id: UUID(), name: "researcher", runtime: "agno", model: "openai/gpt-4o-mini",
        instructions: "Answer \"briefly\".\nUse tools / when needed.", tools: [["type": "builtin", "name": "Bash"]],
        mcpServers: ["time": ["command": "mcp-server-time", "args": ["--local-timezone", "UTC"]]],
        sandboxProfile: "default", limits: ["max_turns": 5, "max_budget_usd": 0.25], settings: ["temperature": 0.2])

    static let assignment = TaskAssignment(
        id: UUID(), executionId: UUID(), organizationId: UUID(), queueId: UUID(), turn: 2, attempt: 1, maxAttempts: 3,
        lease: Lease(id: UUID(), expiresAt: started, durationS: 60, renewIntervalS: 15), agent: agent,
        input: ["text": "é中 \u{1F600} tab\tquote\" slash/"],
        history: [TurnHistory(turn: 1, input: "hi", messages: [["role": "assistant", "content": "hello"]])],
        ledger: [["message": ["role": "tool", "tool_call_id": "c1", "content": "42"]]],
        policies: [PolicySnapshot(id: UUID(), name: "org", level: .organization, rules: ["tools": ["deny": ["Bash"]]])])

    static let execution = Execution(
        id: UUID(), organizationId: UUID(), agentId: UUID(), teamId: nil, status: .waitingForInput,
        input: ["nested": [1, 2.5, -3e-7, true, .null]], routing: Routing(strategy: .specificQueue, queueId: UUID()),
        queueId: UUID(), turnCount: 3, output: "done", error: nil, cancelRequested: false, idempotencyKey: "order-42",
        createdAt: started, updatedAt: started.addingTimeInterval(1.5), completedAt: nil, messageStrategy: .interrupt,
        pendingMessages: 2)

    static let completion = CompleteTaskRequest(
        leaseId: UUID(),
        result: TurnResult(
            messages: [["role": "assistant", "content": "ok"]],
            toolCalls: [ToolCallRecord(id: "c1", name: "get_time", arguments: ["tz": "UTC"], result: "12:00", isError: false, durationMs: 3.25)],
            usage: Usage(inputTokens: 1200, outputTokens: 34, cacheReadTokens: 7), costUsd: 0.000123, finishReason: .stop,
            output: "ok", model: "openai/gpt-4o-mini", timings: TurnTimings(startedAt: started, durationMs: 812.5)),
        events: [TaskEvent(seq: 7, type: "RunContent", data: ["content": "o"], ts: started)])

    static let registration = WorkerRegistrationResponse(
        workerId: UUID(), token: "bwt_abc", tokenExpiresAt: started,
        queue: QueueInfo(id: UUID(), name: "gpu", wireName: "o.q", environmentId: nil, organizationId: UUID()),
        heartbeat: HeartbeatSettings(
            redisUrl: "redis://127.0.0.1:6379", username: "w", password: nil, keyPrefix: "bosun", lightIntervalS: 10,
            fullIntervalS: 60, ttlS: 25),
        poll: PollSettings(maxWaitS: 30), lease: LeaseSettings(durationS: 60, renewIntervalS: 15),
        llm: LLMSettings(baseUrl: nil, defaultModel: "m", fallbacks: ["a", "b"]), features: ["complete-events"])

    func sameAsFoundation<T: Codable & Equatable>(_ value: T) throws {
        let ours = try WireCoding.encode(value)
        let foundation = Array(try WireCoding.encoder().encode(value))
        #expect(String(decoding: ours, as: UTF8.self) == String(decoding: foundation, as: UTF8.self))
        let decoded = try WireCoding.decode(T.self, from: ours)
        #expect(decoded == value)
        #expect(decoded == (try WireCoding.decoder().decode(T.self, from: Data(foundation))))
    }

    @Test func wireTypesEncodeToTheSameBytesAndDecodeBack() throws {
        try sameAsFoundation(PollResponse(tasks: [Self.assignment]))
        try sameAsFoundation(Self.execution)
        try sameAsFoundation(ItemList(items: [Self.execution]))
        try sameAsFoundation(Self.completion)
        try sameAsFoundation(Self.registration)
        try sameAsFoundation(
            CreateExecutionRequest(agentId: UUID(), input: "x", routing: Routing(strategy: .auto), idempotencyKey: "k"))
        try sameAsFoundation(PollRequest(slots: 4, waitS: 25, heldTaskIds: [UUID(), UUID()]))
        try sameAsFoundation(AppendEventsRequest(leaseId: UUID(), events: [TaskEvent(seq: 1, type: "t", data: [:])]))
        try sameAsFoundation(["b": [1, 2], "a": [], "é": [3]] as [String: [Int]])
    }

    @Test func errorsCarryTheCodingPathAsFoundationsDo() throws {
        func decodeError<T: Decodable>(_ type: T.Type, _ json: String) -> DecodingError? {
            do {
                _ = try WireCoding.decode(type, from: Array(json.utf8))
                return nil
            } catch let error as DecodingError {
                return error
            } catch {
                return nil
            }
        }
        func path(_ error: DecodingError?) -> String? {
            switch error {
            case .keyNotFound(let key, let context)?: (context.codingPath + [key]).map(\.stringValue).joined(separator: ".")
            case .typeMismatch(_, let context)?, .valueNotFound(_, let context)?, .dataCorrupted(let context)?:
                context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            default: nil
            }
        }
        let missing = decodeError(PollRequest.self, "{}")
        guard case .keyNotFound? = missing else { throw TestFailure("expected keyNotFound, got \(String(describing: missing))") }
        #expect(path(missing) == "slots")

        let wrongType = decodeError(PollRequest.self, #"{"slots": "four"}"#)
        guard case .typeMismatch? = wrongType else { throw TestFailure("expected typeMismatch, got \(String(describing: wrongType))") }
        #expect(path(wrongType) == "slots")

        let null = decodeError(PollRequest.self, #"{"slots": null}"#)
        guard case .valueNotFound? = null else { throw TestFailure("expected valueNotFound, got \(String(describing: null))") }

        let fraction = decodeError(PollRequest.self, #"{"slots": 1.5}"#)
        guard case .dataCorrupted? = fraction else { throw TestFailure("expected dataCorrupted, got \(String(describing: fraction))") }
        #expect(path(fraction) == "slots")

        let badUUID = decodeError(PollRequest.self, #"{"slots": 1, "held_task_ids": ["not-a-uuid"]}"#)
        #expect(path(badUUID) == "held_task_ids.[0]")

        let badEnum = decodeError(CreateExecutionRequest.self, #"{"input": "x", "routing": {"strategy": "FASTEST"}}"#)
        guard case .dataCorrupted? = badEnum else { throw TestFailure("expected dataCorrupted, got \(String(describing: badEnum))") }
        #expect(path(badEnum) == "routing.strategy")

        let badDate = decodeError(TaskEvent.self, #"{"seq": 1, "type": "t", "data": {}, "ts": "yesterday"}"#)
        #expect(path(badDate) == "ts")

        let notJSON = decodeError(PollRequest.self, #"{"slots": 1"#)
        guard case .dataCorrupted(let context)? = notJSON else { throw TestFailure("expected dataCorrupted") }
        #expect(context.codingPath.isEmpty)
    }

    @Test func numbersJSONCannotHoldExactlyAreRefused() throws {
        #expect(throws: EncodingError.self) { try WireCoding.encode(["x": Double.nan]) }
        #expect(throws: EncodingError.self) { try WireCoding.encode(["x": Int64(1) << 60]) }
        #expect(throws: DecodingError.self) { try WireCoding.decode(Int32.self, from: Array("3000000000".utf8)) }
        #expect(try WireCoding.decode(Int.self, from: Array("-9007199254740991".utf8)) == -9_007_199_254_740_991)
    }

    @Test func absentAndNullOptionalsAreBothNil() throws {
        let absent = try WireCoding.decode(PollRequest.self, from: Array(#"{"slots": 2}"#.utf8))
        let null = try WireCoding.decode(PollRequest.self, from: Array(#"{"slots": 2, "wait_s": null}"#.utf8))
        #expect(absent.waitS == nil)
        #expect(null.waitS == nil)
        #expect(String(decoding: try WireCoding.encode(absent), as: UTF8.self) == #"{"slots":2}"#)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

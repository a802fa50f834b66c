import AsyncHTTPClient
import BosunControl
import BosunProtocol
import BosunTestSupport
import Foundation
import NIOCore
import Testing

@Suite struct EventStreamTests {
    @Test func eventsAreIdempotentPerSeqAndStreamAcrossProcesses() async throws {
        // Two control API processes share the database: the worker talks to one, the client
        // streams from the other, so events must travel through NOTIFY.
        let first = try await TestServer.start()
        let second = try await TestServer.start()
        defer { Task { await first.stop(); await second.stop() } }
        let tenant = try await Tenant.create(on: first)
        let agent = try await tenant.createAgent()
        let (registration, worker) = try await tenant.registerWorker()
        let execution = try await tenant.submit(agent: agent.id)
        let task = try #require(try await worker.poll(worker: registration.workerId, wait: 2).first)
        let id = execution.id.uuidString.lowercased()

        // The SSE client on the second server collects events until the stream ends.
        let streamTask = Task { () -> [(Int64, String)] in
            var request = HTTPClientRequest(url: "\(second.baseURL)/api/v1/executions/\(id)/events")
            request.headers.add(name: "Authorization", value: "Bearer \(tenant.admin.token!)")
            request.headers.add(name: "Accept", value: "text/event-stream")
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            #expect(response.headers.first(name: "Content-Type") == "text/event-stream")
            var text = ""
            for try await chunk in response.body { text += String(buffer: chunk) }
            return Self.parse(text)
        }
        try await Task.sleep(for: .milliseconds(300))
        let eventsPath = "/api/v1/tasks/\(task.id.uuidString.lowercased())/events"
        let batch = AppendEventsRequest(
            leaseId: task.lease.id,
            events: [
                TaskEvent(seq: 1, type: "run_started", data: ["model": "openai/gpt-4o-mini"]),
                TaskEvent(seq: 2, type: "message_chunk", data: ["text": "It is"]),
            ])
        let accepted = try await worker.post(eventsPath, batch).decode(AppendEventsResponse.self)
        #expect(accepted.accepted == 2)
        // Resending the same batch (after a timeout, say) adds nothing.
        let resent = try await worker.post(eventsPath, batch).decode(AppendEventsResponse.self)
        #expect(resent.accepted == 0 && resent.duplicates == 2)
        let more = AppendEventsRequest(
            leaseId: task.lease.id, events: [TaskEvent(seq: 3, type: "message_chunk", data: ["text": " noon."])])
        #expect(try await worker.post(eventsPath, more).decode(AppendEventsResponse.self).accepted == 1)
        let done = try await worker.post(
            "/api/v1/tasks/\(task.id.uuidString.lowercased())/complete",
            CompleteTaskRequest(leaseId: task.lease.id, result: TurnResult(finishReason: .stop, output: "It is noon.")))
        #expect(done.status == 200)

        let streamed = try await streamTask.value
        let types = streamed.map(\.1)
        #expect(types.filter { $0 == "message_chunk" }.count == 2)
        #expect(types.first == "status")
        #expect(types.last == "status")
        #expect(streamed.map(\.0) == Array(1...Int64(streamed.count)))

        // Resuming with Last-Event-ID sends only what came after.
        let resumeAfter = streamed[2].0
        let page = try await tenant.admin.with(token: tenant.admin.token).send(
            .GET, "/api/v1/executions/\(id)/events", headers: [("Last-Event-ID", String(resumeAfter))])
        let resumed = try page.decode(ExecutionEventPage.self)
        #expect(resumed.events.first?.seq == resumeAfter + 1)
        #expect(resumed.events.count == streamed.count - 3)
    }

    static func parse(_ text: String) -> [(Int64, String)] {
        text.components(separatedBy: "\n\n").compactMap { block in
            var id: Int64?
            var type: String?
            for line in block.split(separator: "\n") {
                if line.hasPrefix("id: ") { id = Int64(line.dropFirst(4)) }
                if line.hasPrefix("event: ") { type = String(line.dropFirst(7)) }
            }
            guard let id, let type else { return nil }
            return (id, type)
        }
    }
}

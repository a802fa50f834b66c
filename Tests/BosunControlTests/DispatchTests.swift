import BosunControl
import BosunProtocol
import BosunTestSupport
import Foundation
import PostgresNIO
import Testing

@Suite struct DispatchTests {
    @Test func concurrentPollersClaimEveryTaskExactlyOnce() async throws {
        let server = try await TestServer.shared()
        let tenant = try await Tenant.create(on: server)
        let agent = try await tenant.createAgent()
        let taskCount = 40
        let pollerCount = 8
        var workers: [(UUID, APIClient)] = []
        for _ in 0..<pollerCount {
            let (registration, client) = try await tenant.registerWorker(slots: 3)
            workers.append((registration.workerId, client))
        }
        let claimed = try await withThrowingTaskGroup(of: [UUID].self) { group in
            for (id, client) in workers {
                group.addTask {
                    var mine: [UUID] = []
                    var idle = 0
                    while idle < 3 {
                        let tasks = try await client.poll(worker: id, slots: 3, wait: 0.5)
                        if tasks.isEmpty { idle += 1 } else { idle = 0 }
                        mine += tasks.map(\.id)
                    }
                    return mine
                }
            }
            group.addTask {
                for index in 0..<taskCount { _ = try await tenant.submit(agent: agent.id, input: .string("task \(index)")) }
                return []
            }
            var all: [UUID] = []
            for try await ids in group { all += ids }
            return all
        }
        #expect(claimed.count == taskCount)
        #expect(Set(claimed).count == taskCount)
    }

    @Test func aWaitingLongPollWakesWithinMillisecondsOfASubmit() async throws {
        // Its own server with a 60 s fallback re-check: only the push can wake the poll in time,
        // so the bound can leave room for a loaded CI machine and still prove it.
        let server = try await TestServer.start { $0.pollFallbackInterval = .seconds(60) }
        defer { Task { await server.stop() } }
        let tenant = try await Tenant.create(on: server)
        let agent = try await tenant.createAgent()
        let (registration, worker) = try await tenant.registerWorker()
        let clock = ContinuousClock()
        let poll = Task { () -> ([TaskAssignment], ContinuousClock.Instant) in
            let tasks = try await worker.poll(worker: registration.workerId, wait: 20)
            return (tasks, clock.now)
        }
        try await Task.sleep(for: .milliseconds(300))
        let submitted = clock.now
        let execution = try await tenant.submit(agent: agent.id)
        let (tasks, received) = try await poll.value
        #expect(tasks.map(\.executionId) == [execution.id])
        // Pushed, not polled: the fallback re-check would take a minute.
        #expect(received - submitted < .seconds(5))
        #expect(tasks[0].agent.runtime == "agno")
        #expect(tasks[0].agent.mcpServers["time"] != nil)
        #expect(tasks[0].input == "What time is it?")
        #expect(tasks[0].lease.expiresAt > Date())
        let running = try await tenant.admin.get("/api/v1/executions/\(execution.id.uuidString.lowercased())").decode(Execution.self)
        #expect(running.status == .running)
    }

    @Test func aSubmitHandsItsTaskStraightToAWaitingPollAndQueuesItWhenNobodyWaits() async throws {
        // Its own server, so its waiter count is this test's poll alone.
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let tenant = try await Tenant.create(on: server)
        let agent = try await tenant.createAgent()
        let (registration, worker) = try await tenant.registerWorker()
        let poll = Task { try await worker.poll(worker: registration.workerId, wait: 20) }
        let dispatcher = server.server.services.dispatcher
        _ = try await eventually("the poll waits") { await dispatcher.waiterCount == 1 ? true : nil }

        // Leased to the waiting worker by the submit itself: the reply already says running.
        let handed = try await tenant.submit(agent: agent.id, input: "handed")
        #expect(handed.status == .running)
        let tasks = try await poll.value
        #expect(tasks.map(\.executionId) == [handed.id])
        let task = try #require(tasks.first)
        #expect(task.attempt == 1)
        #expect(task.input == "handed")
        #expect(task.agent.mcpServers["time"] != nil)
        let path = "/api/v1/executions/\(handed.id.uuidString.lowercased())"
        // Recorded as if a poll had claimed it: both transitions, both status events.
        let transitions = try await tenant.admin.get("\(path)/transitions").decode(StateTransitionList.self)
        #expect(transitions.items.map(\.to) == ["queued", "running"])
        let page = try await tenant.admin.get("\(path)/events").decode(ExecutionEventPage.self)
        #expect(page.events.map(\.seq) == [1, 2])
        #expect(page.events.last?.data["status"] == "running")
        #expect(page.events.last?.data["worker_id"]?.stringValue == registration.workerId.uuidString.lowercased())
        // The lease is real: it renews and completes.
        let taskPath = "/api/v1/tasks/\(task.id.uuidString.lowercased())"
        let renewed = try await worker.post("\(taskPath)/renew", RenewLeaseRequest(leaseId: task.lease.id))
        #expect(renewed.status == 200)
        let result = TurnResult(
            messages: [["role": "assistant", "content": "done"]], finishReason: .stop, output: "done")
        let completed = try await worker.post("\(taskPath)/complete", CompleteTaskRequest(leaseId: task.lease.id, result: result))
            .decode(CompleteTaskResponse.self)
        #expect(completed.executionStatus == .completed)

        // With nobody waiting the task is queued, and the next poll claims it.
        let queued = try await tenant.submit(agent: agent.id, input: "queued")
        #expect(queued.status == .queued)
        let claimed = try await worker.poll(worker: registration.workerId, wait: 2)
        #expect(claimed.map(\.executionId) == [queued.id])
    }

    @Test func aTaskWhosePollReplyWasLostIsGivenBackByTheWorkersNextPoll() async throws {
        let server = try await TestServer.shared()
        let tenant = try await Tenant.create(on: server)
        let agent = try await tenant.createAgent()
        let (registration, worker) = try await tenant.registerWorker(slots: 2)
        let path = "/api/v1/workers/\(registration.workerId.uuidString.lowercased())/poll"
        func poll(holding held: [UUID]?, wait: Double) async throws -> [TaskAssignment] {
            let reply = try await worker.post(path, PollRequest(slots: 2, waitS: wait, heldTaskIds: held))
            return reply.status == 204 ? [] : try reply.decode(PollResponse.self).tasks
        }
        let execution = try await tenant.submit(agent: agent.id)
        // This reply is "lost": the worker never learns of the task.
        let lost = try #require(try await poll(holding: nil, wait: 2).first)
        // A poll that says nothing about what it holds (an older worker) changes nothing, and
        // neither does one that holds the task.
        #expect(try await poll(holding: nil, wait: 0).isEmpty)
        #expect(try await poll(holding: [lost.id], wait: 0).isEmpty)
        // One that does not hold it gets it back at once, as a new attempt with a new lease.
        let again = try await poll(holding: [], wait: 5)
        #expect(again.map(\.id) == [lost.id])
        #expect(again.first?.attempt == 2)
        #expect(again.first?.lease.id != lost.lease.id)
        #expect(again.first?.maxAttempts == lost.maxAttempts + 1)
        let stale = try await worker.post(
            "/api/v1/tasks/\(lost.id.uuidString.lowercased())/renew", RenewLeaseRequest(leaseId: lost.lease.id))
        #expect(stale.status == 409)
        let transitions = try await tenant.admin.get("/api/v1/executions/\(execution.id.uuidString.lowercased())/transitions")
            .decode(StateTransitionList.self)
        #expect(transitions.items.map(\.to) == ["queued", "running", "queued", "running"])
        #expect(transitions.items[2].reason.contains("poll reply never reached the worker"))
    }

    @Test func anEmptyPollEndsWith204AfterItsWait() async throws {
        let server = try await TestServer.shared()
        let tenant = try await Tenant.create(on: server)
        let (registration, worker) = try await tenant.registerWorker()
        let started = ContinuousClock.now
        let reply = try await worker.post(
            "/api/v1/workers/\(registration.workerId.uuidString.lowercased())/poll", PollRequest(slots: 1, waitS: 0.4))
        #expect(reply.status == 204)
        #expect(ContinuousClock.now - started >= .milliseconds(350))
    }

    @Test func drainEndsAPendingPollAtOnce() async throws {
        let server = try await TestServer.shared()
        let tenant = try await Tenant.create(on: server)
        let agent = try await tenant.createAgent()
        let (registration, worker) = try await tenant.registerWorker()
        let id = registration.workerId.uuidString.lowercased()
        let poll = Task { try await worker.post("/api/v1/workers/\(id)/poll", PollRequest(slots: 1, waitS: 25)) }
        try await Task.sleep(for: .milliseconds(300))
        let started = ContinuousClock.now
        let drain = try await worker.send(.POST, "/api/v1/workers/\(id)/drain")
        #expect(drain.status == 202)
        let reply = try await poll.value
        #expect(reply.status == 204)
        #expect(reply.headers.first(name: PollResponse.workerStatusHeader) == "draining")
        // Far below the poll's 25 s wait; not tighter, so a loaded 2-core runner does not fail it.
        #expect(ContinuousClock.now - started < .seconds(5))
        // An empty poll of a worker that is not draining carries no such header (nothing is
        // queued yet, so it ends empty).
        let (other, otherClient) = try await tenant.registerWorker()
        let empty = try await otherClient.post(
            "/api/v1/workers/\(other.workerId.uuidString.lowercased())/poll", PollRequest(slots: 1, waitS: 0.2))
        #expect(empty.status == 204)
        #expect(empty.headers.first(name: PollResponse.workerStatusHeader) == nil)
        // A draining worker gets no new tasks, and is told why at once.
        _ = try await tenant.submit(agent: agent.id)
        let again = try await worker.post("/api/v1/workers/\(id)/poll", PollRequest(slots: 1, waitS: 25))
        #expect(again.status == 204)
        #expect(again.headers.first(name: PollResponse.workerStatusHeader) == "draining")
    }

    @Test func deregisteringEndsAPendingPollWithARevokedToken() async throws {
        let server = try await TestServer.shared()
        let tenant = try await Tenant.create(on: server)
        let (registration, worker) = try await tenant.registerWorker()
        let id = registration.workerId.uuidString.lowercased()
        let poll = Task { try await worker.post("/api/v1/workers/\(id)/poll", PollRequest(slots: 1, waitS: 25)) }
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await tenant.admin.send(.DELETE, "/api/v1/workers/\(id)").status == 204)
        // Not "draining": a removed worker must register again, which a 401 tells it.
        let reply = try await poll.value
        #expect(reply.status == 401)
        #expect(reply.headers.first(name: PollResponse.workerStatusHeader) == nil)
        #expect(try await worker.post("/api/v1/workers/\(id)/poll", PollRequest(slots: 1, waitS: 1)).status == 401)
    }

    @Test func leaseRenewalCarriesCancellation() async throws {
        let server = try await TestServer.shared()
        let tenant = try await Tenant.create(on: server)
        let agent = try await tenant.createAgent()
        let (registration, worker) = try await tenant.registerWorker()
        let execution = try await tenant.submit(agent: agent.id)
        let task = try #require(try await worker.poll(worker: registration.workerId, wait: 2).first)
        let path = "/api/v1/tasks/\(task.id.uuidString.lowercased())"
        let renewed = try await worker.post("\(path)/renew", RenewLeaseRequest(leaseId: task.lease.id)).decode(RenewLeaseResponse.self)
        #expect(renewed.cancelRequested == false)
        #expect(renewed.leaseExpiresAt >= task.lease.expiresAt)
        let cancel = try await tenant.admin.send(.POST, "/api/v1/executions/\(execution.id.uuidString.lowercased())/cancel")
        #expect(cancel.status == 200)
        let after = try await worker.post("\(path)/renew", RenewLeaseRequest(leaseId: task.lease.id)).decode(RenewLeaseResponse.self)
        #expect(after.cancelRequested)
        let failed = try await worker.post(
            "\(path)/fail", FailTaskRequest(leaseId: task.lease.id, error: "cancelled", retryable: true)
        ).decode(FailTaskResponse.self)
        #expect(failed.executionStatus == .cancelled)
        // A renew with a made-up lease is a stale lease.
        let stale = try await worker.post("\(path)/renew", RenewLeaseRequest(leaseId: UUID()))
        #expect(stale.status == 409)
    }

    @Test func completionIsIdempotentAndAStaleLeaseCannotComplete() async throws {
        let server = try await TestServer.shared()
        let tenant = try await Tenant.create(on: server)
        let agent = try await tenant.createAgent()
        let (registration, worker) = try await tenant.registerWorker()
        let execution = try await tenant.submit(agent: agent.id)
        let task = try #require(try await worker.poll(worker: registration.workerId, wait: 2).first)
        let path = "/api/v1/tasks/\(task.id.uuidString.lowercased())/complete"
        let result = TurnResult(
            messages: [["role": "assistant", "content": "It is noon."]], usage: Usage(inputTokens: 10, outputTokens: 4),
            costUsd: 0.0001, finishReason: .stop, output: "It is noon.")
        let stale = try await worker.post(path, CompleteTaskRequest(leaseId: UUID(), result: result))
        #expect(stale.status == 409)
        #expect(stale.problem?.type.hasSuffix("stale-lease") == true)
        let first = try await worker.post(path, CompleteTaskRequest(leaseId: task.lease.id, result: result)).decode(CompleteTaskResponse.self)
        #expect(first.executionStatus == .completed)
        #expect(first.duplicate == false)
        let second = try await worker.post(path, CompleteTaskRequest(leaseId: task.lease.id, result: result)).decode(CompleteTaskResponse.self)
        #expect(second.duplicate)
        #expect(second.executionStatus == .completed)
        let shown = try await tenant.admin.get("/api/v1/executions/\(execution.id.uuidString.lowercased())").decode(Execution.self)
        #expect(shown.status == .completed)
        #expect(shown.turnCount == 1)
        #expect(shown.output == "It is noon.")
        let transitions = try await tenant.admin.get("/api/v1/executions/\(execution.id.uuidString.lowercased())/transitions")
            .decode(StateTransitionList.self)
        #expect(transitions.items.map(\.to) == ["queued", "running", "completed"])
        #expect(transitions.items.last?.decider == "rules")
    }

    @Test func aCompletionCarriesTheAttemptsLastEventsOnceAndInOrder() async throws {
        let server = try await TestServer.shared()
        let tenant = try await Tenant.create(on: server)
        let agent = try await tenant.createAgent()
        let (registration, worker) = try await tenant.registerWorker()
        #expect(registration.supports(.completeCarriesEvents))
        let execution = try await tenant.submit(agent: agent.id)
        let task = try #require(try await worker.poll(worker: registration.workerId, wait: 2).first)
        let taskPath = "/api/v1/tasks/\(task.id.uuidString.lowercased())"
        let result = TurnResult(finishReason: .stop, output: "done")
        func tick(_ seq: Int) -> TaskEvent { TaskEvent(seq: seq, type: "test.tick", data: ["index": .number(Double(seq))]) }
        // Events 1-2 went as a batch; the completion carries 2 again (its batch reply was lost) and 3-4.
        #expect(try await worker.post("\(taskPath)/events", AppendEventsRequest(leaseId: task.lease.id, events: [tick(1), tick(2)])).status == 200)
        let carried = [tick(4), tick(2), tick(3)]
        // Bad sequence numbers are refused before anything is stored; a stale lease stores nothing.
        let bad = try await worker.post(
            "\(taskPath)/complete", CompleteTaskRequest(leaseId: task.lease.id, result: result, events: [tick(5), tick(5)]))
        #expect(bad.status == 400)
        let stale = try await worker.post("\(taskPath)/complete", CompleteTaskRequest(leaseId: UUID(), result: result, events: carried))
        #expect(stale.status == 409)
        let first = try await worker.post("\(taskPath)/complete", CompleteTaskRequest(leaseId: task.lease.id, result: result, events: carried))
        #expect(first.status == 200)
        #expect(try first.decode(CompleteTaskResponse.self).executionStatus == .completed)
        // Resent (the reply was lost): the same turn, nothing stored twice.
        let again = try await worker.post("\(taskPath)/complete", CompleteTaskRequest(leaseId: task.lease.id, result: result, events: carried))
        #expect(try again.decode(CompleteTaskResponse.self).duplicate)
        let events = try await tenant.admin.get("/api/v1/executions/\(execution.id.uuidString.lowercased())/events?limit=100")
            .decode(ExecutionEventPage.self).events
        #expect(events.filter { $0.type == "test.tick" }.compactMap { $0.data["index"]?.numberValue } == [1, 2, 3, 4])
        // The carried events come before the turn's own record of its end.
        let turnCompleted = try #require(events.firstIndex { $0.type == "turn_completed" })
        let lastTick = try #require(events.lastIndex { $0.type == "test.tick" })
        #expect(lastTick < turnCompleted)
        #expect(events.map(\.seq) == (1...Int64(events.count)).map { $0 })
    }

    @Test func theStateDecisionDrivesTheNextTurn() async throws {
        let server = try await TestServer.shared()
        let tenant = try await Tenant.create(on: server)
        let agent = try await tenant.createAgent()
        let (registration, worker) = try await tenant.registerWorker()
        let execution = try await tenant.submit(agent: agent.id, input: "Plan a trip")
        let executionPath = "/api/v1/executions/\(execution.id.uuidString.lowercased())"

        // Turn 1 stops with a pending tool call: continue, a second turn is queued with the history.
        let first = try #require(try await worker.poll(worker: registration.workerId, wait: 2).first)
        let toolTurn = TurnResult(
            messages: [["role": "assistant", "tool_calls": [["id": "c1"]]]],
            toolCalls: [ToolCallRecord(id: "c1", name: "get_time", arguments: [:])], finishReason: .toolCalls)
        let decided = try await worker.post(
            "/api/v1/tasks/\(first.id.uuidString.lowercased())/complete", CompleteTaskRequest(leaseId: first.lease.id, result: toolTurn)
        ).decode(CompleteTaskResponse.self)
        #expect(decided.decision == "continue")
        let second = try #require(try await worker.poll(worker: registration.workerId, wait: 2).first)
        #expect(second.turn == 2)
        #expect(second.history.map(\.turn) == [1])
        #expect(second.history.first?.input == "Plan a trip")

        // Turn 2 asks the user something: waiting_for_input; a reply queues turn 3.
        let question = TurnResult(finishReason: .stop, output: "Where would you like to go?", requestsInput: true)
        let waiting = try await worker.post(
            "/api/v1/tasks/\(second.id.uuidString.lowercased())/complete", CompleteTaskRequest(leaseId: second.lease.id, result: question)
        ).decode(CompleteTaskResponse.self)
        #expect(waiting.executionStatus == .waitingForInput)
        let early = try await tenant.admin.post("\(executionPath)/messages", ExecutionMessageRequest(content: "Lisbon"))
        #expect(early.status == 200)
        let third = try #require(try await worker.poll(worker: registration.workerId, wait: 2).first)
        #expect(third.turn == 3)
        #expect(third.input == "Lisbon")

        // Turn 3 reports an error: failed, with the error kept.
        let broken = TurnResult(finishReason: .error, error: "model gateway returned garbage")
        let failed = try await worker.post(
            "/api/v1/tasks/\(third.id.uuidString.lowercased())/complete", CompleteTaskRequest(leaseId: third.lease.id, result: broken)
        ).decode(CompleteTaskResponse.self)
        #expect(failed.executionStatus == .failed)
        let shown = try await tenant.admin.get(executionPath).decode(Execution.self)
        #expect(shown.error == "model gateway returned garbage")
        // Replying to a finished execution is a conflict.
        let late = try await tenant.admin.post("\(executionPath)/messages", ExecutionMessageRequest(content: "hello?"))
        #expect(late.status == 409)
    }

    @Test func retryableFailuresRetryThenDeadLetter() async throws {
        let server = try await TestServer.start { $0.maxAttempts = 2 }
        defer { Task { await server.stop() } }
        let tenant = try await Tenant.create(on: server)
        let agent = try await tenant.createAgent()
        let (registration, worker) = try await tenant.registerWorker()
        let execution = try await tenant.submit(agent: agent.id)
        let first = try #require(try await worker.poll(worker: registration.workerId, wait: 2).first)
        let retried = try await worker.post(
            "/api/v1/tasks/\(first.id.uuidString.lowercased())/fail",
            FailTaskRequest(leaseId: first.lease.id, error: "gateway 503", retryable: true)
        ).decode(FailTaskResponse.self)
        #expect(retried.taskStatus == "queued")
        // The retry waits out its 1 s backoff; the fallback re-check finds it.
        let second = try #require(try await worker.poll(worker: registration.workerId, wait: 5).first)
        #expect(second.id == first.id)
        #expect(second.attempt == 2)
        let dead = try await worker.post(
            "/api/v1/tasks/\(second.id.uuidString.lowercased())/fail",
            FailTaskRequest(leaseId: second.lease.id, error: "gateway 503 again", retryable: true)
        ).decode(FailTaskResponse.self)
        #expect(dead.taskStatus == "dead")
        #expect(dead.executionStatus == .failed)
        let shown = try await tenant.admin.get("/api/v1/executions/\(execution.id.uuidString.lowercased())").decode(Execution.self)
        #expect(shown.error == "gateway 503 again")
    }

    @Test func aRetriedAttemptReceivesTheToolLedgerOfEveryEarlierAttempt() async throws {
        let server = try await TestServer.start { $0.maxAttempts = 3 }
        defer { Task { await server.stop() } }
        let tenant = try await Tenant.create(on: server)
        let agent = try await tenant.createAgent()
        let (registration, worker) = try await tenant.registerWorker()
        _ = try await tenant.submit(agent: agent.id)

        func attempt(_ expected: Int, records: [JSONValue]) async throws -> TaskAssignment {
            // Retries back off attempt² seconds (1 s, then 4 s).
            let task = try #require(try await worker.poll(worker: registration.workerId, wait: 8).first)
            #expect(task.attempt == expected)
            let path = "/api/v1/tasks/\(task.id.uuidString.lowercased())"
            var events = [TaskEvent(seq: 1, type: "RunContent", data: ["content": "thinking"])]
            for (index, message) in records.enumerated() {
                events.append(TaskEvent(seq: index + 2, type: "ledger", data: ["message": message]))
            }
            let appended = try await worker.post("\(path)/events", AppendEventsRequest(leaseId: task.lease.id, events: events))
            #expect(appended.status == 200)
            let failed = try await worker.post(
                "\(path)/fail", FailTaskRequest(leaseId: task.lease.id, error: "worker died", retryable: true))
            #expect(failed.status == 200)
            return task
        }

        let first = try await attempt(1, records: [["role": "assistant", "text": "a1"], ["role": "tool", "text": "r1"]])
        #expect(first.ledger.isEmpty)
        let second = try await attempt(2, records: [["role": "assistant", "text": "a2"]])
        // Only ledger events, in order, and only those of earlier attempts.
        #expect(second.ledger == [["message": ["role": "assistant", "text": "a1"]], ["message": ["role": "tool", "text": "r1"]]])
        let third = try #require(try await worker.poll(worker: registration.workerId, wait: 8).first)
        #expect(third.attempt == 3)
        #expect(third.ledger.map { $0["message"]?["text"]?.stringValue ?? "" } == ["a1", "r1", "a2"])
    }

    @Test func expiredLeasesAreRequeuedThenDeadLettered() async throws {
        let server = try await TestServer.start {
            $0.leaseDuration = .milliseconds(600)
            $0.leaseRenewInterval = .milliseconds(200)
            $0.sweepInterval = .milliseconds(100)
            $0.maxAttempts = 2
        }
        defer { Task { await server.stop() } }
        let tenant = try await Tenant.create(on: server)
        let agent = try await tenant.createAgent()
        let (registration, worker) = try await tenant.registerWorker()
        let execution = try await tenant.submit(agent: agent.id)
        let first = try #require(try await worker.poll(worker: registration.workerId, wait: 2).first)
        #expect(first.attempt == 1)
        // The worker "dies": no renewals. The sweeper re-queues and a poll gets attempt 2.
        let second = try #require(try await worker.poll(worker: registration.workerId, wait: 5).first)
        #expect(second.id == first.id)
        #expect(second.attempt == 2)
        #expect(second.lease.id != first.lease.id)
        // The first lease is stale now.
        let stale = try await worker.post(
            "/api/v1/tasks/\(first.id.uuidString.lowercased())/complete",
            CompleteTaskRequest(leaseId: first.lease.id, result: TurnResult(finishReason: .stop, output: "late")))
        #expect(stale.status == 409)
        // Past the attempt limit the task is dead-lettered and the execution fails with its error.
        var shown = try await tenant.admin.get("/api/v1/executions/\(execution.id.uuidString.lowercased())").decode(Execution.self)
        let deadline = ContinuousClock.now + .seconds(5)
        while shown.status != .failed, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            shown = try await tenant.admin.get("/api/v1/executions/\(execution.id.uuidString.lowercased())").decode(Execution.self)
        }
        #expect(shown.status == .failed)
        #expect(shown.error?.contains("lease expired on attempt 2") == true)
    }

    @Test func routingPicksTheRightQueue() async throws {
        let server = try await TestServer.shared()
        let tenant = try await Tenant.create(on: server)
        let agent = try await tenant.createAgent(runtime: .claudeCode)
        let gpu = try await tenant.admin.post("/api/v1/queues", CreateQueueRequest(name: "gpu")).decode(TaskQueue.self)
        let stagingEnv = try await tenant.admin.post("/api/v1/environments", CreateEnvironmentRequest(name: "staging"))
            .decode(BosunProtocol.Environment.self)
        let staging = try await tenant.admin.post(
            "/api/v1/queues", CreateQueueRequest(name: "staging-q", environmentId: stagingEnv.id)).decode(TaskQueue.self)
        #expect(gpu.wireName == "\(tenant.organizationId.uuidString.lowercased()).\(gpu.id.uuidString.lowercased())")

        let specific = try await tenant.submit(agent: agent.id, routing: Routing(strategy: .specificQueue, queueId: gpu.id))
        #expect(specific.queueId == gpu.id)
        let byEnvironment = try await tenant.submit(
            agent: agent.id, routing: Routing(strategy: .environment, environmentId: stagingEnv.id))
        #expect(byEnvironment.queueId == staging.id)
        // AUTO with no live worker falls back to the default queue...
        let fallback = try await tenant.submit(agent: agent.id)
        #expect(fallback.queueId == tenant.queueId)
        // ...and prefers a queue with a live worker for the agent's runtime.
        _ = try await tenant.registerWorker(queue: gpu.id, runtimes: ["claude_code"])
        _ = try await tenant.registerWorker(queue: staging.id, runtimes: ["agno"])
        let auto = try await tenant.submit(agent: agent.id)
        #expect(auto.queueId == gpu.id)
        // Routing that names nothing is a clear error.
        let missing = try await tenant.admin.post(
            "/api/v1/executions", CreateExecutionRequest(agentId: agent.id, input: "x", routing: Routing(strategy: .specificQueue)))
        #expect(missing.status == 400)
        #expect(missing.problem?.detail.contains("routing.queue_id") == true)
    }

    /// AUTO routing between live queues takes the one with the fewest open tasks per slot, and
    /// open means queued and leased: each half alone would pick the other queue here.
    @Test func autoRoutingCountsQueuedAndLeasedTasks() async throws {
        let server = try await TestServer.shared()
        let tenant = try await Tenant.create(on: server)
        let agent = try await tenant.createAgent()
        let second = try await tenant.admin.post("/api/v1/queues", CreateQueueRequest(name: "second")).decode(TaskQueue.self)
        let (first, firstWorker) = try await tenant.registerWorker(queue: tenant.queueId, runtimes: ["agno"])
        _ = try await tenant.registerWorker(queue: second.id, runtimes: ["agno"])

        // The default queue has one leased task, the second none: a tie if leased ones were
        // not counted, and ties go to the older (default) queue.
        _ = try await tenant.submit(agent: agent.id, routing: Routing(strategy: .specificQueue, queueId: tenant.queueId))
        #expect(try await firstWorker.poll(worker: first.workerId, slots: 1).count == 1)
        let toSecond = try await tenant.submit(agent: agent.id)
        #expect(toSecond.queueId == second.id)
        // Now two queued in the second queue against one leased in the default one.
        _ = try await tenant.submit(agent: agent.id, routing: Routing(strategy: .specificQueue, queueId: second.id))
        let toDefault = try await tenant.submit(agent: agent.id)
        #expect(toDefault.queueId == tenant.queueId)
    }

    @Test func anIdempotencyKeyCreatesOneExecution() async throws {
        let server = try await TestServer.shared()
        let tenant = try await Tenant.create(on: server)
        let agent = try await tenant.createAgent()
        let first = try await tenant.submit(agent: agent.id, idempotencyKey: "order-42")
        let again = try await tenant.admin.post(
            "/api/v1/executions", CreateExecutionRequest(agentId: agent.id, input: "x", idempotencyKey: "order-42"))
        #expect(again.status == 200)
        #expect(try again.decode(Execution.self).id == first.id)
    }

    @Test func concurrentSubmitsWithOneIdempotencyKeyCreateOneExecutionAndOneTask() async throws {
        let server = try await TestServer.shared()
        let tenant = try await Tenant.create(on: server)
        let agent = try await tenant.createAgent()
        // Sent together, several pass the "is there one already?" read before any commits: the
        // losers of the insert race answer with the winner's execution, not an error.
        let replies = try await withThrowingTaskGroup(of: APIClient.Reply.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    try await tenant.admin.post(
                        "/api/v1/executions", CreateExecutionRequest(agentId: agent.id, input: "x", idempotencyKey: "race-7"))
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(replies.map(\.status).sorted() == [200, 200, 200, 200, 200, 200, 200, 201])
        let ids = Set(try replies.map { try $0.decode(Execution.self).id })
        #expect(ids.count == 1)
        let executions = try await tenant.admin.get("/api/v1/executions").decode(ItemList<Execution>.self).items
        #expect(executions.map(\.id) == Array(ids))
        // Exactly one task to claim.
        let (registration, worker) = try await tenant.registerWorker(slots: 4)
        #expect(try await worker.poll(worker: registration.workerId, slots: 4).count == 1)
    }

    /// A claim reads the task it takes, not the backlog. Planner statistics lag behind a queue
    /// that fills up (they said nothing was open), and with every open-task index estimated at
    /// one row the planner used to read every open task of the queue and sort them, and the
    /// held-task check read every open task again: 6,003 rows per claim at 3,000 queued, so
    /// throughput fell just when a backlog needed it (migration 11).
    @Test func aClaimReadsOnlyTheTaskItTakesWhateverTheBacklog() async throws {
        let server = try await TestServer.startIsolated()
        defer { Task { await server.stop() } }
        let tenant = try await Tenant.create(on: server)
        let agent = try await tenant.createAgent()
        let (registration, _) = try await tenant.registerWorker()
        let client = server.server.services.database.client
        let logger = TestEnvironment.logger
        func insertTasks(_ count: Int, status: String) async throws {
            try await client.query(
                """
                WITH e AS (
                    INSERT INTO executions (organization_id, agent_id, status, input, routing_strategy, queue_id)
                    SELECT \(tenant.organizationId), \(agent.id), 'queued', '"backlog"', 'AUTO', \(tenant.queueId)
                    FROM generate_series(1, \(count))
                    RETURNING id
                )
                INSERT INTO tasks (organization_id, execution_id, queue_id, turn_number, status, input, max_attempts)
                SELECT \(tenant.organizationId), e.id, \(tenant.queueId), 1, \(status), '"backlog"', 3 FROM e
                """, logger: logger)
        }
        // History first, statistics taken, then a backlog the statistics have not seen.
        try await client.query("ALTER TABLE tasks SET (autovacuum_enabled = false)", logger: logger)
        try await insertTasks(300, status: "completed")
        try await client.query("ANALYZE tasks", logger: logger)
        try await insertTasks(3000, status: "queued")

        let (claimed, read) = try await client.withTransaction(logger: logger) { connection in
            var claimed = 0
            let rows = try await connection.query(
                """
                SELECT id FROM bosun_claim_tasks(\(tenant.organizationId), \(registration.workerId), 30::float8,
                                                 \(tenant.queueId), 1::bigint, '{}'::uuid[])
                """, logger: logger)
            for try await _ in rows { claimed += 1 }
            // Rows this transaction fetched through indexes (the function ran in it).
            let stats = try await connection.query(
                "SELECT COALESCE(idx_tup_fetch, 0) FROM pg_catalog.pg_stat_xact_user_tables WHERE relname = 'tasks'",
                logger: logger)
            var read: Int64 = -1
            for try await value in stats.decode(Int64.self) { read = value }
            return (claimed, read)
        }
        #expect(claimed == 1)
        #expect(read >= 1 && read < 50, "the claim fetched \(read) tasks rows through indexes")
        // Routing counts queued and leased tasks through their own indexes (migration 11
        // rewrote migration 9's count; an edit there must not silently undo it).
        let source = try await client.query(
            "SELECT prosrc FROM pg_proc WHERE proname = 'bosun_submit'", logger: logger)
        var text = ""
        for try await value in source.decode(String.self) { text = value }
        #expect(text.contains("t.status = 'leased'))::float / l.slots"))
        #expect(!text.contains("IN ('queued', 'leased')"))
    }
}

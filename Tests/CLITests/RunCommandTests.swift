import BosunProtocol
import BosunTestSupport
import Foundation
import Testing

/// `run`, `executions`, `workers` and `queues` against a real control API and a real
/// `bosun-worker --test-runtime` (its inputs: `echo TEXT`, `ask QUESTION`, `fail MESSAGE`, `sleep S`).
@Suite struct RunCommandTests {
    /// A tenant with one test-runtime worker that has registered, and an agent.
    static func world() async throws -> (Tenant, CLI, CLIWorker, Agent) {
        let tenant = try await Tenant.create(on: try await TestServer.shared())
        let worker = try await CLIWorker.start(for: tenant)
        do {
            try await eventually("the worker to register", timeout: .seconds(30)) {
                let workers = try await tenant.admin.get("/api/v1/workers").decode(ItemList<WorkerInfo>.self).items
                return workers.isEmpty ? nil : true
            }
            return (tenant, CLI(tenant: tenant), worker, try await tenant.createAgent())
        } catch {
            let log = worker.log
            await worker.stop()
            throw TestFailure("\(error)\nworker log:\n\(log.suffix(3000))")
        }
    }

    @Test func followToCompletionAndFailure() async throws {
        let (tenant, cli, worker, agent) = try await Self.world()
        do {
            let done = try await cli.run("run", agent.name, "echo hello from the CLI test", "--follow")
            #expect(done.exitCode == 0, "\(done)\nworker:\n\(worker.log.suffix(2000))")
            let lines = done.stdout.split(separator: "\n").map(String.init)
            #expect(lines.first?.hasPrefix("execution ") == true)
            #expect(lines.contains("hello from the CLI test"), "\(done)")
            #expect(lines.contains { $0.hasPrefix("── running") })
            #expect(lines.last?.hasPrefix("── completed") == true, "\(done)")
            // Not a terminal: no progress line on stderr.
            #expect(!done.stderr.contains("waiting for a worker"))

            let failed = try await cli.run("run", agent.id.uuidString.lowercased(), "fail the test says so", "--follow")
            #expect(failed.exitCode == 10, "\(failed)")
            #expect(failed.stdout.contains("── failed"))
            #expect(failed.stdout.contains("the test says so"))

            // SPECIFIC_QUEUE routing by queue name; an unknown queue is not found.
            let queueName = try #require(
                try await tenant.admin.get("/api/v1/queues").decode(ItemList<TaskQueue>.self).items.first {
                    $0.id == tenant.queueId
                }?.name)
            let routed = try await cli.run("run", agent.name, "echo routed", "--queue", queueName, "--json")
            #expect(routed.exitCode == 0, "\(routed)")
            let submitted = try WireCoding.decoder().decode(Execution.self, from: Data(routed.stdout.utf8))
            #expect(submitted.routing.strategy == .specificQueue)
            #expect(submitted.queueId == tenant.queueId)
            let unknown = try await cli.run("run", agent.name, "echo lost", "--queue", "no-such-queue")
            #expect(unknown.exitCode == 3, "\(unknown)")

            // --json --follow: one event per line, the id on stderr.
            let json = try await cli.run("run", agent.name, "echo as json", "--follow", "--json")
            #expect(json.exitCode == 0, "\(json)")
            #expect(json.stderr.hasPrefix("execution "))
            let events = try json.stdout.split(separator: "\n").map {
                try WireCoding.decoder().decode(ExecutionEvent.self, from: Data($0.utf8))
            }
            #expect(events.map(\.seq) == events.map(\.seq).sorted())
            #expect(events.contains { $0.type == "message" && $0.data["content"] == "as json" })
            #expect(events.last?.data["status"] == "completed")
        } catch {
            await worker.stop()
            throw error
        }
        await worker.stop()
    }

    @Test func waitingForInputWithoutTerminalExits12ThenReplyCompletes() async throws {
        let (tenant, cli, worker, agent) = try await Self.world()
        do {
            // `reject`: a second reply is refused whether the next turn still runs or has finished
            // (with the default `enqueue`, one that arrives while it runs would become a third turn).
            let asked = try await cli.run(
                "run", agent.name, "ask What is the password?", "--follow", "--message-strategy", "reject")
            #expect(asked.exitCode == 12, "\(asked)\nworker:\n\(worker.log.suffix(2000))")
            let id = try uuid(after: "execution", in: asked.stdout)
            #expect(asked.stdout.contains("What is the password?"))
            #expect(asked.stderr.contains("bosun executions reply \(id.uuidString.lowercased()) \"...\""), "\(asked)")

            // Replying to an execution that does not wait (running with `reject`, or finished) is a conflict.
            let reply = try await cli.run("executions", "reply", id.uuidString.lowercased(), "echo swordfish")
            #expect(reply.exitCode == 0, "\(reply)")
            let again = try await cli.run("executions", "reply", id.uuidString.lowercased(), "echo twice")
            #expect(again.exitCode == 5, "\(again)")

            // Following it again shows the rest and ends with the final status.
            let followed = try await cli.run("executions", "follow", id.uuidString.lowercased())
            #expect(followed.exitCode == 0, "\(followed)")
            #expect(followed.stdout.contains("you: echo swordfish"))
            #expect(followed.stdout.contains("swordfish"))

            let show = try await cli.run("executions", "show", id.uuidString.lowercased())
            #expect(show.exitCode == 0, "\(show)")
            let fields = keyValues(show.stdout)
            #expect(fields["status"] == "completed", "\(show)")
            #expect(fields["output"] == "swordfish", "\(show)")
            #expect(fields["agent"] == "\(agent.name) (\(agent.id.uuidString.lowercased()))", "\(show)")
            #expect(fields["turns"] == "2", "\(show)")
            // Added up from the two turn_completed events.
            #expect(fields["usage"]?.contains("tokens in") == true, "\(show)")
            #expect(show.stdout.contains("transitions:"))
            #expect(show.stdout.contains("waiting_for_input"))
            let shown = try await cli.json("executions", "show", id.uuidString.lowercased()) as? [String: Any]
            let transitions = try #require(shown?["transitions"] as? [[String: Any]])
            #expect(transitions.contains { $0["to"] as? String == "waiting_for_input" })
            #expect(transitions.last?["to"] as? String == "completed")

            // Listing: by status and by agent name.
            let completed = try await cli.run("executions", "list", "--status", "completed", "--agent", agent.name)
            #expect(completed.exitCode == 0, "\(completed)")
            #expect(completed.stdout.contains(id.uuidString.lowercased()))
            let waiting = try await cli.run("executions", "list", "--status", "waiting_for_input")
            #expect(!waiting.stdout.contains(id.uuidString.lowercased()))
            let limited = try await cli.json("executions", "list", "--limit", "1") as? [String: Any]
            #expect((limited?["items"] as? [Any])?.count == 1)

            // Cancel: a long turn, cancelled while it runs or waits.
            let started = try await cli.run("run", agent.name, "sleep 30")
            #expect(started.exitCode == 0, "\(started)")
            #expect(started.stdout.contains("status:"))
            let long = try uuid(after: "execution:", in: started.stdout)
            let cancel = try await cli.run("executions", "cancel", long.uuidString.lowercased())
            #expect(cancel.exitCode == 0, "\(cancel)")
            let cancelled = try await cli.run("executions", "follow", long.uuidString.lowercased(), timeout: .seconds(60))
            #expect(cancelled.exitCode == 11, "\(cancelled)")
            let twice = try await cli.run("executions", "cancel", long.uuidString.lowercased())
            #expect(twice.exitCode == 5, "\(twice)")

            // Message strategies: with `reject`, a message to a busy execution is a conflict.
            let strict = try await cli.run("run", agent.name, "sleep 30", "--message-strategy", "reject")
            #expect(strict.exitCode == 0, "\(strict)")
            let busy = try uuid(after: "execution:", in: strict.stdout)
            let refused = try await cli.run("executions", "reply", busy.uuidString.lowercased(), "hello?")
            #expect(refused.exitCode == 5, "\(refused)")
            #expect(refused.stderr.contains("'reject'"), "\(refused)")
            _ = try await cli.run("executions", "cancel", busy.uuidString.lowercased())
            let wrong = try await cli.run("run", agent.name, "hi", "--message-strategy", "shout")
            #expect(wrong.exitCode == 2, "\(wrong)")
            _ = tenant
        } catch {
            await worker.stop()
            throw error
        }
        await worker.stop()
    }

    @Test func atATerminalItAsksAndSendsTheReply() async throws {
        let (tenant, cli, worker, agent) = try await Self.world()
        do {
            let result = try await CLIProcess.runInTerminal(
                ["run", agent.name, "ask What should I say?", "--follow"], input: "echo typed at the terminal\n",
                environment: ["BOSUN_CONTROL_URL": cli.controlURL, "BOSUN_API_KEY": cli.apiKey])
            #expect(result.exitCode == 0, "\(result)\nworker:\n\(worker.log.suffix(2000))")
            #expect(result.stdout.contains("What should I say?"), "\(result)")
            #expect(result.stdout.contains("reply> "), "\(result)")
            #expect(result.stdout.contains("you: echo typed at the terminal"), "\(result)")
            #expect(result.stdout.contains("── completed"), "\(result)")
            let id = try uuid(after: "execution", in: result.stdout)
            let execution = try await tenant.admin.get("/api/v1/executions/\(id.uuidString.lowercased())")
                .decode(Execution.self)
            #expect(execution.output == "typed at the terminal")
            #expect(execution.turnCount == 2)
        } catch {
            await worker.stop()
            throw error
        }
        await worker.stop()
    }

    @Test func aDroppedEventStreamIsResumedWithoutRepeatsOrGaps() async throws {
        let (tenant, _, worker, agent) = try await Self.world()
        let server = try await TestServer.shared()
        let proxy = try DroppingProxy(upstreamPort: server.port)
        do {
            let cli = CLI(server: server, apiKey: try #require(tenant.admin.token))
            let viaProxy = CLI(controlURL: proxy.url, apiKey: cli.apiKey)
            async let run = viaProxy.run("run", agent.name, "events 3; sleep 3; echo after the drop", "--follow")
            // Cut the stream once it has delivered the turn's ticks (the turn then sleeps 3 s).
            // Waiting only for the request let a busy machine cut it before any event arrived,
            // and a stream that delivered nothing resumes without a Last-Event-ID.
            try await eventually("the event stream to deliver the ticks", timeout: .seconds(30)) {
                proxy.serverText.contains("test.tick") && proxy.serverText.contains("\"index\":2") ? true : nil
            }
            proxy.dropAll()
            let result = try await run
            #expect(result.exitCode == 0, "\(result)\nworker:\n\(worker.log.suffix(2000))")
            let lines = result.stdout.split(separator: "\n").map(String.init)
            for index in 0..<3 {
                #expect(lines.filter { $0 == "· test.tick {\"index\":\(index)}" }.count == 1, "\(result)")
            }
            #expect(lines.filter { $0.hasPrefix("── running") }.count == 1, "\(result)")
            #expect(lines.filter { $0 == "after the drop" }.count == 1, "\(result)")
            #expect(lines.last?.hasPrefix("── completed") == true, "\(result)")
            // The second connection resumed from the last event the first one delivered.
            #expect(proxy.clientText.lowercased().contains("last-event-id: "), "\(proxy.clientText)")
        } catch {
            proxy.stop()
            await worker.stop()
            throw error
        }
        proxy.stop()
        await worker.stop()
    }

    @Test func workersAndQueuesTables() async throws {
        let (tenant, cli, worker, _) = try await Self.world()
        do {
            let api = try await tenant.admin.get("/api/v1/workers").decode(ItemList<WorkerInfo>.self).items
            let registered = try #require(api.first)
            let queueName = try #require(
                try await tenant.admin.get("/api/v1/queues").decode(ItemList<TaskQueue>.self).items.first {
                    $0.id == tenant.queueId
                }?.name)

            let workers = try await cli.run("workers")
            #expect(workers.exitCode == 0, "\(workers)")
            let lines = workers.stdout.split(separator: "\n")
            #expect(lines.first?.hasPrefix("NAME") == true)
            #expect(lines.first?.contains("HEARTBEAT") == true)
            let row = try #require(lines.first { $0.contains(registered.id.uuidString.lowercased()) }, "\(workers)")
            #expect(row.hasPrefix(registered.hostname))
            #expect(row.contains(queueName))
            #expect(row.contains("/1"))
            #expect(row.contains("s ago") || row.contains("m ago"))
            let json = try await cli.json("workers") as? [String: Any]
            #expect(((json?["items"] as? [[String: Any]])?.first?["id"] as? String).flatMap(UUID.init(uuidString:)) == registered.id)

            let queues = try await cli.run("queues")
            #expect(queues.exitCode == 0, "\(queues)")
            let queueRow = try #require(
                queues.stdout.split(separator: "\n").first { $0.contains(tenant.queueId.uuidString.lowercased()) })
            #expect(queueRow.hasPrefix(queueName))
        } catch {
            await worker.stop()
            throw error
        }
        await worker.stop()
    }

    /// `bosun workers drain ID`: the real worker hears of it through its poll, deregisters and
    /// exits 0; bad and unknown ids get the usage and not-found exit codes.
    @Test func workersDrainStopsTheWorker() async throws {
        let (tenant, cli, worker, _) = try await Self.world()
        do {
            let registered = try #require(
                try await tenant.admin.get("/api/v1/workers").decode(ItemList<WorkerInfo>.self).items.first)
            let id = registered.id.uuidString.lowercased()
            let drained = try await cli.run("workers", "drain", id)
            #expect(drained.exitCode == 0, "\(drained)")
            #expect(drained.stdout.hasPrefix("draining \(id)"), "\(drained)")
            let end = ContinuousClock.now + .seconds(20)
            while worker.process.isRunning && ContinuousClock.now < end { try await Task.sleep(for: .milliseconds(100)) }
            #expect(!worker.process.isRunning, "worker:\n\(worker.log.suffix(2000))")
            if !worker.process.isRunning { #expect(worker.process.terminationStatus == 0) }
            #expect(worker.log.contains("the control API drained this worker"))
            // `bosun workers` still lists (the default subcommand) and the worker is gone from it.
            let listed = try await cli.run("workers")
            #expect(listed.exitCode == 0, "\(listed)")
            #expect(!listed.stdout.contains(id), "\(listed)")
            #expect(try await cli.run("workers", "drain", "not-an-id").exitCode == 2)
            #expect(try await cli.run("workers", "drain", UUID().uuidString).exitCode == 3)
        } catch {
            await worker.stop()
            throw error
        }
        await worker.stop()
    }
}

import AsyncHTTPClient
import BosunProtocol
import Foundation
import NIOCore

/// Follows one execution's events live over SSE until it finishes or needs a human who is not
/// there. A dropped stream is resumed from the last event seen (`Last-Event-ID`), so nothing is
/// printed twice or missed. A waiting execution is answered at the terminal when standard input
/// is one; otherwise following ends with exit code 12 and a hint how to answer.
struct ExecutionFollower: Sendable {
    let api: ControlAPI
    let executionId: UUID
    /// Print each event as one JSON line (for scripts) instead of readable text.
    let json: Bool
    let interactive: Bool
    /// Consecutive failed connection attempts before giving up (exit code 6).
    var maxReconnects = 8

    var idText: String { APIPath.id(executionId) }

    func follow() async throws -> CLIExit {
        var state = FollowState()
        let progress = ProgressLine()
        var failures = 0
        while true {
            do {
                let ended = try await streamOnce(&state, progress: progress, resetFailures: { failures = 0 })
                if let ended { return ended }
                // The server ends the stream once the execution is finished and its last event
                // sent; ending without a final status means it went away (restart, proxy).
                if let exit = try await finishedWithoutStream(&state) { return exit }
            } catch let error as CLIError where error.exit == .unavailable {
                failures += 1
                if failures > maxReconnects { throw error }
            }
            await progress.clear()
            // Backoff: 0.25 s doubling to 4 s.
            let delay = min(4.0, 0.25 * pow(2.0, Double(max(failures - 1, 0))))
            try await Task.sleep(for: .milliseconds(Int64(delay * 1000)))
        }
    }

    /// One connection: prints its events; returns the exit code when the execution is finished
    /// or needs a human, nil when the stream ended and should be resumed.
    private func streamOnce(
        _ state: inout FollowState, progress: ProgressLine, resetFailures: () -> Void
    ) async throws -> CLIExit? {
        var request = api.makeRequest(.GET, "/api/v1/executions/\(idText)/events", accept: "text/event-stream")
        if let last = state.lastEventId { request.headers.replaceOrAdd(name: "Last-Event-ID", value: last) }
        // No overall deadline that matters: an execution may wait for hours.
        let response = try await api.execute(request, timeout: .hours(24 * 7))
        guard response.status == .ok else {
            let body = (try? await response.body.collect(upTo: 1 << 20)) ?? ByteBuffer()
            throw ControlAPI.problem(.init(status: Int(response.status.code), body: Data(buffer: body)))
        }
        resetFailures()
        var parser = EventStreamParser()
        do {
            for try await buffer in response.body {
                for message in parser.feed(buffer.readableBytesView) {
                    if let id = message.id { state.lastEventId = id }
                    guard let event = try? WireCoding.decoder().decode(ExecutionEvent.self, from: Data(message.data.utf8))
                    else { continue }
                    await progress.clear()
                    show(event, &state)
                    guard event.type == "status", let status = event.data["status"]?.stringValue else { continue }
                    state.status = status
                    if let exit = try await react(to: status, progress: progress) { return exit }
                }
            }
        } catch let error as CLIError {
            throw error
        } catch {
            // The stream broke mid-way: resume it.
            throw api.unreachable(error)
        }
        await progress.clear()
        if let status = state.status, let exit = Self.exit(forFinal: status) { return exit }
        return nil
    }

    private func show(_ event: ExecutionEvent, _ state: inout FollowState) {
        if json {
            if let data = try? WireCoding.encoder().encode(event) { Output.write(String(decoding: data, as: UTF8.self) + "\n") }
        } else {
            let text = state.printer.render(event)
            if !text.isEmpty { Output.write(text) }
        }
    }

    /// What a status change means for the follower: a progress line, a question for the human,
    /// or the end.
    private func react(to status: String, progress: ProgressLine) async throws -> CLIExit? {
        switch status {
        case ExecutionStatusName.queued:
            await progress.show("waiting for a worker")
        case ExecutionStatusName.running:
            await progress.show("running")
        case ExecutionStatusName.waitingForInput:
            // A resumed stream may replay an old wait; act only if it still holds.
            guard try await currentStatus() == status else { return nil }
            return try await askForInput()
        case ExecutionStatusName.waitingForApproval:
            guard try await currentStatus() == status else { return nil }
            return try await askForApproval()
        default:
            break
        }
        return nil
    }

    private func currentStatus() async throws -> String {
        try await api.get("/api/v1/executions/\(idText)").decode(ExecutionView.self).status
    }

    /// Asks the human for a reply and sends it; exit code 12 when nobody can answer here.
    private func askForInput() async throws -> CLIExit? {
        let hint = "the execution is waiting for input; reply with: bosun executions reply \(idText) \"...\"\n"
        guard interactive else {
            Output.writeError(hint)
            return .needsHuman
        }
        while true {
            guard let line = await Terminal.ask("reply> ") else {
                Output.writeError("\n" + hint)
                return .needsHuman
            }
            let text = line.trimmingCharacters(in: .whitespaces)
            if text.isEmpty { continue }
            try await api.post("/api/v1/executions/\(idText)/messages", ExecutionMessageRequest(content: .string(text)))
            return nil
        }
    }

    /// Shows each pending tool call and asks approve? [y/N]; exit code 12 when nobody can answer.
    private func askForApproval() async throws -> CLIExit? {
        let pending = try await ApprovalCommands.pending(api: api, execution: executionId)
        guard !pending.isEmpty else { return nil }
        guard interactive else {
            Output.writeError("the execution is waiting for approval of:\n")
            for approval in pending { Output.writeError("  " + ApprovalCommands.describe(approval) + "\n") }
            Output.writeError(
                "approve with: bosun executions approve \(idText) APPROVAL_ID, or deny with: bosun executions deny \(idText) APPROVAL_ID\n")
            return .needsHuman
        }
        for approval in pending {
            Output.writeError(
                Output.fields([
                    ("tool", approval.toolName ?? "?"),
                    ("arguments", approval.arguments.map { Output.pretty(Data($0.jsonString.utf8)) } ?? "{}"),
                ]))
            let answer = await Terminal.ask("approve? [y/N] ")?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
            let approve = answer == "y" || answer == "yes"
            try await ApprovalCommands.decide(
                api: api, execution: executionId, approval: approval.id, approve: approve, reason: nil)
            Output.writeError(approve ? "approved\n" : "denied\n")
        }
        return nil
    }

    /// The stream ended without a final status: ask for the execution itself.
    private func finishedWithoutStream(_ state: inout FollowState) async throws -> CLIExit? {
        let execution = try await api.get("/api/v1/executions/\(idText)").decode(ExecutionView.self)
        guard execution.isTerminal else { return nil }
        // Finished, but the final events may not have been shown: one more pass shows them,
        // unless that pass already happened.
        if state.finishedChecks > 0 { return Self.exit(forFinal: execution.status) }
        state.finishedChecks += 1
        return nil
    }

    static func exit(forFinal status: String) -> CLIExit? {
        switch status {
        case ExecutionStatusName.completed: .ok
        case ExecutionStatusName.failed: .executionFailed
        case ExecutionStatusName.cancelled: .executionCancelled
        default: nil
        }
    }
}

/// What the follower carries across reconnections.
struct FollowState: Sendable {
    var lastEventId: String?
    var status: String?
    var printer = EventPrinter()
    var finishedChecks = 0
}

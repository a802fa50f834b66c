import BosunProtocol
import Foundation
import Hummingbird
import NIOCore

/// The server's own endpoints, for tests and demos that drive it from outside the process:
/// `GET /_scripted/requests` (the log), `POST /_scripted/reset` (clear the log, restore uses)
/// and `POST /_scripted/script` (replace the script; the body is the script JSON, or `null`
/// for none).
struct ScriptControlRoutes: Sendable {
    let state: ScriptState

    func register(on router: Router<BasicRequestContext>) {
        router.get("/_scripted/requests") { _, _ in
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let data = try encoder.encode(await state.requests())
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
        }
        router.post("/_scripted/reset") { _, _ in
            await state.reset()
            return Response(status: .noContent)
        }
        router.post("/_scripted/script") { request, _ in
            let buffer = try await request.body.collect(upTo: LLMRoutes.maxBodySize)
            let data = Data(buffer: buffer)
            let script: ScriptedLLMScript?
            do {
                if (try? JSONDecoder().decode(JSONValue.self, from: data)) == .null {
                    script = nil
                } else {
                    script = try ScriptedLLMScript.decode(data)
                }
            } catch {
                let body = ReplyPlan.encode(["error": .string("\(error)")])
                return Response(
                    status: .badRequest, headers: [.contentType: "application/json"],
                    body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
            }
            await state.replace(script: script)
            return Response(status: .noContent)
        }
    }
}

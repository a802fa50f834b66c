import BosunProtocol
import Foundation
import Hummingbird

/// `/healthz` (the process answers), `/readyz` (PostgreSQL and Redis answer), `/openapi.json`.
struct OpsRoutes {
    let services: ControlServices

    func register(on router: Router<BosunRequestContext>) {
        router.get("healthz") { _, _ in
            JSONResponse(["status": "ok"] as [String: String])
        }
        router.get("readyz") { _, _ in
            var checks: [String: String] = [:]
            var ready = true
            do {
                try await services.database.ping()
                checks["postgres"] = "ok"
            } catch {
                checks["postgres"] = "unavailable"
                ready = false
            }
            if let redis = services.redis {
                do {
                    try await redis.ping()
                    checks["redis"] = "ok"
                } catch {
                    checks["redis"] = "unavailable"
                    ready = false
                }
            } else {
                checks["redis"] = "not configured"
            }
            checks["status"] = ready ? "ready" : "not ready"
            return JSONResponse(checks, status: ready ? .ok : .serviceUnavailable)
        }
        router.get("openapi.json") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: OpenAPIDocument.json)))
        }
    }
}

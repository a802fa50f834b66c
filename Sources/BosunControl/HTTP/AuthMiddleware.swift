import Hummingbird
import Logging

/// Authenticates every `/api/v1` request and tags the logger with the organization.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = BosunRequestContext
    let authenticator: Authenticator

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        let principal = try await authenticator.authenticate(request.headers[.authorization])
        context.principal = principal
        context.logger[metadataKey: "bosun.org.id"] = .string(principal.organizationId.uuidString.lowercased())
        if case .worker(let id, _) = principal.kind {
            context.logger[metadataKey: "bosun.worker.id"] = .string(id.uuidString.lowercased())
        }
        return try await next(request, context)
    }
}

import Foundation
import Hummingbird
import Logging

/// Per-request state: the authenticated principal and the request id.
public struct BosunRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var principal: Principal?
    public var requestId: String = ""

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
    }

    /// The authenticated principal; routes behind `AuthMiddleware` always have one.
    func requirePrincipal() throws -> Principal {
        guard let principal else { throw APIError.unauthorized("authentication required") }
        return principal
    }

    /// Admin or user scope (people, not workers).
    func requireUser() throws -> Principal {
        let principal = try requirePrincipal()
        guard principal.scope == .admin || principal.scope == .user else {
            throw APIError.forbidden("this route needs a user or admin credential, not a worker credential")
        }
        return principal
    }

    func requireAdmin() throws -> Principal {
        let principal = try requirePrincipal()
        guard principal.scope == .admin else {
            throw APIError.forbidden("this route needs an admin credential")
        }
        return principal
    }

    func parameter(_ name: String) throws -> UUID {
        guard let text = parameters.get(name) else { throw APIError.badRequest("missing path parameter '\(name)'") }
        guard let id = UUID(uuidString: text) else {
            throw APIError.badRequest("'\(text)' is not a valid UUID")
        }
        return id
    }
}

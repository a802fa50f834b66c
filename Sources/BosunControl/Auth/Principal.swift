import BosunProtocol
import Foundation

/// Who a request acts as, once its credential checked out.
public struct Principal: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// An API key with its scope; worker keys are bound to one queue.
        case apiKey(id: UUID, scope: APIKeyScope, queueId: UUID?)
        /// A JWT bearer token: subject and scope from its claims.
        case jwt(subject: String, scope: APIKeyScope)
        /// A registered worker's short-lived token.
        case worker(id: UUID, queueId: UUID)
    }

    public var organizationId: UUID
    public var kind: Kind

    package init(organizationId: UUID, kind: Kind) {
        self.organizationId = organizationId
        self.kind = kind
    }

    public var scope: APIKeyScope {
        switch kind {
        case .apiKey(_, let scope, _), .jwt(_, let scope): scope
        case .worker: .worker
        }
    }

    /// A short, secret-free name for logs and the audit log.
    public var actor: String {
        switch kind {
        case .apiKey(let id, _, _): "api_key:\(id.uuidString.lowercased())"
        case .jwt(let subject, _): "jwt:\(subject)"
        case .worker(let id, _): "worker:\(id.uuidString.lowercased())"
        }
    }
}

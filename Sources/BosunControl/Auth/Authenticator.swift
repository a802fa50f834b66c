import BosunProtocol
import Foundation
import JWTKit
import Logging
import PostgresNIO

/// Claims Bosun accepts in a JWT bearer token.
struct BosunJWTClaims: JWTPayload {
    var sub: SubjectClaim
    var exp: ExpirationClaim
    var iss: IssuerClaim?
    /// The organization the token acts for.
    var org: String
    var scope: String

    func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
    }
}

/// Where the authenticator looks credentials up: PostgreSQL in the server. Tests substitute a
/// look-up that pauses, to race a revocation against it deterministically.
package struct CredentialLookUp: Sendable {
    package typealias WorkerToken = (principal: Principal, expiresAt: Date, status: String)
    package var apiKey: @Sendable ([UInt8]) async throws -> Principal?
    package var workerToken: @Sendable ([UInt8]) async throws -> WorkerToken?

    package init(
        apiKey: @escaping @Sendable ([UInt8]) async throws -> Principal?,
        workerToken: @escaping @Sendable ([UInt8]) async throws -> WorkerToken?
    ) {
        self.apiKey = apiKey
        self.workerToken = workerToken
    }
}

/// Turns a bearer credential into a `Principal`.
///
/// Validated credentials are cached in process for a short time so a request costs no extra
/// query; revocations are pushed to every control API process (NOTIFY), which drop the entry.
public actor Authenticator {
    struct CacheEntry {
        var principal: Principal
        var cachedUntil: ContinuousClock.Instant
        /// Worker tokens carry their own expiry, checked on every use.
        var tokenExpiresAt: Date?
    }

    let lookUp: CredentialLookUp
    let keys: JWTKeyCollection
    let jwtEnabled: Bool
    let issuer: String?
    let cacheTTL: Duration
    private var cache: [[UInt8]: CacheEntry] = [:]
    /// Counts invalidations. A look-up in flight while a credential is revoked may have read it
    /// before the revocation committed; caching that answer would let the revoked credential in
    /// until the entry's TTL ran out (a deregistered worker kept polling for 30 s that way), so
    /// an answer is only cached when no invalidation happened while it was read.
    private var invalidations: UInt64 = 0

    public init(database: Database, configuration: ControlConfiguration) async throws {
        try await self.init(
            lookUp: CredentialLookUp(
                apiKey: { hash in try await Self.lookUpAPIKey(hash, in: database) },
                workerToken: { hash in try await Self.lookUpWorkerToken(hash, in: database) }),
            configuration: configuration)
    }

    package init(lookUp: CredentialLookUp, configuration: ControlConfiguration) async throws {
        self.lookUp = lookUp
        self.cacheTTL = configuration.credentialCacheTTL
        self.issuer = configuration.jwtIssuer
        let keys = JWTKeyCollection()
        var enabled = false
        if let secret = configuration.jwtHS256Secret {
            await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256, kid: "hs256")
            enabled = true
        }
        for (index, pem) in configuration.jwtPublicKeysPEM.enumerated() {
            let kid = JWKIdentifier(string: "key\(index)")
            if let rsa = try? Insecure.RSA.PublicKey(pem: pem) {
                await keys.add(rsa: rsa, digestAlgorithm: .sha256, kid: kid)
            } else if let ec = try? ES256PublicKey(pem: pem) {
                await keys.add(ecdsa: ec, kid: kid)
            } else {
                throw ConfigurationError("JWT public key \(index + 1) is neither an RSA (2048+ bits) nor a P-256 PEM key")
            }
            enabled = true
        }
        self.keys = keys
        self.jwtEnabled = enabled
    }

    public func authenticate(_ authorization: String?) async throws -> Principal {
        guard let authorization, !authorization.isEmpty else {
            throw APIError.unauthorized("missing Authorization header; send 'Authorization: Bearer <credential>'")
        }
        guard authorization.lowercased().hasPrefix("bearer ") else {
            throw APIError.unauthorized("the Authorization header must use the Bearer scheme")
        }
        let credential = authorization.dropFirst("bearer ".count).trimmingCharacters(in: .whitespaces)
        if Credential.looksLikeAPIKey(credential) {
            return try await authenticateAPIKey(credential)
        } else if Credential.looksLikeWorkerToken(credential) {
            return try await authenticateWorkerToken(credential)
        } else if credential.split(separator: ".", omittingEmptySubsequences: false).count == 3 {
            return try await authenticateJWT(credential)
        }
        throw APIError.unauthorized("the bearer credential is not an API key, worker token or JWT")
    }

    /// Forgets a credential at once (key revoked, worker deregistered).
    public func invalidate(hash: [UInt8]) {
        cache[hash] = nil
        invalidations &+= 1
    }

    public func invalidateAll() {
        cache.removeAll()
        invalidations &+= 1
    }

    /// Runs `read` again while invalidations happen during it (up to three reads), so a
    /// credential revoked meanwhile is read as revoked. `cacheable` is false when the last read
    /// still overlapped one: that answer serves this request, which then counts as made before
    /// the revocation, and is not remembered.
    private func freshLookUp<T: Sendable>(_ read: @Sendable () async throws -> T) async throws -> (T, cacheable: Bool) {
        var attempt = 0
        while true {
            let before = invalidations
            let found = try await read()
            attempt += 1
            if invalidations == before { return (found, true) }
            if attempt == 3 { return (found, false) }
        }
    }

    private func cached(_ hash: [UInt8]) -> CacheEntry? {
        guard let entry = cache[hash] else { return nil }
        if entry.cachedUntil < .now {
            cache[hash] = nil
            return nil
        }
        return entry
    }

    private func remember(_ hash: [UInt8], _ principal: Principal, tokenExpiresAt: Date? = nil) {
        if cache.count > 100_000 { cache.removeAll() }
        cache[hash] = CacheEntry(principal: principal, cachedUntil: .now + cacheTTL, tokenExpiresAt: tokenExpiresAt)
    }

    private func authenticateAPIKey(_ key: String) async throws -> Principal {
        let hash = Credential.hash(key)
        if let entry = cached(hash) { return entry.principal }
        let lookUp = self.lookUp
        let (found, cacheable) = try await freshLookUp { try await lookUp.apiKey(hash) }
        guard let found else { throw APIError.unauthorized("the API key is invalid or has been revoked") }
        if cacheable { remember(hash, found) }
        return found
    }

    private static func lookUpAPIKey(_ hash: [UInt8], in database: Database) async throws -> Principal? {
        try await database.withoutTenant { connection -> Principal? in
            let rows = try await connection.query(
                "SELECT id, organization_id, scope, queue_id FROM bosun_authenticate_api_key(\(ByteBuffer(bytes: hash)))",
                logger: database.logger)
            for try await row in rows {
                let row = row.makeRandomAccess()
                guard let scope = APIKeyScope(rawValue: try row.value("scope")) else { return nil }
                return Principal(
                    organizationId: try row.value("organization_id"),
                    kind: .apiKey(id: try row.value("id"), scope: scope, queueId: try row.value("queue_id")))
            }
            return nil
        }
    }

    private func authenticateWorkerToken(_ token: String) async throws -> Principal {
        let hash = Credential.hash(token)
        if let entry = cached(hash), let expiresAt = entry.tokenExpiresAt {
            guard expiresAt > Date() else {
                cache[hash] = nil
                throw APIError(.unauthorized, "token-expired", "the worker token has expired; register again")
            }
            return entry.principal
        }
        let lookUp = self.lookUp
        let (found, cacheable) = try await freshLookUp { try await lookUp.workerToken(hash) }
        guard let (principal, expiresAt, status) = found else {
            throw APIError.unauthorized("the worker token is invalid")
        }
        guard status == "active" || status == "draining" else {
            throw APIError.unauthorized("the worker token was revoked (worker \(status)); register again")
        }
        guard expiresAt > Date() else {
            throw APIError(.unauthorized, "token-expired", "the worker token has expired; register again")
        }
        if cacheable { remember(hash, principal, tokenExpiresAt: expiresAt) }
        return principal
    }

    private static func lookUpWorkerToken(_ hash: [UInt8], in database: Database) async throws
        -> CredentialLookUp.WorkerToken?
    {
        try await database.withoutTenant { connection -> CredentialLookUp.WorkerToken? in
            let rows = try await connection.query(
                """
                SELECT worker_id, organization_id, queue_id, token_expires_at, status
                FROM bosun_authenticate_worker_token(\(ByteBuffer(bytes: hash)))
                """, logger: database.logger)
            for try await row in rows {
                let row = row.makeRandomAccess()
                let principal = Principal(
                    organizationId: try row.value("organization_id"),
                    kind: .worker(id: try row.value("worker_id"), queueId: try row.value("queue_id")))
                return (principal, try row.value("token_expires_at"), try row.value("status"))
            }
            return nil
        }
    }

    private func authenticateJWT(_ token: String) async throws -> Principal {
        guard jwtEnabled else { throw APIError.unauthorized("JWT bearer tokens are not enabled on this server") }
        let claims: BosunJWTClaims
        do {
            claims = try await keys.verify(token, as: BosunJWTClaims.self, iteratingKeys: true)
        } catch let error as JWTError where error.errorType == .claimVerificationFailure {
            throw APIError(.unauthorized, "token-expired", "the JWT has expired")
        } catch {
            throw APIError.unauthorized("the JWT is invalid: its signature, algorithm or claims did not verify")
        }
        if let issuer, claims.iss?.value != issuer {
            throw APIError.unauthorized("the JWT was not issued by '\(issuer)'")
        }
        guard let organization = UUID(uuidString: claims.org) else {
            throw APIError.unauthorized("the JWT 'org' claim is not an organization id")
        }
        guard let scope = APIKeyScope(rawValue: claims.scope), scope != .worker else {
            throw APIError.unauthorized("the JWT 'scope' claim must be 'admin' or 'user'")
        }
        return Principal(organizationId: organization, kind: .jwt(subject: claims.sub.value, scope: scope))
    }
}

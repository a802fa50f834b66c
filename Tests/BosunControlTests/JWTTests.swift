import BosunControl
import BosunProtocol
import BosunTestSupport
import Crypto
import Foundation
import JWTKit
import Testing

struct TestClaims: JWTPayload {
    var sub: SubjectClaim
    var exp: ExpirationClaim
    var org: String
    var scope: String
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

@Suite struct JWTTests {
    static let secret = "a-test-secret-that-is-long-enough-for-hs256"

    @Test func hs256AndES256TokensAuthenticateAndExpire() async throws {
        let ecKey = ES256PrivateKey()
        let pemPath = FileManager.default.temporaryDirectory.appendingPathComponent("bosun-es256-\(UUID()).pem").path
        try ecKey.publicKey.pemRepresentation.write(toFile: pemPath, atomically: true, encoding: .utf8)
        let server = try await TestServer.start { configuration in
            configuration.jwtHS256Secret = Self.secret
            configuration.jwtPublicKeysPEM = [(try? String(contentsOfFile: pemPath, encoding: .utf8)) ?? ""]
        }
        defer { Task { await server.stop() } }
        let tenant = try await Tenant.create(on: server)
        let org = tenant.organizationId.uuidString

        let hmac = JWTKeyCollection()
        await hmac.add(hmac: HMACKey(from: Self.secret), digestAlgorithm: .sha256)
        let good = try await hmac.sign(
            TestClaims(sub: "alice", exp: .init(value: Date().addingTimeInterval(60)), org: org, scope: "user"))
        #expect(try await tenant.admin.with(token: good).get("/api/v1/agents").status == 200)

        let expired = try await hmac.sign(
            TestClaims(sub: "alice", exp: .init(value: Date().addingTimeInterval(-60)), org: org, scope: "user"))
        let expiredReply = try await tenant.admin.with(token: expired).get("/api/v1/agents")
        #expect(expiredReply.status == 401)
        #expect(expiredReply.problem?.type.hasSuffix("token-expired") == true)

        let wrongKey = JWTKeyCollection()
        await wrongKey.add(hmac: HMACKey(from: "another-secret-that-is-also-long-enough"), digestAlgorithm: .sha256)
        let forged = try await wrongKey.sign(
            TestClaims(sub: "mallory", exp: .init(value: Date().addingTimeInterval(60)), org: org, scope: "admin"))
        #expect(try await tenant.admin.with(token: forged).get("/api/v1/agents").status == 401)

        let ec = JWTKeyCollection()
        await ec.add(ecdsa: ecKey)
        let ecToken = try await ec.sign(
            TestClaims(sub: "bob", exp: .init(value: Date().addingTimeInterval(60)), org: org, scope: "admin"))
        #expect(try await tenant.admin.with(token: ecToken).get("/api/v1/api-keys").status == 200)
    }
}

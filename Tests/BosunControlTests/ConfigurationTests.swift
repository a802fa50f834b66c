import BosunControl
import Testing

@Suite struct ConfigurationTests {
    let base = ["BOSUN_DATABASE_URL": "postgres://bosun:secret@db.example:5433/bosun"]

    @Test func environmentMapsToFields() throws {
        var environment = base
        environment["BOSUN_LISTEN"] = "0.0.0.0:9000"
        environment["BOSUN_REDIS_URL"] = "redis://127.0.0.1:6380"
        environment["BOSUN_LEASE_DURATION_S"] = "30"
        environment["BOSUN_MAX_ATTEMPTS"] = "5"
        environment["BOSUN_MAX_BODY_BYTES"] = "2048"
        let configuration = try ControlConfiguration.fromEnvironment(environment)
        #expect(configuration.host == "0.0.0.0" && configuration.port == 9000)
        #expect(configuration.redisURL == "redis://127.0.0.1:6380")
        #expect(configuration.leaseDuration == .seconds(30))
        #expect(configuration.maxAttempts == 5)
        #expect(configuration.maxBodyBytes == 2048)
        #expect(configuration.databaseURL.port == 5433)
        // The password never reaches logs.
        #expect(!configuration.databaseURL.description.contains("secret"))
    }

    @Test func badSettingsAreNamed() {
        func message(_ extra: [String: String]) -> String {
            do {
                _ = try ControlConfiguration.fromEnvironment(base.merging(extra) { _, new in new })
                return ""
            } catch {
                return "\(error)"
            }
        }
        #expect(message(["BOSUN_LISTEN": "nope"]).contains("BOSUN_LISTEN"))
        #expect(message(["BOSUN_LEASE_DURATION_S": "-1"]).contains("BOSUN_LEASE_DURATION_S"))
        #expect(message(["BOSUN_DATABASE_URL": "mysql://x"]).contains("postgres://"))
        #expect(message(["BOSUN_JWT_HS256_SECRET": "short"]).contains("BOSUN_JWT_HS256_SECRET"))
        #expect(message(["BOSUN_LEASE_RENEW_INTERVAL_S": "120"]).contains("renew interval"))
        #expect(throws: (any Error).self) { try ControlConfiguration.fromEnvironment([:]) }
    }
}

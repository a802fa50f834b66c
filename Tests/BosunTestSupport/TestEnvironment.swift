import BosunControl
import Foundation
import Logging

/// Where the test servers are. `scripts/test` starts them and sets these variables; a test run
/// without them fails with a message that says so rather than skipping.
public enum TestEnvironment {
    public static var databaseURL: String {
        guard let url = ProcessInfo.processInfo.environment["BOSUN_TEST_DATABASE_URL"], !url.isEmpty else {
            fatalError("BOSUN_TEST_DATABASE_URL is not set: run the tests through scripts/test, which starts PostgreSQL")
        }
        return url
    }

    public static var redisURL: String {
        guard let url = ProcessInfo.processInfo.environment["BOSUN_TEST_REDIS_URL"], !url.isEmpty else {
            fatalError("BOSUN_TEST_REDIS_URL is not set: run the tests through scripts/test, which starts Redis")
        }
        return url
    }

    public static var logger: Logger {
        var logger = Logger(label: "bosun-test")
        logger.logLevel = ProcessInfo.processInfo.environment["BOSUN_TEST_LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0) } ?? .critical
        return logger
    }

    public static func configuration(_ adjust: (inout ControlConfiguration) -> Void = { _ in }) throws
        -> ControlConfiguration
    {
        var configuration = ControlConfiguration(databaseURL: try DatabaseURL(databaseURL))
        configuration.redisURL = redisURL
        configuration.port = 0
        configuration.databaseMaxConnections = 8
        adjust(&configuration)
        return configuration
    }
}

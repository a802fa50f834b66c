import ArgumentParser
import BosunControl
import BosunSystem
import BosunLogging
import BosunProtocol
import Foundation
import Logging

struct LogOptions: ParsableArguments {
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = ProcessInfo.processInfo.environment["BOSUN_LOG_LEVEL"] ?? "info"

    @Option(help: "Log format: json or text.")
    var logFormat: String = ProcessInfo.processInfo.environment["BOSUN_LOG_FORMAT"] ?? "json"

    func bootstrap() throws -> Logger {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
        guard logFormat == "json" || logFormat == "text" else { throw ValidationError("--log-format must be json or text") }
        BosunLogging.bootstrap(level: level, format: logFormat)
        return Logger(label: "bosun-control")
    }
}

struct DatabaseOptions: ParsableArguments {
    @Option(help: "PostgreSQL URL (or BOSUN_DATABASE_URL).")
    var databaseURL: String?

    func configuration() throws -> ControlConfiguration {
        var environment = ProcessInfo.processInfo.environment
        if let databaseURL { environment["BOSUN_DATABASE_URL"] = databaseURL }
        return try ControlConfiguration.fromEnvironment(environment)
    }
}

@main
struct BosunControlCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bosun-control",
        abstract: "Bosun's control API: durable state, dispatch to workers, state decisions.",
        subcommands: [Serve.self, Migrate.self, BootstrapCommand.self],
        defaultSubcommand: Serve.self)

    /// ArgumentParser's `main`, after choosing the concurrency executor: that has to happen
    /// before any other async work.
    static func main() async {
        do {
            try ConcurrencyExecutor.fromEnvironment(ProcessInfo.processInfo.environment).install()
        } catch {
            // A bad setting is a usage error, like a bad flag (exit 64).
            exit(withError: ValidationError("\(error)"))
        }
        await main(nil)
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the HTTP API (applies migrations first).")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var log: LogOptions

    @Option(help: "Address to listen on, HOST:PORT (or BOSUN_LISTEN).")
    var listen: String?

    @Option(help: "Redis URL for readiness and heartbeats (or BOSUN_REDIS_URL).")
    var redisURL: String?

    func run() async throws {
        let logger = try log.bootstrap()
        var environment = ProcessInfo.processInfo.environment
        if let listen { environment["BOSUN_LISTEN"] = listen }
        if let redisURL { environment["BOSUN_REDIS_URL"] = redisURL }
        if let url = database.databaseURL { environment["BOSUN_DATABASE_URL"] = url }
        let configuration: ControlConfiguration
        do {
            configuration = try ControlConfiguration.fromEnvironment(environment)
        } catch let error as ConfigurationError {
            throw ValidationError(error.description)
        }
        logger.info(
            "starting bosun-control",
            metadata: [
                "listen": "\(configuration.host):\(configuration.port)",
                "database": "\(configuration.databaseURL)",
                "concurrency_executor": "\(ConcurrencyExecutor.inEffect.rawValue)",
            ])
        let server = try await ControlServer(configuration: configuration, logger: logger)
        // Under systemd (Type=notify): READY once listening, WATCHDOG while PostgreSQL answers.
        let notifier = SystemdNotifier()
        let watchdog = Task {
            guard let notifier, let interval = notifier.watchdogInterval else { return }
            while !Task.isCancelled {
                if (try? await server.services.database.ping()) != nil { try? notifier.watchdog() }
                try? await Task.sleep(for: interval)
            }
        }
        defer { watchdog.cancel() }
        let app = server.makeApplication { port in
            logger.info("bosun-control is listening", metadata: ["port": "\(port)"])
            try? notifier?.ready(status: "listening on port \(port)")
        }
        try await app.runService()
        try? notifier?.stopping()
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply database migrations and exit.")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var log: LogOptions

    func run() async throws {
        let logger = try log.bootstrap()
        let configuration = try database.configuration()
        let db = Database(url: configuration.databaseURL, maxConnections: 2, logger: logger)
        let applied = try await withDatabase(db) {
            try await Migrator(database: db, logger: logger).migrate()
        }
        print(applied.isEmpty ? "schema is up to date" : "applied migrations: \(applied.map(String.init).joined(separator: ", "))")
    }
}

struct BootstrapCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bootstrap",
        abstract: "Create an organization with a default environment and queue, and print its first admin API key once.")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var log: LogOptions

    @Option(help: "Organization name.")
    var org: String

    @Flag(help: "Print the result as JSON.")
    var json = false

    func run() async throws {
        let logger = try log.bootstrap()
        let configuration = try database.configuration()
        let db = Database(url: configuration.databaseURL, maxConnections: 2, logger: logger)
        let result: BootstrapResult
        do {
            result = try await withDatabase(db) { try await Bootstrap(database: db, logger: logger).run(organization: org) }
        } catch let error as ConfigurationError {
            throw ValidationError(error.description)
        }
        if json {
            print(String(decoding: try WireCoding.encoder().encode(result), as: UTF8.self))
        } else {
            print(
                """
                organization  \(result.organizationId.uuidString.lowercased())
                environment   \(result.environmentId.uuidString.lowercased()) (default)
                queue         \(result.queueId.uuidString.lowercased()) (default)
                admin key     \(result.adminKey)

                Store the admin key now: it is shown only this once.
                """)
        }
    }
}

/// Runs `body` while the connection pool runs, then stops the pool.
func withDatabase<T: Sendable>(_ database: Database, _ body: @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await database.client.run() }
        defer { group.cancelAll() }
        // Let the pool start before the first lease, or postgres-nio warns that run() was not called.
        await Task.yield()
        try await Task.sleep(for: .milliseconds(20))
        return try await body()
    }
}

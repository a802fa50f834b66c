import BosunLogging
import BosunProtocol
import Foundation
import Hummingbird
import LLM
import Logging
import Redis
import ServiceLifecycle

/// Builds and runs `bosun-control`: migrations, the HTTP server and its background services
/// (connection pool, notification listener, lease sweeper) in one ServiceGroup.
public struct ControlServer: Sendable {
    public let services: ControlServices
    let listener: NotificationListener
    let sweeper: LeaseSweeper
    let workerSweeper: WorkerSweeper
    let schema = SchemaReady()

    /// The state analyzer, when a gateway and a model are configured (and it is not turned off).
    static func analyzer(_ configuration: ControlConfiguration, logger: Logger) -> (any TurnAnalyzer)? {
        guard configuration.analyzerEnabled, let baseURL = configuration.llmBaseURL,
            let model = configuration.analyzerModel ?? configuration.llmDefaultModel
        else {
            logger.info("state analyzer off: the rules decide every turn (set BOSUN_LLM_BASE_URL and BOSUN_ANALYZER_MODEL)")
            return nil
        }
        // One attempt and no fallbacks: the budget is short, and the rules are the fallback.
        let gateway = LLMGateway(
            configuration: LLMGatewayConfiguration(
                baseURL: baseURL, apiKey: configuration.llmAPIKey,
                // The budget ends the call (and says so); this is only the backstop behind it.
                requestTimeout: configuration.analyzerBudget + .seconds(1), maxRetries: 0),
            logger: logger)
        return LLMTurnAnalyzer(gateway: gateway, model: model, budget: configuration.analyzerBudget, logger: logger)
    }

    public init(configuration: ControlConfiguration, logger: Logger) async throws {
        let database = Database(
            url: configuration.databaseURL, maxConnections: configuration.databaseMaxConnections, logger: logger)
        let authenticator = try await Authenticator(database: database, configuration: configuration)
        let redis = try configuration.redisURL.map { RedisConnection(url: try RedisURL($0)) }
        let dispatcher = Dispatcher()
        let events = EventHub()
        self.services = ControlServices(
            configuration: configuration, database: database, authenticator: authenticator, dispatcher: dispatcher,
            events: events, redis: redis, analyzer: Self.analyzer(configuration, logger: logger), logger: logger)
        self.listener = NotificationListener(
            url: configuration.databaseURL, dispatcher: dispatcher, events: events, authenticator: authenticator,
            logger: logger)
        self.sweeper = LeaseSweeper(
            database: database, interval: configuration.sweepInterval, schema: schema, logger: logger)
        self.workerSweeper = WorkerSweeper(
            database: database, redis: redis, configuration: configuration, schema: schema, logger: logger)
    }

    public func makeRouter() -> Router<BosunRequestContext> {
        let router = Router(context: BosunRequestContext.self)
        router.add(middleware: RequestLogMiddleware())
        OpsRoutes(services: services).register(on: router)
        let api = router.group("api/v1").add(middleware: AuthMiddleware(authenticator: services.authenticator))
        ResourceRoutes(services: services).register(on: api)
        APIKeyRoutes(services: services).register(on: api)
        ExecutionRoutes(services: services).register(on: api)
        WorkerRoutes(services: services).register(on: api)
        PolicyRoutes(services: services).register(on: api)
        return router
    }

    /// The application with its services. `onServerRunning` learns the bound port (useful with port 0).
    public func makeApplication(
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let configuration = services.configuration
        let database = services.database
        let logger = services.logger
        var app = Application(
            router: makeRouter(),
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port), serverName: "bosun-control"),
            onServerRunning: { channel in
                await onServerRunning(channel.localAddress?.port ?? 0)
            },
            logger: logger)
        app.addServices(database.client, listener, sweeper, workerSweeper)
        let schema = self.schema
        app.beforeServerStarts {
            try await Migrator(database: database, logger: logger).migrate()
            await schema.open()
        }
        return app
    }
}

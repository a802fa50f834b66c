import BosunProtocol
import Foundation
import Logging
import Redis

/// The parts of the control API that routes share.
public struct ControlServices: Sendable {
    public let configuration: ControlConfiguration
    public let database: Database
    public let authenticator: Authenticator
    public let dispatcher: Dispatcher
    public let events: EventHub
    public let redis: RedisConnection?
    public let logger: Logger
    let tasks: TaskStore
    /// Remembered policy decisions that let a submit take one round trip.
    let submitDecisions = SubmitDecisions()

    public init(
        configuration: ControlConfiguration, database: Database, authenticator: Authenticator,
        dispatcher: Dispatcher, events: EventHub, redis: RedisConnection?, analyzer: (any TurnAnalyzer)? = nil,
        logger: Logger
    ) {
        self.configuration = configuration
        self.database = database
        self.authenticator = authenticator
        self.dispatcher = dispatcher
        self.events = events
        self.redis = redis
        self.logger = logger
        self.tasks = TaskStore(database: database, configuration: configuration, analyzer: analyzer, logger: logger)
    }

    var maxBody: Int { configuration.maxBodyBytes }
}

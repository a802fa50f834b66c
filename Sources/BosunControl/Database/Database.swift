import BosunProtocol
import Foundation
import HTTPTypes
import Logging
import PostgresNIO
import ServiceLifecycle

/// The control API's access to PostgreSQL.
///
/// Every request runs in a transaction as the `bosun_app` role (no BYPASSRLS) with the
/// organization set transaction-locally, so row-level security applies even when the configured
/// user is a superuser. `set_config(..., true)` rather than `SET` because it can bind a parameter
/// and stays local to the transaction, which is what makes pooled connections safe.
public struct Database: Sendable {
    public let client: PostgresClient
    public let url: DatabaseURL
    let logger: Logger

    public init(url: DatabaseURL, maxConnections: Int = 20, logger: Logger) {
        var configuration = url.clientConfiguration
        configuration.options.maximumConnections = maxConnections
        configuration.options.minimumConnections = 1
        self.client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.url = url
        self.logger = logger
    }

    /// Runs `body` in one transaction on behalf of `organization`.
    public func withTenant<Result: Sendable>(
        _ organization: UUID,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await unwrapped {
            try await client.withTransaction(logger: logger) { connection in
                let rows = try await connection.execute(SetTenantStatement(organization: organization), logger: logger)
                for try await _ in rows {}
                return try await body(connection)
            }
        }
    }

    /// Runs one statement on its own, outside an explicit transaction. Only for the functions that
    /// enter the tenant themselves (`bosun_claim_tasks`, `bosun_submit`): a bare statement would
    /// run as the configured user.
    func single<Statement: PostgresPreparedStatement>(_ statement: Statement) async throws -> [Statement.Row] {
        try await unwrapped {
            var rows: [Statement.Row] = []
            for try await row in try await client.execute(statement, logger: logger) { rows.append(row) }
            return rows
        }
    }

    /// Runs `body` in one transaction as `bosun_app` with no organization: tenant tables show
    /// nothing; only the narrow definer functions (credential look-ups, lease expiry) answer.
    public func withoutTenant<Result: Sendable>(_ body: (PostgresConnection) async throws -> Result) async throws
        -> Result
    {
        try await unwrapped {
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query("SELECT set_config('role', 'bosun_app', true)", logger: logger)
                return try await body(connection)
            }
        }
    }

    /// Runs `body` as the configured user itself: migrations and bootstrap only.
    func asOwner<Result: Sendable>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        try await unwrapped {
            try await client.withTransaction(logger: logger) { connection in
                try await body(connection)
            }
        }
    }

    /// postgres-nio wraps whatever the transaction body threw; callers want the error itself
    /// (an `APIError` with its status, a `PSQLError` with its SQL state).
    private func unwrapped<Result>(_ body: () async throws -> Result) async throws -> Result {
        do {
            return try await body()
        } catch let error as PostgresTransactionError {
            let cause = error.closureError ?? error.beginError ?? error.commitError ?? error
            if Self.meansUnavailable(cause) { throw Self.unavailable(cause) }
            if let closureError = error.closureError { throw closureError }
            throw error
        } catch let error as PSQLError where Self.meansUnavailable(error) {
            throw Self.unavailable(error)
        }
    }

    /// Whether an error says the database is not there right now (restarting, unreachable,
    /// connection lost) rather than that the request was wrong: clients should retry those.
    static func meansUnavailable(_ error: any Error) -> Bool {
        guard let error = error as? PSQLError else { return false }
        switch error.code {
        case .serverClosedConnection, .clientClosedConnection, .connectionError, .uncleanShutdown, .poolClosed:
            return true
        case .server:
            // Class 08: connection exception; class 57: operator intervention (57P01 admin
            // shutdown on a restart, 57P02 crash shutdown, 57P03 cannot connect now).
            let state = error.serverInfo?[.sqlState] ?? ""
            return state.hasPrefix("08") || state.hasPrefix("57P")
        default:
            return false
        }
    }

    static func unavailable(_ error: any Error) -> APIError {
        var problem = APIError.unavailable(
            "the database is not reachable right now (it may be restarting); retry shortly — an idempotency key makes a retried submit safe")
        problem.headers[.retryAfter] = "1"
        return problem
    }

    public func ping() async throws {
        try await client.query("SELECT 1", logger: logger)
    }
}

extension PostgresRandomAccessRow {
    func value<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T {
        try self[column].decode(T.self)
    }

    /// A jsonb column selected as `column::text`.
    func json(_ column: String) throws -> JSONDocument {
        guard let text = try self[column].decode(String?.self) else { return JSONDocument(value: .null) }
        // PostgreSQL's own jsonb output: the byte parser reads it 20x faster than JSONDecoder.
        return JSONDocument(value: try JSONValue(parsing: text))
    }
}

/// A decoded jsonb value; a wrapper so call sites read `try row.json("data").value`.
struct JSONDocument {
    let value: JSONValue
}

extension JSONValue {
    /// The JSON text of this value, for binding to a `$n::jsonb` parameter (the byte writer, not
    /// JSONEncoder: this runs on every submit and report).
    var jsonText: String { jsonText() }
}

extension Encodable {
    /// The JSON text of this value, for binding to a `$n::jsonb` parameter.
    var jsonText: String {
        String(decoding: (try? WireCoding.encode(self)) ?? Array("null".utf8), as: UTF8.self)
    }
}

extension PostgresConnection {
    /// Throws a 404 naming `what` unless the tenant can see row `id` of `table`.
    func requireRow(_ table: StaticString, id: UUID, what: String, logger: Logger) async throws {
        let rows = try await query(
            PostgresQuery(unsafeSQL: "SELECT 1 FROM \(table) WHERE id = $1", binds: try binds(id)), logger: logger)
        for try await _ in rows { return }
        throw APIError.notFound(what, id)
    }
}

/// The first statement of every tenant transaction, prepared once per connection.
struct SetTenantStatement: PostgresPreparedStatement {
    static let sql = "SELECT set_config('role', 'bosun_app', true), set_config('bosun.org_id', $1, true)"
    typealias Row = Void
    var organization: UUID
    func makeBindings() throws -> PostgresBindings { try binds(organization.uuidString) }
    func decodeRow(_ row: PostgresRow) throws {}
}

/// SQL run often enough to be prepared once per connection (parsed and planned once, not on
/// every call): the worker reports' statements. Each conforming type is one statement;
/// `Prepared<Statement>` carries its bindings. Integer parameters are `$n::bigint` (Swift's
/// `Int` binds as int8) and jsonb ones `$n::text::jsonb` (bound as text).
protocol PreparedSQL {
    static var sql: String { get }
}

struct Prepared<Statement: PreparedSQL>: PostgresPreparedStatement {
    static var sql: String { Statement.sql }
    static var name: String { String(reflecting: Statement.self) }
    typealias Row = PostgresRow
    let bindings: PostgresBindings

    init(_ statement: Statement.Type, _ bindings: PostgresBindings) {
        self.bindings = bindings
    }

    func makeBindings() throws -> PostgresBindings { bindings }
    func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
}

extension AsyncSequence {
    /// Reads a statement's result to the end (for statements whose rows do not matter).
    func consume() async throws {
        for try await _ in self {}
    }
}

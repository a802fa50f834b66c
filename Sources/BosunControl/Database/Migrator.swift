import Logging
import PostgresNIO

/// Applies `Migrations.all` in order. Idempotent, and safe when several control API processes
/// start at once: a transaction-level advisory lock lets one of them migrate at a time.
public struct Migrator: Sendable {
    let database: Database
    let logger: Logger

    public init(database: Database, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    /// Returns the versions it applied (empty when the schema was already current).
    @discardableResult
    public func migrate() async throws -> [Int] {
        var applied: [Int] = []
        for migration in Migrations.all {
            let didApply = try await database.asOwner { connection in
                // 0x626f73756e = "bosun"; one lock id for all of Bosun's migrations.
                try await connection.query("SELECT pg_advisory_xact_lock(423378365806)", logger: logger)
                try await connection.query(
                    """
                    CREATE TABLE IF NOT EXISTS bosun_schema_migrations (
                        version integer PRIMARY KEY,
                        name text NOT NULL,
                        applied_at timestamptz NOT NULL DEFAULT now()
                    )
                    """, logger: logger)
                let rows = try await connection.query(
                    "SELECT version FROM bosun_schema_migrations WHERE version = \(migration.version)",
                    logger: logger)
                for try await _ in rows { return false }
                // postgres-nio speaks only the extended protocol: one statement per query.
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    "INSERT INTO bosun_schema_migrations (version, name) VALUES (\(migration.version), \(migration.name))",
                    logger: logger)
                return true
            }
            if didApply {
                logger.info(
                    "applied migration",
                    metadata: ["bosun.migration.version": "\(migration.version)", "bosun.migration.name": "\(migration.name)"])
                applied.append(migration.version)
            }
        }
        return applied
    }
}

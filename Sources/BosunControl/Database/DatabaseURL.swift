import Foundation
import PostgresNIO

/// A `postgres://user:password@host:port/database` URL, parsed once at start.
public struct DatabaseURL: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var requireTLS: Bool

    public init(_ text: String) throws {
        guard let components = URLComponents(string: text),
            let scheme = components.scheme, scheme == "postgres" || scheme == "postgresql"
        else {
            throw ConfigurationError("database URL must look like postgres://user:password@host:port/database")
        }
        guard let user = components.user, !user.isEmpty else {
            throw ConfigurationError("database URL has no user name")
        }
        self.host = components.host.flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1"
        self.port = components.port ?? 5432
        self.username = user.removingPercentEncoding ?? user
        self.password = components.password.map { $0.removingPercentEncoding ?? $0 }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        self.database = path.isEmpty ? self.username : path
        let sslmode = components.queryItems?.first(where: { $0.name == "sslmode" })?.value
        self.requireTLS = sslmode == "require" || sslmode == "verify-full" || sslmode == "verify-ca"
    }

    /// The URL without its password, safe to log.
    public var description: String {
        "postgres://\(username)@\(host):\(port)/\(database)"
    }

    var clientConfiguration: PostgresClient.Configuration {
        PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database,
            tls: requireTLS ? .require(.makeClientConfiguration()) : .disable)
    }

    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        PostgresConnection.Configuration(
            host: host, port: port, username: username, password: password, database: database,
            tls: requireTLS ? .require(try NIOSSLContext(configuration: .makeClientConfiguration())) : .disable)
    }
}

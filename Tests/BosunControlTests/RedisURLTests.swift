import Redis
import Testing

@Suite struct RedisURLTests {
    @Test func readsEveryPartOfARedisURL() throws {
        let url = try RedisURL("redis://worker%2D1:p%40ss@redis.example.com:6380/2")
        #expect(url.host == "redis.example.com")
        #expect(url.port == 6380)
        #expect(url.username == "worker-1")
        #expect(url.password == "p@ss")
        #expect(url.database == 2)
        #expect(url.description == "redis://redis.example.com:6380/2")
    }

    @Test func defaultsAndPercentEncodedHosts() throws {
        let bare = try RedisURL("redis://")
        #expect(bare.host == "127.0.0.1" && bare.port == 6379 && bare.database == 0)
        #expect(bare.username == nil && bare.password == nil)
        #expect(try RedisURL("redis://h%6Fst:7/").host == "host")
        #expect(try RedisURL("redis://cache/5/").database == 5)
    }

    /// hiredis resolves the host itself and does not take the brackets of a URL's IPv6 literal.
    @Test func anIPv6HostLosesItsBrackets() throws {
        let url = try RedisURL("redis://[::1]:6380/1")
        #expect(url.host == "::1")
        #expect(url.port == 6380)
        #expect(url.description == "redis://[::1]:6380/1")
    }

    @Test func rejectsOtherSchemes() {
        #expect(throws: RedisError.self) { try RedisURL("http://127.0.0.1:6379") }
        #expect(throws: RedisError.self) { try RedisURL("not a url") }
    }
}

import BosunControl
import BosunProtocol
import BosunTestSupport
import Foundation
import Testing

@Suite struct OpenAPIDocumentTests {
    @Test func everyRouteIsDocumentedAndEveryDocumentedRouteExists() async throws {
        let server = try await TestServer.shared()
        let routes = Set(
            server.server.makeRouter().routes.map { route -> String in
                let path = route.path.description.split(separator: "/").map { segment in
                    segment.hasPrefix(":") ? "{\(segment.dropFirst())}" : String(segment)
                }.joined(separator: "/")
                return "\(route.method.rawValue) /\(path)"
            })
        #expect(routes == OpenAPIDocument.routes, "undocumented: \(routes.subtracting(OpenAPIDocument.routes)), stale: \(OpenAPIDocument.routes.subtracting(routes))")
        let served = try await APIClient(baseURL: server.baseURL).get("/openapi.json")
        #expect(served.status == 200)
        let document = try JSONSerialization.jsonObject(with: served.body) as? [String: Any]
        #expect(document?["openapi"] as? String == "3.1.0")
        #expect((document?["paths"] as? [String: Any])?.count == Set(OpenAPIDocument.routes.map { $0.split(separator: " ")[1] }).count)
    }

    @Test func healthAndReadiness() async throws {
        let server = try await TestServer.shared()
        let client = APIClient(baseURL: server.baseURL)
        #expect(try await client.get("/healthz").status == 200)
        let ready = try await client.get("/readyz")
        #expect(ready.status == 200)
        #expect(ready.text.contains("\"postgres\":\"ok\""))
        #expect(ready.text.contains("\"redis\":\"ok\""))
        #expect(ready.headers.first(name: "X-Request-Id") != nil)
    }

    @Test func readinessFailsWhenRedisIsUnreachable() async throws {
        let server = try await TestServer.start { $0.redisURL = "redis://127.0.0.1:1" }
        defer { Task { await server.stop() } }
        let ready = try await APIClient(baseURL: server.baseURL).get("/readyz")
        #expect(ready.status == 503)
        #expect(ready.text.contains("\"redis\":\"unavailable\""))
    }

    /// The documented request fields are the ones the server accepts: a fuzzer or a generated
    /// client working from the document sends what the server reads.
    @Test func requestSchemasListExactlyTheFieldsTheServerAccepts() throws {
        let document = try #require(try JSONSerialization.jsonObject(with: OpenAPIDocument.json) as? [String: Any])
        let schemas = try #require((document["components"] as? [String: Any])?["schemas"] as? [String: Any])
        let accepted: [String: Set<String>] = [
            "AgentDefinition": AgentDefinition.fieldNames,
            "CreateExecutionRequest": CreateExecutionRequest.fieldNames,
            "CreateEnvironmentRequest": CreateEnvironmentRequest.fieldNames,
            "PolicyDefinition": PolicyDefinition.fieldNames,
            "CreateTeamRequest": CreateTeamRequest.fieldNames,
            "ApprovalDecisionRequest": ApprovalDecisionRequest.fieldNames,
            "TransitionOverrideRequest": TransitionOverrideRequest.fieldNames,
        ]
        for (name, fields) in accepted {
            let schema = try #require(schemas[name] as? [String: Any], "\(name) is not in the document")
            let properties = Set(((schema["properties"] as? [String: Any]) ?? [:]).keys)
            #expect(properties == fields, "\(name): documented \(properties.sorted()), accepted \(fields.sorted())")
        }
    }
}

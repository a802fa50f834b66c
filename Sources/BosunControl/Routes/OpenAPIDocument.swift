import Foundation

/// The served `/openapi.json`. Every route the router has is listed here; a test checks the two
/// against each other in both directions, so the document cannot drift from the code.
public enum OpenAPIDocument {
    struct Operation {
        var method: String
        var path: String
        var summary: String
        var auth: String?
        var request: String?
        var responses: [Int: String]
    }

    static let problem = "#/components/schemas/Problem"

    static let operations: [Operation] = [
        Operation(method: "GET", path: "/healthz", summary: "Liveness: the process answers", auth: nil, responses: [200: "ok"]),
        Operation(
            method: "GET", path: "/readyz", summary: "Readiness: PostgreSQL and Redis answer", auth: nil,
            responses: [200: "ready", 503: "a dependency is down"]),
        Operation(method: "GET", path: "/openapi.json", summary: "This document", auth: nil, responses: [200: "the document"]),

        Operation(method: "GET", path: "/api/v1/environments", summary: "List environments", auth: "user", responses: [200: "environments"]),
        Operation(
            method: "POST", path: "/api/v1/environments", summary: "Create an environment", auth: "admin",
            request: "CreateEnvironmentRequest", responses: [201: "created", 409: "name taken"]),
        Operation(method: "GET", path: "/api/v1/environments/{id}", summary: "Show an environment", auth: "user", responses: [200: "the environment", 404: "unknown id"]),
        Operation(method: "DELETE", path: "/api/v1/environments/{id}", summary: "Delete an environment", auth: "admin", responses: [204: "deleted", 404: "unknown id"]),

        Operation(method: "GET", path: "/api/v1/queues", summary: "List task queues", auth: "user", responses: [200: "queues"]),
        Operation(
            method: "POST", path: "/api/v1/queues", summary: "Create a task queue", auth: "admin",
            request: "CreateQueueRequest", responses: [201: "created", 409: "name taken"]),
        Operation(method: "GET", path: "/api/v1/queues/{id}", summary: "Show a task queue", auth: "user", responses: [200: "the queue", 404: "unknown id"]),
        Operation(method: "DELETE", path: "/api/v1/queues/{id}", summary: "Delete a task queue", auth: "admin", responses: [204: "deleted", 409: "in use"]),

        Operation(method: "GET", path: "/api/v1/agents", summary: "List agents", auth: "user", responses: [200: "agents"]),
        Operation(
            method: "POST", path: "/api/v1/agents", summary: "Create an agent", auth: "user", request: "AgentDefinition",
            responses: [201: "created", 409: "name taken"]),
        Operation(method: "GET", path: "/api/v1/agents/{id}", summary: "Show an agent", auth: "user", responses: [200: "the agent", 404: "unknown id"]),
        Operation(
            method: "PATCH", path: "/api/v1/agents/{id}", summary: "Change an agent (only the fields given)", auth: "user",
            request: "AgentDefinition", responses: [200: "the agent", 404: "unknown id"]),
        Operation(method: "DELETE", path: "/api/v1/agents/{id}", summary: "Delete an agent", auth: "user", responses: [204: "deleted", 409: "in use"]),

        Operation(method: "GET", path: "/api/v1/api-keys", summary: "List API keys (never their secrets)", auth: "admin", responses: [200: "keys"]),
        Operation(
            method: "POST", path: "/api/v1/api-keys", summary: "Create an API key; the secret is returned once, as 'key'",
            auth: "admin", request: "CreateAPIKeyRequest", responses: [201: "created"]),
        Operation(method: "DELETE", path: "/api/v1/api-keys/{id}", summary: "Revoke an API key", auth: "admin", responses: [204: "revoked", 404: "unknown id"]),

        Operation(method: "GET", path: "/api/v1/policies", summary: "List policies", auth: "user", responses: [200: "policies"]),
        Operation(
            method: "POST", path: "/api/v1/policies", summary: "Create a policy (level organization | environment | team | agent)",
            auth: "admin", request: "PolicyDefinition",
            responses: [201: "created", 404: "unknown target", 409: "name taken", 422: "rules, level or target invalid"]),
        Operation(method: "GET", path: "/api/v1/policies/{id}", summary: "Show a policy", auth: "user", responses: [200: "the policy", 404: "unknown id"]),
        Operation(
            method: "PATCH", path: "/api/v1/policies/{id}", summary: "Change a policy (only the fields given)", auth: "admin",
            request: "PolicyDefinition", responses: [200: "the policy", 404: "unknown id", 422: "invalid"]),
        Operation(method: "DELETE", path: "/api/v1/policies/{id}", summary: "Delete a policy", auth: "admin", responses: [204: "deleted", 404: "unknown id"]),

        Operation(method: "GET", path: "/api/v1/teams", summary: "List teams", auth: "user", responses: [200: "teams"]),
        Operation(
            method: "POST", path: "/api/v1/teams", summary: "Create a team of agents", auth: "user", request: "CreateTeamRequest",
            responses: [201: "created", 404: "unknown agent", 409: "name taken"]),
        Operation(method: "GET", path: "/api/v1/teams/{id}", summary: "Show a team", auth: "user", responses: [200: "the team", 404: "unknown id"]),
        Operation(method: "DELETE", path: "/api/v1/teams/{id}", summary: "Delete a team", auth: "user", responses: [204: "deleted", 404: "unknown id"]),

        Operation(
            method: "POST", path: "/api/v1/executions", summary: "Submit an execution (routing AUTO, SPECIFIC_QUEUE or ENVIRONMENT)",
            auth: "user", request: "CreateExecutionRequest",
            responses: [
                201: "created", 200: "an execution with this idempotency key already exists",
                403: "denied by policy (the problem's 'policy' names the rule)", 404: "unknown agent, queue or environment",
            ]),
        Operation(
            method: "GET", path: "/api/v1/executions", summary: "List executions (status, agent_id, limit, cursor)", auth: "user",
            responses: [200: "a page of executions"]),
        Operation(method: "GET", path: "/api/v1/executions/{id}", summary: "Show an execution", auth: "user", responses: [200: "the execution", 404: "unknown id"]),
        Operation(method: "POST", path: "/api/v1/executions/{id}/cancel", summary: "Cancel an execution", auth: "user", responses: [200: "the execution", 409: "already finished"]),
        Operation(
            method: "POST", path: "/api/v1/executions/{id}/messages", summary: "Reply to an execution waiting for input",
            auth: "user", request: "ExecutionMessageRequest", responses: [200: "the execution", 409: "not waiting for input"]),
        Operation(
            method: "GET", path: "/api/v1/executions/{id}/events",
            summary: "Execution events: JSON page, or SSE with Accept: text/event-stream (resumable with Last-Event-ID)",
            auth: "user", responses: [200: "events"]),
        Operation(
            method: "GET", path: "/api/v1/executions/{id}/transitions", summary: "Recorded state transitions", auth: "user",
            responses: [200: "transitions"]),
        Operation(
            method: "GET", path: "/api/v1/executions/{id}/approvals", summary: "Tool calls that wait (or waited) for approval",
            auth: "user", responses: [200: "approvals", 404: "unknown execution"]),
        Operation(
            method: "POST", path: "/api/v1/executions/{id}/approvals/{approval}/approve",
            summary: "Approve a pending tool call: exactly that call runs", auth: "user", request: "ApprovalDecisionRequest",
            responses: [200: "the approval", 404: "unknown approval", 409: "already decided or expired"]),
        Operation(
            method: "POST", path: "/api/v1/executions/{id}/approvals/{approval}/deny",
            summary: "Deny a pending tool call: the model is told", auth: "user", request: "ApprovalDecisionRequest",
            responses: [200: "the approval", 404: "unknown approval", 409: "already decided or expired"]),
        Operation(
            method: "POST", path: "/api/v1/executions/{id}/transitions/override",
            summary: "Overrule the latest state decision (to: completed | waiting_for_input | continue | failed)",
            auth: "user", request: "TransitionOverrideRequest",
            responses: [200: "the execution", 409: "not decided yet, or the named turn is not the latest"]),

        Operation(
            method: "POST", path: "/api/v1/workers/register", summary: "Register a worker with a worker API key", auth: "worker key",
            request: "WorkerRegistrationRequest", responses: [201: "registered", 403: "key bound to another queue"]),
        Operation(
            method: "POST", path: "/api/v1/workers/{id}/token",
            summary: "A fresh token for a live worker (with its worker API key); 404 once it was lost or deregistered",
            auth: "worker key", responses: [200: "new token", 404: "register again"]),
        Operation(
            method: "GET", path: "/api/v1/workers",
            summary: "List workers with live status (light heartbeat) and the latest full heartbeat", auth: "user",
            responses: [200: "workers"]),
        Operation(
            method: "POST", path: "/api/v1/workers/{id}/poll", summary: "Long poll for tasks", auth: "worker token",
            request: "PollRequest", responses: [
                200: "tasks with leases",
                204: "the wait ended with no task; header Bosun-Worker-Status: draining when the worker is draining",
            ]),
        Operation(
            method: "POST", path: "/api/v1/workers/{id}/drain", summary: "Stop handing tasks to a worker; ends its pending polls",
            auth: "worker token or admin", responses: [202: "draining"]),
        Operation(
            method: "DELETE", path: "/api/v1/workers/{id}", summary: "Deregister a worker; its leased tasks are re-queued",
            auth: "worker token or admin", responses: [204: "deregistered"]),

        Operation(
            method: "POST", path: "/api/v1/tasks/{id}/renew", summary: "Renew a lease; the reply carries cancel_requested",
            auth: "worker token", request: "RenewLeaseRequest", responses: [200: "renewed", 409: "stale lease"]),
        Operation(
            method: "POST", path: "/api/v1/tasks/{id}/events", summary: "Append turn events (idempotent per seq)",
            auth: "worker token", request: "AppendEventsRequest", responses: [200: "accepted", 409: "stale lease"]),
        Operation(
            method: "POST", path: "/api/v1/tasks/{id}/complete", summary: "Complete a turn (idempotent per lease)",
            auth: "worker token", request: "CompleteTaskRequest", responses: [200: "the state decision", 409: "stale lease"]),
        Operation(
            method: "POST", path: "/api/v1/tasks/{id}/fail", summary: "Fail a turn, retryable or not", auth: "worker token",
            request: "FailTaskRequest", responses: [200: "what happens next", 409: "stale lease"]),
        Operation(
            method: "POST", path: "/api/v1/tasks/{id}/release",
            summary: "Give a task back unfinished (worker shutdown): re-queued at once, attempt not counted",
            auth: "worker token", request: "ReleaseTaskRequest", responses: [200: "re-queued", 409: "stale lease"]),
        Operation(
            method: "POST", path: "/api/v1/tasks/{id}/await-approval",
            summary: "Park a task until people decide on its tool calls (waiting_for_approval)", auth: "worker token",
            request: "AwaitApprovalRequest", responses: [200: "parked", 409: "stale lease"]),
    ]

    /// `(method, path)` pairs in OpenAPI path syntax.
    public static var routes: Set<String> { Set(operations.map { "\($0.method) \($0.path)" }) }

    public static let json: Data = {
        var paths: [String: [String: Any]] = [:]
        for operation in operations {
            var responses: [String: Any] = [:]
            for (status, description) in operation.responses {
                responses[String(status)] = ["description": description]
            }
            responses["default"] = [
                "description": "an error",
                "content": ["application/problem+json": ["schema": ["$ref": problem]]],
            ]
            var entry: [String: Any] = [
                "summary": operation.summary,
                "operationId": operationId(operation),
                "responses": responses,
            ]
            if operation.auth != nil {
                entry["security"] = [["bearer": []]]
                entry["description"] = "Credential: \(operation.auth!)."
            }
            let parameters = operation.path.split(separator: "/").filter { $0.hasPrefix("{") }.map { segment in
                [
                    "name": String(segment.dropFirst().dropLast()), "in": "path", "required": true,
                    "schema": ["type": "string", "format": "uuid"],
                ] as [String: Any]
            }
            if !parameters.isEmpty { entry["parameters"] = parameters }
            if let request = operation.request {
                let schema: [String: Any] =
                    requestSchemas.keys.contains(request)
                    ? ["$ref": "#/components/schemas/\(request)"] : ["type": "object", "title": request]
                entry["requestBody"] = [
                    "required": true,
                    "content": ["application/json": ["schema": schema]],
                ]
            }
            paths[operation.path, default: [:]][operation.method.lowercased()] = entry
        }
        let document: [String: Any] = [
            "openapi": "3.1.0",
            "info": ["title": "Bosun control API", "version": "1.0.0"],
            "paths": paths,
            "components": [
                "securitySchemes": ["bearer": ["type": "http", "scheme": "bearer"]],
                "schemas": requestSchemas.merging([
                    "Problem": [
                        "type": "object",
                        "required": ["type", "title", "status", "detail"],
                        "properties": [
                            "type": ["type": "string"], "title": ["type": "string"],
                            "status": ["type": "integer"], "detail": ["type": "string"],
                            "policy": ["type": "object", "description": "the policy decision, on a policy denial"],
                        ],
                    ]
                ]) { first, _ in first },
            ],
        ]
        return (try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys])) ?? Data("{}".utf8)
    }()

    /// Request bodies with their fields, so a client generator (or a fuzzer) knows their shape.
    /// Unknown fields are refused by the server (`additionalProperties: false`).
    static var requestSchemas: [String: Any] {
        let uuid: [String: Any] = ["type": "string", "format": "uuid"]
        let text: [String: Any] = ["type": "string"]
        let object: [String: Any] = ["type": "object"]
        let anyValue: [String: Any] = [:]
        func schema(_ properties: [String: Any], required: [String] = []) -> [String: Any] {
            var schema: [String: Any] = ["type": "object", "properties": properties, "additionalProperties": false]
            if !required.isEmpty { schema["required"] = required }
            return schema
        }
        return [
            "CreateEnvironmentRequest": schema(["name": text, "description": text], required: ["name"]),
            "CreateQueueRequest": schema(["name": text, "environment_id": uuid, "description": text], required: ["name"]),
            "AgentDefinition": schema([
                "name": text, "description": text, "runtime": ["type": "string", "enum": ["agno", "claude_code"]],
                "model": text, "instructions": text, "tools": ["type": "array"], "mcp_servers": object,
                "sandbox_profile": text, "limits": object, "settings": object,
            ]),
            "CreateAPIKeyRequest": schema(
                ["name": text, "scope": ["type": "string", "enum": ["admin", "user", "worker"]], "queue_id": uuid],
                required: ["name", "scope"]),
            "CreateExecutionRequest": schema(
                [
                    "agent_id": uuid, "team_id": uuid, "input": anyValue, "idempotency_key": text,
                    "message_strategy": ["type": "string", "enum": ["enqueue", "interrupt", "reject"]],
                    "routing": schema([
                        "strategy": ["type": "string", "enum": ["AUTO", "SPECIFIC_QUEUE", "ENVIRONMENT"]],
                        "queue_id": uuid, "environment_id": uuid,
                    ], required: ["strategy"]),
                ], required: ["input"]),
            "ExecutionMessageRequest": schema(["content": anyValue], required: ["content"]),
            "TransitionOverrideRequest": schema(
                [
                    "to": ["type": "string", "enum": ["completed", "waiting_for_input", "continue", "failed"]],
                    "reason": text, "turn": ["type": "integer"],
                ], required: ["to"]),
            "ApprovalDecisionRequest": schema(["reason": text]),
            "PolicyDefinition": schema([
                "name": text, "level": ["type": "string", "enum": ["organization", "environment", "team", "agent"]],
                "target_id": uuid, "enabled": ["type": "boolean"],
                "rules": schema([
                    "tools": schema([
                        "allow": ["type": "array", "items": text], "deny": ["type": "array", "items": text],
                        "require_approval": ["type": "array", "items": text],
                    ]),
                    "models": schema(["allow": ["type": "array", "items": text]]),
                    "quotas": schema([
                        "execution_tokens": ["type": "integer", "minimum": 0],
                        "execution_cost_usd": ["type": "number", "minimum": 0],
                        "organization_daily_tokens": ["type": "integer", "minimum": 0],
                        "organization_daily_cost_usd": ["type": "number", "minimum": 0],
                    ]),
                    "sandbox": schema(["minimum_profile": ["type": "string", "enum": ["trusted", "default", "strict"]]]),
                    "limits": schema(["max_turns": ["type": "integer", "minimum": 1]]),
                ]),
            ]),
            "CreateTeamRequest": schema(
                ["name": text, "description": text, "member_agent_ids": ["type": "array", "items": uuid]], required: ["name"]),
        ]
    }

    static func operationId(_ operation: Operation) -> String {
        let words = operation.path.split(separator: "/").filter { $0 != "api" && $0 != "v1" }.map { segment in
            segment.hasPrefix("{") ? "By" + segment.dropFirst().dropLast().capitalized : segment.replacingOccurrences(of: "-", with: "_").replacingOccurrences(of: ".", with: "_")
        }
        return operation.method.lowercased() + "_" + words.joined(separator: "_")
    }
}

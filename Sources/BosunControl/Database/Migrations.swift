import Foundation

/// Versioned schema migrations, applied in order, each in its own transaction.
///
/// They live in Swift rather than resource files so an installed `bosun-control` binary carries
/// its schema with it. Never edit a released migration: add a new one.
struct Migration: Sendable {
    let version: Int
    let name: String
    let sql: String

    /// The migration split into single statements. `;` ends a statement at the end of a line,
    /// except inside a `$$`-quoted body (functions and DO blocks).
    var statements: [String] {
        var statements: [String] = []
        var current = ""
        var insideDollarQuote = false
        for line in sql.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("--") { continue }
            current += line + "\n"
            if line.components(separatedBy: "$$").count % 2 == 0 { insideDollarQuote.toggle() }
            if !insideDollarQuote, trimmed.hasSuffix(";") {
                statements.append(current.trimmingCharacters(in: .whitespacesAndNewlines))
                current = ""
            }
        }
        let rest = current.trimmingCharacters(in: .whitespacesAndNewlines)
        if !rest.isEmpty { statements.append(rest) }
        return statements
    }
}

enum Migrations {
    /// The role every request runs as. It has no BYPASSRLS, so row-level security always applies,
    /// even when the configured database user is a superuser or owns the schema.
    static let applicationRole = "bosun_app"

    static let all: [Migration] = [
        Migration(version: 1, name: "initial schema", sql: initialSchema),
        Migration(version: 2, name: "dispatch indexes", sql: dispatchIndexes),
        Migration(version: 3, name: "worker liveness", sql: workerLiveness),
        Migration(version: 4, name: "agent runtime settings", sql: agentSettings),
        Migration(version: 5, name: "policies", sql: policies),
        Migration(version: 6, name: "approvals", sql: approvals),
        Migration(version: 7, name: "message strategies", sql: messageStrategies),
        Migration(version: 8, name: "one-statement submit and claim", sql: hotPathFunctions),
        Migration(version: 9, name: "submit writes in one statement", sql: oneStatementSubmitWrites),
        Migration(version: 10, name: "one-statement event batch", sql: oneStatementEventBatch),
        Migration(version: 11, name: "claims read the ready index", sql: claimsReadTheReadyIndex),
    ]

    /// Queue reads that stay small whatever the backlog. Planner statistics lag behind a queue
    /// that fills up: they say next to nothing is open, so every partial index over open tasks
    /// looks like one row, and the planner picked `tasks_open_per_queue` where it was the wrong
    /// index. The claim read every open task of the queue and sorted them to take the oldest,
    /// and its check for tasks a worker holds read every open task of every queue: 3,004 rows
    /// fetched per claim on a 3,000-task backlog (4.2 ms for the first read alone, against
    /// 0.04-0.09 ms through `tasks_ready`), so completions ran slowest while the backlog was
    /// deepest (`bosun bench e2e`).
    ///
    /// `tasks_open_per_queue` goes. Routing's open-task count is now queued plus leased, each
    /// from its own index: `tasks_ready` (which the claim needs anyway) and the new
    /// `tasks_leased_per_queue`. `bosun_submit` is migration 9's text with only that count
    /// changed (derived from it, so the two cannot drift). And the claim plans without sorting:
    /// a claim never wants a sort, so pricing sorts out leaves it `tasks_ready`'s order even
    /// if a future index looks cheaper on stale statistics.
    static let claimsReadTheReadyIndex: String = {
        // Migration 9's count exactly as its string holds it (the literal's indentation removed).
        let openCount = "(SELECT count(*) FROM tasks t\n" + String(repeating: " ", count: 32)
            + "WHERE t.queue_id = l.id AND t.status IN ('queued', 'leased'))::float / l.slots"
        let splitCount = "((SELECT count(*) FROM tasks t WHERE t.queue_id = l.id AND t.status = 'queued')\n"
            + String(repeating: " ", count: 32)
            + "+ (SELECT count(*) FROM tasks t WHERE t.queue_id = l.id AND t.status = 'leased'))::float / l.slots"
        let submit = oneStatementSubmitWrites.replacingOccurrences(of: openCount, with: splitCount)
        return """
            CREATE INDEX tasks_leased_per_queue ON tasks (queue_id) WHERE status = 'leased';
            DROP INDEX tasks_open_per_queue;
            \(submit)
            ALTER FUNCTION bosun_claim_tasks(uuid, uuid, double precision, uuid, bigint, uuid[]) SET enable_sort = off;
            """
    }()

    /// The dispatch hot path (submit and claim) as functions that each run as one statement with
    /// no explicit transaction: the function enters the tenant itself (the application role and
    /// the organization, both transaction-local, so they end with the statement's own implicit
    /// transaction). One round trip replaces BEGIN, the tenant statement, the work and COMMIT;
    /// measured, that was most of the submit -> claim latency. They are SECURITY INVOKER, so they
    /// can only narrow the caller's rights (to `bosun_app`, under row-level security), never widen
    /// them. PL/pgSQL rather than SQL functions because PL/pgSQL keeps its plans per connection;
    /// a SQL function with a SET clause is planned again on every call (0.3 ms for the policy set).
    static let hotPathFunctions = """
        CREATE OR REPLACE FUNCTION bosun_policy_set(p_agent uuid, p_queue uuid) RETURNS jsonb
            LANGUAGE plpgsql STABLE SET search_path = public, pg_temp
            AS $$
            BEGIN
                RETURN (
                    SELECT COALESCE(jsonb_agg(jsonb_build_object(
                               'id', p.id, 'name', p.name, 'level', p.level, 'target_id', p.target_id, 'rules', p.rules)
                           ORDER BY CASE p.level WHEN 'organization' THEN 0 WHEN 'environment' THEN 1
                                                 WHEN 'team' THEN 2 ELSE 3 END, p.name), '[]'::jsonb)
                    FROM policies p
                    WHERE p.enabled AND p.organization_id = bosun_current_org() AND (
                        p.level = 'organization'
                        OR (p.level = 'environment'
                            AND p.target_id = (SELECT q.environment_id FROM task_queues q WHERE q.id = p_queue))
                        OR (p.level = 'team'
                            AND p.target_id IN (SELECT t.id FROM teams t WHERE p_agent = ANY(t.member_agent_ids)))
                        OR (p.level = 'agent' AND p.target_id = p_agent)));
            END
            $$;

        -- The agent as a task carries it (`AgentSpec`), as both functions below return it.
        CREATE FUNCTION bosun_agent_spec(a agents)
            RETURNS TABLE (agent_id uuid, agent_name text, runtime text, model text, instructions text, tools text,
                           mcp_servers text, sandbox_profile text, limits text, settings text)
            LANGUAGE sql IMMUTABLE
            AS $$ SELECT a.id, a.name, a.runtime, a.model, a.instructions, a.tools::text, a.mcp_servers::text,
                         a.sandbox_profile, a.limits::text, a.settings::text $$;

        -- A submit in one statement. It gathers what the policy decision needs: an earlier
        -- execution with the same idempotency key, the agent, the routed queue, its environment,
        -- the agent's teams and the applicable policies, and a fingerprint of all of it. Only
        -- when the caller's `p_fingerprint` (of the context its decision was made on) matches does
        -- it create the execution: the row, its first task, transitions, events, the audit entry
        -- with `p_policy`, and the wake-ups (sent at commit). Otherwise the outcome is 'decide'
        -- and nothing is written: the caller decides on the returned context and calls again.
        -- So a decision is only ever used for exactly the context it was made on, checked in the
        -- same statement that writes; the control API remembers decisions by fingerprint and
        -- submits in one round trip while nothing changes.
        -- `p_worker` is a poller of the calling process waiting on the queue: when it is still an
        -- active worker of the routed queue, the task is leased to it at once (a direct hand-off,
        -- like a claim: attempt 1, running) and nobody needs waking. Otherwise the task is queued
        -- and `p_origin`, which names the calling process, marks its task wake-up: that process
        -- has woken its own pollers and skips its own notification.
        -- outcome: 'created', 'decide', 'existing', 'conflict' (lost an idempotency race),
        -- 'agent-not-found', 'queue-not-found', 'environment-not-found' or 'no-queue'.
        CREATE FUNCTION bosun_submit(p_org uuid, p_agent uuid, p_strategy text, p_routing_queue uuid,
                                     p_routing_environment uuid, p_idempotency_key text, p_fingerprint text,
                                     p_policy jsonb, p_input jsonb, p_max_attempts bigint, p_reason text,
                                     p_actor text, p_message_strategy text, p_origin text, p_worker uuid,
                                     p_lease_s double precision)
            RETURNS TABLE (outcome text, existing_id uuid, fingerprint text, agent_name text, runtime text,
                           model text, instructions text, tools text, mcp_servers text, sandbox_profile text,
                           limits text, settings text, environment_id uuid, team_ids uuid[], policies text,
                           id uuid, organization_id uuid, agent_id uuid, team_id uuid, status text, input text,
                           routing_strategy text, routing_queue_id uuid, routing_environment_id uuid, queue_id uuid,
                           turn_count integer, output text, error text, cancel_requested boolean,
                           idempotency_key text, created_at timestamptz, updated_at timestamptz,
                           completed_at timestamptz, message_strategy text, pending_count integer,
                           task_id uuid, lease_id uuid, lease_expires_at timestamptz)
            LANGUAGE plpgsql VOLATILE SET search_path = public, pg_temp
            AS $$
            #variable_conflict use_column
            DECLARE
                v_agent agents%ROWTYPE;
                v_environment uuid := CASE WHEN p_strategy = 'ENVIRONMENT' THEN p_routing_environment END;
                v_queue uuid;
                v_worker uuid;
                v executions%ROWTYPE;
                v_task tasks%ROWTYPE;
            BEGIN
                PERFORM set_config('role', 'bosun_app', true), set_config('bosun.org_id', p_org::text, true);
                IF p_idempotency_key IS NOT NULL THEN
                    SELECT e.id INTO existing_id FROM executions e WHERE e.idempotency_key = p_idempotency_key;
                    IF existing_id IS NOT NULL THEN
                        outcome := 'existing';
                        RETURN NEXT;
                        RETURN;
                    END IF;
                END IF;
                SELECT * INTO v_agent FROM agents a WHERE a.id = p_agent;
                IF v_agent.id IS NULL THEN
                    outcome := 'agent-not-found';
                    RETURN NEXT;
                    RETURN;
                END IF;
                IF p_strategy = 'SPECIFIC_QUEUE' THEN
                    SELECT q.id INTO v_queue FROM task_queues q WHERE q.id = p_routing_queue;
                    IF v_queue IS NULL THEN
                        outcome := 'queue-not-found';
                        RETURN NEXT;
                        RETURN;
                    END IF;
                ELSE
                    IF p_strategy = 'ENVIRONMENT'
                       AND NOT EXISTS (SELECT 1 FROM environments en WHERE en.id = v_environment) THEN
                        outcome := 'environment-not-found';
                        RETURN NEXT;
                        RETURN;
                    END IF;
                    -- The least-loaded queue (open tasks per slot) with a live worker for the runtime,
                    -- else the default queue (or the oldest) so the execution waits for a worker.
                    -- Counting open tasks costs time in proportion to them, so it is skipped when
                    -- only one queue qualifies (CASE evaluates its ELSE only when needed).
                    WITH live AS (
                        SELECT q.id, q.created_at, GREATEST(sum(w.slots), 1) AS slots FROM task_queues q
                        JOIN workers w ON w.queue_id = q.id AND w.status = 'active'
                             AND w.last_seen_at > now() - interval '90 seconds' AND v_agent.runtime = ANY(w.runtimes)
                        WHERE (v_environment IS NULL OR q.environment_id = v_environment)
                        GROUP BY q.id, q.created_at
                    )
                    SELECT l.id INTO v_queue FROM live l
                    ORDER BY CASE WHEN (SELECT count(*) FROM live) = 1 THEN 0
                                  ELSE (SELECT count(*) FROM tasks t
                                        WHERE t.queue_id = l.id AND t.status IN ('queued', 'leased'))::float / l.slots
                             END, l.created_at
                    LIMIT 1;
                    IF v_queue IS NULL THEN
                        SELECT q.id INTO v_queue FROM task_queues q
                        WHERE (v_environment IS NULL OR q.environment_id = v_environment)
                        ORDER BY (q.name = 'default') DESC, q.created_at LIMIT 1;
                    END IF;
                    IF v_queue IS NULL THEN
                        outcome := 'no-queue';
                        RETURN NEXT;
                        RETURN;
                    END IF;
                END IF;
                SELECT * INTO agent_id, agent_name, runtime, model, instructions, tools, mcp_servers, sandbox_profile,
                              limits, settings
                FROM bosun_agent_spec(v_agent);
                queue_id := v_queue;
                SELECT q.environment_id INTO environment_id FROM task_queues q WHERE q.id = v_queue;
                team_ids := ARRAY(SELECT t.id FROM teams t WHERE p_agent = ANY(t.member_agent_ids) ORDER BY t.id);
                policies := bosun_policy_set(p_agent, v_queue)::text;
                fingerprint := md5(concat_ws('|', v_agent::text, v_queue::text, environment_id::text, team_ids::text,
                                             policies));
                IF p_fingerprint IS DISTINCT FROM fingerprint THEN
                    outcome := 'decide';
                    RETURN NEXT;
                    RETURN;
                END IF;

                -- The decision holds for this context: create.
                IF p_worker IS NOT NULL THEN
                    -- Only a check: the worker's poll, which is waiting now, has just updated its
                    -- last_seen_at.
                    SELECT w.id INTO v_worker FROM workers w
                    WHERE w.id = p_worker AND w.queue_id = v_queue AND w.status = 'active';
                END IF;
                INSERT INTO executions (organization_id, agent_id, status, input, routing_strategy,
                                        routing_queue_id, routing_environment_id, queue_id, idempotency_key,
                                        event_seq, message_strategy)
                VALUES (p_org, p_agent, CASE WHEN v_worker IS NULL THEN 'queued' ELSE 'running' END, p_input,
                        p_strategy, p_routing_queue, p_routing_environment, v_queue, p_idempotency_key,
                        CASE WHEN v_worker IS NULL THEN 1 ELSE 2 END, p_message_strategy)
                ON CONFLICT (organization_id, idempotency_key) DO NOTHING
                RETURNING * INTO v;
                IF v.id IS NULL THEN
                    outcome := 'conflict';
                    RETURN NEXT;
                    RETURN;
                END IF;
                IF v_worker IS NULL THEN
                    INSERT INTO tasks (organization_id, execution_id, queue_id, turn_number, status, input,
                                       max_attempts)
                    VALUES (p_org, v.id, v_queue, 1, 'queued', p_input, p_max_attempts)
                    RETURNING * INTO v_task;
                ELSE
                    INSERT INTO tasks (organization_id, execution_id, queue_id, turn_number, status, input,
                                       max_attempts, attempts, lease_id, lease_expires_at, worker_id, claimed_at)
                    VALUES (p_org, v.id, v_queue, 1, 'leased', p_input, p_max_attempts, 1, gen_random_uuid(),
                            now() + make_interval(secs => p_lease_s), v_worker, now())
                    RETURNING * INTO v_task;
                END IF;
                INSERT INTO state_transitions (organization_id, execution_id, turn_number, from_status, to_status,
                                               reason, decider)
                VALUES (p_org, v.id, 1, 'new', 'queued', p_reason, 'system');
                INSERT INTO execution_events (organization_id, execution_id, seq, type, data)
                VALUES (p_org, v.id, 1, 'status',
                        jsonb_build_object('status', 'queued', 'queue_id', v_queue::text, 'turn', 1));
                IF v_worker IS NOT NULL THEN
                    INSERT INTO state_transitions (organization_id, execution_id, turn_number, from_status,
                                                   to_status, reason, decider)
                    VALUES (p_org, v.id, 1, 'queued', 'running', 'a worker claimed the task (attempt 1)', 'system');
                    INSERT INTO execution_events (organization_id, execution_id, seq, task_id, type, data)
                    VALUES (p_org, v.id, 2, v_task.id, 'status',
                            jsonb_build_object('status', 'running', 'worker_id', v_worker::text, 'turn', 1,
                                               'attempt', 1, 'task_id', v_task.id::text));
                ELSE
                    PERFORM pg_notify('bosun', 'task:' || v_queue::text || ':1:' || p_origin);
                END IF;
                INSERT INTO audit_log (organization_id, actor, action, target_type, target_id, details)
                VALUES (p_org, p_actor, 'execution.create', 'execution', v.id::text,
                        jsonb_build_object('agent_id', p_agent::text, 'queue_id', v_queue::text, 'policy', p_policy));
                PERFORM pg_notify('bosun', 'event:' || v.id::text);
                outcome := 'created';
                id := v.id;
                organization_id := v.organization_id;
                team_id := v.team_id;
                status := v.status;
                input := v.input::text;
                routing_strategy := v.routing_strategy;
                routing_queue_id := v.routing_queue_id;
                routing_environment_id := v.routing_environment_id;
                turn_count := v.turn_count;
                output := v.output;
                error := v.error;
                cancel_requested := v.cancel_requested;
                idempotency_key := v.idempotency_key;
                created_at := v.created_at;
                updated_at := v.updated_at;
                completed_at := v.completed_at;
                message_strategy := v.message_strategy;
                pending_count := jsonb_array_length(v.pending_messages);
                task_id := v_task.id;
                lease_id := v_task.lease_id;
                lease_expires_at := v_task.lease_expires_at;
                RETURN NEXT;
            END
            $$;

        -- The claim: up to p_limit queued tasks of the worker's queue, oldest first, leased to it
        -- (SKIP LOCKED), each execution moved to running with its transition and `running` event,
        -- and the agent and its policy set (read once per agent and queue) returned with each.
        -- Row by row through primary keys: one statement over all claimed executions was planned
        -- (generic plan, small-table statistics) as a scan of every execution of the organization.
        -- Lost poll replies: a poll names the tasks its worker holds (`p_held`); the tasks leased
        -- to that worker that it does not hold come first, flagged `orphaned`: their poll reply
        -- never reached it (the control API died after the claim committed, or the connection
        -- did), and the control API gives them back at once instead of after the lease. Polls are
        -- sequential per worker, so every task a poll did not return was in an earlier reply that
        -- the worker either received (and holds until its result is stored) or lost.
        CREATE INDEX tasks_leased_per_worker ON tasks (worker_id) WHERE status = 'leased';
        CREATE FUNCTION bosun_claim_tasks(p_org uuid, p_worker uuid, p_lease_s double precision, p_queue uuid,
                                          p_limit bigint, p_held uuid[])
            RETURNS TABLE (id uuid, execution_id uuid, queue_id uuid, turn_number integer, attempts integer,
                           max_attempts integer, lease_id uuid, lease_expires_at timestamptz, input text,
                           agent_id uuid, agent_name text, runtime text, model text, instructions text, tools text,
                           mcp_servers text, sandbox_profile text, limits text, settings text, policies text,
                           orphaned boolean)
            LANGUAGE plpgsql VOLATILE SET search_path = public, pg_temp
            AS $$
            #variable_conflict use_column
            DECLARE
                c tasks%ROWTYPE;
                a agents%ROWTYPE;
                v_seq bigint;
                v_agent uuid;
                v_set_agent uuid;
                v_set_queue uuid;
                v_set text;
            BEGIN
                PERFORM set_config('role', 'bosun_app', true), set_config('bosun.org_id', p_org::text, true);
                -- Only an active worker claims (a draining one gets nothing); this is also its
                -- last-seen time for routing and liveness.
                UPDATE workers w SET last_seen_at = now() WHERE w.id = p_worker AND w.status = 'active';
                IF NOT FOUND THEN
                    RETURN;
                END IF;
                IF p_held IS NOT NULL THEN
                    FOR c IN
                        SELECT * FROM tasks t
                        WHERE t.worker_id = p_worker AND t.status = 'leased' AND t.id <> ALL(p_held)
                    LOOP
                        id := c.id;
                        execution_id := c.execution_id;
                        queue_id := c.queue_id;
                        lease_id := c.lease_id;
                        orphaned := true;
                        RETURN NEXT;
                    END LOOP;
                    id := NULL;
                    execution_id := NULL;
                    queue_id := NULL;
                    lease_id := NULL;
                END IF;
                orphaned := false;
                FOR c IN
                    UPDATE tasks t SET status = 'leased', attempts = t.attempts + 1, lease_id = gen_random_uuid(),
                        lease_expires_at = now() + make_interval(secs => p_lease_s),
                        worker_id = p_worker, claimed_at = now()
                    WHERE t.id IN (
                        SELECT q.id FROM tasks q
                        WHERE q.queue_id = p_queue AND q.status = 'queued' AND q.available_at <= now()
                        ORDER BY q.available_at
                        LIMIT p_limit
                        FOR UPDATE SKIP LOCKED)
                    RETURNING t.*
                LOOP
                    -- A claimed task's execution is always queued (every path that queues a task
                    -- queues it too).
                    UPDATE executions e SET status = 'running', updated_at = now(), event_seq = e.event_seq + 1
                    WHERE e.id = c.execution_id
                    RETURNING e.event_seq, e.agent_id INTO v_seq, v_agent;
                    INSERT INTO state_transitions (organization_id, execution_id, turn_number, from_status,
                                                   to_status, reason, decider)
                    VALUES (p_org, c.execution_id, c.turn_number, 'queued', 'running',
                            'a worker claimed the task (attempt ' || c.attempts || ')', 'system');
                    INSERT INTO execution_events (organization_id, execution_id, seq, task_id, type, data)
                    VALUES (p_org, c.execution_id, v_seq, c.id, 'status',
                            jsonb_build_object('status', 'running', 'worker_id', p_worker::text,
                                               'turn', c.turn_number, 'attempt', c.attempts, 'task_id', c.id::text));
                    PERFORM pg_notify('bosun', 'event:' || c.execution_id::text);
                    SELECT * INTO a FROM agents ag WHERE ag.id = v_agent;
                    IF v_set IS NULL OR v_set_agent IS DISTINCT FROM v_agent OR v_set_queue IS DISTINCT FROM c.queue_id THEN
                        v_set := bosun_policy_set(v_agent, c.queue_id)::text;
                        v_set_agent := v_agent;
                        v_set_queue := c.queue_id;
                    END IF;
                    id := c.id;
                    execution_id := c.execution_id;
                    queue_id := c.queue_id;
                    turn_number := c.turn_number;
                    attempts := c.attempts;
                    max_attempts := c.max_attempts;
                    lease_id := c.lease_id;
                    lease_expires_at := c.lease_expires_at;
                    input := c.input::text;
                    SELECT * INTO agent_id, agent_name, runtime, model, instructions, tools, mcp_servers,
                                  sandbox_profile, limits, settings
                    FROM bosun_agent_spec(a);
                    policies := v_set;
                    RETURN NEXT;
                END LOOP;
            END
            $$;
        """

    /// Runtime settings of an agent: claude_code permissions and hooks (Claude Code's settings
    /// shape), agno options such as an output schema.
    /// A worker's event batch as one statement with no explicit transaction, like the submit and
    /// the claim (migration 8): the lease check under the task's row lock, the seqs this attempt
    /// already stored skipped, sequence numbers reserved on the execution's counter, the events
    /// and the audit entries of tool-call policy decisions inserted, and `event:<execution>`
    /// sent. Before, a batch was eight round trips (BEGIN, tenant, lock, duplicate check,
    /// counter, insert, NOTIFY, COMMIT). outcome: 'ok', 'not-found' or 'stale' (the lease does
    /// not hold the task; the control API then says why).
    static let oneStatementEventBatch = """
        CREATE FUNCTION bosun_append_events(p_org uuid, p_task uuid, p_lease uuid, p_worker uuid, p_seqs bigint[],
                                            p_types text[], p_datas text[], p_ts timestamptz[])
            RETURNS TABLE (outcome text, accepted integer, execution_id uuid)
            LANGUAGE plpgsql VOLATILE SET search_path = public, pg_temp
            AS $$
            #variable_conflict use_column
            DECLARE
                t tasks%ROWTYPE;
            BEGIN
                PERFORM set_config('role', 'bosun_app', true), set_config('bosun.org_id', p_org::text, true);
                SELECT * INTO t FROM tasks WHERE tasks.id = p_task FOR UPDATE;
                IF NOT FOUND THEN
                    outcome := 'not-found';
                    RETURN NEXT;
                    RETURN;
                END IF;
                execution_id := t.execution_id;
                IF t.status <> 'leased' OR t.lease_id IS DISTINCT FROM p_lease OR t.worker_id IS DISTINCT FROM p_worker
                   OR t.lease_expires_at < now() THEN
                    outcome := 'stale';
                    RETURN NEXT;
                    RETURN;
                END IF;
                WITH fresh AS (
                    SELECT b.seq, b.type, b.data::jsonb AS data, b.ts
                    FROM unnest(p_seqs, p_types, p_datas, p_ts) AS b(seq, type, data, ts)
                    WHERE NOT EXISTS (SELECT 1 FROM execution_events e
                                      WHERE e.task_id = p_task AND e.attempt = t.attempts AND e.source_seq = b.seq)
                ), reserved AS (
                    UPDATE executions x SET event_seq = x.event_seq + (SELECT count(*) FROM fresh)
                    WHERE x.id = t.execution_id AND EXISTS (SELECT 1 FROM fresh)
                    RETURNING x.event_seq - (SELECT count(*) FROM fresh) AS before
                ), stored AS (
                    INSERT INTO execution_events (organization_id, execution_id, seq, task_id, attempt, source_seq, type,
                                                  data, ts)
                    SELECT p_org, t.execution_id, r.before + row_number() OVER (ORDER BY f.seq), p_task, t.attempts,
                           f.seq, f.type, f.data, f.ts
                    FROM fresh f, reserved r
                    RETURNING 1
                ), audited AS (
                    INSERT INTO audit_log (organization_id, actor, action, target_type, target_id, details)
                    SELECT p_org, 'worker:' || p_worker::text,
                           'policy.' || CASE WHEN jsonb_typeof(f.data->'decision') = 'string'
                                             THEN f.data->>'decision' ELSE 'unknown' END,
                           'execution', t.execution_id::text,
                           CASE WHEN jsonb_typeof(f.data) = 'object' THEN f.data ELSE '{}'::jsonb END
                               || jsonb_build_object('execution_id', t.execution_id::text, 'turn', t.turn_number)
                    FROM fresh f WHERE f.type = 'policy_decision'
                )
                SELECT count(*) INTO accepted FROM stored;
                IF accepted > 0 THEN
                    PERFORM pg_notify('bosun', 'event:' || t.execution_id::text);
                END IF;
                outcome := 'ok';
                RETURN NEXT;
            END
            $$;
        """

    /// `bosun_submit` (migration 8) with all its writes in one statement (data-modifying CTEs)
    /// instead of seven: each statement a PL/pgSQL function runs pays executor start-up and
    /// teardown, which perf showed as a quarter of PostgreSQL's time in the submit. pgbench,
    /// one client, hand-off path: 0.61-0.63 ms per call against 0.75-0.89 ms.
    /// It no longer sends `event:<execution>`: event streams are followed per execution, and
    /// nobody can follow one before this statement commits and returns its id; a stream that
    /// starts later reads these first events from the table. Every NOTIFY wakes the listening
    /// connection of every control API process.
    static let oneStatementSubmitWrites = """
        CREATE OR REPLACE FUNCTION bosun_submit(p_org uuid, p_agent uuid, p_strategy text, p_routing_queue uuid,
                                     p_routing_environment uuid, p_idempotency_key text, p_fingerprint text,
                                     p_policy jsonb, p_input jsonb, p_max_attempts bigint, p_reason text,
                                     p_actor text, p_message_strategy text, p_origin text, p_worker uuid,
                                     p_lease_s double precision)
            RETURNS TABLE (outcome text, existing_id uuid, fingerprint text, agent_name text, runtime text,
                           model text, instructions text, tools text, mcp_servers text, sandbox_profile text,
                           limits text, settings text, environment_id uuid, team_ids uuid[], policies text,
                           id uuid, organization_id uuid, agent_id uuid, team_id uuid, status text, input text,
                           routing_strategy text, routing_queue_id uuid, routing_environment_id uuid, queue_id uuid,
                           turn_count integer, output text, error text, cancel_requested boolean,
                           idempotency_key text, created_at timestamptz, updated_at timestamptz,
                           completed_at timestamptz, message_strategy text, pending_count integer,
                           task_id uuid, lease_id uuid, lease_expires_at timestamptz)
            LANGUAGE plpgsql VOLATILE SET search_path = public, pg_temp
            AS $$
            #variable_conflict use_column
            DECLARE
                v_agent agents%ROWTYPE;
                v_environment uuid := CASE WHEN p_strategy = 'ENVIRONMENT' THEN p_routing_environment END;
                v_queue uuid;
                v_worker uuid;
                v executions%ROWTYPE;
                v_created record;
            BEGIN
                PERFORM set_config('role', 'bosun_app', true), set_config('bosun.org_id', p_org::text, true);
                IF p_idempotency_key IS NOT NULL THEN
                    SELECT e.id INTO existing_id FROM executions e WHERE e.idempotency_key = p_idempotency_key;
                    IF existing_id IS NOT NULL THEN
                        outcome := 'existing';
                        RETURN NEXT;
                        RETURN;
                    END IF;
                END IF;
                SELECT * INTO v_agent FROM agents a WHERE a.id = p_agent;
                IF v_agent.id IS NULL THEN
                    outcome := 'agent-not-found';
                    RETURN NEXT;
                    RETURN;
                END IF;
                IF p_strategy = 'SPECIFIC_QUEUE' THEN
                    SELECT q.id INTO v_queue FROM task_queues q WHERE q.id = p_routing_queue;
                    IF v_queue IS NULL THEN
                        outcome := 'queue-not-found';
                        RETURN NEXT;
                        RETURN;
                    END IF;
                ELSE
                    IF p_strategy = 'ENVIRONMENT'
                       AND NOT EXISTS (SELECT 1 FROM environments en WHERE en.id = v_environment) THEN
                        outcome := 'environment-not-found';
                        RETURN NEXT;
                        RETURN;
                    END IF;
                    -- The least-loaded queue (open tasks per slot) with a live worker for the runtime,
                    -- else the default queue (or the oldest) so the execution waits for a worker.
                    -- Counting open tasks costs time in proportion to them, so it is skipped when
                    -- only one queue qualifies (CASE evaluates its ELSE only when needed).
                    WITH live AS (
                        SELECT q.id, q.created_at, GREATEST(sum(w.slots), 1) AS slots FROM task_queues q
                        JOIN workers w ON w.queue_id = q.id AND w.status = 'active'
                             AND w.last_seen_at > now() - interval '90 seconds' AND v_agent.runtime = ANY(w.runtimes)
                        WHERE (v_environment IS NULL OR q.environment_id = v_environment)
                        GROUP BY q.id, q.created_at
                    )
                    SELECT l.id INTO v_queue FROM live l
                    ORDER BY CASE WHEN (SELECT count(*) FROM live) = 1 THEN 0
                                  ELSE (SELECT count(*) FROM tasks t
                                        WHERE t.queue_id = l.id AND t.status IN ('queued', 'leased'))::float / l.slots
                             END, l.created_at
                    LIMIT 1;
                    IF v_queue IS NULL THEN
                        SELECT q.id INTO v_queue FROM task_queues q
                        WHERE (v_environment IS NULL OR q.environment_id = v_environment)
                        ORDER BY (q.name = 'default') DESC, q.created_at LIMIT 1;
                    END IF;
                    IF v_queue IS NULL THEN
                        outcome := 'no-queue';
                        RETURN NEXT;
                        RETURN;
                    END IF;
                END IF;
                SELECT * INTO agent_id, agent_name, runtime, model, instructions, tools, mcp_servers, sandbox_profile,
                              limits, settings
                FROM bosun_agent_spec(v_agent);
                queue_id := v_queue;
                SELECT q.environment_id INTO environment_id FROM task_queues q WHERE q.id = v_queue;
                team_ids := ARRAY(SELECT t.id FROM teams t WHERE p_agent = ANY(t.member_agent_ids) ORDER BY t.id);
                policies := bosun_policy_set(p_agent, v_queue)::text;
                fingerprint := md5(concat_ws('|', v_agent::text, v_queue::text, environment_id::text, team_ids::text,
                                             policies));
                IF p_fingerprint IS DISTINCT FROM fingerprint THEN
                    outcome := 'decide';
                    RETURN NEXT;
                    RETURN;
                END IF;

                -- The decision holds for this context: create.
                IF p_worker IS NOT NULL THEN
                    -- Only a check: the worker's poll, which is waiting now, has just updated its
                    -- last_seen_at.
                    SELECT w.id INTO v_worker FROM workers w
                    WHERE w.id = p_worker AND w.queue_id = v_queue AND w.status = 'active';
                END IF;
                -- Every row in one statement: the execution (none when the idempotency key lost a
                -- race), its first task (queued, or leased to the waiting worker), the transitions,
                -- the status events and the audit entry.
                WITH execution AS (
                    INSERT INTO executions (organization_id, agent_id, status, input, routing_strategy,
                                            routing_queue_id, routing_environment_id, queue_id, idempotency_key,
                                            event_seq, message_strategy)
                    VALUES (p_org, p_agent, CASE WHEN v_worker IS NULL THEN 'queued' ELSE 'running' END, p_input,
                            p_strategy, p_routing_queue, p_routing_environment, v_queue, p_idempotency_key,
                            CASE WHEN v_worker IS NULL THEN 1 ELSE 2 END, p_message_strategy)
                    ON CONFLICT (organization_id, idempotency_key) DO NOTHING
                    RETURNING *
                ), task AS (
                    INSERT INTO tasks (organization_id, execution_id, queue_id, turn_number, status, input,
                                       max_attempts, attempts, lease_id, lease_expires_at, worker_id, claimed_at)
                    SELECT p_org, e.id, v_queue, 1, CASE WHEN v_worker IS NULL THEN 'queued' ELSE 'leased' END,
                           p_input, p_max_attempts, CASE WHEN v_worker IS NULL THEN 0 ELSE 1 END,
                           CASE WHEN v_worker IS NOT NULL THEN gen_random_uuid() END,
                           CASE WHEN v_worker IS NOT NULL THEN now() + make_interval(secs => p_lease_s) END,
                           v_worker, CASE WHEN v_worker IS NOT NULL THEN now() END
                    FROM execution e
                    RETURNING id, execution_id, lease_id, lease_expires_at
                ), transitions AS (
                    INSERT INTO state_transitions (organization_id, execution_id, turn_number, from_status,
                                                   to_status, reason, decider)
                    SELECT p_org, e.id, 1, x.from_status, x.to_status, x.reason, 'system'
                    FROM execution e,
                         (VALUES ('new', 'queued', p_reason),
                                 ('queued', 'running', 'a worker claimed the task (attempt 1)'))
                             x(from_status, to_status, reason)
                    WHERE x.to_status = 'queued' OR v_worker IS NOT NULL
                ), events AS (
                    INSERT INTO execution_events (organization_id, execution_id, seq, task_id, type, data)
                    SELECT p_org, t.execution_id, x.seq, CASE WHEN x.seq = 2 THEN t.id END, 'status',
                           CASE WHEN x.seq = 1
                                THEN jsonb_build_object('status', 'queued', 'queue_id', v_queue::text, 'turn', 1)
                                ELSE jsonb_build_object('status', 'running', 'worker_id', v_worker::text,
                                                        'turn', 1, 'attempt', 1, 'task_id', t.id::text)
                           END
                    FROM task t, (VALUES (1), (2)) x(seq)
                    WHERE x.seq = 1 OR v_worker IS NOT NULL
                ), audit AS (
                    INSERT INTO audit_log (organization_id, actor, action, target_type, target_id, details)
                    SELECT p_org, p_actor, 'execution.create', 'execution', e.id::text,
                           jsonb_build_object('agent_id', p_agent::text, 'queue_id', v_queue::text,
                                              'policy', p_policy)
                    FROM execution e
                )
                SELECT e AS execution, t.id, t.lease_id, t.lease_expires_at INTO v_created
                FROM execution e JOIN task t ON t.execution_id = e.id;
                IF NOT FOUND THEN
                    outcome := 'conflict';
                    RETURN NEXT;
                    RETURN;
                END IF;
                v := v_created.execution;
                IF v_worker IS NULL THEN
                    PERFORM pg_notify('bosun', 'task:' || v_queue::text || ':1:' || p_origin);
                END IF;
                outcome := 'created';
                id := v.id;
                organization_id := v.organization_id;
                team_id := v.team_id;
                status := v.status;
                input := v.input::text;
                routing_strategy := v.routing_strategy;
                routing_queue_id := v.routing_queue_id;
                routing_environment_id := v.routing_environment_id;
                turn_count := v.turn_count;
                output := v.output;
                error := v.error;
                cancel_requested := v.cancel_requested;
                idempotency_key := v.idempotency_key;
                created_at := v.created_at;
                updated_at := v.updated_at;
                completed_at := v.completed_at;
                message_strategy := v.message_strategy;
                pending_count := jsonb_array_length(v.pending_messages);
                task_id := v_created.id;
                lease_id := v_created.lease_id;
                lease_expires_at := v_created.lease_expires_at;
                RETURN NEXT;
            END
            $$;
        """

    static let messageStrategies = """
        ALTER TABLE executions ADD COLUMN message_strategy text NOT NULL DEFAULT 'enqueue'
            CHECK (message_strategy IN ('enqueue', 'interrupt', 'reject'));
        -- Messages that arrived while a turn ran (enqueue): the next turn's input.
        ALTER TABLE executions ADD COLUMN pending_messages jsonb NOT NULL DEFAULT '[]';
        """

    static let approvals = """
        ALTER TABLE executions DROP CONSTRAINT executions_status_check;
        ALTER TABLE executions ADD CONSTRAINT executions_status_check CHECK (status IN
            ('queued', 'running', 'waiting_for_input', 'waiting_for_approval', 'completed', 'failed', 'cancelled'));
        -- 'waiting': parked until people decide its approvals; not claimable.
        ALTER TABLE tasks DROP CONSTRAINT tasks_status_check;
        ALTER TABLE tasks ADD CONSTRAINT tasks_status_check CHECK (status IN
            ('queued', 'leased', 'waiting', 'completed', 'failed', 'dead', 'cancelled'));

        CREATE TABLE approvals (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
            execution_id uuid NOT NULL REFERENCES executions(id) ON DELETE CASCADE,
            task_id uuid NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
            turn_number integer NOT NULL,
            tool_call_id text NOT NULL,
            tool_name text NOT NULL,
            arguments jsonb NOT NULL DEFAULT '{}',
            reason text NOT NULL,
            rule text,
            status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'denied', 'expired')),
            decision_reason text,
            requested_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz NOT NULL,
            decided_at timestamptz,
            decided_by text,
            UNIQUE (task_id, tool_call_id)
        );
        CREATE INDEX approvals_execution ON approvals (execution_id, requested_at);
        CREATE INDEX approvals_pending ON approvals (expires_at) WHERE status = 'pending';
        ALTER TABLE approvals ENABLE ROW LEVEL SECURITY;
        CREATE POLICY tenant_isolation ON approvals USING (organization_id = bosun_current_org())
            WITH CHECK (organization_id = bosun_current_org());
        GRANT SELECT, INSERT, UPDATE ON approvals TO bosun_app;

        -- Expiry across all organizations (the sweeper has no organization): marks overdue
        -- approvals expired and says which tasks to settle.
        CREATE FUNCTION bosun_expire_approvals()
            RETURNS TABLE (organization_id uuid, task_id uuid)
            LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
            AS $$
                UPDATE approvals a SET status = 'expired', decided_at = now(), decided_by = 'system',
                    decision_reason = 'nobody decided before ' || to_char(a.expires_at, 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                WHERE a.id IN (SELECT id FROM approvals WHERE status = 'pending' AND expires_at < now()
                               ORDER BY expires_at FOR UPDATE SKIP LOCKED LIMIT 500)
                RETURNING a.organization_id, a.task_id
            $$;
        REVOKE ALL ON FUNCTION bosun_expire_approvals() FROM PUBLIC;
        GRANT EXECUTE ON FUNCTION bosun_expire_approvals() TO bosun_app;
        """

    static let policies = """
        CREATE TABLE policies (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
            name text NOT NULL,
            level text NOT NULL CHECK (level IN ('organization', 'environment', 'team', 'agent')),
            target_id uuid,
            rules jsonb NOT NULL DEFAULT '{}',
            enabled boolean NOT NULL DEFAULT true,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (organization_id, name),
            CHECK ((level = 'organization') = (target_id IS NULL))
        );
        CREATE INDEX policies_enabled ON policies (organization_id, level, target_id) WHERE enabled;
        ALTER TABLE policies ENABLE ROW LEVEL SECURITY;
        CREATE POLICY tenant_isolation ON policies USING (organization_id = bosun_current_org())
            WITH CHECK (organization_id = bosun_current_org());
        GRANT SELECT, INSERT, UPDATE, DELETE ON policies TO bosun_app;
        -- Daily organization quotas sum today's turns.
        CREATE INDEX turns_org_created ON turns (organization_id, created_at);

        -- The enabled policies that apply to an agent's execution on a queue, most general first.
        -- Runs as the caller (row-level security applies): it only ever sees the caller's organization.
        CREATE FUNCTION bosun_policy_set(p_agent uuid, p_queue uuid) RETURNS jsonb
            LANGUAGE sql STABLE SET search_path = public, pg_temp
            AS $$
                SELECT COALESCE(jsonb_agg(jsonb_build_object(
                           'id', p.id, 'name', p.name, 'level', p.level, 'target_id', p.target_id, 'rules', p.rules)
                       ORDER BY CASE p.level WHEN 'organization' THEN 0 WHEN 'environment' THEN 1
                                             WHEN 'team' THEN 2 ELSE 3 END, p.name), '[]'::jsonb)
                FROM policies p
                WHERE p.enabled AND p.organization_id = bosun_current_org() AND (
                    p.level = 'organization'
                    OR (p.level = 'environment'
                        AND p.target_id = (SELECT q.environment_id FROM task_queues q WHERE q.id = p_queue))
                    OR (p.level = 'team'
                        AND p.target_id IN (SELECT t.id FROM teams t WHERE p_agent = ANY(t.member_agent_ids)))
                    OR (p.level = 'agent' AND p.target_id = p_agent))
            $$;
        GRANT EXECUTE ON FUNCTION bosun_policy_set(uuid, uuid) TO bosun_app;
        """

    static let agentSettings = """
        ALTER TABLE agents ADD COLUMN settings jsonb NOT NULL DEFAULT '{}';
        """

    /// Lost-worker detection runs across organizations, like lease expiry: one definer function
    /// lists the live workers (and nothing else); marking one lost happens per tenant as the app role.
    static let workerLiveness = """
        ALTER TABLE workers ADD COLUMN heartbeat_redis boolean NOT NULL DEFAULT false;
        CREATE FUNCTION bosun_live_workers()
            RETURNS TABLE (worker_id uuid, organization_id uuid, queue_id uuid, heartbeat_redis boolean,
                           registered_at timestamptz, last_seen_at timestamptz)
            LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
            AS $$ SELECT w.id, w.organization_id, w.queue_id, w.heartbeat_redis, w.registered_at, w.last_seen_at
                  FROM workers w WHERE w.status IN ('active', 'draining') $$;
        REVOKE ALL ON FUNCTION bosun_live_workers() FROM PUBLIC;
        GRANT EXECUTE ON FUNCTION bosun_live_workers() TO bosun_app;
        """

    /// Routing counts a queue's open tasks on every AUTO submit, and the claim takes queued tasks
    /// oldest first; without these the first scanned and the second sorted every open task.
    static let dispatchIndexes = """
        CREATE INDEX tasks_open_per_queue ON tasks (queue_id) WHERE status IN ('queued', 'leased');
        DROP INDEX tasks_ready;
        CREATE INDEX tasks_ready ON tasks (queue_id, available_at) WHERE status = 'queued';
        """

    static let initialSchema = #"""
    -- Roles are cluster-wide while the migration lock is per database: two databases of one
    -- cluster migrating at once (tests do) race here, and the loser must not fail.
    DO $$
    BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bosun_app') THEN
            BEGIN
                CREATE ROLE bosun_app NOLOGIN NOBYPASSRLS;
            EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
            END;
        END IF;
        IF NOT pg_has_role(CURRENT_USER, 'bosun_app', 'MEMBER') THEN
            BEGIN
                GRANT bosun_app TO CURRENT_USER;
            EXCEPTION WHEN duplicate_object OR unique_violation OR internal_error THEN NULL;
            END;
        END IF;
    END
    $$;

    -- The organization a transaction acts for; NULL (so no tenant row matches) when unset.
    CREATE FUNCTION bosun_current_org() RETURNS uuid
        LANGUAGE sql STABLE
        AS $$ SELECT NULLIF(current_setting('bosun.org_id', true), '')::uuid $$;

    CREATE TABLE organizations (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE environments (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
        name text NOT NULL,
        description text,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (organization_id, name)
    );

    CREATE TABLE task_queues (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
        environment_id uuid REFERENCES environments(id) ON DELETE SET NULL,
        name text NOT NULL,
        description text,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (organization_id, name)
    );

    CREATE TABLE api_keys (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
        name text NOT NULL,
        scope text NOT NULL CHECK (scope IN ('admin', 'user', 'worker')),
        queue_id uuid REFERENCES task_queues(id) ON DELETE CASCADE,
        prefix text NOT NULL,
        key_hash bytea NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz,
        revoked_at timestamptz,
        CHECK ((scope = 'worker') = (queue_id IS NOT NULL))
    );

    CREATE TABLE workers (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
        queue_id uuid NOT NULL REFERENCES task_queues(id) ON DELETE CASCADE,
        api_key_id uuid REFERENCES api_keys(id) ON DELETE SET NULL,
        hostname text NOT NULL,
        version text NOT NULL,
        slots integer NOT NULL CHECK (slots > 0),
        runtimes text[] NOT NULL DEFAULT '{}',
        labels jsonb NOT NULL DEFAULT '{}',
        system jsonb NOT NULL DEFAULT '{}',
        status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'draining', 'deregistered', 'lost')),
        token_hash bytea NOT NULL UNIQUE,
        token_expires_at timestamptz NOT NULL,
        registered_at timestamptz NOT NULL DEFAULT now(),
        last_seen_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX workers_queue ON workers (queue_id) WHERE status IN ('active', 'draining');

    CREATE TABLE agents (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
        name text NOT NULL,
        description text,
        runtime text NOT NULL CHECK (runtime IN ('agno', 'claude_code')),
        model text NOT NULL,
        instructions text NOT NULL DEFAULT '',
        tools jsonb NOT NULL DEFAULT '[]',
        mcp_servers jsonb NOT NULL DEFAULT '{}',
        sandbox_profile text NOT NULL DEFAULT 'default',
        limits jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (organization_id, name)
    );

    CREATE TABLE teams (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
        name text NOT NULL,
        description text,
        mode text NOT NULL DEFAULT 'coordinate' CHECK (mode IN ('coordinate', 'route', 'broadcast')),
        member_agent_ids uuid[] NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (organization_id, name)
    );

    CREATE TABLE executions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
        agent_id uuid REFERENCES agents(id) ON DELETE RESTRICT,
        team_id uuid REFERENCES teams(id) ON DELETE RESTRICT,
        status text NOT NULL CHECK (status IN
            ('queued', 'running', 'waiting_for_input', 'completed', 'failed', 'cancelled')),
        input jsonb NOT NULL,
        routing_strategy text NOT NULL CHECK (routing_strategy IN ('AUTO', 'SPECIFIC_QUEUE', 'ENVIRONMENT')),
        routing_queue_id uuid,
        routing_environment_id uuid,
        queue_id uuid NOT NULL REFERENCES task_queues(id),
        turn_count integer NOT NULL DEFAULT 0,
        event_seq bigint NOT NULL DEFAULT 0,
        output text,
        error text,
        cancel_requested boolean NOT NULL DEFAULT false,
        idempotency_key text,
        created_by uuid,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        completed_at timestamptz,
        CHECK ((agent_id IS NULL) <> (team_id IS NULL)),
        UNIQUE (organization_id, idempotency_key)
    );
    CREATE INDEX executions_org_created ON executions (organization_id, created_at DESC, id DESC);

    -- The durable queue: one row per turn attempt chain. `attempts` counts claims.
    CREATE TABLE tasks (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
        execution_id uuid NOT NULL REFERENCES executions(id) ON DELETE CASCADE,
        queue_id uuid NOT NULL REFERENCES task_queues(id),
        turn_number integer NOT NULL,
        status text NOT NULL CHECK (status IN ('queued', 'leased', 'completed', 'failed', 'dead', 'cancelled')),
        input jsonb NOT NULL DEFAULT 'null',
        attempts integer NOT NULL DEFAULT 0,
        max_attempts integer NOT NULL DEFAULT 3,
        available_at timestamptz NOT NULL DEFAULT now(),
        lease_id uuid,
        lease_expires_at timestamptz,
        worker_id uuid REFERENCES workers(id) ON DELETE SET NULL,
        last_error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        claimed_at timestamptz,
        finished_at timestamptz,
        UNIQUE (execution_id, turn_number)
    );
    CREATE INDEX tasks_ready ON tasks (queue_id, available_at) WHERE status = 'queued';
    CREATE INDEX tasks_leased ON tasks (lease_expires_at) WHERE status = 'leased';

    -- Turn results, append-only: the application role may insert and read, never change.
    CREATE TABLE turns (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
        execution_id uuid NOT NULL REFERENCES executions(id) ON DELETE CASCADE,
        task_id uuid NOT NULL UNIQUE REFERENCES tasks(id) ON DELETE CASCADE,
        turn_number integer NOT NULL,
        attempt integer NOT NULL,
        lease_id uuid NOT NULL,
        worker_id uuid,
        input jsonb NOT NULL DEFAULT 'null',
        messages jsonb NOT NULL DEFAULT '[]',
        tool_calls jsonb NOT NULL DEFAULT '[]',
        usage jsonb NOT NULL DEFAULT '{}',
        cost_usd double precision NOT NULL DEFAULT 0,
        finish_reason text NOT NULL,
        output text,
        error text,
        model text,
        timings jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (execution_id, turn_number)
    );

    CREATE TABLE execution_events (
        organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
        execution_id uuid NOT NULL REFERENCES executions(id) ON DELETE CASCADE,
        seq bigint NOT NULL,
        task_id uuid,
        attempt integer,
        source_seq integer,
        type text NOT NULL,
        data jsonb NOT NULL DEFAULT '{}',
        ts timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (execution_id, seq),
        UNIQUE (task_id, attempt, source_seq)
    );

    CREATE TABLE state_transitions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
        execution_id uuid NOT NULL REFERENCES executions(id) ON DELETE CASCADE,
        turn_number integer,
        from_status text NOT NULL,
        to_status text NOT NULL,
        reason text NOT NULL,
        decider text NOT NULL,
        confidence double precision,
        latency_ms double precision,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp()
    );
    CREATE INDEX state_transitions_execution ON state_transitions (execution_id, created_at);

    CREATE TABLE audit_log (
        id bigserial PRIMARY KEY,
        organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
        actor text NOT NULL,
        action text NOT NULL,
        target_type text,
        target_id text,
        details jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now()
    );

    -- Row-level security: every tenant table only shows the transaction's organization.
    ALTER TABLE organizations ENABLE ROW LEVEL SECURITY;
    CREATE POLICY tenant_isolation ON organizations USING (id = bosun_current_org());
    GRANT SELECT ON organizations TO bosun_app;

    DO $$
    DECLARE
        t text;
    BEGIN
        FOREACH t IN ARRAY ARRAY['environments', 'task_queues', 'api_keys', 'workers', 'agents', 'teams',
                                 'executions', 'tasks', 'turns', 'execution_events', 'state_transitions',
                                 'audit_log']
        LOOP
            EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);

            EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (organization_id = bosun_current_org())'
                           ' WITH CHECK (organization_id = bosun_current_org())', t);
        END LOOP;
    END
    $$;

    GRANT SELECT, INSERT, UPDATE, DELETE ON environments, task_queues, api_keys, workers, agents, teams,
        executions, tasks TO bosun_app;
    GRANT SELECT, INSERT ON turns, execution_events, state_transitions, audit_log TO bosun_app;
    GRANT USAGE ON SEQUENCE audit_log_id_seq TO bosun_app;

    -- Credential look-ups happen before the organization is known. These definer functions are
    -- the only way around row-level security, each answering one narrow question.
    CREATE FUNCTION bosun_authenticate_api_key(p_hash bytea)
        RETURNS TABLE (id uuid, organization_id uuid, scope text, queue_id uuid)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
        AS $$ SELECT k.id, k.organization_id, k.scope, k.queue_id FROM api_keys k
              WHERE k.key_hash = p_hash AND k.revoked_at IS NULL $$;

    CREATE FUNCTION bosun_authenticate_worker_token(p_hash bytea)
        RETURNS TABLE (worker_id uuid, organization_id uuid, queue_id uuid, token_expires_at timestamptz, status text)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
        AS $$ SELECT w.id, w.organization_id, w.queue_id, w.token_expires_at, w.status FROM workers w
              WHERE w.token_hash = p_hash $$;

    -- Lease expiry across all organizations: re-queue with backoff, or dead-letter past the limit.
    CREATE FUNCTION bosun_requeue_expired_leases()
        RETURNS TABLE (task_id uuid, organization_id uuid, queue_id uuid, execution_id uuid, status text)
        LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
        AS $$
            UPDATE tasks t SET
                status = CASE WHEN t.attempts >= t.max_attempts THEN 'dead' ELSE 'queued' END,
                last_error = 'lease expired on attempt ' || t.attempts
                    || COALESCE(' (worker ' || t.worker_id::text || ')', ''),
                available_at = now(),
                lease_id = NULL, lease_expires_at = NULL, worker_id = NULL,
                finished_at = CASE WHEN t.attempts >= t.max_attempts THEN now() ELSE NULL END
            WHERE t.id IN (SELECT id FROM tasks WHERE status = 'leased' AND lease_expires_at < now()
                           ORDER BY lease_expires_at FOR UPDATE SKIP LOCKED LIMIT 500)
            RETURNING t.id, t.organization_id, t.queue_id, t.execution_id, t.status
        $$;

    REVOKE ALL ON FUNCTION bosun_authenticate_api_key(bytea), bosun_authenticate_worker_token(bytea),
        bosun_requeue_expired_leases() FROM PUBLIC;
    GRANT EXECUTE ON FUNCTION bosun_authenticate_api_key(bytea), bosun_authenticate_worker_token(bytea),
        bosun_requeue_expired_leases() TO bosun_app;
    """#
}

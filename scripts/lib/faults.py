#!/usr/bin/env python3
"""The driver behind scripts/faults: load Bosun while breaking its parts, then check nothing was
lost or done twice.

scripts/faults has already started PostgreSQL and Redis (scripts/lib/services.sh) and passes
their coordinates in the environment. This driver starts the scripted LLM, the control API and
N workers, submits executions at a steady rate, injects one fault after another on a schedule,
waits for the system to settle and prints a report. Stdlib only.

Exit status: 0 when no execution was lost and no turn was duplicated, 1 otherwise, 2 when the
run itself could not be set up.
"""
import argparse
import concurrent.futures
import datetime
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

ENV = os.environ
RUN_DIR = ENV["BOSUN_RUN_DIR"]
BIN = ENV["BOSUN_BIN"]
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PIDS_FILE = os.path.join(RUN_DIR, "faults.pids")  # scripts/faults kills these if we die hard
T0 = time.time()
STOPPING = threading.Event()  # set on Ctrl-C / SIGTERM: retry loops give up at once


def log(message):
    print(f"[{time.time() - T0:7.1f}s] {message}", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def iso_to_epoch(text):
    if not text:
        return None
    # The API writes RFC 3339 with a Z and optional fractional seconds.
    text = text.replace("Z", "+00:00")
    return datetime.datetime.fromisoformat(text).timestamp()


# ---------------------------------------------------------------------------------------------
# Processes we start. Each gets its own session so Ctrl-C reaches only this driver, which then
# stops them in order; their pids also go to faults.pids for the shell's last-resort cleanup.

class Processes:
    def __init__(self):
        self.lock = threading.Lock()
        self.procs = {}  # name -> Popen

    def start(self, name, argv, env=None, log_name=None):
        if STOPPING.is_set():  # a fault thread must not start anything after the stop began
            raise RuntimeError("stopping")
        out = open(os.path.join(RUN_DIR, log_name or f"{name}.log"), "ab")
        proc = subprocess.Popen(argv, env=env or ENV, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True, cwd=REPO)
        out.close()
        with self.lock:
            self.procs[name] = proc
            with open(PIDS_FILE, "a") as f:
                f.write(f"{proc.pid}\n")
        return proc

    def kill(self, name, sig=signal.SIGKILL, wait=10):
        with self.lock:
            proc = self.procs.pop(name, None)
        if proc is None:
            return
        if proc.poll() is None:
            try:
                proc.send_signal(sig)
                proc.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            except ProcessLookupError:
                pass

    def stop_all(self):
        with self.lock:
            procs, self.procs = self.procs, {}
        # Workers first (they would otherwise retry against a dead API), then the API, then the
        # LLM. Each group gets SIGTERM together and 5 s to go before SIGKILL; the scripted LLM
        # is a test stub and is killed outright.
        groups = [[p for n, p in procs.items() if n.startswith("worker")],
                  [p for n, p in procs.items() if n == "control"],
                  [p for n, p in procs.items() if n == "llm"]]
        for group, sig in zip(groups, (signal.SIGTERM, signal.SIGTERM, signal.SIGKILL)):
            for proc in group:
                if proc.poll() is None:
                    proc.send_signal(sig)
            end = time.time() + 5
            for proc in group:
                try:
                    proc.wait(timeout=max(0.1, end - time.time()))
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


PROCS = Processes()


# ---------------------------------------------------------------------------------------------
# HTTP

class HTTPFailure(Exception):
    def __init__(self, status, body):
        super().__init__(f"HTTP {status}: {body[:300]}")
        self.status = status
        self.body = body


def http(method, url, body=None, key=None, timeout=15):
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            text = response.read().decode()
            return response.status, (json.loads(text) if text.strip() else None)
    except urllib.error.HTTPError as error:
        raise HTTPFailure(error.code, error.read().decode(errors="replace"))


class API:
    def __init__(self, base, key):
        self.base = base
        self.key = key

    def call(self, method, path, body=None, timeout=15):
        return http(method, self.base + path, body, self.key, timeout)[1]

    def call_retrying(self, method, path, body=None, deadline_s=60):
        """For setup and final checks: the API may be restarting; retry connection errors and 5xx."""
        end = time.time() + deadline_s
        while True:
            try:
                return self.call(method, path, body)
            except HTTPFailure as error:
                if error.status < 500 or time.time() > end:
                    raise
            except (OSError, urllib.error.URLError):
                if time.time() > end:
                    raise
            time.sleep(0.5)


def wait_until(what, check, timeout=60, interval=0.2):
    end = time.time() + timeout
    while time.time() < end:
        try:
            if check():
                return
        except Exception:
            pass
        time.sleep(interval)
    raise RuntimeError(f"timed out after {timeout}s waiting for {what}")


# ---------------------------------------------------------------------------------------------
# The scripted LLM: each execution's turn asks the model twice. The first request (the user's
# input contains "faults-load") gets tool calls: Bash echo (a sandboxed process) and, with the
# MCP fault on, the flaky MCP server's ping. Every other request (the tool results) gets the
# default, a plain answer, which the rules call "completed" without the analyzer. The
# streaming delays make a turn last long enough for a kill -9 to land mid-turn.

def normal_script(with_mcp):
    calls = [{"name": "Bash", "arguments": {"command": "echo bosun-faults-tool-ok"}}]
    if with_mcp:
        calls.append({"name": "mcp__flaky__ping", "arguments": {}})
    return {
        "replies": [{"match": {"contains": "faults-load"}, "times": 1_000_000, "delay_ms": 300,
                     "chunk_delay_ms": 30, "tool_calls": calls}],
        "default": {"delay_ms": 200, "chunk_delay_ms": 30,
                    "text": "Done: the echo ran and the result is recorded."},
    }


def storm_script():
    # Alternating 429 (with Retry-After) and 500 for every request while the storm lasts.
    replies = []
    for _ in range(1000):
        replies.append({"fault": {"status": 429, "retry_after": 1}})
        replies.append({"fault": {"status": 500}})
    return {"replies": replies, "default": {"fault": {"status": 503}}}


# ---------------------------------------------------------------------------------------------

class Bosun:
    """The Bosun processes and the service handles the faults need."""

    def __init__(self, args):
        self.args = args
        self.llm_key = "sk-faults-" + secrets.token_hex(8)
        self.llm_port = free_port()
        self.llm_url = f"http://127.0.0.1:{self.llm_port}"
        self.port = free_port()
        self.api_url = f"http://127.0.0.1:{self.port}"
        self.crash_flag = os.path.join(RUN_DIR, "mcp-crash-now")
        self.worker_count = 0
        self.workers = []  # names of live workers
        self.lock = threading.Lock()

    # -- setup -----------------------------------------------------------------------------
    def setup(self):
        run = lambda *argv: subprocess.run(argv, check=True, capture_output=True, text=True, cwd=REPO)
        log("applying migrations and bootstrapping organization 'faults'")
        run(f"{BIN}/bosun-control", "migrate", "--log-level", "error")
        boot = json.loads(run(f"{BIN}/bosun-control", "bootstrap", "--org", "faults", "--json",
                              "--log-level", "error").stdout)
        self.queue_id = boot["queue_id"]
        self.api = API(self.api_url, boot["admin_key"])

        script_file = os.path.join(RUN_DIR, "faults-llm.json")
        with open(script_file, "w") as f:
            json.dump(normal_script(not self.args.no_mcp), f)
        log(f"starting the scripted LLM on {self.llm_url}")
        PROCS.start("llm", [f"{BIN}/bosun", "dev", "llm", "--port", str(self.llm_port), "--script", script_file,
                            "--require-key", self.llm_key])
        wait_until("the scripted LLM", lambda: http("GET", self.llm_url + "/_scripted/requests", timeout=2))

        self.start_control()
        log(f"control API on {self.api_url}")
        self.worker_key = self.api.call("POST", "/api/v1/api-keys", {
            "name": "faults-workers", "scope": "worker", "queue_id": self.queue_id})["key"]
        for _ in range(self.args.workers):
            self.start_worker()
        wait_until("the workers to register",
                   lambda: len(self.api.call("GET", "/api/v1/workers")["items"]) >= self.args.workers, timeout=60)

        agent = {"name": "faults-agent", "runtime": "agno", "model": "openai/gpt-4o-mini",
                 "instructions": "Run the echo, then answer.", "tools": ["Bash"],
                 "limits": {"max_turns": 3, "tool_call_limit": 5}}
        if not self.args.no_mcp:
            agent["mcp_servers"] = {"flaky": {
                "command": sys.executable,
                "args": [os.path.join(REPO, "scripts/lib/faults_mcp_server.py"), self.crash_flag]}}
        self.agent_id = self.api.call("POST", "/api/v1/agents", agent)["id"]
        log(f"agent faults-agent {self.agent_id}; {self.args.workers} workers x {self.args.slots} slots")

    def start_control(self):
        env = dict(ENV,
                   BOSUN_LLM_BASE_URL=self.llm_url, BOSUN_LLM_DEFAULT_MODEL="openai/gpt-4o-mini",
                   BOSUN_ANALYZER="off",
                   # Short heartbeats so a killed worker is noticed (and its tasks re-queued) in seconds.
                   BOSUN_HEARTBEAT_LIGHT_INTERVAL_S="2", BOSUN_HEARTBEAT_FULL_INTERVAL_S="10",
                   BOSUN_LOG_FORMAT="text")
        PROCS.start("control", [f"{BIN}/bosun-control", "serve", "--listen", f"127.0.0.1:{self.port}"], env=env)
        wait_until("the control API", lambda: http("GET", self.api_url + "/readyz", timeout=2)[0] == 200, timeout=60)

    def start_worker(self):
        with self.lock:
            self.worker_count += 1
            name = f"worker-{self.worker_count}"
            self.workers.append(name)
        env = dict(ENV, BOSUN_CONTROL_URL=self.api_url, BOSUN_API_KEY=self.worker_key,
                   BOSUN_QUEUE_ID=self.queue_id, BOSUN_LLM_BASE_URL=self.llm_url, BOSUN_LLM_API_KEY=self.llm_key,
                   BOSUN_SANDBOX_HELPER=ENV.get("BOSUN_SANDBOX_HELPER", f"{BIN}/bosun-sandbox"),
                   BOSUN_SANDBOX_PROFILES=ENV.get("BOSUN_SANDBOX_PROFILES", os.path.join(REPO, "sandbox-profiles")),
                   BOSUN_LOG_FORMAT="text")
        PROCS.start(name, [f"{BIN}/bosun-worker", "run", "--name", name, "--slots", str(self.args.slots),
                           "--work-dir", os.path.join(RUN_DIR, f"work-{name}")], env=env)
        return name

    # -- faults ----------------------------------------------------------------------------
    # Each returns a note; the fault "ends" when it returns.

    def fault_worker_kill(self):
        # Kill the worker holding the most leased tasks (from PostgreSQL, which is exact; the
        # heartbeat's active_tasks lags by up to an interval), so the kill lands mid-turn.
        # Waits up to 10 s for some worker to be busy.
        victim, busy = None, 0
        end = time.time() + 10
        while time.time() < end:
            rows = psql("SELECT w.hostname, count(*) FROM tasks t JOIN workers w ON w.id = t.worker_id "
                        "WHERE t.status = 'leased' GROUP BY 1 ORDER BY 2 DESC")
            rows = [(name, int(count)) for name, count in rows if name in self.workers]
            if rows:
                victim, busy = rows[0]
                break
            time.sleep(0.2)
        if victim is None:
            victim = self.workers[0]
        self.workers.remove(victim)
        PROCS.kill(victim, signal.SIGKILL)
        replacement = self.start_worker()
        return f"kill -9 {victim} holding {busy} leased task(s), started {replacement}"

    def fault_control_restart(self):
        PROCS.kill("control", signal.SIGKILL)
        time.sleep(1)
        self.start_control()
        return "kill -9 of bosun-control, restarted on the same port"

    def fault_redis_restart(self):
        port = ENV["BOSUN_REDIS_PORT"]
        subprocess.run(["redis-cli", "-p", port, "shutdown", "nosave"], capture_output=True)
        STOPPING.wait(self.args.outage)
        # The same command line services.sh uses: same port, same (empty) persistence.
        subprocess.run(["redis-server", "--port", port, "--bind", "127.0.0.1", "--daemonize", "yes", "--save", "",
                        "--appendonly", "no", "--dir", RUN_DIR, "--pidfile", os.path.join(RUN_DIR, "redis.pid"),
                        "--logfile", os.path.join(RUN_DIR, "redis.log")], check=True)
        wait_until("Redis", lambda: subprocess.run(["redis-cli", "-p", port, "ping"], capture_output=True,
                                                   text=True).stdout.strip() == "PONG", timeout=10)
        return f"redis-cli shutdown nosave, {self.args.outage:g}s down, started again (empty)"

    def fault_postgres_restart(self):
        argv = [os.path.join(ENV["BOSUN_PG_BIN"], "pg_ctl"), "-D", ENV["BOSUN_PG_DATA"], "-m", "fast", "-w",
                "-t", "60", "-l", os.path.join(ENV["BOSUN_PG_DATA"], "server.log"), "restart"]
        if os.getuid() == 0:  # PostgreSQL refuses to run as root; services.sh runs it as postgres
            argv = ["runuser", "-u", "postgres", "--"] + argv
        started = time.time()
        subprocess.run(argv, check=True, capture_output=True)
        return f"pg_ctl restart -m fast ({time.time() - started:.1f}s)"

    def fault_llm_storm(self):
        http("POST", self.llm_url + "/_scripted/script", storm_script())
        STOPPING.wait(self.args.outage)
        http("POST", self.llm_url + "/_scripted/script", normal_script(not self.args.no_mcp))
        return f"every LLM request answered 429 (Retry-After 1) / 500 for {self.args.outage:g}s"

    def fault_mcp_crash(self):
        open(self.crash_flag, "w").close()
        STOPPING.wait(self.args.outage)
        os.unlink(self.crash_flag)
        return f"the MCP server died on every tools/call for {self.args.outage:g}s"


# ---------------------------------------------------------------------------------------------
# Load

class Submission:
    def __init__(self, key):
        self.key = key
        self.id = None
        self.status = None        # HTTP status of the accepted submit
        self.attempts = 0
        self.errors = []          # what failed before (connection errors, 5xx)
        self.rejected = None      # a 4xx: not retried
        self.submitted_at = None  # when the accepting answer came
        self.first_try_at = None  # when the first attempt was made


class Load:
    def __init__(self, bosun, args):
        self.bosun = bosun
        self.args = args
        self.subs = []
        self.lock = threading.Lock()
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=64)
        self.futures = []
        self.give_up_after = args.settle  # a submit retries this long at most

    def submit(self, sub):
        started = sub.first_try_at = time.time()
        body = {"agent_id": self.bosun.agent_id, "input": f"faults-load {sub.key}: run the echo",
                "routing": {"strategy": "AUTO"}, "idempotency_key": sub.key}
        while True:
            sub.attempts += 1
            try:
                status, execution = http("POST", self.bosun.api_url + "/api/v1/executions", body,
                                         self.bosun.api.key, timeout=10)
                sub.status, sub.id, sub.submitted_at = status, execution["id"], time.time()
                return
            except HTTPFailure as error:
                if error.status < 500:
                    sub.rejected = f"HTTP {error.status}: {error.body[:200]}"
                    return
                sub.errors.append(f"HTTP {error.status}")
            except (OSError, urllib.error.URLError) as error:
                # Connection refused / reset / timeout: the request may or may not have been
                # applied; the same idempotency key makes the retry safe.
                reason = getattr(error, "reason", error)
                sub.errors.append(type(reason).__name__)
            if time.time() - started > self.give_up_after or STOPPING.is_set():
                return
            time.sleep(0.5)

    def run(self, duration, rate):
        run_id = secrets.token_hex(4)
        interval = 1.0 / rate
        end = time.time() + duration
        n = 0
        next_at = time.time()
        while time.time() < end and not STOPPING.is_set():
            n += 1
            sub = Submission(f"faults-{run_id}-{n:05d}")
            with self.lock:
                self.subs.append(sub)
            self.futures.append(self.pool.submit(self.submit, sub))
            next_at += interval
            time.sleep(max(0.0, next_at - time.time()))

    def finish(self):
        concurrent.futures.wait(self.futures)
        self.pool.shutdown()


# ---------------------------------------------------------------------------------------------

def psql(sql):
    argv = [os.path.join(ENV["BOSUN_PG_BIN"], "psql"), "-h", "127.0.0.1", "-p", ENV["BOSUN_PG_PORT"],
            "-U", "bosun", "-d", "bosun", "-At", "-F", "\t", "-c", sql]
    out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def main():
    parser = argparse.ArgumentParser(prog="scripts/faults", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=3, help="workers to start (default 3)")
    parser.add_argument("--slots", type=int, default=4, help="slots per worker (default 4)")
    parser.add_argument("--rate", type=float, default=5, help="executions submitted per second (default 5)")
    parser.add_argument("--duration", type=float, default=90, help="seconds of load (default 90)")
    parser.add_argument("--settle", type=float, default=120, help="seconds to wait for the rest to finish (default 120)")
    parser.add_argument("--outage", type=float, default=5, help="seconds Redis is down / the LLM storms / MCP crashes (default 5)")
    parser.add_argument("--no-mcp", action="store_true", help="no MCP server, no MCP crash fault")
    args = parser.parse_args()

    bosun = Bosun(args)
    faults = [("worker kill -9", bosun.fault_worker_kill),
              ("control API restart", bosun.fault_control_restart),
              ("Redis restart", bosun.fault_redis_restart),
              ("PostgreSQL restart", bosun.fault_postgres_restart),
              ("LLM 429/500 storm", bosun.fault_llm_storm)]
    if not args.no_mcp:
        faults.append(("MCP server crashes", bosun.fault_mcp_crash))
    records = []  # {name, start, end, note}

    def stop(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, stop)

    try:
        try:
            bosun.setup()
        except Exception as error:
            log(f"setup failed: {error}")
            if isinstance(error, subprocess.CalledProcessError):
                print(error.stderr, file=sys.stderr)
            return 2

        # The faults spread evenly over the load, leaving quiet time before the first and after
        # the last so recovery from each is visible before the next one starts.
        load = Load(bosun, args)
        load_start = time.time()
        load.load_start_hint = load_start
        spacing = args.duration / (len(faults) + 1)

        def inject():
            for i, (name, fault) in enumerate(faults):
                if STOPPING.wait(max(0.0, load_start + spacing * (i + 1) - time.time())):
                    return
                record = {"name": name, "start": time.time()}
                log(f"fault: {name} ...")
                try:
                    record["note"] = fault()
                except Exception as error:
                    record["note"] = f"INJECTION FAILED: {error}"
                record["end"] = time.time()
                log(f"fault: {name} over after {record['end'] - record['start']:.1f}s: {record['note']}")
                records.append(record)

        injector = threading.Thread(target=inject, daemon=True)
        log(f"load: {args.rate:g} executions/s for {args.duration:g}s; {len(faults)} faults every {spacing:.0f}s")
        injector.start()
        load.run(args.duration, args.rate)
        injector.join()
        log(f"load over: {len(load.subs)} submitted; waiting for pending submits")
        load.finish()

        # Settle: wait (bounded) for every accepted execution to reach a terminal state.
        log(f"settling (up to {args.settle:g}s)")
        terminal = {"completed", "failed", "cancelled"}
        final = {}  # id -> execution JSON, or None when the API does not know it
        pending = [s.id for s in load.subs if s.id]
        settle_end = time.time() + args.settle
        while pending and time.time() < settle_end:
            still = []
            for ident in pending:
                try:
                    execution = bosun.api.call("GET", f"/api/v1/executions/{ident}")
                    final[ident] = execution
                    if execution["status"] not in terminal:
                        still.append(ident)
                except HTTPFailure as error:
                    if error.status == 404:
                        final[ident] = None
                    else:
                        still.append(ident)
                except (OSError, urllib.error.URLError):
                    still.append(ident)
            pending = still
            if pending:
                time.sleep(2)
        settled_after = time.time() - load_start - args.duration
        return report(bosun, load, records, final, pending, settled_after)
    except KeyboardInterrupt as error:
        STOPPING.set()
        log(f"interrupted ({error}); stopping everything")
        return 130
    finally:
        PROCS.stop_all()


def report(bosun, load, records, final, pending, settled_after):
    subs = load.subs
    accepted = [s for s in subs if s.id]
    by_status = {}
    failed_reasons = {}
    for s in accepted:
        execution = final.get(s.id)
        status = execution["status"] if execution else "unknown"
        by_status[status] = by_status.get(status, 0) + 1
        if status == "failed":
            reason = (execution.get("error") or "no error text").strip()
            reason = reason[:140]
            failed_reasons[reason] = failed_reasons.get(reason, 0) + 1

    # Lost: accepted with a 2xx but unknown at the end, or still not finished after settling.
    unknown = [s for s in accepted if final.get(s.id) is None]
    stuck = [s for s in accepted if final.get(s.id) and final[s.id]["status"] not in ("completed", "failed", "cancelled")]
    lost = len(unknown) + len(stuck)

    # Straight from PostgreSQL (as the configured user, which bypasses row-level security).
    keys_prefix = subs[0].key.rsplit("-", 1)[0] + "-" if subs else "none-"
    rows = psql(f"SELECT idempotency_key, count(*), min(id::text) FROM executions "
                f"WHERE idempotency_key LIKE '{keys_prefix}%' GROUP BY 1")
    in_db = {key: (int(count), ident) for key, count, ident in rows}
    duplicate_executions = sum(count - 1 for count, _ in in_db.values() if count > 1)
    # A submit that never got an answer but did land (the API died after committing) is fine
    # as long as it exists once; one that never got an answer and is not there was never accepted.
    gave_up = [s for s in subs if not s.id and not s.rejected]
    gave_up_landed = [s for s in gave_up if s.key in in_db]
    rejected = [s for s in subs if s.rejected]
    # The id the submitter was given must be the one row for its key.
    mismatched = [s for s in accepted if s.key in in_db and in_db[s.key][1].lower() != s.id.lower()]

    dup_turns = psql("SELECT execution_id, turn_number, count(*) FROM turns GROUP BY 1, 2 HAVING count(*) > 1")
    dup_turn_events = psql(
        "SELECT execution_id, data->>'turn', count(*) FROM execution_events WHERE type = 'turn_completed' "
        "GROUP BY 1, 2 HAVING count(*) > 1")
    # turn_count on the execution must match the turn rows written for it.
    turn_mismatch = psql(
        "SELECT e.id, e.turn_count, count(t.id) FROM executions e LEFT JOIN turns t ON t.execution_id = e.id "
        f"WHERE e.idempotency_key LIKE '{keys_prefix}%' AND e.status IN ('completed', 'failed', 'cancelled') "
        "GROUP BY 1, 2 HAVING e.turn_count <> count(t.id)")
    # The Bash echo is the turn's side effect: ran more than once per execution means the tool
    # ledger replayed nothing and the tool ran again (reported, not counted as a duplicated turn).
    attempts = psql(
        "SELECT t.attempts, count(*) FROM tasks t JOIN executions e ON e.id = t.execution_id "
        f"WHERE e.idempotency_key LIKE '{keys_prefix}%' GROUP BY 1 ORDER BY 1")
    # Why tasks needed another attempt (task.last_error, ids and attempt numbers stripped): a
    # "lease expired" here means the task sat out the whole lease before anyone retried it.
    retry_reasons = psql(
        "SELECT left(regexp_replace(regexp_replace(t.last_error, '[0-9a-f-]{36}', '…', 'g'), "
        "' on attempt [0-9]+| \\(worker …\\)|;.*$', '', 'g'), 110), count(*) "
        "FROM tasks t JOIN executions e ON e.id = t.execution_id "
        f"WHERE e.idempotency_key LIKE '{keys_prefix}%' AND t.attempts > 1 GROUP BY 1 ORDER BY 2 DESC")
    duplicated = len(dup_turns) + len(dup_turn_events) + duplicate_executions

    completions = sorted(t for t in (iso_to_epoch(e.get("completed_at")) for e in final.values()
                                     if e and e["status"] == "completed") if t)
    # Submit -> completed latency: with a backlog (rate above capacity) it grows over the run,
    # which is load, not a fault; printed so the recovery numbers can be read against it.
    latencies = sorted(iso_to_epoch(final[s.id]["completed_at"]) - s.first_try_at for s in accepted
                       if final.get(s.id) and final[s.id]["status"] == "completed" and final[s.id].get("completed_at"))
    # The Bash echo is each turn's side effect. The tool ledger should replay a recorded result
    # on a retried attempt instead of running the tool again; a second recorded Bash result for
    # one execution means it ran twice (reported, not part of the pass/fail verdict).
    tool_twice = psql(
        "SELECT ev.execution_id, count(*) FROM execution_events ev JOIN executions e ON e.id = ev.execution_id "
        f"WHERE e.idempotency_key LIKE '{keys_prefix}%' AND ev.type = 'ledger' "
        "AND ev.data->'message'->>'tool_name' = 'Bash' GROUP BY 1 HAVING count(*) > 1")

    w = print
    w("")
    w("=" * 78)
    w("Bosun fault run")
    w("=" * 78)
    w(f"load: {load.args.rate:g}/s for {load.args.duration:g}s, {load.args.workers} workers x {load.args.slots} slots; "
      f"settled {settled_after:.0f}s after the load ended" + ("" if not pending else " (settle time ran out)"))
    w(f"executions submitted:        {len(subs)}")
    w(f"  accepted (2xx):            {len(accepted)}  (201 {sum(1 for s in accepted if s.status == 201)}, "
      f"200 replayed by idempotency key {sum(1 for s in accepted if s.status == 200)})")
    w(f"  submits retried:           {sum(1 for s in subs if s.errors)}  "
      f"({sum(len(s.errors) for s in subs)} failed attempts: "
      f"{summarize([e for s in subs for e in s.errors])})")
    w(f"  rejected (4xx):            {len(rejected)}" + (f"  e.g. {rejected[0].rejected}" if rejected else ""))
    w(f"  never answered:            {len(gave_up)}  ({len(gave_up_landed)} of them exist in the database)")
    w(f"completed:                   {by_status.get('completed', 0)}")
    w(f"failed:                      {by_status.get('failed', 0)}")
    for reason, count in sorted(failed_reasons.items(), key=lambda kv: -kv[1]):
        w(f"  {count:5d}  {reason}")
    w(f"cancelled:                   {by_status.get('cancelled', 0)}")
    w(f"still running/queued:        {len(stuck)}  " + summarize([final[s.id]['status'] for s in stuck]))
    w(f"LOST:                        {lost}  (unknown to the API: {len(unknown)}, stuck non-terminal: {len(stuck)})")
    for s in (unknown + stuck)[:10]:
        e = final.get(s.id)
        w(f"    {s.id} key {s.key} status {e['status'] if e else 'unknown'} turns {e['turn_count'] if e else '-'}")
    w(f"DUPLICATED:                  {duplicated}  (executions per idempotency key > 1: {duplicate_executions}, "
      f"turn rows per execution+turn > 1: {len(dup_turns)}, turn_completed events per turn > 1: {len(dup_turn_events)})")
    for row in (dup_turns + dup_turn_events)[:10]:
        w(f"    execution {row[0]} turn {row[1]}: {row[2]} times")
    if mismatched:
        w(f"  submit answered an id that is not its key's row: {len(mismatched)}")
    if turn_mismatch:
        w(f"  executions whose turn_count differs from their turn rows: {len(turn_mismatch)} "
          f"(e.g. {turn_mismatch[0][0]}: turn_count {turn_mismatch[0][1]}, rows {turn_mismatch[0][2]})")
    w(f"task attempts (attempts: tasks): {', '.join(f'{a}: {c}' for a, c in attempts)}")
    for reason, count in retry_reasons:
        w(f"  {int(count):5d}  retried after: {reason}")
    w(f"Bash side effect recorded twice in one execution: {len(tool_twice)}")
    if latencies:
        pct = lambda p: latencies[min(len(latencies) - 1, int(p * len(latencies)))]
        w(f"submit -> completed: p50 {pct(0.5):.1f}s, p95 {pct(0.95):.1f}s, max {latencies[-1]:.1f}s")
    w("")
    w("faults (time from load start; recovery = first execution completed after the fault ended):")
    w("  (throughput = executions completed per second in the 10 s before the fault began / after it ended)")
    w(f"  {'fault':22s} {'start':>7s} {'length':>7s} {'recovery':>9s} {'throughput':>12s}  what happened")
    for r in records:
        after = next((t for t in completions if t >= r["end"]), None)
        recovery = f"{after - r['end']:8.1f}s" if after else "    never"
        before_rate = sum(1 for t in completions if r["start"] - 10 <= t < r["start"]) / 10
        after_rate = sum(1 for t in completions if r["end"] <= t < r["end"] + 10) / 10
        throughput = f"{before_rate:.1f} / {after_rate:.1f}"
        w(f"  {r['name']:22s} {r['start'] - load.load_start_hint:6.1f}s {r['end'] - r['start']:6.1f}s {recovery} "
          f"{throughput:>12s}  {r['note']}")
    w("")
    ok = lost == 0 and duplicated == 0
    w(f"result: {'PASS' if ok else 'FAIL'} (lost {lost}, duplicated {duplicated}); logs in {RUN_DIR}")
    return 0 if ok else 1


def summarize(items):
    counts = {}
    for item in items:
        counts[item] = counts.get(item, 0) + 1
    return ", ".join(f"{k} x{v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])) or "-"


if __name__ == "__main__":
    sys.exit(main())

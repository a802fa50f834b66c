"""A hand-written stdio MCP server for edge cases the SDK cannot produce.

Usage: raw_server.py MODE LOGFILE. Every line received is appended to LOGFILE.
Modes: legacy (initialize; server/discover -> -32601), stateless (server/discover lists
2026-07-28; initialize is refused), bad_version (initialize answers 1999-01-01),
silent (never answers anything).
"""
import json
import os
import sys
import time

MODE = sys.argv[1]
LOG = open(sys.argv[2], "a", buffering=1)
calls = {"list_changed": False}
next_server_id = [1000]


def send(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def result(rid, value):
    send({"jsonrpc": "2.0", "id": rid, "result": value})


def error(rid, code, message):
    send({"jsonrpc": "2.0", "id": rid, "error": {"code": code, "message": message}})


def text(value, is_error=False):
    return {"content": [{"type": "text", "text": value}], "isError": is_error}


def read():
    line = sys.stdin.readline()
    if not line:
        sys.exit(0)
    LOG.write(line)
    return json.loads(line)


TOOLS = [
    {"name": "echo", "description": "echo", "inputSchema": {"type": "object"}},
    {"name": "env", "description": "an env var", "inputSchema": {"type": "object"}},
    {"name": "garbage", "inputSchema": {"type": "object"}},
    {"name": "crash", "inputSchema": {"type": "object"}},
    {"name": "hang", "inputSchema": {"type": "object"}},
    {"name": "progress", "inputSchema": {"type": "object"}},
    {"name": "blocks", "inputSchema": {"type": "object"}},
    {"name": "ping_client", "inputSchema": {"type": "object"}},
    {"name": "list_changed", "inputSchema": {"type": "object"}},
    {"name": "structured", "inputSchema": {"type": "object"},
     "outputSchema": {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}},
]


def call_tool(rid, name, args):
    if name == "echo":
        result(rid, text(args.get("text", "")))
    elif name == "env":
        result(rid, text(os.environ.get(args["name"], "<unset>")))
    elif name == "garbage":
        sys.stdout.write("this is not json\n{\"broken\": \n[1,2,3]\n{\"jsonrpc\":\"2.0\"}\n\n")
        sys.stdout.flush()
        result(rid, text("after garbage"))
    elif name == "crash":
        sys.stderr.write("about to crash\n")
        sys.stderr.flush()
        time.sleep(0.1)
        os._exit(3)
    elif name == "hang":
        pass
    elif name == "progress":
        token = args.get("_token")
        for i in range(int(args.get("steps", 3))):
            time.sleep(float(args.get("interval", 0.3)))
            send({"jsonrpc": "2.0", "method": "notifications/progress",
                  "params": {"progressToken": token, "progress": i + 1, "total": 5}})
        result(rid, text("progress done"))
    elif name == "blocks":
        result(rid, {"content": [
            {"type": "text", "text": "hello"},
            {"type": "image", "data": "aGVsbG8=", "mimeType": "image/png"},
            {"type": "audio", "data": "AAAA", "mimeType": "audio/wav"},
            {"type": "resource_link", "uri": "file:///a.txt", "name": "a"},
            {"type": "resource", "resource": {"uri": "file:///b.txt", "text": "bee"}},
            {"type": "hologram", "frames": 3},
        ]})
    elif name == "ping_client":
        sid = next_server_id[0]
        next_server_id[0] += 1
        send({"jsonrpc": "2.0", "id": sid, "method": "ping"})
        send({"jsonrpc": "2.0", "id": sid + 500, "method": "sampling/createMessage", "params": {}})
        answers = {}
        while len(answers) < 2:
            msg = read()
            if msg.get("id") in (sid, sid + 500) and "method" not in msg:
                answers[msg["id"]] = msg
        result(rid, text(json.dumps([answers[sid], answers[sid + 500]])))
    elif name == "list_changed":
        calls["list_changed"] = True
        send({"jsonrpc": "2.0", "method": "notifications/tools/list_changed"})
        result(rid, text("changed"))
    elif name == "structured":
        result(rid, {"content": [{"type": "text", "text": "s"}], "structuredContent": {"n": args.get("n")}})
    else:
        error(rid, -32602, "Unknown tool: " + name)


def main():
    while True:
        msg = read()
        if MODE == "silent":
            continue
        method, rid = msg.get("method"), msg.get("id")
        params = msg.get("params") or {}
        if rid is None:
            continue
        if method == "server/discover":
            if MODE == "stateless":
                result(rid, {"supportedVersions": ["2026-07-28"], "capabilities": {"tools": {}},
                             "serverInfo": {"name": "raw", "version": "1"}})
            else:
                error(rid, -32601, "Method not found")
        elif method == "initialize":
            if MODE == "stateless":
                error(rid, -32600, "initialize is not part of 2026-07-28")
            else:
                version = "1999-01-01" if MODE == "bad_version" else params.get("protocolVersion")
                result(rid, {"protocolVersion": version, "capabilities": {"tools": {"listChanged": True}},
                             "serverInfo": {"name": "raw", "version": "1"}})
        elif method == "tools/list":
            tools = TOOLS + ([{"name": "added", "inputSchema": {"type": "object"}}] if calls["list_changed"] else [])
            cursor = params.get("cursor")
            start = int(cursor) if cursor else 0
            page = tools[start:start + 4]
            answer = {"tools": page}
            if start + 4 < len(tools):
                answer["nextCursor"] = str(start + 4)
            result(rid, answer)
        elif method == "tools/call":
            args = dict(params.get("arguments") or {})
            args["_token"] = (params.get("_meta") or {}).get("progressToken")
            call_tool(rid, params.get("name"), args)
        elif method == "ping":
            result(rid, {})
        else:
            error(rid, -32601, "Method not found: " + str(method))


main()

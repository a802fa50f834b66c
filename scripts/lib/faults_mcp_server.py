#!/usr/bin/env python3
"""A tiny MCP server (stdio, JSON-RPC, stdlib only) for scripts/faults.

It offers one tool, `ping`, which answers "pong". While the file named by its first argument
exists, a `tools/call` makes the process die on the spot (exit 3, no reply): that is the
"MCP server crashes mid-call" fault. scripts/faults creates the file for a few seconds and
removes it again, so the crash window is part of the fault schedule, not random.
"""
import json
import os
import sys

CRASH_FLAG = sys.argv[1] if len(sys.argv) > 1 else ""


def send(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            message = json.loads(line)
        except ValueError:
            continue
        method = message.get("method")
        if "id" not in message:  # a notification (notifications/initialized, cancelled, ...)
            continue
        ident = message["id"]
        if method == "initialize":
            send({"jsonrpc": "2.0", "id": ident, "result": {
                "protocolVersion": message.get("params", {}).get("protocolVersion", "2025-06-18"),
                "capabilities": {"tools": {}},
                "serverInfo": {"name": "bosun-faults-flaky", "version": "1.0"}}})
        elif method == "ping":
            send({"jsonrpc": "2.0", "id": ident, "result": {}})
        elif method == "tools/list":
            send({"jsonrpc": "2.0", "id": ident, "result": {"tools": [{
                "name": "ping", "description": "Answers pong (crashes during the fault window).",
                "inputSchema": {"type": "object", "properties": {}}}]}})
        elif method == "tools/call":
            if CRASH_FLAG and os.path.exists(CRASH_FLAG):
                os._exit(3)  # die mid-call: no reply, stdout closes
            send({"jsonrpc": "2.0", "id": ident, "result": {
                "content": [{"type": "text", "text": "pong"}], "isError": False}})
        else:
            send({"jsonrpc": "2.0", "id": ident, "error": {"code": -32601, "message": f"unknown method {method}"}})


if __name__ == "__main__":
    main()

"""A small OPA-compatible data API around regopy (the Rego interpreter from PyPI).

Usage: opa_regopy_server.py POLICY.rego PORT_FILE
Listens on 127.0.0.1 (a free port, written to PORT_FILE) and answers OPA's data API:
  POST /v1/data/<path>  {"input": {...}}  ->  {"result": <value of data.<path>>}
An undefined document gives {} (no "result"), as OPA does. For tests of time-outs, a path
under /v1/data/slow/ waits 3 seconds and then answers for the rest of the path. Every request is appended, one JSON per
line, to PORT_FILE + ".log".
"""
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import regopy

POLICY = open(sys.argv[1]).read()
PORT_FILE = sys.argv[2]
LOG = open(PORT_FILE + ".log", "a", buffering=1)


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        if not self.path.startswith("/v1/data/"):
            self.send_error(404)
            return
        length = int(self.headers.get("Content-Length", "0"))
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            self.send_error(400)
            return
        document = body.get("input", {})
        LOG.write(json.dumps({"path": self.path, "input": document}) + "\n")
        parts = [p for p in self.path[len("/v1/data/"):].split("/") if p]
        if parts and parts[0] == "slow":
            time.sleep(3)
            parts = parts[1:]
        reference = "data." + ".".join(parts)
        interpreter = regopy.Interpreter()
        interpreter.add_module("policy", POLICY)
        interpreter.set_input_term(json.dumps(document))
        text = str(interpreter.query("x = " + reference))
        output = None if text.strip() == "undefined" else json.loads(text)
        reply = {}
        bindings = output.get("bindings") if isinstance(output, dict) else None
        if bindings and "x" in bindings:
            reply["result"] = bindings["x"]
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(PORT_FILE + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(PORT_FILE + ".tmp", PORT_FILE)
server.serve_forever()

"""Pretty-prints control API replies for scripts/demo: `demo_show.py events|transitions|workers < reply.json`."""
import json
import sys


def events(reply):
    """One line per event; streamed text chunks are joined into one line, ledger entries counted."""
    streamed, first_seq, ledger = [], None, 0

    def flush():
        nonlocal streamed, first_seq
        if streamed:
            print(f"  #{first_seq:<3} {'(streamed text)':<18} {len(streamed)} chunks: {''.join(streamed)[:80]!r}")
        streamed, first_seq = [], None

    for e in reply["events"]:
        data = e["data"]
        chunk = None
        if e["type"] == "RunContent":
            chunk = data.get("content")
        elif e["type"] == "stream_event":
            chunk = ((data.get("event") or {}).get("delta") or {}).get("text")
        if chunk is not None:
            first_seq = first_seq or e["seq"]
            streamed.append(chunk)
            continue
        flush()
        if e["type"] == "ledger":
            ledger += 1
            continue
        if e["type"] == "turn_completed":
            usage = data.get("usage") or {}
            summary = (f"turn {data.get('turn')}: {data.get('finish_reason')}, tokens in {usage.get('input_tokens')} "
                       f"out {usage.get('output_tokens')} cache read {usage.get('cache_read_tokens')} "
                       f"write {usage.get('cache_write_tokens')}, cost ${data.get('cost_usd', 0):.6f}")
        elif e["type"] in ("assistant", "user"):
            blocks = (data.get("message") or {}).get("content") or []
            summary = "; ".join(
                b.get("text") or f"{b.get('type')} {b.get('name') or ''} {json.dumps(b.get('input') or b.get('content'))}"
                for b in blocks)
        elif e["type"] == "result":
            summary = (f"{data.get('subtype')}: {data.get('num_turns')} model calls, {data.get('duration_ms', 0):.0f} ms, "
                       f"${data.get('total_cost_usd', 0):.6f}, denials {len(data.get('permission_denials') or [])}")
        else:
            summary = json.dumps(data)
        print(f"  #{e['seq']:<3} {e['type']:<18} {summary[:110]}")
    flush()
    print(f"  ({ledger} tool-ledger entries recorded durably, not shown)")


def transitions(reply):
    for t in reply["items"]:
        extra = ""
        if t.get("confidence") is not None and t["decider"] != "system":
            extra = f" confidence {t['confidence']:.2f}, {t.get('latency_ms') or 0:.1f} ms"
        print(f"  {t['from']:>17} -> {t['to']:<17} ({t['decider']}{extra}) {t['reason'][:90]}")


def workers(reply):
    for w in reply["items"]:
        live, full = w.get("live") or {}, w.get("full_heartbeat") or {}
        system = full.get("system", {})
        memory = system.get("memory") or {}
        cpu = (system.get("cpu") or {}).get("percent")
        print(f"  {w['hostname']:<6} queue {w['queue_id'][:8]} labels {w['labels']} slots {w['slots']}")
        print(f"         state {live.get('state')} (from {live.get('source')}), free slots {live.get('free_slots')}, "
              f"last heartbeat {live.get('last_heartbeat_at')}")
        print(f"         cpu {cpu if cpu is None else round(cpu, 1)} %, memory available "
              f"{round((memory.get('available_bytes') or 0) / 2**30, 1)} GiB, gpus {(full.get('gpus') or {}).get('status')}, "
              f"completed tasks {full.get('completed_tasks')}, log lines {len(full.get('log_tail') or [])}")


def refusals(reply):
    """Bash calls of a claude_code execution that were refused, and the turn's permission_denials."""
    commands, shown = {}, 0
    for e in reply["events"]:
        for block in (e["data"].get("message") or {}).get("content") or []:
            if block.get("type") == "tool_use" and block.get("name") == "Bash":
                commands[block["id"]] = block["input"]["command"]
            if block.get("type") == "tool_result" and block.get("is_error") and block.get("tool_use_id") in commands:
                print(f"  $ {commands[block['tool_use_id']]}")
                lines = [line for line in block["content"].strip().splitlines() if line.strip()]
                # A traceback's last line says what happened; the exit code follows it.
                print(f"    -> {' / '.join(lines[-2:])[:160]}")
                shown += 1
    for e in reply["events"]:
        if e["type"] == "result" and e["data"].get("permission_denials"):
            print(f"  permission_denials: {json.dumps(e['data']['permission_denials'])[:200]}")
    if shown == 0:
        print("  (no refused calls)")


def requests(reply):
    for r in reply:
        print(f"  {r['sequence']:>2} {r['path']:<21} {r.get('model') or '':<26} stream={str(r['stream']).lower():<5} "
              f"-> {r['status']}")


{"events": events, "transitions": transitions, "workers": workers, "requests": requests, "refusals": refusals}[sys.argv[1]](json.load(sys.stdin))

"""Pretty-prints control API replies for scripts/demo: `demo_show.py events|transitions|workers < reply.json`."""
import json
import sys


def events(reply):
    for e in reply["events"]:
        print(f"  #{e['seq']:<3} {e['type']:<16} {json.dumps(e['data'])[:90]}")


def transitions(reply):
    for t in reply["items"]:
        print(f"  {t['from']:>10} -> {t['to']:<10} ({t['decider']}) {t['reason']}")


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


{"events": events, "transitions": transitions, "workers": workers}[sys.argv[1]](json.load(sys.stdin))

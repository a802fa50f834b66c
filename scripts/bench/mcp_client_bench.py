"""The Python `mcp` SDK client's tools/call round trip, for `bosun bench mcp` to compare against.

Usage: mcp_client_bench.py SERVER.py CALLS. Prints one JSON line: median and p99 in ms and the
client's own CPU per call in microseconds (getrusage of this process: the server is a child).
"""
import asyncio
import json
import resource
import sys
import time

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def main(server, calls):
    params = StdioServerParameters(command=sys.executable, args=[server])
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            for _ in range(50):
                await session.call_tool("echo", {"text": "warm"})
            samples = []
            cpu_before = cpu_seconds()
            for index in range(calls):
                start = time.perf_counter()
                result = await session.call_tool("echo", {"text": f"hello {index}"})
                samples.append((time.perf_counter() - start) * 1000)
                assert result.content[0].text == f"hello {index}"
            cpu = cpu_seconds() - cpu_before
    samples.sort()
    print(json.dumps({
        "median_ms": samples[len(samples) // 2],
        "p99_ms": samples[min(len(samples) - 1, len(samples) * 99 // 100)],
        "cpu_us_per_call": cpu / calls * 1e6,
    }))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))

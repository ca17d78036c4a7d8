"""Sessions of the official Python MCP SDK (PyPI `mcp`, pinned by scripts/python-venv.sh) for the resume test.

    python resume_clients.py URL [URL ...] --sessions N --stop-file PATH

Opens N sessions (spread over the gateway URLs), each with sampling and elicitation callbacks, and prints one
JSON line per session when it is ready. Then every session makes read-only calls (ping, tools/list, the
read-only `peek` tool) until the stop file exists; then each calls whoami, ask_model (sampling) and
ask_user (elicitation), and prints a "done" line with its replicas, the Mcp-Session-Id values it sent, and
every error it saw. One line per event, JSON, on stdout.
"""

import argparse
import asyncio
import json
import os
import sys
import traceback

import httpx2
import mcp_types as types
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client


def emit(event: dict) -> None:
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


async def sampling(context, params):
    first = params.messages[0].content if params.messages else None
    prompt = getattr(first, "text", "")
    return types.CreateMessageResult(role="assistant", model="py-model", content=types.TextContent(type="text", text=f"model says: {prompt}"))


async def elicitation(context, params):
    return types.ElicitResult(action="accept", content={"answer": f"user says: {params.message}"})


def structured(result) -> dict:
    if result.is_error:
        raise RuntimeError(f"tool error: {result.content}")
    return result.structured_content or {}


async def one_session(i: int, url: str, stop: asyncio.Event) -> None:
    sent_ids: set[str] = set()
    errors: list[str] = []

    async def record(request: httpx2.Request) -> None:
        sid = request.headers.get("mcp-session-id")
        if sid:
            sent_ids.add(sid)

    client = create_mcp_http_client()
    client.event_hooks["request"].append(record)
    async with client:
        async with streamable_http_client(url, http_client=client) as (read, write):
            async with ClientSession(read, write, sampling_callback=sampling, elicitation_callback=elicitation) as session:
                await session.initialize()
                first = structured(await session.call_tool("whoami", {}))
                await session.list_tools()
                emit({"event": "ready", "i": i, "replica": first.get("replica")})
                calls = 0
                while not stop.is_set():
                    try:
                        kind = calls % 3
                        if kind == 0:
                            await session.send_ping()
                        elif kind == 1:
                            await session.list_tools()
                        else:
                            structured(await session.call_tool("peek", {"key": "python"}))
                        calls += 1
                    except Exception as err:  # noqa: BLE001 - every error is what the test counts
                        errors.append(f"{type(err).__name__}: {err}")
                    await asyncio.sleep(0.02)
                last = {}
                try:
                    last = structured(await session.call_tool("whoami", {}))
                    model = structured(await session.call_tool("ask_model", {"prompt": "py"}))
                    user = structured(await session.call_tool("ask_user", {"question": "py?"}))
                    if model.get("answer") != "model says: py" or user.get("answer") != "user says: py?":
                        errors.append(f"unexpected answers: {model} {user}")
                except Exception as err:  # noqa: BLE001
                    errors.append(f"after: {type(err).__name__}: {err}")
                emit({"event": "done", "i": i, "first": first.get("replica"), "last": last.get("replica"), "sessionIds": sorted(sent_ids), "calls": calls, "errors": errors})


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("urls", nargs="+")
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--stop-file", required=True)
    args = parser.parse_args()
    stop = asyncio.Event()

    async def watch_stop_file() -> None:
        while not os.path.exists(args.stop_file):
            await asyncio.sleep(0.1)
        stop.set()

    async def guarded(i: int) -> None:
        try:
            await one_session(i, args.urls[i % len(args.urls)], stop)
        except Exception as err:  # noqa: BLE001
            emit({"event": "done", "i": i, "errors": [f"session: {type(err).__name__}: {err}", traceback.format_exc()[-800:]]})

    watcher = asyncio.create_task(watch_stop_file())
    await asyncio.gather(*(guarded(i) for i in range(args.sessions)))
    watcher.cancel()
    emit({"event": "finished"})


if __name__ == "__main__":
    asyncio.run(main())

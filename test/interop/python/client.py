"""An MCP client on the official Python SDK (mcp, pinned by scripts/python-venv.sh), for the interop suite.

Opens --sessions sessions (Streamable HTTP or the 2024-11-05 HTTP+SSE transport) on the first --entries URL;
every HTTP request then goes to the next entry in turn (a custom httpx transport rewrites the origin), as
behind a load balancer that spreads one client over gateway replicas. Each session calls whoami, ask_model
(the server samples) and ask_user (the server elicits) --rounds times, answering every server request.
Prints one JSON line per session: the replicas that answered, the server requests answered, errors.
Every step is bounded: an SDK that hangs shows as an error line, not a stuck suite.
"""

import argparse
import json
import sys
from typing import Any

import anyio
import httpx2

from mcp import types
from mcp.client.session import ClientSession
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

parser = argparse.ArgumentParser()
parser.add_argument("--entries", required=True, help="comma-separated origins, e.g. http://127.0.0.1:1,http://127.0.0.1:2")
parser.add_argument("--transport", choices=["streamable", "sse"], required=True)
parser.add_argument("--mcp-path", default="/mcp")
parser.add_argument("--sse-path", default="/sse")
parser.add_argument("--sessions", type=int, default=3)
parser.add_argument("--rounds", type=int, default=2)
parser.add_argument("--parallel", type=int, default=3)
parser.add_argument("--keep", action="store_true", help="leave Streamable HTTP sessions open (no DELETE)")
parser.add_argument("--step-timeout", type=float, default=30.0)
args = parser.parse_args()
entries = [httpx2.URL(e) for e in args.entries.split(",")]


class Rotating(httpx2.AsyncBaseTransport):
    """Sends each request to the next entry (scheme, host and port), the path and query unchanged."""

    def __init__(self, seen: dict[str, Any]) -> None:
        self._inner = httpx2.AsyncHTTPTransport()
        self._next = 0
        self._seen = seen

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        entry = entries[self._next % len(entries)]
        self._next += 1
        request.url = request.url.copy_with(scheme=entry.scheme, host=entry.host, port=entry.port)
        request.headers["host"] = f"{entry.host}:{entry.port}"
        self._seen["ports"].add(entry.port)
        response = await self._inner.handle_async_request(request)
        sid = response.headers.get("mcp-session-id")
        if sid:
            self._seen["sessionId"] = sid
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


async def run_session(index: int) -> dict[str, Any]:
    seen: dict[str, Any] = {"ports": set(), "sessionId": None}
    out: dict[str, Any] = {"session": index, "replicas": [], "sampling": 0, "elicitation": 0, "answers": []}

    def client_factory(headers=None, timeout=None, auth=None) -> httpx2.AsyncClient:
        return httpx2.AsyncClient(transport=Rotating(seen), headers=headers, timeout=timeout, auth=auth)

    async def sampling(context, params: types.CreateMessageRequestParams):
        out["sampling"] += 1
        first = params.messages[0].content
        prompt = first.text if isinstance(first, types.TextContent) else ""
        return types.CreateMessageResult(role="assistant", model="test-model", content=types.TextContent(type="text", text=f"model says: {prompt}"))

    async def elicitation(context, params: types.ElicitRequestParams):
        out["elicitation"] += 1
        return types.ElicitResult(action="accept", content={"answer": f"user says: {params.message}"})

    async def drive(read, write) -> None:
        async with ClientSession(read, write, sampling_callback=sampling, elicitation_callback=elicitation) as session:
            with anyio.fail_after(args.step_timeout):
                init = await session.initialize()
            out["protocolVersion"] = init.protocol_version
            for r in range(args.rounds):
                for name, arguments in (("whoami", {}), ("ask_model", {"prompt": f"q{r}"}), ("ask_user", {"question": f"u{r}"})):
                    with anyio.fail_after(args.step_timeout):
                        result = await session.call_tool(name, arguments)
                    if result.is_error:
                        raise RuntimeError(f"{name} failed: {result.content}")
                    data = result.structured_content or {}
                    out["replicas"].append(data.get("replica"))
                    if name != "whoami":
                        out["answers"].append(data.get("answer"))

    try:
        with anyio.fail_after(args.step_timeout * (2 + 3 * args.rounds)):
            if args.transport == "streamable":
                url = str(entries[0].copy_with(path=args.mcp_path))
                async with client_factory(timeout=httpx2.Timeout(30, read=300)) as http:
                    async with streamable_http_client(url, http_client=http, terminate_on_close=not args.keep) as streams:
                        await drive(streams[0], streams[1])
            else:
                url = str(entries[0].copy_with(path=args.sse_path))
                async with sse_client(url, httpx_client_factory=client_factory, timeout=30) as streams:
                    await drive(streams[0], streams[1])
    except BaseException as err:  # an SDK failure or hang is reported, never swallowed
        out["error"] = f"{type(err).__name__}: {err}"[:500]
        if isinstance(err, (KeyboardInterrupt, SystemExit)):
            raise
    out["sessionId"] = seen["sessionId"]
    out["ports"] = sorted(seen["ports"])
    return out


async def main() -> None:
    limit = anyio.Semaphore(args.parallel)

    async def one(i: int) -> None:
        async with limit:
            result = await run_session(i)
        print(json.dumps(result), flush=True)

    async with anyio.create_task_group() as tg:
        for i in range(args.sessions):
            tg.start_soon(one, i)


anyio.run(main)
sys.exit(0)

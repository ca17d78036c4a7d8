"""An MCP server on the official Python SDK (mcp, pinned by scripts/python-venv.sh), for the interop suite.

Stateful, both transports in one process: Streamable HTTP at /mcp and the 2024-11-05 HTTP+SSE pair at /sse
and /messages/ (the SDK's default layout: `data: /messages/?session_id=<hex>`). Its tools match the demo
backend's (whoami, ask_model, ask_user), so any client of the suite can drive any server.
Prints one JSON line {"event": "listening", "port", "url"} once it accepts connections.
"""

import argparse
import json
import socket
import sys
from typing import Any

import uvicorn
from pydantic import BaseModel
from starlette.applications import Starlette

from mcp import types
from mcp.server.mcpserver import Context, MCPServer

parser = argparse.ArgumentParser()
parser.add_argument("--name", required=True)
args = parser.parse_args()
replica = args.name

mcp = MCPServer("interop-python", version="1.0.0")


@mcp.tool(description="Names the backend replica that serves this request.")
async def whoami(ctx: Context) -> dict[str, Any]:
    return {"replica": replica, "sdk": "python"}


@mcp.tool(description="Asks the client's model a question (sampling).")
async def ask_model(prompt: str, ctx: Context) -> dict[str, Any]:
    result = await ctx.request_context.session.create_message(
        [types.SamplingMessage(role="user", content=types.TextContent(type="text", text=prompt))],
        max_tokens=100,
        related_request_id=ctx.request_id,
    )
    text = result.content.text if isinstance(result.content, types.TextContent) else "[non-text answer]"
    return {"replica": replica, "model": result.model, "answer": text}


class Answer(BaseModel):
    answer: str


@mcp.tool(description="Asks the user a question (elicitation).")
async def ask_user(question: str, ctx: Context) -> dict[str, Any]:
    result = await ctx.elicit(question, schema=Answer)
    answer = result.data.answer if result.action == "accept" and result.data is not None else None
    return {"replica": replica, "action": result.action, "answer": answer}


streamable = mcp.streamable_http_app()
sse = mcp.sse_app()
# One app, both transports; the Streamable HTTP session manager runs in the streamable app's lifespan.
app = Starlette(routes=[*streamable.routes, *sse.routes], lifespan=streamable.router.lifespan_context)

sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind(("127.0.0.1", 0))
port = sock.getsockname()[1]


class Server(uvicorn.Server):
    async def startup(self, sockets=None):
        await super().startup(sockets=sockets)
        print(json.dumps({"event": "listening", "port": port, "url": f"http://127.0.0.1:{port}/mcp"}), flush=True)


Server(uvicorn.Config(app, log_level="warning", lifespan="on")).run(sockets=[sock])
sys.exit(0)

#!/usr/bin/env python3
"""Drives `sbdiag mcp` with the official MCP Python SDK's stdio client (tests/mcp.rs).

Reads a JSON request on stdin:
  {"command": "/path/to/sbdiag", "args": ["mcp", BUNDLE...],
   "calls": [{"tool": "findings", "arguments": {...}, "follow": false}]}
spawns the server with `mcp.client.stdio.stdio_client`, initializes a `mcp.ClientSession`,
lists the tools, makes each call (with "follow": true, calls again with the answer's
next_cursor until there is none, at most 50 pages), keeps the server's log messages (waiting
up to 10 s, after the calls, for one per bundle saying it is loaded), and prints one JSON
document on stdout:
  {"protocol_version", "server_info", "instructions", "capabilities", "tools": [{name,
   description, input_schema, annotations}], "results": [{"tool", "arguments", "pages":
   [{"is_error", "text", "structured"}]}], "log": [{"level", "logger", "data"}]}
Exits 3 when the `mcp` package is missing, so that the Rust test can skip or fail.
"""
import asyncio
import json
import sys

try:
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client
except ImportError as e:  # pragma: no cover - reported to the Rust test
    print(f"the mcp package is missing: {e}", file=sys.stderr)
    sys.exit(3)


def page_of(result):
    text = "\n".join(c.text for c in result.content if getattr(c, "type", "") == "text")
    return {
        "is_error": bool(result.is_error),
        "text": text,
        "structured": result.structured_content,
    }


async def main(req):
    params = StdioServerParameters(command=req["command"], args=req["args"])
    out = {"results": [], "log": []}

    async def on_log(params):
        out["log"].append(
            {"level": str(params.level), "logger": params.logger, "data": params.data}
        )
    with open(req.get("stderr", "/dev/null"), "w") as errlog:
        async with stdio_client(params, errlog=errlog) as (read, write):
            async with ClientSession(read, write, logging_callback=on_log) as session:
                init = await session.initialize()
                out["protocol_version"] = str(init.protocol_version)
                out["server_info"] = init.server_info.model_dump(mode="json")
                out["instructions"] = init.instructions
                out["capabilities"] = init.capabilities.model_dump(
                    mode="json", by_alias=True, exclude_none=True
                )
                tools = await session.list_tools()
                out["tools"] = [
                    {
                        "name": t.name,
                        "description": t.description,
                        "input_schema": t.input_schema,
                        "annotations": t.annotations.model_dump(mode="json", by_alias=True, exclude_none=True)
                        if t.annotations
                        else None,
                    }
                    for t in tools.tools
                ]
                for call in req["calls"]:
                    args = dict(call.get("arguments", {}))
                    pages = []
                    while True:
                        result = await session.call_tool(call["tool"], args)
                        p = page_of(result)
                        pages.append(p)
                        nxt = (p["structured"] or {}).get("next_cursor") if not p["is_error"] else None
                        if not call.get("follow") or not nxt or len(pages) >= 50:
                            break
                        args["cursor"] = nxt
                    out["results"].append(
                        {"tool": call["tool"], "arguments": call.get("arguments", {}), "pages": pages}
                    )
                bundles = len(req["args"]) - 1
                for _ in range(100):
                    done = [m for m in out["log"] if " loaded in " in str(m["data"]) or " not loaded: " in str(m["data"])]
                    if len(done) >= bundles:
                        break
                    await asyncio.sleep(0.1)
    return out


if __name__ == "__main__":
    request = json.load(sys.stdin)
    print(json.dumps(asyncio.run(main(request)), indent=1))

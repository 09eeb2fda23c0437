#!/usr/bin/env python3
"""Drives an agent-os MCP server with FastMCP's client (`fastmcp` 4.x, on `mcp` 2.x).

Run it with the venv scripts/setup-clients.sh makes (venv-fastmcp):

    fastmcp_client.py [--generation 2025|2026-07-28] [--runs N] stdio -- COMMAND [ARGS...]
    fastmcp_client.py [--generation 2025|2026-07-28] [--runs N] http URL [--token T]

--generation 2025 (default) connects with `initialize` (mode="legacy");
2026-07-28 lets FastMCP probe with `server/discover` (mode="auto") and fails
unless that is what was negotiated.

Each run connects afresh (stdio: a new server process), lists tools, prompts,
resources and resource templates, gets the `security` prompt, finds the
project's standard with search_standards, starts invoke_security on code
holding an AWS key and waits for it with check_persona_job(wait_seconds) and
a progress handler until the job ends. A run fails on a failed expectation,
on any exception, and on any log record of level WARNING or above from the
client libraries (`fastmcp`, `mcp`).

The same output as mcp2_client.py: one JSON object per run on stdout, then
{"ok": true|false, ...}; exit 1 on failure.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from importlib.metadata import version
from typing import Any

from fastmcp import Client
from fastmcp.client.transports import StdioTransport, StreamableHttpTransport

from driver import (Recorder, bearer, check_connection, check_lists, connect_mode, expect, progress_log,
                    review_to_the_end, run_all, server_command, structured, transports)

# The standard World (tests/e2e/clients.rs) writes, and a question only it answers.
STANDARD_PATH = ".agent-os/standards/operations/release-freeze.md"
QUERY = "can we deploy to production on a Friday afternoon"


def make_client(args: argparse.Namespace) -> Client:
    if args.transport == "stdio":
        # The whole environment: the test points the server at its own cache and state folders.
        transport: Any = StdioTransport(command=args.command[0], args=args.command[1:], env=dict(os.environ))
    else:
        transport = StreamableHttpTransport(args.url, headers=bearer(args))
    return Client(transport, mode=connect_mode(args), timeout=120)


async def one_run(args: argparse.Namespace, run: int) -> dict[str, Any]:
    started = time.monotonic()
    async with make_client(args) as client:
        protocol = client.protocol_version
        info = client.server_info
        check_connection(args, protocol, info.name if info is not None else None)

        tools = [t.name for t in await client.list_tools()]
        prompts = await client.list_prompts()
        names = [p.name for p in prompts]
        prompt = await client.get_prompt("security", {"task": "review the login handler"})
        text = "\n".join(getattr(m.content, "text", "") or "" for m in prompt.messages)
        resources = await client.list_resources()
        templates = [t.uri_template for t in await client.list_resource_templates()]
        check_lists(tools, names, text, templates)

        found = structured(await client.call_tool("search_standards", {"query": QUERY}), "search_standards")
        paths = [h.get("path") for h in found.get("results", [])]
        expect(STANDARD_PATH in paths, f"search_standards did not find {STANDARD_PATH}: {paths}")

        progress, on_progress = progress_log()

        async def invoke(tool: str, args: dict[str, Any]) -> Any:
            if tool == "check_persona_job":
                return await client.call_tool(tool, args, progress_handler=on_progress, raise_on_error=False)
            return await client.call_tool(tool, args)

        job_id, polls = await review_to_the_end(invoke, progress)
        await asyncio.sleep(0.1)
    return {"run": run, "protocol": protocol, "tools": len(tools), "prompts": len(names),
            "resources": len(resources), "templates": len(templates), "job_id": job_id, "polls": polls,
            "progress": len(progress), "ms": round((time.monotonic() - started) * 1000)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--generation", choices=["2025", "2026-07-28"], default="2025")
    p.add_argument("--runs", type=int, default=1)
    transports(p)
    args = p.parse_args()
    if args.transport == "stdio":
        args.command = server_command(p, args)
    summary = {"sdk": "fastmcp", "sdk_version": version("fastmcp"), "generation": args.generation,
               "transport": args.transport}
    return run_all("fastmcp_client", args.runs, lambda run: one_run(args, run), Recorder("fastmcp", "mcp"), summary)


if __name__ == "__main__":
    sys.exit(main())

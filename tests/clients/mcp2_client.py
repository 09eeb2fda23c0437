#!/usr/bin/env python3
"""Drives an agent-os MCP server with the official Python MCP SDK, v2 client API (`mcp` 2.x).

Run it with the venv scripts/setup-clients.sh makes (venv-mcp2):

    mcp2_client.py [--generation 2025|2026-07-28] [--runs N] stdio -- COMMAND [ARGS...]
    mcp2_client.py [--generation 2025|2026-07-28] [--runs N] http URL [--token T]

--generation 2025 (default) connects with `initialize` (mode="legacy");
2026-07-28 probes with `server/discover` (mode="auto") and fails unless the
server answered it with 2026-07-28 (no silent fallback to initialize).

Each run connects afresh (stdio: a new server process), lists tools, prompts,
resources and resource templates, gets the `security` prompt, starts
invoke_security on code holding an AWS key and waits for it with
check_persona_job(wait_seconds) and a progress callback until the job ends.
A run fails on a failed expectation, on any exception, and on any log record
of level WARNING or above from the SDK (the `mcp` loggers).

--listen (2026-07-28 only): one connection that opens `subscriptions/listen`
for tool and prompt list changes, prints {"step": "listening"}, then
{"step": "heard", "list": "tools"|"prompts"} as each list comes to include the
`spin` persona, which the caller installs.

One JSON object per run on stdout, then {"ok": true|false, ...}; exit 1 on failure.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from importlib.metadata import version
from typing import Any

import httpx2
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from driver import (Recorder, bearer, check_connection, check_lists, connect_mode, emit, expect, progress_log,
                    review_to_the_end, run_all, server_command, transports)


def make_client(args: argparse.Namespace) -> Client:
    if args.transport == "stdio":
        # The whole environment: the test points the server at its own cache and state folders.
        server: Any = StdioServerParameters(command=args.command[0], args=args.command[1:], env=dict(os.environ))
    else:
        http = httpx2.AsyncClient(headers=bearer(args), timeout=httpx2.Timeout(30, read=300))
        server = streamable_http_client(args.url, http_client=http)
    return Client(server, mode=connect_mode(args), raise_exceptions=True, read_timeout_seconds=120)


async def one_run(args: argparse.Namespace, run: int) -> dict[str, Any]:
    started = time.monotonic()
    async with make_client(args) as client:
        protocol = client.protocol_version
        info = client.server_info
        check_connection(args, protocol, info.name if info is not None else None)
        if args.generation != "2025":
            expect(client.session.discover_result is not None, "no server/discover result on a 2026-07-28 connection")
        caps = client.server_capabilities
        expect(caps.tools is not None and caps.prompts is not None and caps.resources is not None,
               f"capabilities lack tools/prompts/resources: {caps!r}")

        tools = [t.name for t in (await client.list_tools()).tools]
        prompts = (await client.list_prompts()).prompts
        names = [p.name for p in prompts]
        prompt = await client.get_prompt("security", {"task": "review the login handler"})
        text = "\n".join(getattr(m.content, "text", "") or "" for m in prompt.messages)
        resources = (await client.list_resources()).resources
        templates = [t.uri_template for t in (await client.list_resource_templates()).resource_templates]
        check_lists(tools, names, text, templates)
        sec = next(p for p in prompts if p.name == "security")
        arg_names = [a.name for a in (sec.arguments or [])]
        expect("task" in arg_names and "context" in arg_names, f"security prompt arguments: {arg_names}")

        progress, on_progress = progress_log()

        async def invoke(tool: str, args: dict[str, Any]) -> Any:
            if tool == "check_persona_job":
                return await client.call_tool(tool, args, progress_callback=on_progress)
            return await client.call_tool(tool, args)

        job_id, polls = await review_to_the_end(invoke, progress)
        await asyncio.sleep(0.1)
    return {"run": run, "protocol": protocol, "tools": len(tools), "prompts": len(names),
            "resources": len(resources), "templates": len(templates), "job_id": job_id, "polls": polls,
            "progress": len(progress), "ms": round((time.monotonic() - started) * 1000)}


async def listen_run(args: argparse.Namespace) -> dict[str, Any]:
    expect(args.generation != "2025", "--listen needs --generation 2026-07-28 (subscriptions/listen)")
    async with make_client(args) as client:
        protocol = client.protocol_version
        expect(protocol == args.generation, f"server/discover negotiated {protocol!r}, not {args.generation}")
        before = [t.name for t in (await client.list_tools()).tools]
        expect("invoke_spin" not in before, f"invoke_spin is listed before the install: {before}")
        seen: dict[str, bool] = {}
        async with client.listen(tools_list_changed=True, prompts_list_changed=True) as sub:
            emit({"step": "listening", "protocol": protocol})
            with anyio_timeout(60):
                async for _event in sub:
                    tools = [t.name for t in (await client.list_tools()).tools]
                    prompts = [p.name for p in (await client.list_prompts()).prompts]
                    for name, present in (("tools", "invoke_spin" in tools), ("prompts", "spin" in prompts)):
                        if present and not seen.get(name):
                            seen[name] = True
                            emit({"step": "heard", "list": name})
                    if seen.get("tools") and seen.get("prompts"):
                        break
        expect(seen.get("tools") and seen.get("prompts"), f"the listen stream ended before spin was listed: {seen}")
        return {"protocol": protocol, "tools": len(tools), "prompts": len(prompts)}


def anyio_timeout(seconds: float):
    import anyio

    return anyio.fail_after(seconds)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--generation", choices=["2025", "2026-07-28"], default="2025")
    p.add_argument("--runs", type=int, default=1)
    p.add_argument("--listen", action="store_true")
    transports(p)
    args = p.parse_args()
    if args.transport == "stdio":
        args.command = server_command(p, args)
    summary = {"sdk": "python", "sdk_version": version("mcp"), "generation": args.generation,
               "transport": args.transport}
    instead = (lambda: listen_run(args)) if args.listen else None
    return run_all("mcp2_client", args.runs, lambda run: one_run(args, run), Recorder("mcp"), summary, instead)


if __name__ == "__main__":
    sys.exit(main())

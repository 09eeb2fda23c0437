#!/usr/bin/env python3
"""Drives an agent-os MCP server with the official Python MCP SDK (v1 client API).

Usage (run with the venv scripts/setup-clients.sh makes):

    mcp_client.py [checks] stdio -- COMMAND [ARGS...]   spawn the server, talk over stdin/stdout
    mcp_client.py [checks] http URL [--token T]         streamable HTTP (e.g. http://127.0.0.1:7411/mcp)
    mcp_client.py unauthorized URL                      expect 401 without / with a wrong bearer token

Checks (for stdio and http):

    --search-query Q --expect-path P   search_standards(Q) must return a hit whose path is P
    --context-file F                   context for invoke_security (default: a built-in snippet
                                       with an AWS access key id on line 2)
    --timeout S                        seconds allowed for the search to find P and for the
                                       job to finish (default 120)

Each step prints one JSON object on its own line to stdout. The last line is
{"ok": true, ...} or {"ok": false, "error": ...}; any failed expectation exits 1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from contextlib import asynccontextmanager
from typing import Any

import httpx
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

try:  # mcp >= 1.24 spells it this way; the older name still works but warns.
    from mcp.client.streamable_http import streamable_http_client
except ImportError:  # pragma: no cover
    streamable_http_client = None
    from mcp.client.streamable_http import streamablehttp_client

from driver import AWS_KEY, CORE_TOOLS, Failed, emit, expect, transports  # noqa: E402  (beside this file)
from driver import CONTEXT as DEFAULT_CONTEXT  # noqa: E402


def structured(result: Any, tool: str) -> dict[str, Any]:
    """The tool's JSON answer; fails on isError."""
    text = "\n".join(c.text for c in result.content if getattr(c, "type", None) == "text")
    expect(not result.isError, f"{tool} returned isError: {text}")
    if result.structuredContent is not None:
        return result.structuredContent
    try:
        return json.loads(text)
    except ValueError:
        raise Failed(f"{tool} returned neither structuredContent nor JSON text: {text!r}")


@asynccontextmanager
async def connect_stdio(command: list[str]):
    # Pass our whole environment on: the SDK otherwise keeps only HOME, PATH and a few more,
    # and the test points the server at its own cache and model directories.
    params = StdioServerParameters(command=command[0], args=command[1:], env=dict(os.environ))
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            yield session


@asynccontextmanager
async def connect_http(url: str, token: str | None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if streamable_http_client is not None:
        http = httpx.AsyncClient(headers=headers, timeout=httpx.Timeout(30, read=300))
        async with http, streamable_http_client(url, http_client=http) as (read, write, _):
            async with ClientSession(read, write) as session:
                yield session
    else:  # pragma: no cover
        async with streamablehttp_client(url, headers=headers) as (read, write, _):
            async with ClientSession(read, write) as session:
                yield session


async def scenario(session: ClientSession, args: argparse.Namespace) -> dict[str, Any]:
    init = await session.initialize()
    emit({"step": "initialize", "server": init.serverInfo.name, "version": init.serverInfo.version,
          "protocol": init.protocolVersion})
    expect(init.serverInfo.name == "agent-os", f"server calls itself {init.serverInfo.name!r}, not 'agent-os'")

    tools = await session.list_tools()
    names = [t.name for t in tools.tools]
    emit({"step": "tools/list", "tools": names})
    missing = [t for t in CORE_TOOLS if t not in names]
    expect(not missing, f"tools/list lacks {missing}; it has {names}")

    summary: dict[str, Any] = {"tools": len(names)}
    deadline = time.monotonic() + args.timeout

    if args.search_query:
        # The index is built in the background at start, so the first answers may not have it yet.
        while True:
            found = structured(await session.call_tool("search_standards", {"query": args.search_query, "limit": 5}),
                               "search_standards")
            paths = [h.get("path") for h in found.get("results", [])]
            if args.expect_path is None or args.expect_path in paths:
                break
            if time.monotonic() > deadline:
                raise Failed(f"search_standards({args.search_query!r}) never returned {args.expect_path}; "
                             f"last answer: {json.dumps(found)}")
            await asyncio.sleep(0.5)
        emit({"step": "search_standards", "mode": found.get("mode"), "paths": paths})
        summary["search_mode"] = found.get("mode")
        summary["search_paths"] = paths

    context = DEFAULT_CONTEXT
    if args.context_file:
        with open(args.context_file, encoding="utf-8") as f:
            context = f.read()
    started = structured(await session.call_tool("invoke_security", {
        "task": "security review of the S3 upload helper",
        "context": context,
    }), "invoke_security")
    emit({"step": "invoke_security", **started})
    job_id = started.get("job_id")
    expect(isinstance(job_id, str) and job_id != "", f"invoke_security returned no job_id: {started}")
    expect(started.get("status") == "started", f"invoke_security status is {started.get('status')!r}: {started}")

    polls = 0
    while True:
        polls += 1
        job = structured(await session.call_tool("check_persona_job", {"job_id": job_id, "wait_seconds": 5}),
                         "check_persona_job")
        status = job.get("status")
        if status not in ("pending", "running"):
            break
        if time.monotonic() > deadline:
            raise Failed(f"job {job_id} still {status} after {args.timeout}s: {json.dumps(job)}")
    emit({"step": "check_persona_job", "polls": polls, "status": status,
          "duration_seconds": job.get("duration_seconds")})
    expect(status == "complete", f"job {job_id} ended {status!r}, not 'complete': {json.dumps(job)}")
    result = job.get("result") or ""
    expect("AWS access key id" in result, f"the security review does not name the AWS access key id: {result}")
    expect("(line 2)" in result, f"the security review does not give the key's line (2): {result}")
    expect(AWS_KEY not in result, f"the security review repeats the key instead of redacting it: {result}")

    listed = structured(await session.call_tool("list_persona_jobs", {"persona": "security"}), "list_persona_jobs")
    ids = [j.get("job_id") for j in listed.get("jobs", [])]
    expect(job_id in ids, f"list_persona_jobs does not list {job_id}: {ids}")

    summary.update({"job_id": job_id, "job_status": status, "polls": polls})
    return summary


async def unauthorized(url: str) -> dict[str, Any]:
    """A request without the token, or with a wrong one, must be refused with 401 before MCP."""
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "agent-os-e2e", "version": "0"}}}
    base = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    statuses = {}
    async with httpx.AsyncClient(timeout=30) as http:
        for label, extra in (("no token", {}), ("wrong token", {"Authorization": "Bearer not-the-token-0123456789"})):
            r = await http.post(url, headers={**base, **extra}, json=init)
            statuses[label] = r.status_code
            emit({"step": f"POST {label}", "status": r.status_code, "www_authenticate": r.headers.get("www-authenticate")})
            expect(r.status_code == 401, f"POST {url} with {label} answered {r.status_code}, not 401: {r.text[:200]}")
    # The Python SDK client itself must fail too, not hang.
    try:
        async with connect_http(url, None) as session:
            await asyncio.wait_for(session.initialize(), 20)
        raise Failed("the MCP client initialized without a token")
    except Failed:
        raise
    except BaseException as e:  # the SDK raises inside task groups
        errors = [f"{type(x).__name__}: {x}" for x in flatten(e)]
        emit({"step": "sdk client without token", "refused": True, "errors": errors})
    return {"statuses": statuses}


def flatten(e: BaseException):
    """The leaf exceptions of a (possibly nested) exception group."""
    if isinstance(e, BaseExceptionGroup):
        for x in e.exceptions:
            yield from flatten(x)
    else:
        yield e


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--search-query")
    p.add_argument("--expect-path")
    p.add_argument("--context-file")
    p.add_argument("--timeout", type=float, default=120)
    sub = transports(p)
    u = sub.add_parser("unauthorized")
    u.add_argument("url")
    args = p.parse_args()

    async def run() -> dict[str, Any]:
        if args.transport == "unauthorized":
            return await unauthorized(args.url)
        if args.transport == "stdio":
            command = args.command[1:] if args.command[:1] == ["--"] else args.command
            if not command:
                p.error("stdio needs the server command after --")
            async with connect_stdio(command) as session:
                return await scenario(session, args)
        async with connect_http(args.url, args.token) as session:
            return await scenario(session, args)

    try:
        summary = asyncio.run(run())
    except BaseException as e:  # noqa: BLE001  (the SDK's task groups wrap errors in exception groups)
        leaves = list(flatten(e))
        failed = [x for x in leaves if isinstance(x, Failed)]
        detail = "; ".join(str(x) for x in failed) if failed else "; ".join(f"{type(x).__name__}: {x}" for x in leaves)
        emit({"ok": False, "error": detail})
        print(f"mcp_client: FAILED: {detail}", file=sys.stderr)
        return 1
    emit({"ok": True, "transport": args.transport, **summary})
    return 0


if __name__ == "__main__":
    sys.exit(main())

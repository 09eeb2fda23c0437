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
import json
import logging
import os
import sys
import time
from importlib.metadata import version
from typing import Any

from fastmcp import Client
from fastmcp.client.transports import StdioTransport, StreamableHttpTransport

CORE_TOOLS = ["invoke_architect", "invoke_engineer", "invoke_data", "invoke_qa", "invoke_security", "invoke_sre",
              "check_persona_job", "list_persona_jobs", "search_standards"]
CORE_PROMPTS = ["architect", "engineer", "data", "qa", "security", "sre"]
AWS_KEY = "AKIAQ7RX2MBN4KD5TW3P"
CONTEXT = f'import boto3\nKEY_ID = "{AWS_KEY}"\nclient = boto3.client("s3")\n'
# The standard World (tests/e2e/clients.rs) writes, and a question only it answers.
STANDARD_PATH = ".agent-os/standards/operations/release-freeze.md"
QUERY = "can we deploy to production on a Friday afternoon"


class Failed(Exception):
    """An expectation about the server's answers did not hold."""


def emit(obj: dict[str, Any]) -> None:
    print(json.dumps(obj), flush=True)


def expect(cond: bool, message: str) -> None:
    if not cond:
        raise Failed(message)


class Recorder(logging.Handler):
    """Every client log record at WARNING or above: how the libraries report a protocol problem."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(f"{record.name} {record.levelname}: {record.getMessage()}")


def structured(result: Any, tool: str) -> dict[str, Any]:
    text = "\n".join(c.text for c in result.content if getattr(c, "type", None) == "text")
    expect(not result.is_error, f"{tool} returned isError: {text}")
    if result.structured_content is not None:
        return result.structured_content
    try:
        return json.loads(text)
    except ValueError:
        raise Failed(f"{tool} returned neither structuredContent nor JSON text: {text!r}")


def make_client(args: argparse.Namespace) -> Client:
    mode = "legacy" if args.generation == "2025" else "auto"
    if args.transport == "stdio":
        command = args.command[1:] if args.command[:1] == ["--"] else args.command
        # The whole environment: the test points the server at its own cache and state folders.
        transport: Any = StdioTransport(command=command[0], args=command[1:], env=dict(os.environ))
    else:
        headers = {"Authorization": f"Bearer {args.token}"} if args.token else {}
        transport = StreamableHttpTransport(args.url, headers=headers)
    return Client(transport, mode=mode, timeout=120)


async def one_run(args: argparse.Namespace, run: int) -> dict[str, Any]:
    started = time.monotonic()
    async with make_client(args) as client:
        protocol = client.protocol_version
        if args.generation == "2025":
            expect(protocol is not None and protocol.startswith("2025-"), f"negotiated {protocol!r} on a 2025 connection")
        else:
            expect(protocol == args.generation, f"negotiated {protocol!r}, not {args.generation}")
        info = client.server_info
        expect(info is not None and info.name == "agent-os", f"server calls itself {info!r}")

        tools = [t.name for t in await client.list_tools()]
        missing = [t for t in CORE_TOOLS if t not in tools]
        expect(not missing, f"tools/list lacks {missing}: {tools}")

        prompts = await client.list_prompts()
        names = [p.name for p in prompts]
        missing = [p for p in CORE_PROMPTS if p not in names]
        expect(not missing, f"prompts/list lacks {missing}: {names}")
        prompt = await client.get_prompt("security", {"task": "review the login handler"})
        text = "\n".join(getattr(m.content, "text", "") or "" for m in prompt.messages)
        expect("invoke_security" in text and "review the login handler" in text,
               f"the security prompt does not say to call invoke_security with the task: {text}")

        resources = await client.list_resources()
        templates = [t.uri_template for t in await client.list_resource_templates()]
        expect(any(t.startswith("agent-os://standards/") for t in templates), f"resource templates: {templates}")

        found = structured(await client.call_tool("search_standards", {"query": QUERY}), "search_standards")
        paths = [h.get("path") for h in found.get("results", [])]
        expect(STANDARD_PATH in paths, f"search_standards did not find {STANDARD_PATH}: {paths}")

        job = structured(await client.call_tool("invoke_security", {
            "task": "security review of the S3 upload helper", "context": CONTEXT}), "invoke_security")
        job_id = job.get("job_id")
        expect(isinstance(job_id, str) and job_id != "", f"invoke_security returned no job_id: {job}")

        progress: list[tuple[float, float | None, str | None]] = []

        async def on_progress(p: float, total: float | None, message: str | None) -> None:
            progress.append((p, total, message))

        polls = 0
        deadline = time.monotonic() + 180
        while True:
            polls += 1
            job = structured(await client.call_tool("check_persona_job", {"job_id": job_id, "wait_seconds": 30},
                                                    progress_handler=on_progress, raise_on_error=False),
                             "check_persona_job")
            if job.get("status") not in ("pending", "running"):
                break
            expect(time.monotonic() < deadline, f"job {job_id} still {job.get('status')} after 180 s")
        expect(job.get("status") == "complete", f"job {job_id} ended {job.get('status')!r}: {json.dumps(job)}")
        review = job.get("result") or ""
        expect("AWS access key id" in review and "(line 2)" in review, f"the review does not name the key: {review}")
        expect(AWS_KEY not in review, "the review repeats the key unredacted")
        expect(len(progress) >= 1, f"no progress notification for check_persona_job (job {job_id})")
        expect(progress[-1][0] == 100, f"the last progress is not 100: {progress}")
        await asyncio.sleep(0.1)
    return {"run": run, "protocol": protocol, "tools": len(tools), "prompts": len(names),
            "resources": len(resources), "templates": len(templates), "job_id": job_id, "polls": polls,
            "progress": len(progress), "ms": round((time.monotonic() - started) * 1000)}


def flatten(e: BaseException):
    if isinstance(e, BaseExceptionGroup):
        for x in e.exceptions:
            yield from flatten(x)
    else:
        yield e


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--generation", choices=["2025", "2026-07-28"], default="2025")
    p.add_argument("--runs", type=int, default=1)
    sub = p.add_subparsers(dest="transport", required=True)
    s = sub.add_parser("stdio")
    s.add_argument("command", nargs=argparse.REMAINDER)
    h = sub.add_parser("http")
    h.add_argument("url")
    h.add_argument("--token", default=os.environ.get("AGENT_OS_HTTP_TOKEN"))
    args = p.parse_args()
    if args.transport == "stdio" and not [c for c in args.command if c != "--"]:
        p.error("stdio needs the server command after --")

    recorder = Recorder()
    for name in ("fastmcp", "mcp"):
        logging.getLogger(name).addHandler(recorder)
        logging.getLogger(name).setLevel(logging.WARNING)
    summary: dict[str, Any] = {"sdk": "fastmcp", "sdk_version": version("fastmcp"), "generation": args.generation,
                               "transport": args.transport}
    times: list[int] = []
    protocols: set[str] = set()
    progress_total = 0

    async def run_all() -> None:
        nonlocal progress_total
        for run in range(1, args.runs + 1):
            r = await one_run(args, run)
            emit({"step": "run", **r})
            times.append(r["ms"])
            protocols.add(r["protocol"])
            progress_total += r["progress"]
            expect(not recorder.records, f"the client logged: {recorder.records}")

    try:
        asyncio.run(run_all())
    except BaseException as e:  # noqa: BLE001  (task groups wrap errors in exception groups)
        leaves = list(flatten(e))
        failed = [x for x in leaves if isinstance(x, Failed)]
        detail = "; ".join(str(x) for x in failed) if failed else "; ".join(f"{type(x).__name__}: {x}" for x in leaves)
        emit({"ok": False, **summary, "runs_passed": len(times), "error": detail, "logged": recorder.records})
        print(f"fastmcp_client: FAILED: {detail}", file=sys.stderr)
        return 1
    times.sort()
    emit({"ok": True, **summary, "runs": len(times), "protocols": sorted(protocols),
          "progress_notifications": progress_total, "ms_median": times[len(times) // 2], "ms_max": times[-1]})
    return 0


if __name__ == "__main__":
    sys.exit(main())

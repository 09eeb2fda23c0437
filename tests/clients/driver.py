"""What the Python client drivers share (mcp_client.py, mcp2_client.py,
fastmcp_client.py): the server's expected tools and prompts, the code a review
runs on, and how a driver reports. Standard library only: each driver runs in
its own venv, and this file sits beside it on sys.path.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import time
from typing import Any, Awaitable, Callable, Iterator

# The tools and prompts every agent-os server has, whatever personas the project installs.
CORE_TOOLS = ["invoke_architect", "invoke_engineer", "invoke_data", "invoke_qa", "invoke_security", "invoke_sre",
              "check_persona_job", "list_persona_jobs", "search_standards"]
CORE_PROMPTS = ["architect", "engineer", "data", "qa", "security", "sre"]
# An AWS access key id (AWS's documented format, a made-up value) on line 2.
AWS_KEY = "AKIAQ7RX2MBN4KD5TW3P"
CONTEXT = f'import boto3\nKEY_ID = "{AWS_KEY}"\nclient = boto3.client("s3")\n'


class Failed(Exception):
    """An expectation about the server's answers did not hold."""


def emit(obj: dict[str, Any]) -> None:
    print(json.dumps(obj), flush=True)


def expect(cond: bool, message: str) -> None:
    if not cond:
        raise Failed(message)


class Recorder(logging.Handler):
    """Every client log record at WARNING or above: how the libraries report a protocol problem."""

    def __init__(self, *loggers: str) -> None:
        super().__init__(logging.WARNING)
        self.records: list[str] = []
        for name in loggers:
            logging.getLogger(name).addHandler(self)
            logging.getLogger(name).setLevel(logging.WARNING)

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(f"{record.name} {record.levelname}: {record.getMessage()}")


def structured(result: Any, tool: str) -> dict[str, Any]:
    """A tool's JSON answer (the 2.x result type: `is_error`, `structured_content`); fails on an error."""
    text = "\n".join(c.text for c in result.content if getattr(c, "type", None) == "text")
    expect(not result.is_error, f"{tool} returned isError: {text}")
    if result.structured_content is not None:
        return result.structured_content
    try:
        return json.loads(text)
    except ValueError:
        raise Failed(f"{tool} returned neither structuredContent nor JSON text: {text!r}")


Progress = list[tuple[float, "float | None", "str | None"]]


def connect_mode(args: argparse.Namespace) -> str:
    """The SDK's connect mode for --generation: `initialize` (legacy) or a `server/discover` probe."""
    return "legacy" if args.generation == "2025" else "auto"


def bearer(args: argparse.Namespace) -> dict[str, str]:
    """The HTTP headers for --token."""
    return {"Authorization": f"Bearer {args.token}"} if args.token else {}


def check_connection(args: argparse.Namespace, protocol: str | None, server_name: str | None) -> None:
    """The protocol generation asked for was negotiated, with agent-os."""
    if args.generation == "2025":
        expect(protocol is not None and protocol.startswith("2025-"), f"negotiated {protocol!r} on a 2025 connection")
    else:
        expect(protocol == args.generation, f"negotiated {protocol!r}, not {args.generation}")
    expect(server_name == "agent-os", f"server calls itself {server_name!r}")


def check_lists(tools: list[str], prompts: list[str], security_prompt: str, templates: list[str]) -> None:
    """The core tools and prompts are listed, the `security` prompt (got with task "review the
    login handler") says to call invoke_security with it, and standards and jobs are resources."""
    missing = [t for t in CORE_TOOLS if t not in tools]
    expect(not missing, f"tools/list lacks {missing}: {tools}")
    missing = [p for p in CORE_PROMPTS if p not in prompts]
    expect(not missing, f"prompts/list lacks {missing}: {prompts}")
    expect("invoke_security" in security_prompt and "review the login handler" in security_prompt,
           f"the security prompt does not say to call invoke_security with the task: {security_prompt}")
    for prefix in ("agent-os://standards/", "agent-os://jobs/"):
        expect(any(t.startswith(prefix) for t in templates), f"resource templates: {templates}")


def progress_log() -> tuple[Progress, Callable[[float, "float | None", "str | None"], Awaitable[None]]]:
    """A list and the progress handler that appends to it."""
    progress: Progress = []

    async def on_progress(p: float, total: float | None, message: str | None) -> None:
        progress.append((p, total, message))

    return progress, on_progress


async def review_to_the_end(invoke: Callable[[str, dict[str, Any]], Awaitable[Any]], progress: Progress
                            ) -> tuple[str, int]:
    """Starts invoke_security on CONTEXT and waits for it with check_persona_job(wait_seconds)
    until it ends; `invoke(tool, args)` calls a tool (check_persona_job with the client's
    progress handler, which appends to `progress`). Checks the review names the key and its
    line without repeating it, and that progress rose to 100/complete. Returns the job id
    and the number of polls."""
    job = structured(await invoke("invoke_security", {
        "task": "security review of the S3 upload helper", "context": CONTEXT}), "invoke_security")
    job_id = job.get("job_id")
    expect(isinstance(job_id, str) and job_id != "", f"invoke_security returned no job_id: {job}")
    polls = 0
    deadline = time.monotonic() + 180
    while True:
        polls += 1
        job = structured(await invoke("check_persona_job", {"job_id": job_id, "wait_seconds": 30}),
                         "check_persona_job")
        if job.get("status") not in ("pending", "running"):
            break
        expect(time.monotonic() < deadline, f"job {job_id} still {job.get('status')} after 180 s")
    expect(job.get("status") == "complete", f"job {job_id} ended {job.get('status')!r}: {json.dumps(job)}")
    review = job.get("result") or ""
    expect("AWS access key id" in review and "(line 2)" in review, f"the review does not name the key: {review}")
    expect(AWS_KEY not in review, "the review repeats the key unredacted")
    expect(len(progress) >= 1, f"no progress notification for check_persona_job (job {job_id})")
    expect(all(b[0] > a[0] for a, b in zip(progress, progress[1:])), f"progress did not increase: {progress}")
    expect(progress[-1][0] == 100 and progress[-1][2] == "complete",
           f"the last progress is not 100/complete: {progress}")
    return job_id, polls


def flatten(e: BaseException) -> Iterator[BaseException]:
    """The leaves of an exception group (task groups wrap errors in them)."""
    if isinstance(e, BaseExceptionGroup):
        for x in e.exceptions:
            yield from flatten(x)
    else:
        yield e


def failure(name: str, e: BaseException, summary: dict[str, Any]) -> int:
    """Reports a failed driver run (the summary line, and why on stderr); returns the exit code."""
    import sys

    leaves = list(flatten(e))
    failed = [x for x in leaves if isinstance(x, Failed)]
    detail = "; ".join(str(x) for x in failed) if failed else "; ".join(f"{type(x).__name__}: {x}" for x in leaves)
    emit({"ok": False, **summary, "error": detail})
    print(f"{name}: FAILED: {detail}", file=sys.stderr)
    return 1


def success(summary: dict[str, Any], times: list[int], protocols: set[str], progress: int) -> int:
    """Reports the runs that all passed; returns the exit code."""
    times.sort()
    emit({"ok": True, **summary, "runs": len(times), "protocols": sorted(protocols),
          "progress_notifications": progress, "ms_median": times[len(times) // 2], "ms_max": times[-1]})
    return 0



def transports(p: argparse.ArgumentParser) -> Any:
    """Adds the `stdio -- COMMAND...` and `http URL [--token T]` subcommands; returns the
    subparsers for more."""
    sub = p.add_subparsers(dest="transport", required=True)
    s = sub.add_parser("stdio")
    s.add_argument("command", nargs=argparse.REMAINDER)
    h = sub.add_parser("http")
    h.add_argument("url")
    h.add_argument("--token", default=os.environ.get("AGENT_OS_HTTP_TOKEN"))
    return sub


def server_command(p: argparse.ArgumentParser, args: argparse.Namespace) -> list[str]:
    """The server command after `stdio --`, or a usage error."""
    command = list(args.command[1:] if args.command[:1] == ["--"] else args.command)
    if not command:
        p.error("stdio needs the server command after --")
    return command


def run_all(name: str, runs: int, one_run: Callable[[int], Awaitable[dict[str, Any]]], recorder: Recorder,
            summary: dict[str, Any], instead: Callable[[], Awaitable[dict[str, Any]]] | None = None) -> int:
    """Runs `one_run` `runs` times (or `instead` once), printing each run and then the
    summary; a run fails on any log record the recorder caught. Returns the exit code."""
    times: list[int] = []
    protocols: set[str] = set()
    progress = 0

    async def all_runs() -> None:
        nonlocal progress
        if instead is not None:
            summary.update(await instead())
            times.append(0)
            expect(not recorder.records, f"the client logged: {recorder.records}")
            return
        for run in range(1, runs + 1):
            r = await one_run(run)
            emit({"step": "run", **r})
            times.append(r["ms"])
            protocols.add(r["protocol"])
            progress += r["progress"]
            expect(not recorder.records, f"the client logged: {recorder.records}")

    try:
        asyncio.run(all_runs())
    except BaseException as e:  # noqa: BLE001  (task groups wrap errors in exception groups)
        return failure(name, e, {**summary, "runs_passed": len(times), "logged": recorder.records})
    return success(summary, times, protocols, progress)

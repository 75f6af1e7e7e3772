"""The parent side of `dp-lint verify`: runs jobs in a child process with a time limit.

The parent never imports torch, Opacus or user code. It starts `python -m dp_lint.verify.runtime.child`
in a new session (its own process group), writes the request to the child's stdin, reads the
child's merged stdout/stderr in a thread (keeping only the first and last few kilobytes per job,
so a model printing gigabytes costs nothing), and polls the child's result file for events.

Isolation: a job that runs longer than `timeout` seconds (counted from the child's "start" event
for it; importing torch and Opacus gets `max(timeout, STARTUP_TIMEOUT)`), kills the interpreter
(`os._exit`, a segfault) or makes the child exit gives that job an `error` result with the reason;
the whole process group is killed and a fresh child goes on with the remaining jobs. One child
serves the jobs one after the other unless `fresh_process` is set.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import dp_lint
from dp_lint.verify.targets import VerifyUsageError

DEFAULT_TIMEOUT = 120.0
STARTUP_TIMEOUT = 120.0  # importing torch and Opacus (a cold start on a slow disk)
HEAD_BYTES = 4096
TAIL_BYTES = 8192
POLL_SECONDS = 0.02


class _Capture:
    """Keeps the first HEAD_BYTES and the last TAIL_BYTES of the output of each job."""

    def __init__(self):
        self._lock = threading.Lock()
        self._key: object = "startup"
        self._parts: dict[object, list] = {}

    def switch(self, key) -> None:
        with self._lock:
            self._key = key

    def feed(self, data: bytes) -> None:
        with self._lock:
            part = self._parts.setdefault(self._key, [bytearray(), bytearray(), 0])
            head, tail = part[0], part[1]
            part[2] += len(data)
            room = HEAD_BYTES - len(head)
            if room > 0:
                head += data[:room]
                data = data[room:]
            if data:
                tail += data
                if len(tail) > TAIL_BYTES:
                    del tail[: len(tail) - TAIL_BYTES]

    def text(self, key) -> str | None:
        with self._lock:
            part = self._parts.get(key)
            if part is None or part[2] == 0:
                return None
            head, tail, total = part
            left_out = total - len(head) - len(tail)
            text = head.decode("utf-8", "replace")
            if left_out > 0:
                text += f"\n[... {left_out} bytes of output left out ...]\n"
            return text + tail.decode("utf-8", "replace")


@dataclass
class _Outcome:
    results: dict = field(default_factory=dict)
    outputs: dict = field(default_factory=dict)
    failed: tuple | None = None  # (job id, reason)
    startup_failure: str | None = None
    ready: dict | None = None


def _death_reason(returncode: int) -> str:
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        extra = {
            "SIGSEGV": " (segmentation fault)",
            "SIGBUS": " (bus error)",
            "SIGABRT": " (aborted)",
            "SIGKILL": " (out of memory?)",
            "SIGILL": " (illegal instruction)",
            "SIGFPE": " (arithmetic error)",
        }.get(name, "")
        return f"the process verifying it was killed by {name}{extra}"
    return (
        f"the process verifying it exited with status {returncode} before reporting a result "
        "(user code ended the interpreter, e.g. with os._exit)"
    )


def _dp_lint_path() -> str:
    return str(Path(dp_lint.__file__).resolve().parent.parent)


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        if hasattr(os, "killpg"):
            os.killpg(proc.pid, signal.SIGKILL)  # the child leads its own session: pid == pgid
        else:  # Windows: no process groups to kill, the child alone
            proc.kill()
    except (ProcessLookupError, PermissionError, OSError):
        pass


def _run_child(jobs: list[dict], *, device: str, timeout: float, cwd: str | None, seed: int) -> _Outcome:
    outcome = _Outcome()
    folder = tempfile.mkdtemp(prefix="dp-lint-verify-")
    result_file = os.path.join(folder, "results.jsonl")
    Path(result_file).touch()
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    # One CPU thread unless the user says otherwise: the batches are tiny (3 to 7 samples, and one
    # sample at a time for the reference), and OpenMP threads competing with other processes
    # make such runs several times slower.
    env.setdefault("OMP_NUM_THREADS", "1")
    env.setdefault("MKL_NUM_THREADS", "1")
    dp_lint_path = _dp_lint_path()
    env["PYTHONPATH"] = os.pathsep.join([dp_lint_path] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    request = {"result_file": result_file, "device": device, "seed": seed, "jobs": jobs,
               "dp_lint_path": dp_lint_path}
    capture = _Capture()
    proc = subprocess.Popen(
        [sys.executable, "-m", "dp_lint.verify.runtime.child"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=cwd,
        env=env,
        start_new_session=True,
    )
    child_stdin, child_stdout = proc.stdin, proc.stdout
    assert child_stdin is not None and child_stdout is not None, "both are pipes"

    def read() -> None:
        while True:
            try:
                data = os.read(child_stdout.fileno(), 65536)
            except OSError:
                break
            if not data:
                break
            capture.feed(data)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        try:
            child_stdin.write(json.dumps(request).encode("utf-8"))
            child_stdin.close()
        except (BrokenPipeError, OSError):
            pass
        offset = 0
        pending = b""
        current = None
        clock = time.monotonic()
        limit = max(timeout, STARTUP_TIMEOUT)
        while True:
            exited = proc.poll() is not None  # before reading: every event it wrote is then read
            with open(result_file, "rb") as handle:
                handle.seek(offset)
                chunk = handle.read()
            offset += len(chunk)
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                kind = event.get("event")
                if kind == "fatal":
                    _kill_group(proc)
                    raise VerifyUsageError(event.get("message", "the verify process cannot run"))
                if kind == "ready":
                    outcome.ready = event
                elif kind == "start":
                    current = event["id"]
                    capture.switch(current)
                elif kind == "result":
                    outcome.results[event["id"]] = event["result"]
                    current = None
                    capture.switch(("between", event["id"]))
                clock = time.monotonic()
                limit = timeout
            if exited:
                if len(outcome.results) < len(jobs):
                    reason = _death_reason(proc.returncode)
                    if outcome.ready is None:
                        outcome.startup_failure = f"the verify process did not start: {reason}"
                    elif current is not None:
                        outcome.failed = (current, reason)
                break
            if time.monotonic() - clock > limit:
                _kill_group(proc)
                proc.wait()
                if outcome.ready is None:
                    outcome.startup_failure = f"the verify process did not start within {limit:g} s"
                elif current is not None:
                    outcome.failed = (current, f"timed out after {timeout:g} s (its process group was killed)")
                break
            time.sleep(POLL_SECONDS)
    finally:
        _kill_group(proc)  # also any process the user's code started in the group
        proc.wait()
        reader.join(timeout=5)
        try:
            child_stdout.close()
        except OSError:
            pass
        try:
            os.unlink(result_file)
            os.rmdir(folder)
        except OSError:
            pass
    for job in jobs:
        outcome.outputs[job["id"]] = capture.text(job["id"])
    outcome.outputs["startup"] = capture.text("startup")
    return outcome


def run_jobs(
    jobs: list[dict],
    *,
    device: str = "auto",
    timeout: float = DEFAULT_TIMEOUT,
    fresh_process: bool = False,
    cwd: str | os.PathLike | None = None,
    seed: int = 0,
) -> dict:
    """Run `jobs` (dicts with a unique "id", see dp_lint.verify.runtime.child) and return {id: result}.

    Every job gets a result: the child's, or `{"verdict": "error", "error": reason}` when the
    process died, hung or never started; each result carries the job's captured `output`
    (None when it printed nothing), the `device` it ran on and the `opacus` release it imported. Raises VerifyUsageError when
    the child cannot run at all (`--device cuda` without CUDA, torch or Opacus missing).
    """
    pending = list(jobs)
    results: dict = {}
    while pending:
        batch = pending[:1] if fresh_process else pending
        outcome = _run_child(batch, device=device, timeout=timeout, cwd=str(cwd) if cwd else None, seed=seed)
        ready_device = (outcome.ready or {}).get("device")
        ready_opacus = (outcome.ready or {}).get("opacus")  # what the child imported: opacus.__version__
        for job_id, result in outcome.results.items():
            result["output"] = outcome.outputs.get(job_id)
            result.setdefault("opacus", ready_opacus)
            results[job_id] = result
        if outcome.failed is not None:
            job_id, reason = outcome.failed
            results[job_id] = {"verdict": "error", "error": reason, "device": ready_device, "opacus": ready_opacus,
                               "parameters": [], "output": outcome.outputs.get(job_id)}
        if outcome.startup_failure is not None:
            output = outcome.outputs.get("startup")
            for job in batch:
                results.setdefault(job["id"], {"verdict": "error", "error": outcome.startup_failure,
                                               "device": None, "parameters": [], "output": output})
        remaining = [job for job in pending if job["id"] not in results]
        if len(remaining) == len(pending):
            # The child exited between jobs without a word: do not loop forever.
            job = remaining[0]
            results[job["id"]] = {"verdict": "error", "error": "the verify process stopped before this model",
                                  "device": ready_device, "parameters": [], "output": outcome.outputs.get(job["id"])}
            remaining = remaining[1:]
        pending = remaining
    return results


def check_requirements() -> None:
    """Raise VerifyUsageError when torch or Opacus is not installed (without importing them)."""
    import importlib.util

    missing = [name for name in ("torch", "opacus") if importlib.util.find_spec(name) is None]
    if missing:
        raise VerifyUsageError(
            f"dp-lint verify runs the models under Opacus, but {' and '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not installed for {sys.executable}. Install torch "
            "first (pinned, see the README), then `pip install 'dp-lint[verify]'`."
        )

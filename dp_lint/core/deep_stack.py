"""Running an analysis where deep syntax trees fit.

libcst's visitors and dp-lint's analyses recurse once (or a few times) per tree level, and
Python's default recursion limit (1,000 frames) stops them on valid code of a few hundred
levels (a long `a + b + ...` chain, 200 nested brackets). Files deeper than
dp_lint.files.nesting.MAX_ANALYSED_DEPTH never get this far; for the rest, the analysis
runs in a thread with a large stack and a recursion limit that depth needs.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

_T = TypeVar("_T")

# Measured: a 1,000-level chain (`x if c else` 1,000 times) needs under 10,000 frames for
# parsing, every rule and positions; 512 MiB leaves about 10 KiB of C stack per frame.
RECURSION_LIMIT = 50_000
STACK_BYTES = 512 * 2**20

_local = threading.local()
_lock = threading.Lock()
_running = 0
_saved_limit = 0


def _raise_limit() -> None:
    global _running, _saved_limit
    with _lock:
        if _running == 0:
            _saved_limit = sys.getrecursionlimit()
            sys.setrecursionlimit(max(_saved_limit, RECURSION_LIMIT))
        _running += 1


def _restore_limit() -> None:
    global _running
    with _lock:
        _running -= 1
        if _running == 0:
            sys.setrecursionlimit(_saved_limit)


@contextlib.contextmanager
def interpreter_limit() -> Iterator[None]:
    """The recursion limit as it was before any deep-stack thread raised it, for asking
    Python whether it compiles a file as `python file.py` would (CPython's parser gives up on
    deep chains according to this limit)."""
    with _lock:
        if _running == 0:
            yield
            return
        sys.setrecursionlimit(_saved_limit)
        try:
            yield
        finally:
            sys.setrecursionlimit(max(_saved_limit, RECURSION_LIMIT))


def with_deep_stack(function: Callable[[], _T]) -> _T:
    """`function()` in a thread with a large stack and a high recursion limit (the limit is
    the interpreter's, raised while any such thread runs); directly when already in one, or
    when the platform refuses a stack that large."""
    if getattr(_local, "deep", False):
        return function()
    outcome: list = []

    def target() -> None:
        _local.deep = True
        _raise_limit()
        try:
            outcome.append((True, function()))
        except BaseException as exc:  # handed to the caller's thread, re-raised there
            outcome.append((False, exc))
        finally:
            _restore_limit()

    try:
        previous = threading.stack_size(STACK_BYTES)
    except (ValueError, RuntimeError):
        return function()
    try:
        thread = threading.Thread(target=target, name="dp-lint analysis", daemon=True)
        thread.start()
    except (RuntimeError, MemoryError):
        return function()
    finally:
        threading.stack_size(previous)
    thread.join()
    succeeded, value = outcome[0]
    if not succeeded:
        raise value
    return value

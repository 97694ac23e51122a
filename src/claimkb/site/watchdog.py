"""The SQL time limit, enforced on every statement a knowledge base's connection runs.

Datasette stops a query at ``sql_time_limit_ms`` through SQLite's progress handler, which
SQLite calls every thousand virtual-machine steps. A single step can take seconds: an FTS5
ranking or ``snippet()`` call over a full-text query of hundreds of terms is one step, so such
a query ran many times past the limit and held one of Datasette's few query threads.

``watch(conn, limit)`` (called from the ``prepare_connection`` hook) notes when each statement
starts (SQLite's statement trace). The statements FTS5 runs inside a query (SQLite traces
them as ``-- SELECT ... FROM 'main'.'claims_fts_idx' ...``) do not count as a new start. One
thread interrupts any statement still running at the
limit (``Connection.interrupt``, which SQLite checks within steps as
well as between them). An interrupt sent to an idle connection does nothing; each start is
interrupted at most once, and a connection is held here only until then.
"""

from __future__ import annotations

import re
import threading
import time
from typing import Any

#: how long past the time limit a statement may run before it is interrupted (none: the
#: interrupt ends it with the same "took too long" error as Datasette's own check)
GRACE_S = 0.0
#: how often the watchdog looks
TICK_S = 0.1

#: how SQLite traces a statement run inside another (an FTS5 or other virtual-table read)
NESTED = re.compile(r"-- [A-Z]+ .*?'[^']*'\.'", re.S)
_lock = threading.Lock()
_started: dict[int, tuple[Any, float, float]] = {}  # id -> (conn, start, bound)
_thread: threading.Thread | None = None


def watch(conn: Any, limit_s: float) -> None:
    """Interrupt any statement of `conn` still running after `limit_s` + GRACE_S seconds."""
    key, bound = id(conn), limit_s + GRACE_S

    def started(sql: str) -> None:
        with _lock:
            if key not in _started or not NESTED.match(sql or ""):
                _started[key] = (conn, time.monotonic(), bound)

    conn.set_trace_callback(started)
    _ensure_thread()


def _ensure_thread() -> None:
    global _thread
    with _lock:
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=_run, name="claimkb-sql-watchdog", daemon=True)
            _thread.start()


def _run() -> None:
    while True:
        time.sleep(TICK_S)
        interrupt_late(time.monotonic())


def interrupt_late(now: float) -> int:
    """Interrupt every statement started more than its bound before `now`; how many."""
    n = 0
    with _lock:
        for key, (conn, start, bound) in list(_started.items()):
            if now - start < bound:
                continue
            del _started[key]
            conn.interrupt()
            n += 1
    return n

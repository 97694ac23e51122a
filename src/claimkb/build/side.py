"""The part of a full build's tail that only reads the rows, done beside the rest.

After the rows are written, a full build's tail used to run on one core: secondary
indexes, then FTS5, then summaries, the foreign-key check and ANALYZE. The full-text
indexes and the foreign-key check need nothing but the rows, so ``SideBuild`` does them
in a second thread with its own connection (SQLite releases the GIL while it works)
while the build's connection builds the secondary indexes and the summaries:

- the build commits its rows; the side connection reads them (one read transaction,
  which holds a shared lock on the file) while the build's connection creates the
  secondary indexes and the facet counts in one transaction kept in its page cache
  (build.hold_in_cache: writing to the file needs an exclusive lock, which waits for the
  read to end), and commits once the side build is done;
- the side connection fills the full-text indexes (schema.fill_fts) in a temporary file
  of its own, then runs ``pragma foreign_key_check`` on the same snapshot;
- ``install`` copies the finished shadow tables (``<table>_fts_data``, ``_idx``,
  ``_docsize``, ``_config``) under an index created empty in the database. The copy holds
  what FTS5 writes itself, row for row (tests/test_build.py compares them with a
  'rebuild' in place); at a million claims it takes about a tenth of the time the
  indexing does.

The side file sits next to the database under the temporary-file pattern of
build._remove_stale_temp_files, so a killed build's leftovers are removed by the next one.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
import threading
from pathlib import Path
from urllib.parse import quote

from .schema import FTS_SHADOW_TABLES, fill_fts, fts_create_sql, fts_table, fts_tables

#: the side file's connection keeps this much of its pages in memory (KiB, as cache_size)
SIDE_CACHE_KIB = 65536


class SideBuild:
    """Builds the full-text indexes of the rows committed in `source` into a side file and
    checks their foreign keys, in a thread. ``wait`` returns the foreign-key problems;
    ``install`` copies the indexes into a connection to `source`. ``cancel`` stops the
    thread and removes the file (a failed build)."""

    def __init__(self, source: Path, name_like: Path) -> None:
        self.source = Path(source)
        fd, side = tempfile.mkstemp(
            prefix=f".{name_like.name}.", suffix=".fts.tmp", dir=name_like.parent
        )
        os.close(fd)
        self.path = Path(side)
        self.tables = fts_tables()
        self.error: BaseException | None = None
        #: rows of `pragma foreign_key_check` on the snapshot (once the thread is done)
        self.foreign_key_problems: list[tuple] = []
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._cancelled = False
        #: set once the thread holds its read snapshot of `source` (or has failed)
        self._reading = threading.Event()
        self._thread = threading.Thread(target=self._run, name="claimkb-side-build", daemon=True)

    def start(self) -> SideBuild:
        """Start the thread and return once it holds its read snapshot of the source.

        The build's connection may then write (and lock the file for writing) at once: a
        writer that wants the exclusive lock waits for the snapshot's shared lock to end,
        whereas a reader that came after the writer took the lock would be refused
        ("database is locked"). So the snapshot must come first."""
        self._thread.start()
        self._reading.wait()
        if self.error is not None:
            self._thread.join()
            raise self.error
        return self

    def _run(self) -> None:
        try:
            conn = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, uri=True
            )
            with self._lock:
                self._conn = conn
            try:
                if self._cancelled:
                    return
                conn.execute("pragma journal_mode = off")  # a temporary file: a crash discards it
                conn.execute("pragma synchronous = off")
                conn.execute(f"pragma cache_size = -{SIDE_CACHE_KIB}")
                conn.execute("pragma busy_timeout = 60000")
                conn.execute(
                    "attach database ? as source", (f"file:{quote(str(self.source))}?mode=ro",)
                )
                conn.execute("begin")  # one read snapshot of the source for every table
                # a read takes the snapshot (and its shared lock) now, before start() returns
                conn.execute("select count(*) from source.sqlite_master").fetchone()
                self._reading.set()
                for t in self.tables:
                    fill_fts(conn, t, "source")
                self.foreign_key_problems = conn.execute(
                    "pragma source.foreign_key_check"
                ).fetchall()
                conn.execute("commit")
            finally:
                with self._lock:
                    self._conn = None
                conn.close()
        except BaseException as e:  # raised in the build's thread by start() or wait()
            self.error = e
        finally:
            self._reading.set()

    def wait(self) -> list[tuple]:
        """Wait for the thread; its error, if it failed; else the foreign-key problems."""
        self._thread.join()
        if self.error is not None:
            raise self.error
        return self.foreign_key_problems

    def install(self, conn: sqlite3.Connection) -> None:
        """Create each full-text index empty in `conn` (in a transaction of its own) and
        put the side file's shadow tables in place of its empty ones (after ``wait``)."""
        self.wait()
        conn.execute("attach database ? as side", (str(self.path),))
        try:
            conn.execute("begin")
            for t in self.tables:
                fts = fts_table(t)
                conn.execute(fts_create_sql(t))
                for shadow in FTS_SHADOW_TABLES:
                    conn.execute(f"delete from main.[{fts}_{shadow}]")
                    conn.execute(
                        f"insert into main.[{fts}_{shadow}] select * from side.[{fts}_{shadow}]"
                    )
            conn.execute("commit")
        finally:
            if conn.in_transaction:
                conn.execute("rollback")
            conn.execute("detach database side")
        self.remove()

    def cancel(self) -> None:
        """Stop the side build (if it still runs) and remove its file."""
        with self._lock:
            self._cancelled = True
            if self._conn is not None:
                self._conn.interrupt()
        if self._thread.is_alive():
            self._thread.join()
        self.remove()

    def remove(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

"""Writing a database file safely: one build at a time, a new file installed only whole.

``TempDatabase`` writes a full build into a temporary file next to the database and
``install`` puts it in place; ``build_lock`` keeps two builds from racing;
``remove_stale_temp_files`` clears what a killed build left. A build that fails at any
point, a full disk included, leaves the previous database as it was.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
import signal
import sqlite3
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import sqlite_utils

from .rows import Rows, insert_sql
from .schema import TABLES_BY_NAME, ensure_db_shape
from .side import SideBuild
from .summaries import refresh as refresh_summaries


@contextlib.contextmanager
def build_lock(db_path: Path) -> Iterator[None]:
    """Only one build at a time may write next to db_path (the others wait)."""
    lock_path = db_path.with_name(db_path.name + ".lock")
    with open(lock_path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


#: the page cache of a full build's connection, in KiB (256 MiB)
CACHE_KIB = 262144
#: the build's page cache may hold this many dirty pages (4 KiB each: 1 GiB) while the side
#: build reads; see TempDatabase.finish
TAIL_SPILL_PAGES = 262144


def hold_in_cache(conn: sqlite3.Connection, pages: int) -> None:
    """Let `conn` keep up to `pages` dirty pages in its cache before it writes any to the
    file in mid-transaction (writing needs an exclusive lock); past that, wait for the lock
    as long as it takes."""
    conn.execute(f"pragma cache_spill = {pages}")  # the threshold, and on/off by its low byte (!)
    conn.execute("pragma cache_spill = on")  # so: on
    conn.execute("pragma busy_timeout = 3600000")


class TempDatabase:
    """A new database written next to db_path under a temporary name, then installed.

    Rows go in with executemany in one transaction (journal off: a crash just
    discards the file), the secondary and full-text indexes are built once at the
    end, and ``install`` puts the file in place: a rename when there is no
    database yet; otherwise a copy into the existing file with SQLite's backup API,
    in one transaction, so that a server reading the database (in WAL mode) sees
    the old content until the new one is complete and never a file swapped under
    it. The caller holds build_lock (and has removed a killed build's leftovers)."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = Path(db_path)
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        self.phase = Phases()
        self.side: SideBuild | None = None
        self.conn: sqlite3.Connection | None = None
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{self.db_path.name}.", suffix=".tmp", dir=self.db_path.parent
        )
        os.close(fd)
        self.tmp = Path(tmp_name)
        try:
            self._create()
        except BaseException:  # a full disk, or a kill signal: leave nothing behind
            self.discard()
            raise
        self.counts = {name: 0 for name in TABLES_BY_NAME}
        self.sql = {name: insert_sql(name) for name in TABLES_BY_NAME}
        self.batches = 0
        self.t_insert = 0.0

    def _create(self) -> None:
        self.phase.point("tempfile")
        conn = self.conn = sqlite3.connect(self.tmp, isolation_level=None)
        conn.execute("pragma journal_mode = off")  # a temporary file: a crash just discards it
        conn.execute("pragma synchronous = off")
        conn.execute(f"pragma cache_size = -{CACHE_KIB}")  # index pages stay in memory
        # foreign keys are checked once, in bulk, by the side build's foreign_key_check:
        # cheaper than a parent look-up per inserted row, and just as strict
        conn.execute("pragma foreign_keys = off")
        limit_pages(conn)
        self.db = sqlite_utils.Database(conn)
        ensure_db_shape(self.db, indexes=False)
        self.phase("create")
        conn.execute("begin")

    def insert(self, batch: Rows) -> None:
        t = time.perf_counter()
        for name, rs in batch.items():
            if rs:
                self.conn.executemany(self.sql[name], rs)
                self.counts[name] += len(rs)
        self.t_insert += time.perf_counter() - t
        self.batches += 1
        if self.batches == 3:
            self.phase.point("insert-midway")  # inside the transaction, some documents written

    def finish(self, files: Iterable[Any] = (), info: dict[str, str] | None = None) -> None:
        """Manifest, indexes, full-text indexes, summaries, checks; then commit and close."""
        conn, phase = self.conn, self.phase
        rows = [(f.path, f.size, f.mtime_ns, f.sha256, f.document_id) for f in files]
        self.insert({"build_files": rows, "build_info": sorted((info or {}).items())})
        phase.add("insert", self.t_insert)
        phase.point("insert")
        phase.t = time.perf_counter()
        conn.execute("commit")  # the rows, for the side build to read
        side = self.side = SideBuild(self.tmp, self.db_path)  # discard() removes its file
        side.start()
        # what follows stays in this connection's page cache until the commit after
        # side.wait(): writing a page to the file needs an exclusive lock, which waits for
        # the side build's read to end. So no spilling to the file in mid-transaction below
        # TAIL_SPILL_PAGES (a million claims need about a third of that); above, a spill just
        # waits for the side build (the busy timeout), and the two no longer overlap
        hold_in_cache(conn, TAIL_SPILL_PAGES)
        conn.execute("begin")
        ensure_db_shape(self.db)  # the secondary indexes, built once from the full tables
        phase("index")
        refresh_summaries(conn, None)
        phase("summaries")
        problems = side.wait()  # the side build's foreign-key check, on the very rows written
        phase("foreign_key_check")
        if problems:  # the loader should have caught every one; never ship a broken file
            raise RuntimeError(f"foreign key check failed: {problems[:5]}")
        conn.execute("commit")
        side.install(conn)
        self.side = None
        phase("fts")
        conn.execute("begin")
        # full statistics: ANALYZE with `pragma analysis_limit = 1000` took 0.07 s instead of
        # 0.95 s at a million claims, but its estimates led the planner to scan claims_view
        # by status instead of by document: 1.3 s instead of 0.31 s (bench, 2026-11-22)
        conn.execute("analyze")
        phase("analyze")
        conn.execute("commit")
        # at rest the database is in WAL mode: readers never wait for an incremental update
        conn.execute("pragma journal_mode = wal")
        conn.close()
        phase("commit")

    def install(self) -> None:
        phase, tmp, db_path = self.phase, self.tmp, self.db_path
        if not db_path.exists():
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o644)
            phase("fsync")
            os.replace(tmp, db_path)
            _fsync_dir(db_path.parent)
            phase("rename")
        else:
            phase("fsync")
            src = sqlite3.connect(tmp)
            dst = sqlite3.connect(db_path, timeout=600)
            try:
                recover(dst)
                src.backup(dst)  # one transaction: readers see the old database until it commits
                dst.execute("pragma wal_checkpoint(truncate)")
            finally:
                src.close()
                dst.close()
            tmp.unlink()
            phase("backup")
        phase.save()

    def written(self) -> int:
        """Bytes of the temporary file so far (what a failed build had reached)."""
        try:
            return self.tmp.stat().st_size
        except OSError:
            return 0

    def discard(self) -> None:
        if self.side is not None:
            self.side.cancel()
        if self.conn is not None:
            with contextlib.suppress(Exception):
                self.conn.close()
        with contextlib.suppress(FileNotFoundError):
            self.tmp.unlink()


def limit_pages(conn: sqlite3.Connection) -> None:
    """CLAIMKB_MAX_PAGES=<n>, for the tests: a disk that fills up once the file written has
    n pages (SQLite never lowers the bound below the pages a file already has, so on an
    existing database it means: full as soon as it grows)."""
    max_pages = os.environ.get("CLAIMKB_MAX_PAGES")
    if max_pages:
        conn.execute(f"pragma max_page_count = {int(max_pages)}")


def recover(conn: sqlite3.Connection) -> None:
    """Bring an existing database into WAL mode (a database written by an older
    claimkb, or restored from a copy, may be in rollback-journal mode)."""
    mode = conn.execute("pragma journal_mode").fetchone()[0]
    if mode != "wal":
        conn.execute("pragma journal_mode = wal")


def _fsync_dir(path: Path) -> None:
    dir_fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class Phases:
    """Wall time of each write phase, for `claimkb bench`.

    CLAIMKB_TIMINGS=<file> appends them there as one JSON line. CLAIMKB_FAULT_AT=<phase>
    kills the process with SIGKILL right after that phase, so the reliability tests
    can prove that a build dying at any point leaves the previous database intact."""

    def __init__(self) -> None:
        self.t = time.perf_counter()
        self.times: dict[str, float] = {}
        self.fault = os.environ.get("CLAIMKB_FAULT_AT")

    def add(self, name: str, seconds: float) -> None:
        self.times[name] = round(seconds, 4)

    def __call__(self, name: str, minus: float = 0.0) -> None:
        now = time.perf_counter()
        self.times[name] = round(now - self.t - minus, 4)
        self.t = now
        self.point(name)

    def point(self, name: str) -> None:
        """A named point where CLAIMKB_FAULT_AT can kill the build."""
        if self.fault == name:
            os.kill(os.getpid(), signal.SIGKILL)

    def save(self) -> None:
        out = os.environ.get("CLAIMKB_TIMINGS")
        if out:
            with open(out, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(self.times) + "\n")


def remove_stale_temp_files(db_path: Path) -> None:
    """Temporary files left by a build that was killed (we hold the lock: none is in use):
    the temporary database, its WAL and shared-memory files, the side file of side.SideBuild."""
    for suffix in TEMP_SUFFIXES:
        for stale in db_path.parent.glob(f".{db_path.name}.*{suffix}"):
            with contextlib.suppress(OSError):
                stale.unlink()


#: what temporary files next to the database end with (after a random part)
TEMP_SUFFIXES = (".tmp", ".tmp-wal", ".tmp-shm")


class DiskFull(Exception):
    """The disk ran out of room while a build wrote; nothing was installed."""

    def __init__(self, folder: Path, needed: int, free: int, existed: bool = True) -> None:
        super().__init__(f"disk full in {folder}")
        self.folder, self.needed, self.free, self.existed = folder, needed, free, existed

    def advice(self) -> str:
        mb = 1024 * 1024
        kept = "the previous database is unchanged" if self.existed else "nothing was written"
        return (
            f"the disk holding {self.folder} is full: the build needs about "
            f"{-(-self.needed // mb)} MB there and {self.free // mb} MB are free. "
            f"Free some space (or build elsewhere with --db) and run the build again; {kept}."
        )


def is_disk_full(e: BaseException) -> bool:
    if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    return isinstance(e, sqlite3.OperationalError) and "database or disk is full" in str(e)


def disk_full(db_path: Path, reached: int, *, in_place: bool = False) -> DiskFull:
    """What a full disk cost a build. A full build needs room for the file it had reached,
    the side file and the copy into an existing database: about twice the larger of the
    two. An update in place (`in_place`) needs room for its write-ahead log, which had
    reached `reached` bytes, and as much again for the checkpoint."""
    folder = db_path.parent
    existing = db_path.stat().st_size if db_path.exists() else 0
    margin = 16 * 1024 * 1024
    needed = 2 * reached + margin if in_place else 2 * max(reached, existing) + margin
    return DiskFull(folder, needed, shutil.disk_usage(folder).free, existed=existing > 0)

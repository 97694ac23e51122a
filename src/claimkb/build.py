"""Models -> SQLite.

``rows(kb)`` turns a loaded knowledge base into plain rows, table by table, in
a deterministic order. ``write_database(kb, path)`` writes them into a fresh
temporary file next to `path` in one transaction (with executemany, which is
several times faster than row-dict inserts), builds the full-text indexes and
renames the file into place only when everything succeeded. A lock file keeps
two builds from racing; the previous database stays servable throughout.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import sqlite3
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import sqlite_utils

from .load import RECORD_KINDS, SINGULAR, KnowledgeBase
from .model import Work
from .schema import TABLES_BY_NAME, VOCAB_TABLES, ensure_db_shape
from .side import SideBuild

Row = tuple[Any, ...]


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _work_values(w: Work) -> list[Any]:
    return [_json(w.authors), w.year, w.title, w.venue, w.volume, w.issue, w.pages, w.publisher, w.doi, w.isbn, w.arxiv_id, w.url]


def rows(kb: KnowledgeBase, findings: Iterable[Any] = ()) -> dict[str, list[Row]]:
    """Every row of every table, in column order of schema.TABLES. Deterministic."""
    out: dict[str, list[Row]] = _empty()
    for batch in iter_rows(kb, findings):
        for name, rs in batch.items():
            out[name].extend(rs)
    return out


def _empty() -> dict[str, list[Row]]:
    return {name: [] for name in TABLES_BY_NAME}


def vocabulary_rows(vocabulary: Any) -> dict[str, list[Row]]:
    out: dict[str, list[Row]] = _empty()
    for vocab, table in VOCAB_TABLES.items():
        for t in getattr(vocabulary, vocab):
            out[table].append((t.term, t.rank, t.colour, t.text_colour, t.definition))
    return out


def document_rows(ld: Any) -> dict[str, list[Row]]:
    """The rows of one loaded document (its evidence resolved), every table."""
    out = _empty()
    d = ld.doc
    a = ld.anchors
    out["documents"].append(
        (
            d.id, d.title, _json(d.authors), d.affiliation, d.year, d.venue, int(d.venue_verified), d.doi,
            d.arxiv_id, d.url, d.kind, d.language, d.sha256, d.received_from, d.metadata_notes,
            d.assessment.summary if d.assessment else None, d.assessment.status if d.assessment else None,
            len(ld.text), ld.text,
        )
    )
    bib_ids = {r.label: r.id for r in d.bibliography}
    for i, c in enumerate(d.claims):
        an = a[c.id]
        out["claims"].append(
            (c.id, d.id, i, c.statement, c.quote, an.start, an.end, an.prefix, an.suffix, c.section,
             c.claim_type, c.voice, c.status, c.confidence, c.rationale)
        )
        for label in dict.fromkeys(c.cites):
            out["claim_citations"].append((c.id, bib_ids[label]))
        for link in c.links:
            out["claim_links"].append((c.id, link.to, link.relation, link.note))
    for i, e in enumerate(d.equations):
        an = a[e.id]
        out["equations"].append(
            (e.id, d.id, i, e.label, e.latex, ld.mathml.get(e.id), e.quote, an.start, an.end, an.prefix, an.suffix, e.section,
             _json([s.model_dump(exclude_none=True) for s in e.symbols]), e.status, e.check_status,
             e.confidence, e.rationale,
             e.reconstruction.latex if e.reconstruction else None,
             e.reconstruction.source if e.reconstruction else None,
             ld.mathml.get(f"{e.id}/reconstruction"))
        )
        for label in dict.fromkeys(e.cites):
            out["equation_citations"].append((e.id, bib_ids[label]))
    bib_by_label = {r.label: r for r in d.bibliography}
    for i, r in enumerate(d.bibliography):
        an = a[r.id]
        out["bibliography"].append(
            (r.id, d.id, i, r.label, r.quote, an.start, an.end, an.prefix, an.suffix, *_work_values(r),
             r.citation_status, _json(r.problems), len(r.problems), int(r.self_citation), r.status,
             r.confidence, r.rationale, r.verification)
        )
    counters: dict[str, int] = {}
    for kind, about, ev in ld.evidence:
        n = counters[about] = counters.get(about, 0) + 1
        cited = bib_by_label.get(ev.bibliography) if ev.bibliography else None
        work = ev.work or cited
        self_cite = ev.self_citation or bool(cited and cited.self_citation)
        out["evidence"].append(
            (f"{about}/e{n}", d.id, kind, about,
             about if kind == "claim" else None,
             about if kind == "equation" else None,
             about if kind == "bibliography" else None,
             ev.stance, cited.id if cited else None, *_work_values(work), int(self_cite), ev.note)
        )
    return out


def finding_rows(findings: Iterable[Any], start: int = 1) -> dict[str, list[Row]]:
    out = _empty()
    for n, f in enumerate(findings, start):
        out["checks"].append((n, f.document_id, f.about_type, f.about_id, f.rule, f.severity, f.message))
    return out


def iter_rows(kb: KnowledgeBase, findings: Iterable[Any] = ()) -> Iterator[dict[str, list[Row]]]:
    """The rows of rows(), in the same order, one batch at a time: the vocabularies,
    then each document's rows, then the check findings. Writing batch by batch
    never holds a second copy of a million-claim knowledge base in memory."""
    yield vocabulary_rows(kb.vocabulary)
    for ld in sorted(kb.documents, key=lambda d: d.doc.id):
        yield document_rows(ld)
    yield finding_rows(findings)


def _insert_sql(table: str) -> str:
    cols = list(TABLES_BY_NAME[table].columns)
    return f'insert into [{table}] ({", ".join(f"[{c}]" for c in cols)}) values ({", ".join("?" for _ in cols)})'


def write_rows(db: sqlite_utils.Database, table_rows: dict[str, list[Row]]) -> None:
    """Insert all rows with executemany, parents before children, in one transaction."""
    conn = db.conn
    with conn:  # one transaction
        for name in TABLES_BY_NAME:  # TABLES order puts vocabularies and parents first
            rs = table_rows.get(name)
            if rs:
                conn.executemany(_insert_sql(name), rs)


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


def write_database(kb: KnowledgeBase, db_path: Path, findings: Iterable[Any] = ()) -> dict[str, int]:
    """Write a loaded knowledge base to db_path atomically; return row counts per table.

    `claimkb build` streams documents instead (update.py); this writes the same
    database from models in memory (tests, small knowledge bases)."""
    db_path = Path(db_path)
    with build_lock(db_path):
        _remove_stale_temp_files(db_path)  # what a killed build left (we hold the lock)
        out = TempDatabase(db_path)
        try:
            for batch in iter_rows(kb, findings):
                out.insert(batch)
            out.finish()
            out.install()
        except BaseException:
            out.discard()
            raise
    return out.counts


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
        self.phase = _Phases()
        fd, tmp_name = tempfile.mkstemp(prefix=f".{self.db_path.name}.", suffix=".tmp", dir=self.db_path.parent)
        os.close(fd)
        self.tmp = Path(tmp_name)
        self.phase.point("tempfile")
        conn = self.conn = sqlite3.connect(self.tmp, isolation_level=None)
        conn.execute("pragma journal_mode = off")  # a temporary file: a crash just discards it
        conn.execute("pragma synchronous = off")
        conn.execute(f"pragma cache_size = -{CACHE_KIB}")  # index pages stay in memory
        # foreign keys are checked once, in bulk, by foreign_key_check below:
        # cheaper than a parent look-up per inserted row, and just as strict
        conn.execute("pragma foreign_keys = off")
        self.db = sqlite_utils.Database(conn)
        ensure_db_shape(self.db, indexes=False)
        self.phase("create")
        conn.execute("begin")
        self.counts = {name: 0 for name in TABLES_BY_NAME}
        self.sql = {name: _insert_sql(name) for name in TABLES_BY_NAME}
        self.batches = 0
        self.t_insert = 0.0
        self.side: SideBuild | None = None

    def insert(self, batch: dict[str, list[Row]]) -> None:
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

    def discard(self) -> None:
        if self.side is not None:
            self.side.cancel()
        with contextlib.suppress(Exception):
            self.conn.close()
        with contextlib.suppress(FileNotFoundError):
            self.tmp.unlink()


def recover(conn: sqlite3.Connection) -> None:
    """Bring an existing database into WAL mode (a database written by an older
    claimkb, or restored from a copy, may be in rollback-journal mode)."""
    mode = conn.execute("pragma journal_mode").fetchone()[0]
    if mode != "wal":
        conn.execute("pragma journal_mode = wal")


def refresh_summaries(conn: sqlite3.Connection, document_ids: Any) -> None:
    """The precomputed facet counts of the site (summaries.py), for all documents (None) or some."""
    from . import summaries

    summaries.refresh(conn, document_ids)


def _fsync_dir(path: Path) -> None:
    dir_fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class _Phases:
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


def _remove_stale_temp_files(db_path: Path) -> None:
    """Temporary files left by a build that was killed (we hold the lock: none is in use):
    the temporary database, its WAL and shared-memory files, the side file of side.SideBuild."""
    for suffix in TEMP_SUFFIXES:
        for stale in db_path.parent.glob(f".{db_path.name}.*{suffix}"):
            with contextlib.suppress(OSError):
                stale.unlink()


#: what temporary files next to the database end with (after a random part)
TEMP_SUFFIXES = (".tmp", ".tmp-wal", ".tmp-shm")


__all__ = ["rows", "iter_rows", "write_database", "write_rows", "build_lock", "RECORD_KINDS", "SINGULAR"]

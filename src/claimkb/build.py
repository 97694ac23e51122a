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
from .schema import TABLES_BY_NAME, VOCAB_TABLES, ensure_db_shape, ensure_fts

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


def iter_rows(kb: KnowledgeBase, findings: Iterable[Any] = ()) -> Iterator[dict[str, list[Row]]]:
    """The rows of rows(), in the same order, one batch at a time: the vocabularies,
    then each document's rows, then the check findings. Writing batch by batch
    never holds a second copy of a million-claim knowledge base in memory."""
    out: dict[str, list[Row]] = _empty()
    for vocab, table in VOCAB_TABLES.items():
        for t in getattr(kb.vocabulary, vocab):
            out[table].append((t.term, t.rank, t.colour, t.text_colour, t.definition))

    yield out
    for ld in sorted(kb.documents, key=lambda d: d.doc.id):
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
        yield out
    out = _empty()
    for n, f in enumerate(findings, 1):
        out["checks"].append((n, f.document_id, f.about_type, f.about_id, f.rule, f.severity, f.message))
    yield out


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
    """Write the knowledge base to db_path atomically; return row counts per table."""
    db_path = Path(db_path)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    phase = _Phases()
    with build_lock(db_path):
        _remove_stale_temp_files(db_path)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{db_path.name}.", suffix=".tmp", dir=db_path.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            phase.point("tempfile")
            conn = sqlite3.connect(tmp, isolation_level=None)
            conn.execute("pragma journal_mode = off")  # a temporary file: a crash just discards it
            conn.execute("pragma synchronous = off")
            conn.execute("pragma cache_size = -262144")  # 256 MiB: index pages stay in memory
            # foreign keys are checked once, in bulk, by foreign_key_check below:
            # cheaper than a parent look-up per inserted row, and just as strict
            conn.execute("pragma foreign_keys = off")
            conn.isolation_level = ""  # back to implicit transactions for `with conn`
            db = sqlite_utils.Database(conn)
            ensure_db_shape(db, indexes=False)
            phase("create")
            counts = _write_batches(conn, iter_rows(kb, findings), phase)
            with conn:
                ensure_db_shape(db)  # the secondary indexes, built once from the full tables
            phase("index")
            ensure_fts(db)
            phase("fts")
            problems = conn.execute("pragma foreign_key_check").fetchall()
            phase("foreign_key_check")
            if problems:  # the loader should have caught every one; never ship a broken file
                raise RuntimeError(f"foreign key check failed: {problems[:5]}")
            conn.execute("analyze")
            phase("analyze")
            conn.commit()
            conn.execute("pragma journal_mode = delete")
            conn.close()
            phase("commit")
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o644)
            phase("fsync")
            os.replace(tmp, db_path)
            dir_fd = os.open(db_path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
            phase("rename")
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            raise
    phase.save()
    return counts


def _write_batches(conn: sqlite3.Connection, batches: Iterator[dict[str, list[Row]]], phase: "_Phases") -> dict[str, int]:
    """Insert batch after batch with executemany, in one transaction; time building
    the rows (phase "rows") apart from inserting them (phase "insert")."""
    counts = {name: 0 for name in TABLES_BY_NAME}
    sql = {name: _insert_sql(name) for name in TABLES_BY_NAME}
    t_rows = t_insert = 0.0
    with conn:  # one transaction
        t = time.perf_counter()
        for n, batch in enumerate(batches):
            t1 = time.perf_counter()
            t_rows += t1 - t
            for name, rs in batch.items():
                if rs:
                    conn.executemany(sql[name], rs)
                    counts[name] += len(rs)
            if n == 2:
                phase.point("insert-midway")  # inside the transaction, some documents written
            t = time.perf_counter()
            t_insert += t - t1
    phase.add("rows", t_rows)
    phase("insert", minus=t_rows)
    return counts


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
    """Temporary files left by a build that was killed (we hold the lock: none is in use)."""
    for stale in db_path.parent.glob(f".{db_path.name}.*.tmp"):
        with contextlib.suppress(OSError):
            stale.unlink()


__all__ = ["rows", "iter_rows", "write_database", "write_rows", "build_lock", "RECORD_KINDS", "SINGULAR"]

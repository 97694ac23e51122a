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
import sqlite3
import tempfile
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
    out: dict[str, list[Row]] = {name: [] for name in TABLES_BY_NAME}
    for vocab, table in VOCAB_TABLES.items():
        for t in getattr(kb.vocabulary, vocab):
            out[table].append((t.term, t.rank, t.colour, t.text_colour, t.definition))

    for ld in sorted(kb.documents, key=lambda d: d.doc.id):
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
    for n, f in enumerate(findings, 1):
        out["checks"].append((n, f.document_id, f.about_type, f.about_id, f.rule, f.severity, f.message))
    return out


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
    table_rows = rows(kb, findings)
    with build_lock(db_path):
        fd, tmp_name = tempfile.mkstemp(prefix=f".{db_path.name}.", suffix=".tmp", dir=db_path.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            conn = sqlite3.connect(tmp, isolation_level=None)
            conn.execute("pragma journal_mode = off")  # a temporary file: a crash just discards it
            conn.execute("pragma synchronous = off")
            conn.execute("pragma foreign_keys = on")
            conn.isolation_level = ""  # back to implicit transactions for `with conn`
            db = sqlite_utils.Database(conn)
            ensure_db_shape(db)
            write_rows(db, table_rows)
            ensure_fts(db)
            problems = conn.execute("pragma foreign_key_check").fetchall()
            if problems:  # the loader should have caught every one; never ship a broken file
                raise RuntimeError(f"foreign key check failed: {problems[:5]}")
            conn.execute("analyze")
            conn.commit()
            conn.execute("pragma journal_mode = delete")
            conn.close()
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, db_path)
            dir_fd = os.open(db_path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            raise
    return {name: len(rs) for name, rs in table_rows.items()}


__all__ = ["rows", "write_database", "write_rows", "build_lock", "RECORD_KINDS", "SINGULAR"]

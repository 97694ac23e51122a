"""An incremental build: only the documents whose files changed, updated in place.

The database remembers what it was built from (``build_files``: size, mtime and sha256
of the bytes of every data file; ``build_info``: a fingerprint of the code). When the
code and the vocabulary are unchanged, ``Plan.make`` lists the documents whose files
changed, and ``update`` processes them again and rewrites their rows in one SQLite
transaction: their old rows (full-text entries, summaries, findings, manifest rows)
are deleted, the new ones inserted, and everything that crosses documents is judged by
the same judge as a full build, with the database standing in for the documents that
are not read again. Readers keep seeing the previous state until the commit (WAL mode);
a build killed before it leaves the previous database as it was.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..ingest.load import outside_link
from ..judge import Judge, Link, Record
from ..problems import DataError, Problem
from .full import BuildReport, CheckErrors, orphan_sources
from .process import DocResult, FileState, file_sha256, file_state, process_documents
from .rows import finding_rows
from .schema import TABLES, fts_table
from .summaries import refresh as refresh_summaries
from .write import Phases, disk_full, is_disk_full, limit_pages, recover

#: above this share of the documents (and at least this many), a full build is faster
FULL_BUILD_SHARE = 0.05
FULL_BUILD_MIN = 50
#: per-document tables, children first (the order rows are deleted in)
_DOC_TABLES = (
    "checks",
    "evidence",
    "claim_links",
    "claim_citations",
    "equation_citations",
    "claim_terms",
    "claims",
    "equations",
    "bibliography",
    "documents",
)
_CONTRADICTION_RULES = ("contradiction-both-established", "contradiction-both-backed")
_IN_JSON = "select value from json_each(?)"


@dataclass
class Plan:
    """What changed since the database was built, or why it needs a full build."""

    full_reason: str | None = None
    changed: list[Path] = field(default_factory=list)  # document files to process again
    removed: list[str] = field(default_factory=list)  # ids of documents whose file is gone
    old_ids: set[str] = field(default_factory=set)  # documents whose rows are replaced or removed
    restat: list[FileState] = field(default_factory=list)  # same bytes, new size/mtime
    warnings: list[Problem] = field(default_factory=list)

    @classmethod
    def make(cls, data_dir: Path, db_path: Path, code: str) -> Plan:
        try:
            info, manifest, docs = _manifest(db_path)
        except sqlite3.Error:
            return cls(full_reason="the database has no build manifest (built by an older claimkb)")
        if info.get("code") != code:
            return cls(full_reason="the code changed since the database was built")
        if info.get("cross_document_machine_checks", "0") != "0":
            return cls(
                full_reason="machine checks span documents (an incremental update "
                "cannot re-judge them)"
            )
        plan = cls()
        reason = plan._compare(data_dir, manifest, *_current_files(data_dir))
        if reason is not None:
            return cls(full_reason=reason)
        n = len(plan.changed) + len(plan.removed)
        if n > max(FULL_BUILD_MIN, FULL_BUILD_SHARE * docs):
            return cls(full_reason=f"{n} documents changed (a full build is faster)")
        return plan

    def _compare(
        self,
        data_dir: Path,
        manifest: dict[str, tuple[Any, ...]],
        current: dict[str, Path],
        outside: set[str],
    ) -> str | None:
        started_ns = time.time_ns()
        changed: set[str] = set()
        for rel, path in current.items():
            old = manifest.get(rel)
            if rel not in outside and self._same(path, data_dir, old, started_ns):
                continue
            if rel == "vocabulary.yaml":
                return "the vocabulary changed"
            changed.add(Path(rel).stem)
        for rel, (_size, _mtime, _sha, doc_id) in manifest.items():
            if rel in current:
                continue
            if rel == "vocabulary.yaml":
                return "the vocabulary is missing"
            if rel.startswith("documents/"):
                self.removed.append(doc_id)
                self.old_ids.add(doc_id)
            else:
                changed.add(Path(rel).stem)  # a source text is gone: its document fails
        docs = {Path(rel).stem: p for rel, p in current.items() if rel.startswith("documents/")}
        for stem in sorted(changed):
            if stem in docs:
                self.changed.append(docs[stem])
            if f"documents/{stem}.yaml" in manifest:
                self.old_ids.add(manifest[f"documents/{stem}.yaml"][3])
        self.warnings = orphan_sources(data_dir, list(docs.values()))
        return None

    def _same(
        self, path: Path, data_dir: Path, old: tuple[Any, ...] | None, started_ns: int
    ) -> bool:
        """Whether a file holds the bytes the database was built from (a touched file is
        remembered in `restat`). What cannot be read is changed: the build says why."""
        if old is None:
            return False
        try:
            st = os.stat(path)
            if old[1] is not None and (old[0], old[1]) == (st.st_size, st.st_mtime_ns):
                return True  # same size and mtime: unchanged (like make and git)
            if file_sha256(path) != old[2]:
                return False
        except OSError:  # gone, a link that leads nowhere, a folder, a named pipe
            return False
        self.restat.append(file_state(path, data_dir, old[2], st, started_ns, old[3]))
        return True


def _manifest(db_path: Path) -> tuple[dict[str, str], dict[str, tuple[Any, ...]], int]:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=60)
    try:
        info = dict(conn.execute("select key, value from build_info").fetchall())
        rows = conn.execute("select path, size, mtime_ns, sha256, document_id from build_files")
        manifest = {r[0]: r[1:] for r in rows}
        docs = conn.execute("select count(*) from documents").fetchone()[0]
    finally:
        conn.close()
    return info, manifest, docs


def _current_files(data_dir: Path) -> tuple[dict[str, Path], set[str]]:
    """Every data file a full build reads (whatever it is: a folder or a named pipe called
    *.yaml is refused, not skipped), and which of them are links leading outside the data
    folder (refused too, even when what they lead to is unchanged)."""
    current: dict[str, Path] = {}
    outside: set[str] = set()
    for sub, suffix in (("documents", ".yaml"), ("sources", ".txt")):
        folder = data_dir / sub
        if not folder.is_dir():
            continue
        folder_outside = outside_link(folder, data_dir) is not None
        with os.scandir(folder) as it:
            for e in it:
                if e.name.endswith(suffix):
                    rel = f"{sub}/{e.name}"
                    current[rel] = Path(e.path)
                    if folder_outside or (e.is_symlink() and outside_link(current[rel], data_dir)):
                        outside.add(rel)
    vocab = data_dir / "vocabulary.yaml"
    if vocab.exists() or vocab.is_symlink():
        current["vocabulary.yaml"] = vocab
        if vocab.is_symlink() and outside_link(vocab, data_dir):
            outside.add("vocabulary.yaml")
    return current, outside


def _in(conn: sqlite3.Connection, sql: str, values: Iterable[Any]) -> list[tuple[Any, ...]]:
    """Run `sql` (with `in (select value from json_each(?))`) for a list of values."""
    return conn.execute(sql, (json.dumps(sorted(set(values))),)).fetchall()


class DbRecords:
    """The judge's view of the records of the documents that are not read again."""

    def __init__(self, conn: sqlite3.Connection, data_dir: Path) -> None:
        self.conn, self.data_dir = conn, data_dir

    def __call__(self, rid: str) -> Record | None:
        c = self.conn
        for kind, status in (("claims", "status"), ("equations", "null"), ("bibliography", "null")):
            row = c.execute(
                f"select document_id, position, {status} from [{kind}] where id = ?", (rid,)
            ).fetchone()
            if row is not None:
                return Record(
                    self.data_dir / "documents" / f"{row[0]}.yaml", row[0], kind, row[1], row[2]
                )
        return None


def _delete_documents(conn: sqlite3.Connection, doc_ids: set[str]) -> None:
    """Delete every row of these documents (full-text entries first, while the rows exist)."""
    ids = json.dumps(sorted(doc_ids))
    for t in TABLES:
        if t.fts:
            fts, cols = fts_table(t), ", ".join(f"[{c}]" for c in t.fts)
            key = "id" if t.name == "documents" else "document_id"
            conn.execute(
                f"insert into [{fts}] ([{fts}], rowid, {cols}) select 'delete', rowid, "
                f"{cols} from [{t.name}] where [{key}] in ({_IN_JSON})",
                (ids,),
            )
    where = {
        "claim_links": f"from_claim in (select id from claims where document_id in ({_IN_JSON}))",
        "claim_citations": f"claim_id in (select id from claims where document_id in ({_IN_JSON}))",
        "equation_citations": f"equation_id in (select id from equations where document_id in "
        f"({_IN_JSON}))",
        "documents": f"id in ({_IN_JSON})",
    }
    for name in _DOC_TABLES:
        conn.execute(
            f"delete from [{name}] where {where.get(name, f'document_id in ({_IN_JSON})')}", (ids,)
        )
    conn.execute(f"delete from build_files where document_id in ({_IN_JSON})", (ids,))


def _index_new_rows(conn: sqlite3.Connection, before: dict[str, int]) -> None:
    """Full-text entries for the rows inserted after `before` (max rowid per table)."""
    for t in TABLES:
        if t.fts:
            cols = ", ".join(f"[{c}]" for c in t.fts)
            conn.execute(
                f"insert into [{fts_table(t)}] (rowid, {cols}) select rowid, {cols} "
                f"from [{t.name}] where rowid > ?",
                (before[t.name],),
            )


def _check_new_rows(conn: sqlite3.Connection, before: dict[str, int]) -> list[str]:
    """Foreign keys of the rows inserted after `before`: what `pragma foreign_key_check`
    would say about them, without scanning the whole database."""
    out = []
    for t in TABLES:
        for col, parent, pcol in t.foreign_keys:
            bad = conn.execute(
                f"select [{col}] from [{t.name}] where rowid > ? and [{col}] is not null and not "
                f"exists (select 1 from [{parent}] where [{parent}].[{pcol}] = [{t.name}].[{col}]) "
                "limit 5",
                (before[t.name],),
            ).fetchall()
            out += [f"{t.name}.{col} = {b[0]!r} has no {parent}.{pcol}" for b in bad]
    return out


_STAY_LINKS = (
    "select l.from_claim, l.to_claim, l.relation, c.document_id, c.position, c.status "
    "from claim_links l join claims c on c.id = l.from_claim "
)


def _links_that_stay(
    conn: sqlite3.Connection, data_dir: Path, old_ids: set[str]
) -> tuple[list[Link], set[str]]:
    """Links of the documents that stay into the ones replaced or removed (read before the
    delete), and every `contradicts` link of the claims among them (their contradiction
    findings are all judged again): (links, the linking claims)."""
    of_docs = "where document_id in (select value from json_each(?1))"
    records = _in(
        conn,
        f"select id from claims {of_docs} union all select id from equations "
        f"{of_docs} union all select id from bibliography {of_docs}",
        old_ids,
    )
    rows = _in(conn, _STAY_LINKS + f"where l.to_claim in ({_IN_JSON})", {r[0] for r in records})
    rows = [r for r in rows if r[3] not in old_ids]
    linking = {r[0] for r in rows if r[2] == "contradicts"}
    if linking:
        rows += _in(
            conn,
            _STAY_LINKS + f"where l.relation = 'contradicts' and l.from_claim in ({_IN_JSON})",
            linking,
        )

    docs = data_dir / "documents"
    return [
        Link(docs / f"{r[3]}.yaml", r[3], r[4], None, r[0], r[5], r[1], r[2]) for r in rows
    ], linking


def _stay_edges(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    return conn.execute(
        "select from_claim, to_claim from claim_links where relation = 'depends_on'"
    ).fetchall()


@dataclass
class _Judged:
    problems: list[Problem]
    findings: list[Any]
    linking: set[str]


def _judge(
    conn: sqlite3.Connection, data_dir: Path, plan: Plan, results: list[DocResult]
) -> _Judged:
    stay_links, linking = _links_that_stay(conn, data_dir, plan.old_ids)
    _delete_documents(conn, plan.old_ids)
    judge = Judge(external=DbRecords(conn, data_dir))
    for r in results:
        if r.summary is not None:
            judge.add(r.summary)
        else:
            judge.add_unloaded(r.raw_ids)
    judge.add_links(stay_links)
    judge.add_edges(_stay_edges(conn))
    problems, findings = judge.verdict()
    return _Judged(problems, findings, linking)


def _write(
    conn: sqlite3.Connection, batches: list[dict[str, list[Any]]], report: BuildReport
) -> None:
    for batch in batches:
        for name, rs in batch.items():
            if rs:
                t = next(t for t in TABLES if t.name == name)
                cols = ", ".join(f"[{c}]" for c in t.columns)
                marks = ", ".join("?" for _ in t.columns)
                conn.executemany(f"insert into [{name}] ({cols}) values ({marks})", rs)
                report.counts[name] = report.counts.get(name, 0) + len(rs)


def _wal_size(db_path: Path) -> int:
    try:
        return db_path.with_name(db_path.name + "-wal").stat().st_size
    except OSError:
        return 0


def _touch_manifest(db_path: Path, restat: list[FileState]) -> None:
    """Touched but identical files: remember their new size and time, nothing else."""
    conn = sqlite3.connect(db_path, timeout=60, isolation_level=None)
    try:
        conn.execute("begin immediate")
        conn.executemany(
            "update build_files set size = ?, mtime_ns = ? where path = ?",
            [(f.size, f.mtime_ns, f.path) for f in restat],
        )
        conn.execute("commit")
    finally:
        conn.close()


def update(
    plan: Plan, data_dir: Path, db_path: Path, *, workers: int, now: str
) -> BuildReport | None:
    """Apply the plan; None when a changed document needs a full build after all."""
    report = BuildReport("incremental", warnings=list(plan.warnings))
    if not plan.changed and not plan.removed:
        if plan.restat:
            _touch_manifest(db_path, plan.restat)
        report.mode = "unchanged"
        return report
    phase = Phases()
    results = list(
        process_documents(
            plan.changed,
            data_dir / "sources",
            workers=workers,
            data_dir=data_dir,
            started_ns=time.time_ns(),
        )
    )
    phase("parse")
    if any(r.summary is not None and r.summary.deferred for r in results):
        return None  # machine checks about other documents' claims: judged by a full build
    conn = sqlite3.connect(db_path, timeout=60, isolation_level=None)
    try:
        recover(conn)
        limit_pages(conn)
        conn.execute("pragma cache_size = -65536")
        conn.execute("begin immediate")  # one writer; readers go on reading the previous state
        _apply(conn, plan, results, data_dir, report, phase, now)
        conn.execute("commit")
        phase("commit")
        conn.execute("pragma wal_checkpoint(passive)")
        phase("checkpoint")
    except BaseException as e:
        if conn.in_transaction:
            conn.execute("rollback")
        if is_disk_full(e):
            raise disk_full(db_path, _wal_size(db_path), in_place=True) from None
        raise
    finally:
        conn.close()
    phase.save()
    report.changed = sorted(r.doc_id for r in results if r.doc_id)
    report.removed = sorted(plan.removed)
    return report


def _apply(
    conn: sqlite3.Connection,
    plan: Plan,
    results: list[DocResult],
    data_dir: Path,
    report: BuildReport,
    phase: Phases,
    now: str,
) -> None:
    problems = [p for r in results for p in r.problems]
    check_errors = [f for r in results for f in r.findings if f.severity == "error"]
    judged = _judge(conn, data_dir, plan, results)
    phase("delete")
    problems += judged.problems
    check_errors += [f for f in judged.findings if f.severity == "error"]
    if any(p.severity == "error" for p in problems):
        raise DataError(problems + report.warnings)
    if check_errors:
        raise CheckErrors(check_errors)
    if judged.linking:  # their contradiction findings were all judged again
        conn.execute(
            f"delete from checks where rule in {_CONTRADICTION_RULES!r} and about_type = "
            f"'claim' and about_id in ({_IN_JSON})",
            (json.dumps(sorted(judged.linking)),),
        )
    before = {
        t.name: conn.execute(f"select coalesce(max(rowid), 0) from [{t.name}]").fetchone()[0]
        for t in TABLES
    }
    n = conn.execute("select coalesce(max(id), 0) from checks").fetchone()[0] + 1
    findings = [f for r in results for f in r.findings] + judged.findings
    _write(conn, [r.rows for r in results if r.rows] + [finding_rows(findings, n)], report)
    files = [f for r in results for f in r.files] + plan.restat
    conn.executemany(
        "insert or replace into build_files (path, size, mtime_ns, sha256, "
        "document_id) values (?, ?, ?, ?, ?)",
        [(f.path, f.size, f.mtime_ns, f.sha256, f.document_id) for f in files],
    )
    phase("insert")
    _index_new_rows(conn, before)
    phase("fts")
    refresh_summaries(conn, plan.old_ids | {r.doc_id for r in results if r.doc_id})
    phase("summaries")
    bad = _check_new_rows(conn, before)
    if bad:  # the judge should have caught every one; never commit a broken state
        raise RuntimeError(f"foreign key check failed: {bad[:5]}")
    phase("foreign_key_check")
    conn.executemany(
        "insert or replace into build_info (key, value) values (?, ?)",
        [("updated_at", now), ("mode", "incremental")],
    )
    for f in findings:
        report.findings[f.severity] = report.findings.get(f.severity, 0) + 1

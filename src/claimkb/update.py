"""`claimkb build`: a full build, or an incremental update of the previous database.

Full build: every document goes through stream.process_document (in worker
processes), its rows are written into a new temporary database as they come,
CrossIndex judges what spans documents, and the finished file is installed
(build.TempDatabase). Memory holds one document per worker and an id index.

Incremental update: the database remembers what it was built from (build_files:
size, mtime and sha256 of every data file; build_info: a fingerprint of the code).
When the code and the vocabulary are unchanged, only documents whose files
changed are processed again, and the database is updated in place in one SQLite
transaction: their old rows (and full-text entries, summaries, check findings,
manifest rows) are deleted, the new ones inserted, and everything that crosses
documents is judged against the database: duplicate ids, links into the changed
documents from the others (now dangling? contradicting?), evidence. The database
is in WAL mode, so readers keep reading the previous state until the commit, and
a build killed before the commit leaves the previous database as it was.
Anything the update cannot judge locally (many changed documents, a new code
version, a changed vocabulary, machine checks spanning documents) makes it a
full build.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import sqlite3
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .build import TempDatabase, _Phases, _remove_stale_temp_files, build_lock, finding_rows, recover, refresh_summaries, vocabulary_rows
from .load import document_paths, load_vocabulary, no_gc, read_yaml
from .problems import DataError, Problem, display_path
from .schema import TABLES, TABLES_BY_NAME, fts_table
from .stream import CrossIndex, DocResult, FileState, file_state, process_documents, text_sha256

#: above this share of the documents (and at least this many), a full build is faster
FULL_BUILD_SHARE = 0.05
FULL_BUILD_MIN = 50
#: per-document tables, children first (the order rows are deleted in)
_DOC_TABLES = ("checks", "evidence", "claim_links", "claim_citations", "equation_citations", "claims", "equations", "bibliography", "documents")
_CONTRADICTION_RULES = ("contradiction-both-established", "contradiction-both-backed")


class CheckErrors(Exception):
    """The machine checks found errors: nothing was written."""

    def __init__(self, findings: list[Any]):
        super().__init__(f"{len(findings)} check error(s)")
        self.findings = findings


@dataclass
class BuildReport:
    mode: str  # full, incremental, unchanged
    counts: dict[str, int] = field(default_factory=dict)  # rows per table (full), or of the changed documents
    changed: list[str] = field(default_factory=list)  # document ids processed again (incremental)
    removed: list[str] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    findings: dict[str, int] = field(default_factory=dict)  # severity -> number written
    reason: str = ""  # why a full build


def code_fingerprint() -> str:
    """The code and libraries a database's content depends on (not the site, which only reads it)."""
    root = Path(__file__).parent
    h = hashlib.sha256()
    for f in sorted(root.rglob("*.py")):
        rel = f.relative_to(root).as_posix()
        if rel.startswith("site/"):
            continue
        h.update(rel.encode() + b"\0" + f.read_bytes() + b"\0")
    versions = [sys.version, sqlite3.sqlite_version]
    for dist in ("pydantic", "PyYAML", "latex2mathml", "sympy", "scipy", "pint", "sqlite-utils", "rapidfuzz"):
        try:
            versions.append(f"{dist}={importlib.metadata.version(dist)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{dist}=none")
    h.update("|".join(versions).encode())
    return h.hexdigest()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def build(data_dir: Path, db_path: Path, *, workers: int = 0, full: bool = False) -> BuildReport:
    """Build db_path from data_dir: incrementally when it can, else in full.

    Raises DataError (problems in the data) or CheckErrors; then nothing was written."""
    data_dir, db_path = Path(data_dir), Path(db_path)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    with build_lock(db_path):
        _remove_stale_temp_files(db_path)  # what a killed full build left
        reason = "--full" if full else "no database yet"
        if not full and db_path.exists():
            plan = Plan.make(data_dir, db_path)
            if plan.full_reason is None:
                return _incremental(plan, data_dir, db_path, workers=workers)
            reason = plan.full_reason
        report = _full(data_dir, db_path, workers=workers)
        report.reason = reason
        return report


# --------------------------------------------------------------------------- full build


def _orphan_sources(data_dir: Path, paths: list[Path]) -> list[Problem]:
    described = {p.stem for p in paths}
    sources = data_dir / "sources"
    out = []
    if sources.is_dir():
        for src in sorted(sources.glob("*.txt")):
            if src.stem not in described:
                out.append(Problem(display_path(src), None, "source text has no document file", f"describe it in data/documents/{src.stem}.yaml (claimkb new writes a draft)", severity="warning"))
    return out


def _vocabulary_state(data_dir: Path, started_ns: int) -> FileState | None:
    path = data_dir / "vocabulary.yaml"
    try:
        st = os.stat(path)
        sha = text_sha256(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return None
    return file_state(path, data_dir, sha, st, started_ns)


def _full(data_dir: Path, db_path: Path, *, workers: int) -> BuildReport:
    started_ns = time.time_ns()
    problems: list[Problem] = []
    vocab, vp = load_vocabulary(data_dir / "vocabulary.yaml")
    problems += vp
    if not (data_dir / "documents").is_dir():
        problems.append(Problem(display_path(data_dir / "documents"), None, "no documents folder", "create data/documents/ with one <id>.yaml per document"))
    paths = document_paths(data_dir)
    problems += _orphan_sources(data_dir, paths)
    files: list[FileState] = []
    vstate = _vocabulary_state(data_dir, started_ns)
    if vstate is not None:
        files.append(vstate)
    severities: dict[str, int] = {}
    check_errors: list[Any] = []
    out = TempDatabase(db_path)
    try:
        if vocab is not None:
            out.insert(vocabulary_rows(vocab))
        cross = CrossIndex()
        n = 1
        failing = vocab is None
        with no_gc():  # the parent's rows and id index hold no cycles
            for res in process_documents(paths, data_dir / "sources", workers=workers, data_dir=data_dir, started_ns=started_ns):
                problems += res.problems
                cross.add(res)
                failing = failing or not res.ok or bool(check_errors)
                check_errors += [f for f in res.findings if f.severity == "error"]
                if not failing and not check_errors:
                    out.insert(res.rows)  # type: ignore[arg-type]
                    out.insert(finding_rows(res.findings, n))
                    n += len(res.findings)
                    files += res.files
                for f in res.findings:
                    severities[f.severity] = severities.get(f.severity, 0) + 1
        cross_problems, cross_findings = cross.judge()
        problems += cross_problems
        check_errors += [f for f in cross_findings if f.severity == "error"]
        if vocab is None or any(p.severity == "error" for p in problems):
            raise DataError(problems)
        if check_errors:
            raise CheckErrors(check_errors)
        out.insert(finding_rows(cross_findings, n))
        for f in cross_findings:
            severities[f.severity] = severities.get(f.severity, 0) + 1
        out.finish(files, {"code": code_fingerprint(), "built_at": _now(), "mode": "full",
                           "cross_document_machine_checks": str(sum(len(r.deferred) for _n, r in cross.pending))})
        out.install()
    except BaseException:
        out.discard()
        raise
    return BuildReport("full", counts=out.counts, warnings=[p for p in problems if p.severity != "error"], findings=severities)


# --------------------------------------------------------------------------- incremental update


@dataclass
class Plan:
    """What changed since the database was built, or why it needs a full build."""

    full_reason: str | None = None
    changed: list[Path] = field(default_factory=list)  # document files to process again
    removed: list[str] = field(default_factory=list)  # ids of documents whose file is gone
    old_ids: set[str] = field(default_factory=set)  # ids of documents whose rows are replaced or removed
    restat: list[FileState] = field(default_factory=list)  # same content, new size/mtime: manifest update only
    warnings: list[Problem] = field(default_factory=list)

    @classmethod
    def make(cls, data_dir: Path, db_path: Path) -> Plan:
        try:
            conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=60)
            try:
                info = dict(conn.execute("select key, value from build_info").fetchall())
                manifest = {r[0]: r[1:] for r in conn.execute("select path, size, mtime_ns, sha256, document_id from build_files")}
                docs = conn.execute("select count(*) from documents").fetchone()[0]
            finally:
                conn.close()
        except sqlite3.Error:
            return cls(full_reason="the database has no build manifest (built by an older claimkb)")
        if info.get("code") != code_fingerprint():
            return cls(full_reason="the code changed since the database was built")
        if info.get("cross_document_machine_checks", "0") != "0":
            return cls(full_reason="machine checks span documents (an incremental update cannot re-judge them)")
        started_ns = time.time_ns()
        plan = cls()
        current: dict[str, Path] = {}
        for sub, pattern in (("documents", "*.yaml"), ("sources", "*.txt")):
            folder = data_dir / sub
            if folder.is_dir():
                with os.scandir(folder) as it:
                    for e in it:
                        if e.is_file() and Path(e.name).match(pattern):
                            current[f"{sub}/{e.name}"] = Path(e.path)
        vocab = data_dir / "vocabulary.yaml"
        if vocab.exists():
            current["vocabulary.yaml"] = vocab
        changed_stems: set[str] = set()
        for rel, path in current.items():
            old = manifest.get(rel)
            st = os.stat(path)
            if old is not None and old[1] is not None and old[0] == st.st_size and old[1] == st.st_mtime_ns:
                continue  # same size and mtime: unchanged (like make and git)
            try:
                sha = text_sha256(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError):
                sha = None
            if old is not None and sha == old[2]:
                plan.restat.append(file_state(path, data_dir, sha, st, started_ns))
                plan.restat[-1].document_id = old[3]
                continue
            if rel == "vocabulary.yaml":
                return cls(full_reason="the vocabulary changed")
            changed_stems.add(Path(rel).stem)
        for rel, (_size, _mtime, _sha, doc_id) in manifest.items():
            if rel not in current:
                if rel == "vocabulary.yaml":
                    return cls(full_reason="the vocabulary is missing")
                if rel.startswith("documents/"):
                    plan.removed.append(doc_id)
                    plan.old_ids.add(doc_id)
                else:
                    changed_stems.add(Path(rel).stem)  # a source text is gone: its document fails
        doc_paths = {Path(rel).stem: p for rel, p in current.items() if rel.startswith("documents/")}
        for stem in sorted(changed_stems):
            if stem in doc_paths:
                plan.changed.append(doc_paths[stem])
            if f"documents/{stem}.yaml" in manifest:
                plan.old_ids.add(manifest[f"documents/{stem}.yaml"][3])
        plan.warnings = _orphan_sources(data_dir, list(doc_paths.values()))
        if len(plan.changed) + len(plan.removed) > max(FULL_BUILD_MIN, FULL_BUILD_SHARE * docs):
            return cls(full_reason=f"{len(plan.changed) + len(plan.removed)} documents changed (a full build is faster)")
        return plan


def _in(conn: sqlite3.Connection, sql: str, values: Iterable[Any]) -> list[tuple[Any, ...]]:
    """Run `sql` (with one `in (select value from json_each(?))`) for a list of values."""
    return conn.execute(sql, (json.dumps(sorted(set(values))),)).fetchall()


class _DbLookup:
    """CrossIndex's view of the records of the documents that are not processed again."""

    def __init__(self, conn: sqlite3.Connection, data_dir: Path) -> None:
        self.conn, self.data_dir = conn, data_dir

    def __call__(self, rid: str) -> tuple[Path, str, str, int, str | None] | None:
        c = self.conn
        row = c.execute("select document_id, position, status from claims where id = ?", (rid,)).fetchone()
        kind = "claims"
        if row is None:
            row = c.execute("select document_id, position, null from equations where id = ?", (rid,)).fetchone()
            kind = "equations"
        if row is None:
            row = c.execute("select document_id, position, null from bibliography where id = ?", (rid,)).fetchone()
            kind = "bibliography"
        if row is None:
            return None
        return self.data_dir / "documents" / f"{row[0]}.yaml", row[0], kind, row[1], row[2]


def _fts_columns(table: str) -> list[str]:
    return list(TABLES_BY_NAME[table].fts)


def _delete_documents(conn: sqlite3.Connection, doc_ids: set[str]) -> None:
    """Delete every row of these documents (full-text entries first, while the rows exist)."""
    ids = json.dumps(sorted(doc_ids))
    sel_doc = "select value from json_each(?)"
    for t in TABLES:
        if t.fts:
            cols = _fts_columns(t.name)
            key = "id" if t.name == "documents" else "document_id"
            conn.execute(
                f"insert into [{fts_table(t)}] ([{fts_table(t)}], rowid, {', '.join(f'[{c}]' for c in cols)}) "
                f"select 'delete', rowid, {', '.join(f'[{c}]' for c in cols)} from [{t.name}] where [{key}] in ({sel_doc})",
                (ids,),
            )
    where = {
        "claim_links": f"from_claim in (select id from claims where document_id in ({sel_doc}))",
        "claim_citations": f"claim_id in (select id from claims where document_id in ({sel_doc}))",
        "equation_citations": f"equation_id in (select id from equations where document_id in ({sel_doc}))",
        "documents": f"id in ({sel_doc})",
    }
    for name in _DOC_TABLES:
        conn.execute(f"delete from [{name}] where {where.get(name, f'document_id in ({sel_doc})')}", (ids,))
    conn.execute(f"delete from build_files where document_id in ({sel_doc})", (ids,))


def _index_new_rows(conn: sqlite3.Connection, before: dict[str, int]) -> None:
    """Full-text entries for the rows inserted after `before` (max rowid per table)."""
    for t in TABLES:
        if t.fts:
            cols = ", ".join(f"[{c}]" for c in _fts_columns(t.name))
            conn.execute(f"insert into [{fts_table(t)}] (rowid, {cols}) select rowid, {cols} from [{t.name}] where rowid > ?", (before[t.name],))


def _check_new_rows(conn: sqlite3.Connection, before: dict[str, int]) -> list[str]:
    """Foreign keys of the rows inserted after `before`: what `pragma foreign_key_check` would
    say about them, without scanning the whole database."""
    out = []
    for t in TABLES:
        for col, parent, pcol in t.foreign_keys:
            bad = conn.execute(
                f"select [{col}] from [{t.name}] where rowid > ? and [{col}] is not null "
                f"and not exists (select 1 from [{parent}] where [{parent}].[{pcol}] = [{t.name}].[{col}]) limit 5",
                (before[t.name],),
            ).fetchall()
            out += [f"{t.name}.{col} = {b[0]!r} has no {parent}.{pcol}" for b in bad]
    return out


def _link_index(data_dir: Path, doc_id: str, claim_pos: int, to: str, relation: str) -> int | None:
    """Index of a claim's link in its YAML file (for the line of a problem), or None."""
    yf, _ = read_yaml(data_dir / "documents" / f"{doc_id}.yaml")
    try:
        links = yf.data["claims"][claim_pos].get("links") or []  # type: ignore[union-attr]
        return next(j for j, link in enumerate(links) if link.get("to") == to and link.get("relation") == relation)
    except Exception:  # noqa: BLE001 - only a line number is at stake
        return None


def _incremental(plan: Plan, data_dir: Path, db_path: Path, *, workers: int) -> BuildReport:
    report = BuildReport("incremental", warnings=list(plan.warnings))
    if not plan.changed and not plan.removed:
        if plan.restat:  # touched but identical files: remember their new times, nothing else
            conn = sqlite3.connect(db_path, timeout=60, isolation_level=None)
            try:
                conn.execute("begin immediate")
                conn.executemany("update build_files set size = ?, mtime_ns = ? where path = ?", [(f.size, f.mtime_ns, f.path) for f in plan.restat])
                conn.execute("commit")
            finally:
                conn.close()
        report.mode = "unchanged"
        return report
    phase = _Phases()
    started_ns = time.time_ns()
    results: list[DocResult] = list(process_documents(plan.changed, data_dir / "sources", workers=workers,
                                                      data_dir=data_dir, started_ns=started_ns))
    phase("parse")
    problems: list[Problem] = [p for r in results for p in r.problems]
    check_errors = [f for r in results for f in r.findings if f.severity == "error"]
    if any(r.deferred for r in results):
        # a changed document now has machine checks about other documents' claims
        report = _full(data_dir, db_path, workers=workers)
        report.reason = "machine checks span documents (an incremental update cannot re-judge them)"
        return report
    conn = sqlite3.connect(db_path, timeout=60, isolation_level=None)
    try:
        recover(conn)
        conn.execute("pragma cache_size = -65536")
        conn.execute("begin immediate")  # one writer; readers go on reading the previous state
        old_record_ids = {r[0] for r in _in(conn, "select id from claims where document_id in (select value from json_each(?)) "
                                                  "union all select id from equations where document_id in (select value from json_each(?1)) "
                                                  "union all select id from bibliography where document_id in (select value from json_each(?1))", plan.old_ids)}
        # links from the documents that stay, into the ones replaced or removed (read before the delete)
        stay_links = _in(
            conn,
            "select l.from_claim, l.to_claim, l.relation, c.document_id, c.position, c.status from claim_links l "
            "join claims c on c.id = l.from_claim where l.to_claim in (select value from json_each(?))",
            old_record_ids,
        )
        stay_links = [r for r in stay_links if r[3] not in plan.old_ids]
        _delete_documents(conn, plan.old_ids)
        phase("delete")
        before = {t.name: conn.execute(f"select coalesce(max(rowid), 0) from [{t.name}]").fetchone()[0] for t in TABLES}
        cross = CrossIndex(external=_DbLookup(conn, data_dir))
        for r in results:
            cross.add(r)
        cross_problems, cross_findings = cross.judge()
        problems += cross_problems
        in_problems, in_findings, linking = _judge_incoming(conn, data_dir, cross, stay_links)
        problems += in_problems
        check_errors += [f for f in cross_findings + in_findings if f.severity == "error"]
        if any(p.severity == "error" for p in problems):
            raise DataError(problems + report.warnings)
        if check_errors:
            raise CheckErrors(check_errors)
        if linking:  # their contradiction findings were all re-judged
            conn.execute(f"delete from checks where rule in {_CONTRADICTION_RULES!r} and about_type = 'claim' "
                         "and about_id in (select value from json_each(?))", (json.dumps(sorted(linking)),))
        n = conn.execute("select coalesce(max(id), 0) from checks").fetchone()[0] + 1
        sql = {t.name: f'insert into [{t.name}] ({", ".join(f"[{c}]" for c in t.columns)}) values ({", ".join("?" for _ in t.columns)})' for t in TABLES}
        findings = [f for r in results for f in r.findings] + cross_findings + in_findings
        batches = [r.rows for r in results] + [finding_rows(findings, n)]
        for batch in batches:
            for name, rs in (batch or {}).items():
                if rs:
                    conn.executemany(sql[name], rs)
                    report.counts[name] = report.counts.get(name, 0) + len(rs)
        files = [f for r in results for f in r.files] + plan.restat
        conn.executemany("insert or replace into build_files (path, size, mtime_ns, sha256, document_id) values (?, ?, ?, ?, ?)",
                         [(f.path, f.size, f.mtime_ns, f.sha256, f.document_id) for f in files])
        phase("insert")
        _index_new_rows(conn, before)
        phase("fts")
        refresh_summaries(conn, plan.old_ids | {r.doc_id for r in results if r.doc_id})
        phase("summaries")
        bad = _check_new_rows(conn, before)
        if bad:  # the judging above should have caught every one; never commit a broken state
            raise RuntimeError(f"foreign key check failed: {bad[:5]}")
        phase("foreign_key_check")
        conn.executemany("insert or replace into build_info (key, value) values (?, ?)", [("updated_at", _now()), ("mode", "incremental")])
        conn.execute("commit")
        phase("commit")
        conn.execute("pragma wal_checkpoint(passive)")
        phase("checkpoint")
    except BaseException:
        if conn.in_transaction:
            conn.execute("rollback")
        raise
    finally:
        conn.close()
    phase.save()
    report.changed = sorted(r.doc_id for r in results if r.doc_id)
    report.removed = sorted(plan.removed)
    for f in findings:
        report.findings[f.severity] = report.findings.get(f.severity, 0) + 1
    return report


def _judge_incoming(conn: sqlite3.Connection, data_dir: Path, cross: CrossIndex,
                    stay_links: list[tuple[Any, ...]]) -> tuple[list[Problem], list[Any], set[str]]:
    """Links from the documents that stay into the replaced or removed ones: still pointing
    at a claim? And the contradiction findings of the linking claims, all re-judged."""
    from .checks.consistency import contradiction
    from .checks.findings import Collector
    from .load import _line
    from .stream import _ref

    problems: list[Problem] = []
    col = Collector()
    for from_claim, to, relation, doc_id, pos, _status in stay_links:
        target = cross.lookup(to)
        if target is not None and target[2] == "claims":
            continue
        if to in cross.unloaded:
            continue  # the document it points into failed to load: its own errors say what to fix
        path = data_dir / "documents" / f"{doc_id}.yaml"
        j = _link_index(data_dir, doc_id, pos, to, relation)
        line = _line(_ref(path, doc_id), ("claims", pos, "links", j, "to") if j is not None else ("claims", pos, "links"))
        what = "which is not a record in the knowledge base" if target is None else f"which is a {target[2].rstrip('s')}, not a claim"
        problems.append(Problem(display_path(path), line, f"claim {from_claim} links to {to!r}, {what}",
                                "use the id of an existing claim (the document it pointed into changed or was removed)"))
    linking = {r[0] for r in stay_links if r[2] == "contradicts"}
    if linking:
        links = _in(
            conn,
            "select l.from_claim, l.to_claim, c.document_id, c.position, c.status from claim_links l "
            "join claims c on c.id = l.from_claim where l.relation = 'contradicts' and l.from_claim in (select value from json_each(?))",
            linking,
        )
        for from_claim, to, doc_id, pos, status in links:
            target = cross.lookup(to)
            if target is None or target[4] is None:
                continue
            path = data_dir / "documents" / f"{doc_id}.yaml"
            j = _link_index(data_dir, doc_id, pos, to, "contradicts") if status == target[4] == "established" else None
            contradiction(col, _ref(path, doc_id), from_claim, status, to, target[4], ("claims", pos, "links", j) if j is not None else ("claims", pos))
    return problems, col.resolved(), linking

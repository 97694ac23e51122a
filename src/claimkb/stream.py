"""The streaming build: documents one at a time, from files to rows.

``process_document(path, sources)`` does everything one document needs on its
own, in a worker process: parse, validate, anchor, render MathML, resolve its
evidence, run the machine checks and turn it into rows. What needs other
documents travels back as a few small lists (its record ids, its links and
evidence into other documents), and ``CrossIndex`` judges those once every
document has been seen: duplicate ids, dangling links, evidence about another
document's record, `contradicts` links between backed claims of two documents,
machine checks about another document's claims.

So a build holds one document's models at a time plus an id index, never the
whole knowledge base, and its result is the same as ``load_knowledge_base`` +
``checks.run_all`` + ``build.write_database`` (tests/test_stream.py compares them).
"""

from __future__ import annotations

import contextlib
import difflib
import gc
import hashlib
import itertools
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from .load import RECORD_KINDS, SINGULAR, KnowledgeBase, LoadedDocument, _line, _unloaded_ids, parse_document
from .problems import Problem, display_path

Row = tuple[Any, ...]
#: below twice this many documents, `--workers 0` (the default) parses in one process:
#: starting workers costs more than it saves
MIN_DOCUMENTS_PER_WORKER = 20


@dataclass
class FileState:
    """What a build read of one file: for the next build to tell whether it changed."""

    path: str  # relative to the data folder, with forward slashes
    size: int
    mtime_ns: int | None  # None: modified too close to the build to trust (re-hashed next time)
    sha256: str
    document_id: str | None = None


@dataclass
class DocResult:
    """One document, processed: its problems, rows, findings and what CrossIndex needs."""

    path: Path
    doc_id: str | None = None
    problems: list[Problem] = field(default_factory=list)
    rows: dict[str, list[Row]] | None = None  # None when the document has errors
    findings: list[Any] = field(default_factory=list)
    #: (id, kind, index in its list, claim status or None) of every record
    records: list[tuple[str, str, int, str | None]] = field(default_factory=list)
    #: links to records outside the document: (claim index, link index, claim id, claim status, to, relation)
    links: list[tuple[int, int, str, str, str, str]] = field(default_factory=list)
    #: top-level evidence items about records outside the document: (evidence index, about)
    evidence: list[tuple[int, str]] = field(default_factory=list)
    #: equations whose machine check is about a claim of another document
    deferred: list[int] = field(default_factory=list)
    #: record ids read from the raw YAML of a document that failed to load
    raw_ids: set[str] = field(default_factory=set)
    files: list[FileState] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.rows is not None


def text_sha256(text: str) -> str:
    """sha256 of a data file's text as the loader reads it (UTF-8, universal newlines):
    what build_files records and what the next build compares."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_state(path: Path, data_dir: Path, sha256: str, st: os.stat_result, started_ns: int, document_id: str | None = None) -> FileState:
    # a file modified in the last two seconds before the build read it may be modified
    # again within the same timestamp tick: record no mtime, so the next build re-hashes it
    mtime = st.st_mtime_ns if st.st_mtime_ns < started_ns - 2_000_000_000 else None
    return FileState(path.relative_to(data_dir).as_posix(), st.st_size, mtime, sha256, document_id)


def process_document(path: Path, sources: Path, data_dir: Path | None = None, started_ns: int = 0) -> DocResult:
    """Everything one document needs on its own (runs in a worker process)."""
    from .build import document_rows
    from .checks import run_all
    from .yamlfile import caching

    res = DocResult(path)
    src_path = sources / f"{path.stem}.txt"
    stats = []
    if data_dir is not None:
        try:
            stats = [(path, os.stat(path)), (src_path, os.stat(src_path))]
        except OSError:
            stats = []
    with caching(False):  # a build re-reads only the files that changed: a parse cache would only cost writes
        ld, problems = parse_document(path, sources)
    res.problems = problems
    if ld is None:
        res.raw_ids = _unloaded_ids([path])
        return res
    d = ld.doc
    res.doc_id = d.id
    local: dict[str, tuple[str, int]] = {}
    for kind in RECORD_KINDS:
        for i, rec in enumerate(getattr(d, kind)):
            local.setdefault(rec.id, (kind, i))
            res.records.append((rec.id, kind, i, rec.status if kind == "claims" else None))
    file = display_path(path)
    for i, claim in enumerate(d.claims):
        for j, link in enumerate(claim.links):
            target = local.get(link.to)
            if target is None:
                res.links.append((i, j, claim.id, claim.status, link.to, link.relation))
            elif target[0] != "claims":
                problems.append(Problem(file, _line(ld, ("claims", i, "links", j, "to")), f"claim {claim.id} links to {link.to!r}, which is a {SINGULAR[target[0]]}, not a claim", "links relate claims to claims"))
            elif link.to == claim.id:
                problems.append(Problem(file, _line(ld, ("claims", i, "links", j, "to")), f"claim {claim.id} links to itself", "remove the link"))
    for j, ev in enumerate(d.evidence):
        if ev.about is None:
            continue
        target = local.get(ev.about)
        if target is None:
            res.evidence.append((j, ev.about))
        else:
            ld.evidence.append((SINGULAR[target[0]], ev.about, ev))
    if any(p.severity == "error" for p in problems) or res.evidence:
        return res  # the build fails: no rows, no checks (as load_knowledge_base raises first)
    deferred: list[tuple[Any, int]] = []
    res.findings = run_all(KnowledgeBase(vocabulary=None, documents=[ld]), deferred=deferred)  # type: ignore[arg-type]
    res.deferred = [i for _ld, i in deferred]
    res.rows = document_rows(ld)
    if stats:
        res.files = [  # parse_document keeps the YAML it read: hash that very text
            file_state(stats[0][0], data_dir, text_sha256(ld.yaml.text), stats[0][1], started_ns, d.id),  # type: ignore[union-attr]
            file_state(stats[1][0], data_dir, d.sha256, stats[1][1], started_ns, d.id),
        ]
    return res


#: niceness of the worker processes, relative to the build's own process
WORKER_NICENESS = 5


#: a worker collects cyclic garbage itself, once per this many documents
GC_EVERY = 64
_processed = itertools.count(1)


def _init_worker() -> None:
    """Workers give way to the process that writes their rows: that single writer is the
    pipeline's one serial stage, and while it waits for a core the workers' results queue up.

    And they run without the automatic garbage collector, whose passes over a document's
    many short-lived containers cost about a millisecond per document; what little cyclic
    garbage a document leaves is collected every GC_EVERY documents."""
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICENESS)
    gc.disable()


def _process_star(args: tuple[Path, Path, Path | None, int]) -> DocResult:
    res = process_document(*args)
    if not gc.isenabled() and next(_processed) % GC_EVERY == 0:
        gc.collect()
    return res


def process_documents(paths: list[Path], sources: Path, *, workers: int = 1, data_dir: Path | None = None,
                      started_ns: int = 0) -> Iterator[DocResult]:
    """process_document for every path, in order; in `workers` processes when more than one
    (0: one per CPU, when there are enough documents to repay starting them)."""
    args = [(p, sources, data_dir, started_ns) for p in paths]
    if workers == 0:
        workers = (os.cpu_count() or 1) if len(paths) >= MIN_DOCUMENTS_PER_WORKER * 2 else 1
    if workers > 1 and len(paths) > 1:
        with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker) as pool:
            # big chunks: the pool's feeder thread needs the GIL, which the main thread (writing
            # rows) mostly holds; with small chunks the workers wait for work
            yield from pool.map(_process_star, args, chunksize=max(1, min(64, len(paths) // (workers * 4))))
    else:
        for a in args:
            yield _process_star(a)


def _ref(path: Path, doc_id: str) -> Any:
    """What Collector.add and load._line need of a document: its id, file and (lazily) YAML."""
    return SimpleNamespace(doc=SimpleNamespace(id=doc_id), path=path, yaml=None)


class CrossIndex:
    """Record ids of every document seen, and the problems and findings across documents.

    ``external`` answers for records that are not among the documents added (the
    incremental build passes the database's records): id -> (document path, document id,
    kind, index, claim status)."""

    def __init__(self, external: Any = None) -> None:
        self.where: dict[str, tuple[int, str, int]] = {}  # record id -> (document number, kind, index)
        self.status: dict[str, str] = {}  # claim id -> status
        self.docs: list[tuple[Path, str]] = []  # document number -> (path, id)
        self.doc_ids: dict[str, int] = {}
        self.unloaded: set[str] = set()
        self.pending: list[tuple[int, DocResult]] = []  # documents with links, evidence or equations to judge
        self.problems: list[Problem] = []
        self.external = external

    def add(self, res: DocResult) -> None:
        if res.doc_id is None:
            self.unloaded |= res.raw_ids
            return
        n = len(self.docs)
        self.docs.append((res.path, res.doc_id))
        if res.doc_id in self.doc_ids:
            other = self.docs[self.doc_ids[res.doc_id]][0]
            self.problems.append(Problem(display_path(res.path), _line(_ref(res.path, res.doc_id), ("id",)), f"document id {res.doc_id!r} is also used by {display_path(other)}", "give each document its own id"))
        else:
            self.doc_ids[res.doc_id] = n
        for rid, kind, i, status in res.records:
            other = self.lookup(rid)  # a document seen before, or (incremental) the database
            if other is not None:
                opath, oid, okind, oi, _status = other
                self.problems.append(
                    Problem(
                        display_path(res.path),
                        _line(_ref(res.path, res.doc_id), (kind, i, "id")),
                        f"duplicate id {rid!r}: also used by {SINGULAR[okind]} {oi} in {display_path(opath)}:{_line(_ref(opath, oid), (okind, oi, 'id'))}",
                        "ids must be unique across the knowledge base; rename one",
                    )
                )
                continue
            self.where[rid] = (n, kind, i)
            if status is not None:
                self.status[rid] = status
        if res.links or res.evidence or res.deferred:
            # keep only what judging needs, not the rows
            self.pending.append((n, DocResult(res.path, res.doc_id, links=res.links, evidence=res.evidence, deferred=res.deferred)))

    def lookup(self, rid: str) -> tuple[Path, str, str, int, str | None] | None:
        """(document path, document id, kind, index, claim status) of a record, or None."""
        w = self.where.get(rid)
        if w is not None:
            path, doc_id = self.docs[w[0]]
            return path, doc_id, w[1], w[2], self.status.get(rid)
        if self.external is not None:
            return self.external(rid)
        return None

    def _close(self, rid: str) -> str:
        close = difflib.get_close_matches(rid, list(self.where), n=1)
        return f"did you mean {close[0]!r}? " if close else ""

    def judge(self) -> tuple[list[Problem], list[Any]]:
        """Problems and findings across documents, once every document was added."""
        from .checks.consistency import contradiction
        from .checks.findings import Collector

        problems = list(self.problems)
        col = Collector()
        for _n, res in self.pending:
            file = display_path(res.path)
            ref = _ref(res.path, res.doc_id or "")
            for i, j, claim_id, status, to, relation in res.links:
                target = self.lookup(to)
                if target is None:
                    if to not in self.unloaded:
                        problems.append(Problem(file, _line(ref, ("claims", i, "links", j, "to")), f"claim {claim_id} links to {to!r}, which is not a record in the knowledge base", self._close(to) + "use the id of an existing claim"))
                elif target[2] != "claims":
                    problems.append(Problem(file, _line(ref, ("claims", i, "links", j, "to")), f"claim {claim_id} links to {to!r}, which is a {SINGULAR[target[2]]}, not a claim", "links relate claims to claims"))
                elif relation == "contradicts" and target[4] is not None:
                    contradiction(col, ref, claim_id, status, to, target[4], ("claims", i, "links", j))
            for j, about in res.evidence:
                target = self.lookup(about)
                if target is None:
                    if about not in self.unloaded:
                        problems.append(Problem(file, _line(ref, ("evidence", j, "about")), f"evidence is about {about!r}, which is not a record in the knowledge base", self._close(about) + "use the id of a claim, equation or bibliography entry"))
                else:
                    problems.append(Problem(file, _line(ref, ("evidence", j, "about")), f"evidence is about {about!r}, a record of another document ({target[1]})", "write evidence in the file of the document its record belongs to"))
        if not any(p.severity == "error" for p in problems):
            self._deferred_equations(col)
        return problems, col.resolved()

    def _deferred_equations(self, col: Any) -> None:
        """Machine checks about claims of other documents: with those documents loaded again."""
        from .checks.equations import _check_equation

        todo = [(res, i) for _n, res in self.pending for i in res.deferred]
        if not todo:
            return
        cache: dict[Path, LoadedDocument] = {}

        def load(path: Path) -> LoadedDocument | None:
            if path not in cache:
                ld, _ = parse_document(path, path.parent.parent / "sources")
                if ld is None:
                    return None
                cache[path] = ld
            return cache[path]

        for res, i in todo:
            ld = load(res.path)
            if ld is None:
                continue
            eq = ld.doc.equations[i]
            claims: dict[str, Any] = {c.id: (ld, j, c) for j, c in enumerate(ld.doc.claims)}
            for rel in eq.machine_check.relations:
                target = self.lookup(rel.about) if rel.about else None
                if target is not None and target[2] == "claims" and rel.about not in claims:
                    other = load(target[0])
                    if other is not None:
                        claims[rel.about] = (other, target[3], other.doc.claims[target[3]])
            _check_equation(ld, i, eq, claims, col)


__all__ = ["DocResult", "FileState", "process_document", "process_documents", "CrossIndex", "text_sha256"]

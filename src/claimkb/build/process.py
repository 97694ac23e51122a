"""One document, from files to rows: the per-document stage of every build.

``process_document(path, sources)`` does everything one document needs on its own, in a
worker process: parse, validate, anchor, render MathML, run the machine checks and
turn it into rows. What needs other documents travels back as its ``Summary`` for the
judge (``claimkb.judge``). So a build holds one document's models at a time plus the
judge's id index, never the whole knowledge base.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import itertools
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..checks import run_all
from ..checks.findings import acknowledge
from ..ingest.load import KnowledgeBase, LoadedDocument, open_regular, parse_document
from ..judge import Summary, summarise
from ..problems import Problem
from .rows import Rows, document_rows

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
    """One document, processed: its problems, rows, findings and what the judge needs."""

    path: Path
    doc_id: str | None = None
    problems: list[Problem] = field(default_factory=list)
    rows: Rows | None = None  # None when the document has errors
    findings: list[Any] = field(default_factory=list)
    summary: Summary | None = None  # None when the document could not be read
    raw_ids: set[str] = field(default_factory=set)  # record ids of a document that failed
    files: list[FileState] = field(default_factory=list)
    loaded: LoadedDocument | None = None  # only when asked for (claimkb check --online)

    @property
    def ok(self) -> bool:
        return self.rows is not None


def file_sha256(path: Path) -> str:
    """sha256 of a data file's bytes, exactly as stored (a change of line endings is a change).
    OSError for what is not a regular file (a named pipe would make it wait forever)."""
    h = hashlib.sha256()
    with open(open_regular(path), "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def file_state(
    path: Path,
    data_dir: Path,
    sha256: str,
    st: os.stat_result,
    started_ns: int,
    document_id: str | None = None,
) -> FileState:
    # a file modified in the last two seconds before the build read it may be modified
    # again within the same timestamp tick: record no mtime, so the next build re-hashes it
    mtime = st.st_mtime_ns if st.st_mtime_ns < started_ns - 2_000_000_000 else None
    return FileState(path.relative_to(data_dir).as_posix(), st.st_size, mtime, sha256, document_id)


def _states(ld: LoadedDocument, data_dir: Path, started_ns: int) -> list[FileState]:
    """The document file and its source as read: the YAML by the bytes parse_document read."""
    out = []
    yaml_sha = hashlib.sha256(ld.yaml.text.encode("utf-8")).hexdigest() if ld.yaml else ""
    for p, sha in ((ld.path, yaml_sha), (ld.source_path, ld.doc.sha256)):
        with contextlib.suppress(OSError):
            out.append(file_state(p, data_dir, sha, os.stat(p), started_ns, ld.doc.id))
    return out


def process_document(
    path: Path, sources: Path, data_dir: Path | None = None, started_ns: int = 0, keep: bool = False
) -> DocResult:
    """Everything one document needs on its own (runs in a worker process)."""
    res = DocResult(path)
    ld, res.problems = parse_document(path, sources, data_dir, raw_ids=res.raw_ids)
    if ld is None:
        return res
    res.doc_id = ld.doc.id
    deferred: list[tuple[Any, int]] = []
    errors = any(p.severity == "error" for p in res.problems)
    acks = {(a.rule, a.about): a.reason for a in ld.doc.acknowledged}
    if not errors:
        kb = KnowledgeBase(vocabulary=None, documents=[ld])
        res.findings = acknowledge(run_all(kb, deferred=deferred), acks)
        res.rows = document_rows(ld)
    res.summary = summarise(ld, [i for _ld, i in deferred], acks)
    if data_dir is not None and not errors:
        res.files = _states(ld, data_dir, started_ns)
    if keep:
        res.loaded = ld
    ld.yaml = None  # YAML trees stay in the worker
    return res


#: niceness of the worker processes, relative to the build's own process
WORKER_NICENESS = 5
#: a worker collects cyclic garbage itself, once per this many documents
GC_EVERY = 64
_processed = itertools.count(1)


def _init_worker() -> None:
    """Workers give way to the process that writes their rows (the pipeline's one serial
    stage), and run without the automatic garbage collector, whose passes over a
    document's many short-lived containers cost about a millisecond per document; what
    little cyclic garbage a document leaves is collected every GC_EVERY documents."""
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICENESS)
    gc.disable()


def _process_star(args: tuple[Path, Path, Path | None, int, bool]) -> DocResult:
    res = process_document(*args)
    if not gc.isenabled() and next(_processed) % GC_EVERY == 0:
        gc.collect()
    return res


def process_documents(
    paths: list[Path],
    sources: Path,
    *,
    workers: int = 1,
    data_dir: Path | None = None,
    started_ns: int = 0,
    keep: bool = False,
) -> Iterator[DocResult]:
    """process_document for every path, in order; in `workers` processes when more than one
    (0: one per CPU, when there are enough documents to repay starting them)."""
    args = [(p, sources, data_dir, started_ns, keep) for p in paths]
    if workers == 0:
        many = len(paths) >= MIN_DOCUMENTS_PER_WORKER * 2
        workers = (os.cpu_count() or 1) if many and not keep else 1
    if workers > 1 and len(paths) > 1:
        with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker) as pool:
            # big chunks: the pool's feeder thread needs the GIL, which the main thread
            # (writing rows) mostly holds; with small chunks the workers wait for work
            chunk = max(1, min(64, len(paths) // (workers * 4)))
            yield from pool.map(_process_star, args, chunksize=chunk)
    else:
        for a in args:
            yield _process_star(a)

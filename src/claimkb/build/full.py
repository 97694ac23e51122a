"""A full build: every document processed and written into a new file, installed whole."""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..ingest.load import document_paths, load_vocabulary, outside_link
from ..judge import Judge
from ..problems import DataError, Problem, display_path
from .process import DocResult, FileState, file_sha256, file_state, process_documents
from .rows import finding_rows, table_docs_rows, vocabulary_rows
from .write import TempDatabase, disk_full, is_disk_full


class CheckErrors(Exception):
    """The machine checks found errors: nothing was written."""

    def __init__(self, findings: list[Any]):
        super().__init__(f"{len(findings)} check error(s)")
        self.findings = findings


@dataclass
class BuildReport:
    mode: str  # full, incremental, unchanged
    counts: dict[str, int] = field(default_factory=dict)  # rows per table written
    changed: list[str] = field(default_factory=list)  # document ids processed again
    removed: list[str] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    findings: dict[str, int] = field(default_factory=dict)  # severity -> number written
    reason: str = ""  # why a full build


@contextlib.contextmanager
def no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while the parent holds millions of small objects.

    They hold no cycles, so nothing leaks; without this, every collection re-scans the
    judge's index and a million-claim build spends seconds in the collector (BENCHMARKS.md)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.freeze()  # what was allocated meanwhile: out of the collector's sight
            gc.enable()


def orphan_sources(data_dir: Path, paths: list[Path]) -> list[Problem]:
    """Source texts no document describes: worth a word, not an error."""
    described = {p.stem for p in paths}
    sources = data_dir / "sources"
    if not sources.is_dir():
        return []
    return [
        Problem(
            display_path(src),
            None,
            "source text has no document file",
            f"describe it in data/documents/{src.stem}.yaml (claimkb new writes a draft)",
            severity="warning",
        )
        for src in sorted(sources.glob("*.txt"))
        if src.stem not in described
    ]


def vocabulary_state(data_dir: Path, started_ns: int) -> FileState | None:
    path = data_dir / "vocabulary.yaml"
    try:
        return file_state(path, data_dir, file_sha256(path), path.stat(), started_ns)
    except OSError:
        return None


@dataclass
class Reading:
    """What reading every document gave: the verdict, before anything is written."""

    problems: list[Problem] = field(default_factory=list)
    findings: list[Any] = field(default_factory=list)  # per document, then the judge's
    check_errors: list[Any] = field(default_factory=list)
    results: list[DocResult] = field(default_factory=list)  # only when kept
    cross_document_checks: int = 0  # machine checks about other documents' claims
    vocabulary: Any = None  # the vocabulary read (None when it has errors)
    documents: int = 0  # documents read
    claims: int = 0  # their claims

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


def _start(data_dir: Path) -> tuple[Any, list[Problem], list[Path]]:
    vocab, problems = load_vocabulary(data_dir / "vocabulary.yaml", data_dir)
    if not (data_dir / "documents").is_dir():
        problems.append(
            Problem(
                display_path(data_dir / "documents"),
                None,
                "no documents folder",
                "create data/documents/ with one <id>.yaml per document",
            )
        )
    paths = []
    for p in document_paths(data_dir):
        link = outside_link(p, data_dir)
        if link is not None:
            problems.append(link)
        else:
            paths.append(p)
    return vocab, problems + orphan_sources(data_dir, paths), paths


def read_all(
    data_dir: Path,
    *,
    workers: int = 0,
    keep: bool = False,
    sink: TempDatabase | None = None,
    started_ns: int = 0,
) -> tuple[Any, Reading]:
    """Process every document and judge them together. With `sink`, each document's rows
    are written as it comes, until the first problem (then nothing more is written, but
    every document is still read, so that one run reports every problem)."""
    vocab, problems, paths = _start(data_dir)
    reading = Reading(problems=problems, vocabulary=vocab)
    judge = Judge()
    files: list[FileState] = []
    n = 1
    if sink is not None and vocab is not None:
        sink.insert(vocabulary_rows(vocab))
        sink.insert(table_docs_rows())
    with no_gc():  # the parent's rows and id index hold no cycles
        for res in process_documents(
            paths,
            data_dir / "sources",
            workers=workers,
            data_dir=data_dir,
            started_ns=started_ns,
            keep=keep,
        ):
            reading.problems += res.problems
            if res.summary is not None:
                judge.add(res.summary)
                reading.documents += 1
                reading.claims += sum(1 for r in res.summary.records if r[1] == "claims")
            else:
                judge.add_unloaded(res.raw_ids)
            reading.findings += res.findings
            reading.check_errors += [f for f in res.findings if f.severity == "error"]
            failing = vocab is None or reading.errors or judge.problems or reading.check_errors
            if sink is not None and not failing and res.rows is not None:
                sink.insert(res.rows)
                sink.insert(finding_rows(res.findings, n))
                n += len(res.findings)
                files += res.files
            if keep:
                reading.results.append(res)
    problems, findings = judge.verdict()
    reading.cross_document_checks = len(judge.deferred)
    reading.problems += problems
    reading.findings += findings
    reading.check_errors += [f for f in findings if f.severity == "error"]
    if sink is not None and not reading.errors and not reading.check_errors:
        sink.insert(finding_rows(findings, n))
        sink.files = files  # type: ignore[attr-defined]
    if vocab is None and not reading.errors:  # pragma: no cover - load_vocabulary says why
        reading.problems.append(Problem("vocabulary.yaml", None, "no vocabulary", "restore it"))
    return vocab, reading


def full_build(data_dir: Path, db_path: Path, *, workers: int, info: dict[str, str]) -> BuildReport:
    """Build everything into a temporary file and install it; DataError or CheckErrors
    (then nothing was written)."""
    started_ns = time.time_ns()
    try:
        out = TempDatabase(db_path)  # removes its own file if it cannot be created
    except BaseException as e:
        if is_disk_full(e):
            raise disk_full(db_path, 0) from None
        raise
    try:
        _vocab, reading = read_all(data_dir, workers=workers, sink=out, started_ns=started_ns)
        if reading.errors:
            raise DataError(reading.problems)
        if reading.check_errors:
            raise CheckErrors(reading.check_errors)
        files = list(out.files)  # type: ignore[attr-defined]
        vstate = vocabulary_state(data_dir, started_ns)
        info = {**info, "cross_document_machine_checks": str(reading.cross_document_checks)}
        out.finish(([vstate] if vstate else []) + files, info)
        out.install()
    except BaseException as e:
        reached = out.written()
        out.discard()
        if is_disk_full(e):
            raise disk_full(db_path, reached) from None
        raise
    severities: dict[str, int] = {}
    for f in reading.findings:
        severities[f.severity] = severities.get(f.severity, 0) + 1
    warnings = [p for p in reading.problems if p.severity != "error"]
    return BuildReport("full", counts=out.counts, warnings=warnings, findings=severities)

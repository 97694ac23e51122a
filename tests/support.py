"""Helpers for the tests: the real data loaded and built through the real build code, and
small knowledge bases built in memory for the machine-check tests (no files needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from claimkb.build import read
from claimkb.ingest.load import RECORD_KINDS, SINGULAR, KnowledgeBase, LoadedDocument
from claimkb.model import Document
from claimkb.problems import DataError

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "checks"
CORPUS = FIXTURES / "corpus"


def load_kb(data: Path, workers: int = 1) -> KnowledgeBase:
    """Every document of `data`, read and judged exactly as a build does; DataError (with
    every problem) when the data has errors."""
    reading = read(data, workers=workers, keep=True)
    if reading.errors:
        raise DataError(reading.problems)
    docs = [r.loaded for r in reading.results if r.loaded is not None]
    kb = KnowledgeBase(vocabulary=reading.vocabulary, documents=docs)
    kb.warnings = [p for p in reading.problems if p.severity != "error"]  # type: ignore[attr-defined]
    kb.findings = reading.findings  # type: ignore[attr-defined]
    return kb


def eq01_machine_check() -> dict[str, Any]:
    """The machine_check of equation (1) of document 000, as in the fixture file."""
    return yaml.safe_load((FIXTURES / "eq01_machine_check.yaml").read_text(encoding="utf-8"))


def make_doc(doc_id: str = "t1", **records: Any) -> LoadedDocument:
    """A validated document with the given claims / equations / bibliography / evidence lists."""
    data = {
        "id": doc_id,
        "title": f"Test document {doc_id}",
        "kind": "preprint",
        "sha256": "0" * 64,
        **records,
    }
    doc = Document.model_validate(data)
    ld = LoadedDocument(
        doc=doc,
        path=Path(f"/nonexistent/{doc_id}.yaml"),
        source_path=Path(f"/nonexistent/{doc_id}.txt"),
        text="",
    )
    # evidence in the loader's order: inline first, then the document's list
    for kind in RECORD_KINDS:
        for rec in getattr(doc, kind):
            for ev in rec.evidence:
                ld.evidence.append((SINGULAR[kind], rec.id, ev))
    where = {rec.id: SINGULAR[kind] for kind in RECORD_KINDS for rec in getattr(doc, kind)}
    for ev in doc.evidence:
        ld.evidence.append((where[ev.about], ev.about, ev))
    return ld


def make_kb(*docs: LoadedDocument) -> KnowledgeBase:
    return KnowledgeBase(vocabulary=None, documents=list(docs))  # the checks ignore the vocabulary


def run(*docs: LoadedDocument, **kw: Any):
    from claimkb.checks import run_all

    return run_all(make_kb(*docs), **kw)


def judged(*docs: LoadedDocument):
    """The judge's verdict on documents built in memory: (problems, findings)."""
    from claimkb.judge import Judge, summarise

    judge = Judge()
    for ld in docs:
        judge.add(summarise(ld))
    return judge.verdict()


def by_rule(findings, rule: str, about_id: str | None = None):
    return [f for f in findings if f.rule == rule and (about_id is None or f.about_id == about_id)]


def errors(findings):
    return [f for f in findings if f.severity == "error"]


NIST = {
    "title": "CODATA recommended values of the fundamental physical constants",
    "url": "https://physics.nist.gov/cuu/Constants/index.html",
}


def supporting(**extra: Any) -> dict[str, Any]:
    """An independent supporting evidence item (the NIST constants pages)."""
    return {"stance": "supports", "work": dict(NIST), "note": "CODATA tables.", **extra}

"""Models -> rows: one loaded document, the vocabulary or the findings as plain tuples.

Each function returns ``{table name: [row, ...]}`` with the columns in the order of
``schema.TABLES``, deterministic for the same input. Nothing here touches a database.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from ..ingest.load import LoadedDocument
from ..model import Work
from .schema import TABLES_BY_NAME, VOCAB_TABLES

Row = tuple[Any, ...]
Rows = dict[str, list[Row]]


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _work_values(w: Work) -> list[Any]:
    return [
        _json(w.authors),
        w.year,
        w.title,
        w.venue,
        w.volume,
        w.issue,
        w.pages,
        w.publisher,
        w.doi,
        w.isbn,
        w.arxiv_id,
        w.url,
    ]


def empty() -> Rows:
    return {name: [] for name in TABLES_BY_NAME}


def insert_sql(table: str) -> str:
    cols = list(TABLES_BY_NAME[table].columns)
    names = ", ".join(f"[{c}]" for c in cols)
    return f"insert into [{table}] ({names}) values ({', '.join('?' for _ in cols)})"


def vocabulary_rows(vocabulary: Any) -> Rows:
    out = empty()
    for vocab, table in VOCAB_TABLES.items():
        for t in getattr(vocabulary, vocab):
            out[table].append((t.term, t.rank, t.colour, t.text_colour, t.definition))
    return out


def _document_row(ld: LoadedDocument) -> Row:
    d = ld.doc
    a = d.assessment
    return (
        d.id,
        d.title,
        _json(d.authors),
        d.affiliation,
        d.year,
        d.venue,
        int(d.venue_verified),
        d.doi,
        d.arxiv_id,
        d.url,
        d.kind,
        d.language,
        d.sha256,
        d.received_from,
        d.metadata_notes,
        a.summary if a else None,
        a.status if a else None,
        len(ld.text),
        ld.text,
    )


def _claim_rows(ld: LoadedDocument, out: Rows, bib_ids: dict[str, str]) -> None:
    d = ld.doc
    for i, c in enumerate(d.claims):
        an = ld.anchors[c.id]
        out["claims"].append(
            (
                c.id,
                d.id,
                i,
                c.statement,
                c.quote,
                an.start,
                an.end,
                an.prefix,
                an.suffix,
                c.section,
                c.claim_type,
                c.voice,
                c.status,
                c.confidence,
                c.rationale,
            )
        )
        out["claim_citations"] += [(c.id, bib_ids[label]) for label in dict.fromkeys(c.cites)]
        out["claim_links"] += [(c.id, link.to, link.relation, link.note) for link in c.links]


def _equation_rows(ld: LoadedDocument, out: Rows, bib_ids: dict[str, str]) -> None:
    d = ld.doc
    for i, e in enumerate(d.equations):
        an = ld.anchors[e.id]
        rec = e.reconstruction
        symbols = _json([s.model_dump(exclude_none=True) for s in e.symbols])
        out["equations"].append(
            (
                e.id,
                d.id,
                i,
                e.label,
                e.latex,
                ld.mathml.get(e.id),
                e.quote,
                an.start,
                an.end,
                an.prefix,
                an.suffix,
                e.section,
                symbols,
                e.status,
                e.check_status,
                e.confidence,
                e.rationale,
                rec.latex if rec else None,
                rec.source if rec else None,
                ld.mathml.get(f"{e.id}/reconstruction"),
            )
        )
        out["equation_citations"] += [(e.id, bib_ids[label]) for label in dict.fromkeys(e.cites)]


def _bibliography_rows(ld: LoadedDocument, out: Rows) -> None:
    d = ld.doc
    for i, r in enumerate(d.bibliography):
        an = ld.anchors[r.id]
        out["bibliography"].append(
            (
                r.id,
                d.id,
                i,
                r.label,
                r.quote,
                an.start,
                an.end,
                an.prefix,
                an.suffix,
                *_work_values(r),
                r.citation_status,
                _json(r.problems),
                len(r.problems),
                int(r.self_citation),
                r.status,
                r.confidence,
                r.rationale,
                r.verification,
            )
        )


def _evidence_rows(ld: LoadedDocument, out: Rows) -> None:
    d = ld.doc
    by_label = {r.label: r for r in d.bibliography}
    counters: dict[str, int] = {}
    for kind, about, ev in ld.evidence:
        n = counters[about] = counters.get(about, 0) + 1
        cited = by_label.get(ev.bibliography) if ev.bibliography else None
        work = ev.work or cited
        self_cite = ev.self_citation or bool(cited and cited.self_citation)
        out["evidence"].append(
            (
                f"{about}/e{n}",
                d.id,
                kind,
                about,
                about if kind == "claim" else None,
                about if kind == "equation" else None,
                about if kind == "bibliography" else None,
                ev.stance,
                cited.id if cited else None,
                *_work_values(work),
                int(self_cite),
                ev.note,
            )
        )


def document_rows(ld: LoadedDocument) -> Rows:
    """The rows of one loaded document (its evidence resolved), every table."""
    out = empty()
    out["documents"].append(_document_row(ld))
    bib_ids = {r.label: r.id for r in ld.doc.bibliography}
    _claim_rows(ld, out, bib_ids)
    _equation_rows(ld, out, bib_ids)
    _bibliography_rows(ld, out)
    _evidence_rows(ld, out)
    return out


def finding_rows(findings: Iterable[Any], start: int = 1) -> Rows:
    out = empty()
    for n, f in enumerate(findings, start):
        out["checks"].append(
            (n, f.document_id, f.about_type, f.about_id, f.rule, f.severity, f.message)
        )
    return out

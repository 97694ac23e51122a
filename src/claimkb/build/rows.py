"""Models -> rows: one loaded document, the vocabulary or the findings as plain tuples.

Each function returns ``{table name: [row, ...]}`` with the columns in the order of
``schema.TABLES`` (``_row`` puts named values in that order and refuses a missing or
unknown column), deterministic for the same input. Nothing here touches a database.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from ..ingest import richtext
from ..ingest.load import LoadedDocument
from ..match.normalise import normalise
from ..model import Work
from .schema import TABLES_BY_NAME, VOCAB_TABLES, WORK_COLUMNS

Row = tuple[Any, ...]
Rows = dict[str, list[Row]]
_COLUMNS = {name: tuple(t.columns) for name, t in TABLES_BY_NAME.items()}


def _row(table: str, **values: Any) -> Row:
    cols = _COLUMNS[table]
    if len(values) != len(cols):
        extra = set(values) - set(cols)
        raise KeyError(
            f"{table}: unknown columns {sorted(extra)}"
            if extra
            else f"{table}: missing columns {sorted(set(cols) - set(values))}"
        )
    return tuple(values[c] for c in cols)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _work(w: Work) -> dict[str, Any]:
    out = {f: getattr(w, f) for f in WORK_COLUMNS}
    out["authors"] = _json(w.authors)
    return out


def empty() -> Rows:
    return {name: [] for name in TABLES_BY_NAME}


def insert_sql(table: str) -> str:
    cols = _COLUMNS[table]
    names = ", ".join(f"[{c}]" for c in cols)
    return f"insert into [{table}] ({names}) values ({', '.join('?' for _ in cols)})"


def vocabulary_rows(vocabulary: Any) -> Rows:
    """The vocabulary tables and the decision procedure."""
    out = empty()
    for vocab, table in VOCAB_TABLES.items():
        for t in getattr(vocabulary, vocab):
            out[table].append(
                _row(
                    table,
                    term=t.term,
                    rank=t.rank,
                    colour=t.colour,
                    text_colour=t.text_colour,
                    definition=t.definition,
                )
            )
    for s in vocabulary.evidence_status_procedure:
        out["decision_procedure"].append(
            _row(
                "decision_procedure",
                step=s.step,
                question=s.question,
                label=s.label,
                guidance=s.guidance,
            )
        )
    return out


def table_docs_rows() -> Rows:
    """The descriptions of every table, view and column (from the schema)."""
    from .schema import TABLES, VIEWS
    from .summaries import SUMMARY_TABLES

    out = empty()
    docs = out["table_docs"]
    for t in (*TABLES, *SUMMARY_TABLES, *VIEWS):
        docs.append(_row("table_docs", table_name=t.name, column_name="", description=t.doc))
        docs += [
            _row("table_docs", table_name=t.name, column_name=c, description=d)
            for c, d in t.column_docs.items()
        ]
    return out


def _document_row(ld: LoadedDocument) -> Row:
    d = ld.doc
    a = d.assessment
    return _row(
        "documents",
        id=d.id,
        title=d.title,
        authors=_json(d.authors),
        affiliation=d.affiliation,
        year=d.year,
        venue=d.venue,
        venue_verified=int(d.venue_verified),
        doi=d.doi,
        arxiv_id=d.arxiv_id,
        url=d.url,
        kind=d.kind,
        language=d.language,
        sha256=d.sha256,
        received_from=d.received_from,
        metadata_notes=d.metadata_notes,
        assessment=a.summary if a else None,
        assessment_status=a.status if a else None,
        char_count=len(ld.text),
        text=ld.text,
        draft=int(d.draft),
        metadata_notes_html=ld.html.get("document/metadata_notes"),
        assessment_html=ld.html.get("document/assessment"),
    )


def _anchor(ld: LoadedDocument, rid: str) -> dict[str, Any]:
    an = ld.anchors[rid]
    return {
        "quote_start": an.start,
        "quote_end": an.end,
        "quote_prefix": an.prefix,
        "quote_suffix": an.suffix,
    }


def _assessed_rows(out: Rows, kind: str, rec: Any, doc_id: str, html: dict[str, str]) -> None:
    """The readings and the history of an assessed claim or equation."""
    in_round: dict[int, int] = {}
    for j, r in enumerate(rec.readings):
        in_round[r.round] = in_round.get(r.round, 0) + 1
        out["readings"].append(
            _row(
                "readings",
                record_id=rec.id,
                record_type=kind,
                document_id=doc_id,
                round=r.round,
                position=in_round[r.round],
                reader=r.reader,
                status=r.status,
                note=r.note,
                note_html=html[f"{rec.id}/reading/{j}"],
            )
        )
    for n, h in enumerate(rec.history, 1):
        out["assessment_history"].append(
            _row(
                "assessment_history",
                record_id=rec.id,
                record_type=kind,
                document_id=doc_id,
                seq=n,
                status=h.status,
                date=h.date.isoformat(),
                reason=h.reason,
                reason_html=html[f"{rec.id}/history/{n - 1}"],
            )
        )


def _claim_rows(ld: LoadedDocument, out: Rows, bib_ids: dict[str, str]) -> None:
    d = ld.doc
    for i, c in enumerate(d.claims):
        out["claims"].append(
            _row(
                "claims",
                id=c.id,
                document_id=d.id,
                position=i,
                statement=c.statement,
                quote=c.quote,
                **_anchor(ld, c.id),
                section=c.section,
                claim_type=c.claim_type,
                voice=c.voice,
                status=c.status,
                confidence=c.confidence,
                rationale=c.rationale,
                adjudication=c.adjudication,
                adjudication_html=ld.html.get(f"{c.id}/adjudication"),
                statement_html=ld.html[f"{c.id}/statement"],
                rationale_html=ld.html.get(f"{c.id}/rationale"),
            )
        )
        out["claim_citations"] += [(c.id, bib_ids[label]) for label in dict.fromkeys(c.cites)]
        out["claim_links"] += [
            (c.id, link.to, link.relation, link.note, int(link.proposed)) for link in c.links
        ]
        _assessed_rows(out, "claim", c, d.id, ld.html)
        if c.status != "not assessed" and not d.draft:  # what `claimkb match` matches against
            out["claim_terms"].append(
                _row(
                    "claim_terms",
                    claim_id=c.id,
                    document_id=d.id,
                    statement_terms=normalise(c.statement),
                    quote_terms=normalise(c.quote),
                )
            )


def _equation_rows(ld: LoadedDocument, out: Rows, bib_ids: dict[str, str]) -> None:
    d = ld.doc
    for i, e in enumerate(d.equations):
        rec = e.reconstruction
        symbols = _json([_symbol(s.model_dump(exclude_none=True)) for s in e.symbols])
        out["equations"].append(
            _row(
                "equations",
                id=e.id,
                document_id=d.id,
                position=i,
                label=e.label,
                latex=e.latex,
                mathml=ld.mathml.get(e.id),
                quote=e.quote,
                **_anchor(ld, e.id),
                section=e.section,
                symbols=symbols,
                status=e.status,
                check_status=e.check_status,
                confidence=e.confidence,
                rationale=e.rationale,
                reconstruction_latex=rec.latex if rec else None,
                reconstruction_source=rec.source if rec else None,
                reconstruction_mathml=ld.mathml.get(f"{e.id}/reconstruction"),
                adjudication=e.adjudication,
                adjudication_html=ld.html.get(f"{e.id}/adjudication"),
                rationale_html=ld.html.get(f"{e.id}/rationale"),
            )
        )
        out["equation_citations"] += [(e.id, bib_ids[label]) for label in dict.fromkeys(e.cites)]
        _assessed_rows(out, "equation", e, d.id, ld.html)


def _bibliography_rows(ld: LoadedDocument, out: Rows) -> None:
    d = ld.doc
    for i, r in enumerate(d.bibliography):
        out["bibliography"].append(
            _row(
                "bibliography",
                id=r.id,
                document_id=d.id,
                position=i,
                label=r.label,
                as_printed=r.quote,
                **_anchor(ld, r.id),
                **_work(r),
                citation_status=r.citation_status,
                problems=_json(r.problems),
                problem_count=len(r.problems),
                self_citation=int(r.self_citation),
                status=r.status,
                confidence=r.confidence,
                rationale=r.rationale,
                verification=r.verification,
                provenance=r.provenance,
                work=int(r.work),
                tried=_json(r.tried),
                rationale_html=ld.html.get(f"{r.id}/rationale"),
            )
        )


def _evidence_rows(ld: LoadedDocument, out: Rows) -> None:
    d = ld.doc
    by_label = {r.label: r for r in d.bibliography}
    counters: dict[str, int] = {}
    for k, (kind, about, ev) in enumerate(ld.evidence):
        n = counters[about] = counters.get(about, 0) + 1
        cited = by_label.get(ev.bibliography) if ev.bibliography else None
        work = ev.work or cited
        assert work is not None  # the model requires a work or a label; the loader the label
        out["evidence"].append(
            _row(
                "evidence",
                id=f"{about}/e{n}",
                document_id=d.id,
                about_type=kind,
                about_id=about,
                claim_id=about if kind == "claim" else None,
                equation_id=about if kind == "equation" else None,
                bibliography_id=about if kind == "bibliography" else None,
                stance=ev.stance,
                cites_bibliography_id=cited.id if cited else None,
                **_work(work),
                self_citation=int(ev.self_citation or bool(cited and cited.self_citation)),
                note=ev.note,
                locator=ev.locator,
                note_html=ld.html[f"evidence/{k}"],
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
    out["source_markup"] += [
        _row("source_markup", document_id=ld.doc.id, start=s, end=e, kind=k, html=h)
        for s, e, k, h in ld.markup
    ]
    return out


def _symbol(s: dict[str, Any]) -> dict[str, Any]:
    """A symbol of an equation, with its name as inline MathML (when it renders)."""
    html = richtext.render_math(f"${s['symbol']}$")
    return {**s, "mathml": html} if "<math" in html else s


def finding_rows(findings: Iterable[Any], start: int = 1) -> Rows:
    out = empty()
    for n, f in enumerate(findings, start):
        ack = getattr(f, "acknowledgement", None)
        out["checks"].append(
            _row(
                "checks",
                id=n,
                document_id=f.document_id,
                about_type=f.about_type,
                about_id=f.about_id,
                rule=f.rule,
                severity=f.severity,
                message=f.message,
                message_html=richtext.render_math(f.message),
                acknowledged=int(ack is not None),
                acknowledgement=ack,
            )
        )
    return out

"""A document's page, its reading view, and the list of every document."""

from __future__ import annotations

import json
from typing import Any

from markupsafe import Markup

from .. import kb, render
from . import page, record_id

#: at most this many claims, equations and references are listed on a document page
LIST_LIMIT = 1000
DOCUMENTS_PAGE = 100

_DOCUMENT = """
select id, title, authors, affiliation, year, venue, venue_verified, doi, arxiv_id, url, kind,
       language, draft, sha256, received_from, metadata_notes_html, assessment_html,
       assessment_status, char_count
from documents where id = :id
"""
_CLAIMS = """
select id, statement_html, status, claim_type, voice, section from claims
where document_id = :id order by position limit :limit
"""
_EQUATIONS = """
select id, label, mathml, latex, status, check_status, section from equations
where document_id = :id order by position limit :limit
"""
_REFERENCES = """
select id, label, title, authors, year, as_printed, citation_status, status, provenance, work
from bibliography where document_id = :id order by position limit :limit
"""
_AGREEMENT = "select * from agreement where scope = :id and latest = 1"
_FINDINGS = """
select c.*, s.rank from checks c join severities s on s.term = c.severity
where c.document_id = :id order by c.acknowledged, s.rank, c.id
"""
_LINKS = """
select l.from_claim, l.to_claim, l.relation from claim_links l
join claims a on a.id = l.from_claim where a.document_id = :id
"""


async def _distribution(db: Any, table: str, column: str, doc_id: str) -> dict[str, int]:
    found = await kb.rows(
        db,
        "select value, count from document_facet_counts where "
        "document_id = :d and table_name = :t and column_name = :c",
        {"d": doc_id, "t": table, "c": column},
    )
    return {r["value"]: r["count"] for r in found}


async def _graph(db: Any, doc_id: str, claims: list[dict[str, Any]]) -> dict[str, Any]:
    edges = [
        {"from": r["from_claim"], "to": r["to_claim"], "relation": r["relation"]}
        for r in await kb.rows(db, _LINKS, {"id": doc_id})
    ]
    ids = {e["from"] for e in edges} | {e["to"] for e in edges}
    local = {c["id"] for c in claims}
    others = sorted(ids - local)
    outside = (
        await kb.rows(
            db,
            "select id, statement, status from claims where id in "
            "(select value from json_each(:ids))",
            {"ids": json.dumps(others)},
        )
        if others
        else []
    )
    statements = {
        r["id"]: r
        for r in await kb.rows(
            db,
            "select id, statement, status from claims where document_id = :id and id in "
            "(select value from json_each(:ids))",
            {"id": doc_id, "ids": json.dumps(sorted(ids & local))},
        )
    }
    nodes = [statements[c["id"]] for c in claims if c["id"] in statements] + outside
    return {"nodes": nodes, "edges": edges}


async def document(datasette: Any, request: Any):
    did = record_id(request)

    async def build(db: Any) -> dict[str, Any]:
        doc = await kb.one(db, _DOCUMENT, {"id": did}, "document")
        limit = {"id": did, "limit": LIST_LIMIT}
        claims = await kb.rows(db, _CLAIMS, limit)
        agreement = await kb.rows(db, _AGREEMENT, {"id": did})
        findings = await kb.rows(db, _FINDINGS, {"id": did})
        graph = await _graph(db, did, claims)
        vocab = await kb.vocabulary(db)
        return {
            "doc": doc,
            "claims": claims,
            "equations": await kb.rows(db, _EQUATIONS, limit),
            "references": await kb.rows(db, _REFERENCES, limit),
            "findings": findings,
            "open_findings": [
                f
                for f in findings
                if not f["acknowledged"] and f["severity"] in ("error", "warning")
            ],
            "agreement": render.agreement_text(agreement[0] if agreement else None),
            "bars": [
                (
                    "Claims by evidence status",
                    "evidence_status",
                    await _distribution(db, "claims", "status", did),
                ),
                (
                    "Equations by check status",
                    "check_status",
                    await _distribution(db, "equations", "check_status", did),
                ),
                (
                    "References by citation status",
                    "citation_status",
                    await _distribution(db, "bibliography", "citation_status", did),
                ),
            ],
            "graph": render.relation_graph(
                graph["nodes"],
                graph["edges"],
                vocab,
                lambda k, i: render.record_url(datasette, k, i),
            ),
            "graph_edges": graph["edges"],
            "limit": LIST_LIMIT,
            "title": doc["title"],
        }

    return await page(datasette, request, "claimkb_document.html", build)


async def documents(datasette: Any, request: Any):
    after = request.args.get("after") or ""

    async def build(db: Any) -> dict[str, Any]:
        docs = await kb.rows(
            db,
            "select id, title, kind, venue_verified, draft, year, "
            "assessment_status from documents where id > :after "
            "order by id limit :n",
            {"after": after, "n": DOCUMENTS_PAGE + 1},
        )
        more = len(docs) > DOCUMENTS_PAGE
        total = (await kb.rows(db, "select count(*) as n from documents"))[0]["n"]
        return {
            "documents": docs[:DOCUMENTS_PAGE],
            "total": total,
            "title": "Documents",
            "next": docs[DOCUMENTS_PAGE - 1]["id"] if more else None,
        }

    return await page(datasette, request, "claimkb_documents.html", build)


# --- the reading view ---------------------------------------------------------------------

_SPANS = """
select 'claim' as kind, id, quote_start as start, quote_end as "end", status, null as citation,
       statement as label, null as mathml from claims where document_id = :id
union all
select 'equation', id, quote_start, quote_end, status, null,
       coalesce('Equation (' || label || ')', 'Equation ' || id), mathml
from equations where document_id = :id
union all
select 'bibliography', id, quote_start, quote_end, status, citation_status,
       'Reference ' || label || coalesce(': ' || title, ''), null
from bibliography where document_id = :id and quote_start is not null
"""


def segments(length: int, spans: list[dict]) -> list[tuple[int, int, list[dict]]]:
    """Split [0, length) at every span boundary: [(start, end, spans covering it, outermost
    first)]. Spans are dicts with `start` and `end`; empty and out-of-range ones are clipped."""
    bounds = {0, length}
    starts: dict[int, list[tuple[int, int, dict]]] = {}
    for sp in spans:
        s, e = max(0, min(length, sp["start"])), max(0, min(length, sp["end"]))
        if e > s:
            starts.setdefault(s, []).append((s, e, sp))
            bounds.update((s, e))
    cuts = sorted(bounds)
    active: list[tuple[int, int, dict]] = []
    out = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        active = [x for x in active if x[1] > a] + starts.get(a, [])
        active.sort(key=lambda x: (x[0], -x[1]))  # outermost (longest, earliest) first
        out.append((a, b, [x[2] for x in active]))
    return out


def _stripes(covering: list[dict]) -> str:
    inner = covering[-1]
    shadows = ", ".join(
        f"inset 0 -{3 * (i + 1)}px 0 {sp['colour']}" for i, sp in enumerate(reversed(covering))
    )
    return (
        f"--ckb-bg:{inner['colour']};box-shadow:{shadows};"
        f"padding-bottom:{3 * (len(covering) - 1)}px"
    )


def _start_tag(sp: dict) -> Markup:
    return Markup(
        '<a class="ckb-start ckb-start-{}" id="{}" href="{}" style="--ckb-bg:{};'
        '--ckb-fg:{}" title="{}">{}</a>'
    ).format(
        sp["kind"],
        sp["anchor"],
        sp["url"],
        sp["colour"],
        sp["text_colour"],
        f"{sp['kind']} {sp['id']}: {sp['label']} ({sp['term']})",
        sp["short"],
    )


def _segment(chunk: str, covering: list[dict]) -> Markup:
    ids = " ".join(sp["anchor"] for sp in covering)
    if len(covering) == 1:
        sp = covering[0]
        return Markup(
            '<a class="ckb-hl ckb-hl-{}" href="{}" data-spans="{}" style="{}" title="{}">{}</a>'
        ).format(
            sp["kind"], sp["url"], ids, _stripes(covering), f"{sp['label']} ({sp['term']})", chunk
        )
    items = Markup("").join(
        Markup('<li><a href="{}">{} {}</a> ({})</li>').format(
            sp["url"], sp["kind"], sp["id"], sp["term"]
        )
        for sp in covering
    )
    return Markup(
        '<span class="ckb-hl ckb-hl-multi" tabindex="0" data-spans="{}" style="{}" '
        'title="{} records">{}<span class="ckb-pop" role="group" aria-label="{} records '
        'here"><ul>{}</ul></span></span>'
    ).format(ids, _stripes(covering), len(covering), chunk, len(covering), items)


def render_reading(text: str, spans: list[dict], markup: list[dict] = ()) -> Markup:
    """The whole text, each segment marked with every span that covers it (and its LaTeX
    shown as the build rendered it, where a formula lies wholly inside one segment)."""
    parts: list[Markup] = []
    shown = {(m["start"], m["end"]) for m in markup}
    ends_at: dict[int, list[dict]] = {}
    for sp in spans:
        ends_at.setdefault(min(len(text), sp["end"]), []).append(sp)
    started: set[str] = set()
    for a, b, covering in segments(len(text), spans):
        chunk = render.marked_text(text[a:b], a, markup)
        for sp in covering:
            if sp["anchor"] not in started:
                started.add(sp["anchor"])
                parts.append(_start_tag(sp))
        parts.append(_segment(chunk, covering) if covering else chunk)
        for sp in ends_at.get(b, []):
            rendered = any(s >= sp["start"] and e <= sp["end"] for s, e in shown)
            if sp["kind"] == "equation" and sp.get("mathml") and not rendered:
                parts.append(
                    Markup(
                        '<a class="ckb-eq-render" href="{}" title="{}, rendered">'
                        '<span class="ckb-math" role="math">{}</span></a>'
                    ).format(sp["url"], sp["label"], Markup(sp["mathml"]))
                )  # sanitised by the build
    return Markup("").join(parts)


async def reading(datasette: Any, request: Any):
    did = record_id(request)

    async def build(db: Any) -> dict[str, Any]:
        doc = await kb.one(
            db,
            "select id, title, text, kind, draft, venue_verified from documents where id = :id",
            {"id": did},
            "document",
        )
        vocab = await kb.vocabulary(db)
        spans = await kb.rows(db, _SPANS, {"id": did})
        for sp in spans:
            name = "citation_status" if sp["kind"] == "bibliography" else "evidence_status"
            sp["term"] = sp["citation"] if sp["kind"] == "bibliography" else sp["status"]
            sp["vocab"] = name
            sp["colour"], sp["text_colour"] = render.colours(vocab, name, sp["term"])
            sp["url"] = render.record_url(datasette, sp["kind"], sp["id"])
            sp["anchor"] = f"{sp['kind']}-{sp['id']}"
            sp["short"] = sp["id"].rsplit("-", 1)[-1]
        counts: dict[str, int] = {}
        for sp in spans:
            counts[sp["kind"]] = counts.get(sp["kind"], 0) + 1
        used = {(sp["vocab"], sp["term"]) for sp in spans}
        markup = await kb.rows(
            db,
            'select start, "end", html from source_markup where document_id = :id order by start',
            {"id": did},
        )
        body = render_reading(doc.pop("text") or "", spans, markup)
        return {
            "doc": doc,
            "body": body,
            "counts": counts,
            "used": used,
            "title": f"Read: {doc['title']}",
        }

    return await page(datasette, request, "claimkb_read.html", build)


ROUTES = [
    (r"^/documents$", documents),
    (r"^/document/(?P<id>[^/]+)$", document),
    (r"^/document/(?P<id>[^/]+)/read$", reading),
]

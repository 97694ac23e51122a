"""The page of one claim, one equation and one reference."""

from __future__ import annotations

import json
from typing import Any

from datasette import Response
from markupsafe import Markup

from ...exports.claimreview import claim_review, document_work, work
from .. import kb, render
from . import page, record_id

_EVIDENCE = """
select e.*, b.label as cited_label from evidence e
left join bibliography b on b.id = e.cites_bibliography_id
where e.about_type = :t and e.about_id = :id order by e.rowid
"""
_FINDINGS = """
select c.* from checks c join severities s on s.term = c.severity
where c.about_id = :id
   or (c.about_type = 'evidence' and c.about_id in (select id from evidence where about_id = :id))
order by c.acknowledged, s.rank, c.id
"""
_READINGS = "select * from readings where record_id = :id order by round, position"
_HISTORY = "select * from assessment_history where record_id = :id order by seq"
_LINKS = """
select 'out' as direction, l.relation, l.note, l.proposed, c.id, c.statement_html, c.status,
       c.document_id, d.title as document_title
from claim_links l join claims c on c.id = l.to_claim join documents d on d.id = c.document_id
where l.from_claim = :id
union all
select 'in', l.relation, l.note, l.proposed, c.id, c.statement_html, c.status, c.document_id,
       d.title
from claim_links l join claims c on c.id = l.from_claim join documents d on d.id = c.document_id
where l.to_claim = :id
"""


async def _context(db: Any, document_id: str, start: int, end: int) -> dict[str, Any] | None:
    """Text around [start, end) of a document (substr counts code points, as offsets do),
    its LaTeX shown as the build rendered it."""
    lo = max(0, start - 400)
    hi = end + 400
    found = await kb.rows(
        db,
        "select substr(text, :a, :n) as t from documents where id = :d",
        {"a": lo + 1, "n": hi - lo, "d": document_id},
    )
    if not found:
        return None
    window = found[0]["t"] or ""
    ctx = render.context_snippet(window, start - lo, end - lo)
    markup = await kb.rows(
        db,
        'select start, "end", html from source_markup where '
        'document_id = :d and start >= :lo and "end" <= :hi '
        "order by start",
        {"d": document_id, "lo": lo, "hi": hi},
    )
    first = start - len(ctx["before"])
    ctx["before"] = render.marked_text(ctx["before"], first, markup)
    ctx["after"] = render.marked_text(ctx["after"], end, markup)
    ctx["quote"] = render.marked_text(ctx["quote"], start, markup)
    ctx["cut_before"] = ctx["cut_before"] or lo > 0
    return ctx


async def _common(db: Any, kind: str, rid: str) -> dict[str, Any]:
    return {
        "evidence": await kb.rows(db, _EVIDENCE, {"t": kind, "id": rid}),
        "findings": await kb.rows(db, _FINDINGS, {"id": rid}),
        "readings": await kb.rows(db, _READINGS, {"id": rid}),
        "history": await kb.rows(db, _HISTORY, {"id": rid}),
    }


def base_url(datasette: Any, request: Any) -> str:
    """Where the site is served: the configured base_url, else the request's own address."""
    config = datasette.plugin_config("claimkb") or {}
    configured = str(config.get("base_url") or "").rstrip("/")
    return configured or datasette.absolute_url(request, datasette.urls.path("/")).rstrip("/")


def json_ld(data: dict[str, Any]) -> Markup:
    """JSON for a <script type="application/ld+json"> element: no stored text can end the
    element, open a comment or start markup (<, > and & are written as \\u escapes)."""
    text = json.dumps(data, ensure_ascii=False)
    for c, esc in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(c, esc)
    return Markup(text)


async def _review(
    db: Any, claim: dict[str, Any], evidence: list[dict[str, Any]], datasette: Any, request: Any
) -> Markup | None:
    terms = [
        r["term"]
        for r in await kb.rows(
            db, "select term from evidence_statuses where term != 'not assessed' order by rank"
        )
    ]
    if claim["status"] not in terms:
        return None
    values = {t: len(terms) - i for i, t in enumerate(terms)}
    doc = await kb.one(
        db, "select * from documents where id = :id", {"id": claim["document_id"]}, "document"
    )
    built = await kb.rows(
        db,
        "select value from build_info where key in ('updated_at', "
        "'built_at') order by key desc limit 1",
    )
    date = (built[0]["value"] if built else "")[:10]
    cites = [
        work(e)
        for e in evidence
        if not e["cites_bibliography_id"] and (e["doi"] or e["isbn"] or e["arxiv_id"] or e["url"])
    ]
    review = claim_review(
        claim,
        document_work(doc),
        values=values,
        date=date,
        org={"@type": "Organization", "name": "claimkb"},
        base_url=base_url(datasette, request),
        citations=cites,
    )
    return json_ld({"@context": "https://schema.org", **review})


async def claim(datasette: Any, request: Any) -> Response:
    cid = record_id(request)

    async def build(db: Any) -> dict[str, Any]:
        c = await kb.one(
            db,
            "select c.*, d.title as document_title from claims c join "
            "documents d on d.id = c.document_id where c.id = :id",
            {"id": cid},
            "claim",
        )
        common = await _common(db, "claim", cid)
        links = await kb.rows(db, _LINKS, {"id": cid})
        return {
            **common,
            "claim": c,
            "links": links,
            "also_said": [
                link
                for link in links
                if link["relation"] in ("restates", "same_as")
                and link["document_id"] != c["document_id"]
            ],
            "context": await _context(db, c["document_id"], c["quote_start"], c["quote_end"]),
            "cites": await kb.rows(
                db,
                "select b.* from claim_citations x join bibliography b "
                "on b.id = x.bibliography_id where x.claim_id = :id "
                "order by b.position",
                {"id": cid},
            ),
            "jsonld": await _review(db, c, common["evidence"], datasette, request),
            "title": f"Claim {cid}: {c['statement']}",
        }

    return await page(datasette, request, "claimkb_claim.html", build)


async def equation(datasette: Any, request: Any) -> Response:
    eid = record_id(request)

    async def build(db: Any) -> dict[str, Any]:
        e = await kb.one(
            db,
            "select e.*, d.title as document_title from equations e join "
            "documents d on d.id = e.document_id where e.id = :id",
            {"id": eid},
            "equation",
        )
        return {
            **await _common(db, "equation", eid),
            "eq": e,
            "symbols": [s for s in render.json_list(e["symbols"]) if isinstance(s, dict)],
            "context": await _context(db, e["document_id"], e["quote_start"], e["quote_end"]),
            "cites": await kb.rows(
                db,
                "select b.* from equation_citations x join bibliography b "
                "on b.id = x.bibliography_id where x.equation_id = :id "
                "order by b.position",
                {"id": eid},
            ),
            "title": f"Equation {e['label'] or eid} of {e['document_title']}",
        }

    return await page(datasette, request, "claimkb_equation.html", build)


async def reference(datasette: Any, request: Any) -> Response:
    rid = record_id(request)

    async def build(db: Any) -> dict[str, Any]:
        r = await kb.one(
            db,
            "select b.*, d.title as document_title from bibliography b join "
            "documents d on d.id = b.document_id where b.id = :id",
            {"id": rid},
            "reference",
        )
        cited_by = await kb.rows(
            db,
            """
            select 'claim' as kind, c.id, c.statement_html as html, c.status
            from claim_citations x join claims c on c.id = x.claim_id where x.bibliography_id = :id
            union all
            select 'equation', e.id, null, e.status
            from equation_citations x join equations e on e.id = x.equation_id
            where x.bibliography_id = :id""",
            {"id": rid},
        )
        ctx = None
        if r["quote_start"] is not None:
            ctx = await _context(db, r["document_id"], r["quote_start"], r["quote_end"])
        return {
            **await _common(db, "bibliography", rid),
            "ref": r,
            "context": ctx,
            "problems": render.json_list(r["problems"]),
            "tried": render.json_list(r["tried"]),
            "cited_by": cited_by,
            "heading": render.work_heading(r),
            "used_as_evidence": await kb.rows(
                db,
                "select id, about_type, about_id, stance, "
                "note_html from evidence where "
                "cites_bibliography_id = :id order by rowid",
                {"id": rid},
            ),
            "title": f"Reference: {render.work_heading(r)}",
        }

    return await page(datasette, request, "claimkb_reference.html", build)


ROUTES = [
    (r"^/claim/(?P<id>[^/]+)$", claim),
    (r"^/equation/(?P<id>[^/]+)$", equation),
    (r"^/reference/(?P<id>[^/]+)$", reference),
]

"""The home page: every document with its verdict and status picture, and the ways in."""

from __future__ import annotations

from typing import Any

from .. import kb
from . import page
from .questions import QUESTIONS

#: the home page lists at most this many documents (the rest are one link away)
HOME_DOCUMENTS = 100

_DOCUMENTS = """
select d.id, d.title, d.kind, d.venue_verified, d.draft, d.year, d.authors,
       d.assessment_status, d.assessment_html,
       coalesce((select count from document_facet_counts f where f.document_id = d.id
         and f.table_name = 'claims' and f.column_name = 'document_id'), 0) as claims,
       coalesce((select count from document_facet_counts f where f.document_id = d.id
         and f.table_name = 'equations' and f.column_name = 'document_id'), 0) as equations,
       coalesce((select count from document_facet_counts f where f.document_id = d.id
         and f.table_name = 'bibliography' and f.column_name = 'document_id'), 0) as references_,
       (select count(*) from checks c where c.document_id = d.id and c.acknowledged = 0
         and c.severity in ('error', 'warning')) as open_findings
from documents d order by d.id limit :n
"""


async def _context(db: Any) -> dict[str, Any]:
    docs = await kb.rows(db, _DOCUMENTS, {"n": HOME_DOCUMENTS})
    ids = [d["id"] for d in docs]
    counts: dict[str, dict[str, int]] = {}
    for r in await kb.rows(
        db,
        "select document_id, value, count from document_facet_counts "
        "where table_name = 'claims' and column_name = 'status' and "
        "document_id in (select id from documents order by id limit :n)",
        {"n": HOME_DOCUMENTS},
    ):
        counts.setdefault(r["document_id"], {})[r["value"]] = r["count"]
    latest = await kb.rows(db, "select * from agreement where latest = 1")
    agreement = {r["scope"]: r for r in latest}
    totals = {
        r["value"]: r["count"]
        for r in await kb.rows(
            db,
            "select value, count from facet_counts where table_name = 'claims' "
            "and column_name = 'status'",
        )
    }
    n_docs = (await kb.rows(db, "select count(*) as n from documents"))[0]["n"]
    for d in docs:
        d["counts"] = counts.get(d["id"], {})
        d["agreement"] = agreement.get(d["id"])
    return {
        "documents": docs,
        "documents_total": n_docs,
        "ids": ids,
        "totals": totals,
        "agreement": agreement.get("all"),
        "questions": QUESTIONS,
        "title": "claimkb: claims, equations and references, assessed",
    }


async def home(datasette: Any, request: Any):
    return await page(datasette, request, "claimkb_home.html", _context)


ROUTES = [(r"^/$", home)]

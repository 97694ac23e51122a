"""One search over documents, claims, equations and references.

The words asked for (bounded: ``searching.parse``) are matched in each full-text index;
each table's best matches are ranked by FTS5's bm25 among its first ``RANK_WITHIN``
matches (a very common word is ranked within that window, and the page says so), and
merged: documents whose title holds every word first, then everything by score. Each hit
comes with its snippet.
"""

from __future__ import annotations

from typing import Any

from datasette import Response

from .. import kb
from ..searching import RANK_WITHIN, parse
from . import page

PER_TABLE = 50
SHOWN = 100

#: (record kind, table, FTS table, what a hit shows, snippet size)
_TABLES = (
    ("document", "documents", "documents_fts", "t.title as title, t.id as document_id", 32),
    ("claim", "claims", "claims_fts", "t.statement_html as html, t.status, t.document_id", 24),
    (
        "equation",
        "equations",
        "equations_fts",
        "coalesce('Equation (' || t.label || ')', 'Equation ' || t.id) as title, t.status, "
        "t.document_id",
        24,
    ),
    (
        "reference",
        "bibliography",
        "bibliography_fts",
        "coalesce(t.title, t.as_printed) as title, t.citation_status, t.document_id",
        24,
    ),
)


def _sql(table: str, fts: str, columns: str, size: int) -> str:
    window = f"select rowid as r from {fts} where {fts} match :q order by rowid limit {RANK_WITHIN}"
    return (
        f"select t.id, {columns}, m.score, m.snippet from (select {fts}.rowid as rowid, "
        f"{fts}.rank as score, snippet({fts}, -1, char(2), char(3), '…', {size}) as snippet "
        f"from {fts} where {fts} match :q and {fts}.rowid <= (select max(r) from ({window})) "
        f"order by {fts}.rank limit {PER_TABLE}) as m join {table} t on t.rowid = m.rowid"
    )


async def _over_window(db: Any, fts: str, q: str) -> bool:
    found = await kb.rows(
        db,
        f"select count(*) as n from (select 1 from {fts} where {fts} "
        f"match :q limit {RANK_WITHIN + 1})",
        {"q": q},
    )
    return found[0]["n"] > RANK_WITHIN


def _title_match(hit: dict[str, Any], terms: tuple[str, ...]) -> bool:
    words = set(str(hit.get("title") or "").lower().split())
    return all(any(w.startswith(t) or t.startswith(w) for w in words) for t in terms)


async def _hits(db: Any, terms: tuple[str, ...], match: str) -> tuple[list[dict], list[str]]:
    hits, approximate = [], []
    for kind, table, fts, columns, size in _TABLES:
        for h in await kb.rows(db, _sql(table, fts, columns, size), {"q": match}):
            h["kind"] = kind
            h["title_match"] = kind == "document" and _title_match(h, terms)
            hits.append(h)
        if await _over_window(db, fts, match):
            approximate.append(table)
    hits.sort(key=lambda h: (not h["title_match"], h["score"], h["kind"], h["id"]))
    return hits[:SHOWN], approximate


async def search(datasette: Any, request: Any) -> Response:
    asked = parse(request.args.get("q"))

    async def build(db: Any) -> dict[str, Any]:
        hits, approximate = (
            ([], []) if not asked.terms else await _hits(db, asked.terms, asked.match)
        )
        titles = (
            {
                r["id"]: r["title"]
                for r in await kb.rows(
                    db,
                    "select id, title from documents where id in (select value from "
                    "json_each(:ids))",
                    {"ids": _ids(hits)},
                )
            }
            if hits
            else {}
        )
        return {
            "asked": asked,
            "hits": hits,
            "approximate": approximate,
            "document_titles": titles,
            "rank_within": RANK_WITHIN,
            "title": f"Search: {asked.text}" if asked.text else "Search",
        }

    return await page(datasette, request, "claimkb_search.html", build)


def _ids(hits: list[dict[str, Any]]) -> str:
    import json

    return json.dumps(sorted({h["document_id"] for h in hits if h.get("document_id")}))


ROUTES = [(r"^/search$", search)]

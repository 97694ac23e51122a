"""Reader lists of claims, equations and references: filtered, counted, paged.

Each list filters by status, type and document, shows how many records match (from the
summary tables the build writes, so a count over a million claims reads a few rows), pages
through the records in id order (keyset: the next page starts after the last id shown)
and links to the raw table for people who want SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from datasette import Response

from .. import kb
from . import page

PAGE_SIZE = 50
#: beyond this, a count that no summary table holds is shown as "more than ..."
COUNT_LIMIT = 10000


@dataclass(frozen=True)
class Listing:
    path: str  # the page's path
    table: str
    title: str
    noun: str
    columns: str  # what each row selects
    status: tuple[str, str]  # (column, vocabulary) of the first filter
    kind: tuple[str, str] | None  # (column, vocabulary) of the second filter
    template: str = "claimkb_list.html"


LISTS = {
    "claims": Listing(
        "/claims",
        "claims",
        "Claims",
        "claim",
        "c.id, c.statement_html, c.status, c.claim_type, c.voice, c.section, c.document_id, "
        "d.title as document_title",
        ("status", "evidence_status"),
        ("claim_type", "claim_type"),
    ),
    "equations": Listing(
        "/equations",
        "equations",
        "Equations",
        "equation",
        "c.id, c.label, c.mathml, c.latex, c.status, c.check_status, c.section, c.document_id, "
        "d.title as document_title",
        ("status", "evidence_status"),
        ("check_status", "check_status"),
    ),
    "references": Listing(
        "/references",
        "bibliography",
        "References",
        "reference",
        "c.id, c.label, c.title, c.authors, c.year, c.as_printed, c.citation_status, c.status, "
        "c.provenance, c.work, c.document_id, d.title as document_title",
        ("citation_status", "citation_status"),
        ("status", "evidence_status"),
    ),
}


def _filters(request: Any, spec: Listing) -> dict[str, str]:
    out = {}
    for name in (spec.status[0], spec.kind[0] if spec.kind else None, "document"):
        if name and (value := request.args.get(name)):
            out[name] = value
    return out


def _where(spec: Listing, filters: dict[str, str]) -> tuple[str, dict[str, Any]]:
    parts, params = [], {}
    for name, value in filters.items():
        column = "document_id" if name == "document" else name
        parts.append(f"c.[{column}] = :{name}")
        params[name] = value
    return (" and ".join(parts) or "1"), params


async def _count(db: Any, spec: Listing, filters: dict[str, str]) -> tuple[int, bool]:
    """(how many match, whether that is exact): from the summary tables where they hold it."""
    doc = filters.get("document")
    others = {k: v for k, v in filters.items() if k != "document"}
    if len(others) <= 1:
        column, value = next(iter(others.items())) if others else ("document_id", doc)
        if doc is not None:
            found = await kb.rows(
                db,
                "select count from document_facet_counts where "
                "document_id = :d and table_name = :t and column_name = :c "
                "and value = :v",
                {"d": doc, "t": spec.table, "c": column, "v": value},
            )
            return (found[0]["count"] if found else 0), True
        if column != "document_id":
            found = await kb.rows(
                db,
                "select count from facet_counts where table_name = :t "
                "and column_name = :c and value = :v",
                {"t": spec.table, "c": column, "v": value},
            )
            return (found[0]["count"] if found else 0), True
        found = await kb.rows(
            db,
            "select coalesce(sum(count), 0) as n from facet_counts where "
            "table_name = :t and column_name = 'document_id'",
            {"t": spec.table},
        )
        return found[0]["n"], True
    where, params = _where(spec, filters)
    found = await kb.rows(
        db,
        f"select count(*) as n from (select 1 from [{spec.table}] c "
        f"where {where} limit {COUNT_LIMIT + 1})",
        params,
    )
    n = found[0]["n"]
    return min(n, COUNT_LIMIT), n <= COUNT_LIMIT


async def _facet(db: Any, spec: Listing, column: str, doc: str | None) -> dict[str, int]:
    if doc is None:
        found = await kb.rows(
            db,
            "select value, count from facet_counts where table_name = :t and column_name = :c",
            {"t": spec.table, "c": column},
        )
    else:
        found = await kb.rows(
            db,
            "select value, count from document_facet_counts where "
            "document_id = :d and table_name = :t and column_name = :c",
            {"d": doc, "t": spec.table, "c": column},
        )
    return {r["value"]: r["count"] for r in found}


def _link(spec: Listing, filters: dict[str, str], **change: str | None) -> str:
    args = {**filters, **change}
    query = urlencode({k: v for k, v in args.items() if v})
    return spec.path + ("?" + query if query else "")


def _raw_link(datasette: Any, db_name: str, spec: Listing, filters: dict[str, str]) -> str:
    args = {("document_id" if k == "document" else k): v for k, v in filters.items()}
    base = datasette.urls.table(db_name, spec.table)
    return base + ("?" + urlencode(args) if args else "")


async def listing(datasette: Any, request: Any, spec: Listing) -> Response:
    filters = _filters(request, spec)
    after = request.args.get("after") or ""

    async def build(db: Any) -> dict[str, Any]:
        where, params = _where(spec, filters)
        rows = await kb.rows(
            db,
            f"select {spec.columns} from [{spec.table}] c join documents d "
            f"on d.id = c.document_id where {where} and c.id > :after "
            f"order by c.id limit {PAGE_SIZE + 1}",
            {**params, "after": after},
        )
        more = len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE]
        count, exact = await _count(db, spec, filters)
        doc = filters.get("document")
        facets = [(spec.status, await _facet(db, spec, spec.status[0], doc))]
        if spec.kind:
            facets.append((spec.kind, await _facet(db, spec, spec.kind[0], doc)))
        docs = await kb.rows(
            db,
            "select d.id, d.title, f.count from document_facet_counts f "
            "join documents d on d.id = f.document_id where f.table_name = :t "
            "and f.column_name = 'document_id' and f.value = f.document_id "
            "order by f.count desc, d.id limit 30",
            {"t": spec.table},
        )
        doc_title = None
        if doc:
            found = await kb.rows(db, "select title from documents where id = :d", {"d": doc})
            doc_title = found[0]["title"] if found else doc
        return {
            "spec": spec,
            "rows": rows,
            "filters": filters,
            "count": count,
            "exact": exact,
            "facets": facets,
            "documents": docs,
            "document_title": doc_title,
            "link": lambda **change: _link(spec, filters, **change),
            "link_with": lambda column, value: _link(spec, filters, **{column: value}),
            "link_without": lambda column: _link(spec, filters, **{column: None}),
            "next": _link(spec, filters, after=rows[-1]["id"]) if more and rows else None,
            "first": _link(spec, filters) if after else None,
            "raw": _raw_link(datasette, db.name, spec, filters),
            "title": spec.title,
        }

    return await page(datasette, request, spec.template, build)


def _route(spec: Listing):
    async def view(datasette: Any, request: Any) -> Response:
        return await listing(datasette, request, spec)

    return (rf"^{spec.path}$", view)


ROUTES = [_route(spec) for spec in LISTS.values()]

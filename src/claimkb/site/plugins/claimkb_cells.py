"""Badges, links, math and snippets in Datasette's own table, row and query pages.

Also registers the Jinja helpers the templates use (ckb_badge, markdown, ...)
and gives every page the vocabulary colours (`ckb_vocab`).
"""

from __future__ import annotations

from datasette import hookimpl
from datasette.utils import tilde_encode
from markupsafe import Markup, escape

from claimkb.site import common as C

#: tables and views whose `id` (or other) column names a record with a reader page
_ID_COLUMN_KIND = {
    "claims_view": "claim",
    "equations_view": "equation",
    "bibliography_view": "bibliography",
}
#: (table, column) -> record kind; the column's value links to that record's page
_TITLE_LINKS = {
    ("claims", "statement"): "claim",
    ("claims_view", "statement"): "claim",
    ("equations", "label"): "equation",
    ("equations_view", "label"): "equation",
    ("bibliography", "as_printed"): "bibliography",
    ("bibliography_view", "as_printed"): "bibliography",
    ("documents", "title"): "document",
}
#: column name -> record kind, in canned queries (which have no table)
_QUERY_ID_COLUMNS = {
    "claim_id": "claim",
    "from_claim": "claim",
    "to_claim": "claim",
    "other_claim": "claim",
    "equation_id": "equation",
    "bibliography_id": "bibliography",
    "reference_id": "bibliography",
    "document_id": "document",
}


def _get(row, key):
    try:
        return row[key]
    except (KeyError, IndexError, TypeError):
        return None


def _raw(value):
    """The plain value (Datasette passes expanded foreign keys as {'value', 'label'})."""
    if isinstance(value, dict) and "value" in value:
        return value["value"], value.get("label")
    return value, None


def _link(datasette, kind, record_id, text) -> Markup:
    cls = "ckb-record-link ckb-id-link" if text == record_id else "ckb-record-link"
    return Markup('<a class="{}" href="{}">{}</a>').format(
        cls, C.record_url(datasette, kind, record_id), text
    )


def _render(vocab, row, value, column, table, datasette):
    value, label = _raw(value)
    if value is None or value == "":
        return None
    if table == "vocabulary" and column == "term":
        fake = {
            row["vocabulary"]: {
                value: {
                    "colour": row["colour"],
                    "text_colour": row["text_colour"],
                    "definition": row["definition"],
                }
            }
        }
        return C.badge(fake, row["vocabulary"], value)
    if table in C.VOCAB_TABLES.values() and column in ("colour", "text_colour"):
        return Markup(
            '<span class="ckb-swatch" style="background:{0}" aria-hidden="true"></span> <code>{0}</code>'
        ).format(value)
    if column in C.STATUS_COLUMNS and (table is None or table not in C.VOCAB_TABLES.values()):
        if column == "kind" and table not in (None, "documents"):
            return None
        return C.badge(vocab, C.STATUS_COLUMNS[column], value)
    if column == "id" and table in _ID_COLUMN_KIND:
        return _link(datasette, _ID_COLUMN_KIND[table], value, value)
    if column == "document_id" and table in _ID_COLUMN_KIND:
        return _link(datasette, "document", value, value)
    if (table, column) in _TITLE_LINKS:
        return _link(datasette, _TITLE_LINKS[(table, column)], _get(row, "id"), value)
    if column == "latex" and table in ("equations", "equations_view", None):
        return C.math_block(value, _get(row, "mathml"), display=False)
    if column == "about_id" and table in ("evidence", "checks"):
        kind = _get(row, "about_type")
        if kind in C.RECORD_PATHS:
            return _link(datasette, kind, value, value)
        return None
    if column == "doi":
        return Markup('<a href="https://doi.org/{0}">{0}</a>').format(value)
    if column == "arxiv_id":
        return Markup('<a href="https://arxiv.org/abs/{0}">{0}</a>').format(value)
    if column == "authors" and isinstance(value, str) and value.startswith("["):
        return escape(C.authors_text(value, limit=12)) or Markup("&nbsp;")
    if table is None:
        if column in _QUERY_ID_COLUMNS:
            return _link(datasette, _QUERY_ID_COLUMNS[column], value, value)
        if column == "record_id" and _get(row, "record_type"):
            return _link(datasette, _get(row, "record_type"), value, value)
        if column == "snippet":
            return C.snippet_html(value)
        if column in ("rationale", "note", "assessment"):
            return C.markdown(value)
        if column == "problems" and isinstance(value, str) and value.startswith("["):
            items = C.json_list(value)
            return (
                Markup("<ul class='ckb-problems'>{}</ul>").format(
                    Markup("").join(Markup("<li>{}</li>").format(p) for p in items)
                )
                if items
                else Markup("&nbsp;")
            )
    return None


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    if database != C.kb_database_name(datasette):
        return None
    if (
        column not in C.STATUS_COLUMNS
    ):  # no badge: the vocabulary is not needed (nor its freshness checked)
        return _render(None, row, value, column, table, datasette)
    cached = C.cached_vocabulary(datasette)
    if cached is not None:
        return _render(cached, row, value, column, table, datasette)

    async def inner():
        return _render(await C.vocabulary(datasette), row, value, column, table, datasette)

    return inner


@hookimpl
def prepare_jinja2_environment(env, datasette):
    env.filters["ckb_markdown"] = C.markdown
    env.filters["ckb_snippet"] = C.snippet_html
    env.filters["ckb_authors"] = C.authors_text
    env.filters["ckb_json_list"] = C.json_list
    env.filters["ckb_tilde"] = lambda v: tilde_encode(str(v))
    env.globals["ckb_badge"] = C.badge
    env.globals["ckb_math"] = C.math_block
    env.globals["ckb_cite"] = C.cite_work
    env.globals["ckb_identifier_links"] = C.identifier_links
    env.globals["ckb_vocab_labels"] = C.VOCAB_LABELS


@hookimpl
def extra_template_vars(template, database, table, columns, view_name, request, datasette):
    async def inner():
        name = C.kb_database_name(datasette)
        if name is None:
            return {}
        out = {
            "ckb_vocab": await C.vocabulary(datasette),
            "ckb_db": name,
            "ckb_url": lambda kind, rid, read=False: C.record_url(datasette, kind, rid, read=read),
        }
        if view_name == "index":
            out["ckb_home"] = await home_data(datasette, name)
        return out

    return inner


#: the home page lists at most this many documents (the rest are one link away, in the
#: documents table): at 10,000 documents the full list took seconds to count and render
HOME_DOCUMENTS = 200


async def _summary_ok(db, table_counts) -> bool:
    """The summary tables (claimkb.summaries) exist and agree with the tables' row counts."""
    try:
        rows = (
            await db.execute(
                "select table_name, sum(count) as n from facet_counts where column_name = 'document_id' "
                "and table_name in ('claims', 'equations', 'bibliography') group by 1"
            )
        ).rows
    except Exception:  # an older database without them
        return False
    have = {r["table_name"]: r["n"] for r in rows}
    return all(have.get(t, 0) == table_counts[t] for t in ("claims", "equations", "bibliography"))


async def home_data(datasette, name):
    db = datasette.get_database(name)
    tables = {}
    for t in (
        "documents",
        "claims",
        "equations",
        "bibliography",
        "evidence",
        "claim_links",
        "checks",
    ):
        tables[t] = (await db.execute(f"select count(*) from [{t}]")).rows[0][0]
    counts = {}
    totals = {}
    if await _summary_ok(db, tables):
        # precomputed, exact counts (claimkb.summaries): no scan of the claims
        docs = [
            dict(r)
            for r in (
                await db.execute(
                    """select d.id, d.title, d.authors, d.year, d.kind, d.assessment_status,
                 coalesce((select count from document_facet_counts f where f.document_id = d.id
                   and f.table_name = 'claims' and f.column_name = 'document_id'), 0) as claims,
                 coalesce((select count from document_facet_counts f where f.document_id = d.id
                   and f.table_name = 'equations' and f.column_name = 'document_id'), 0) as equations,
                 coalesce((select count from document_facet_counts f where f.document_id = d.id
                   and f.table_name = 'bibliography' and f.column_name = 'document_id'), 0) as bibliography
               from documents d order by d.id limit :n""",
                    {"n": HOME_DOCUMENTS},
                )
            ).rows
        ]
        for r in (
            await db.execute(
                """select document_id, value as status, count as n from document_facet_counts
               where table_name = 'claims' and column_name = 'status'
                 and document_id in (select id from documents order by id limit :n)""",
                {"n": HOME_DOCUMENTS},
            )
        ).rows:
            counts.setdefault(r["document_id"], {})[r["status"]] = r["n"]
        for r in (
            await db.execute(
                "select value as status, count as n from facet_counts where table_name = 'claims' and column_name = 'status'"
            )
        ).rows:
            totals[r["status"]] = r["n"]
    else:
        docs = [
            dict(r)
            for r in (
                await db.execute(
                    """select d.id, d.title, d.authors, d.year, d.kind, d.assessment_status,
                 (select count(*) from claims c where c.document_id = d.id) as claims,
                 (select count(*) from equations e where e.document_id = d.id) as equations,
                 (select count(*) from bibliography b where b.document_id = d.id) as bibliography
               from documents d order by d.id limit :n""",
                    {"n": HOME_DOCUMENTS},
                )
            ).rows
        ]
        # only the listed documents' claims (an index range each), not a scan of every claim
        for r in (
            await db.execute(
                """select document_id, status, count(*) as n from claims
               where document_id in (select id from documents order by id limit :n) group by 1, 2""",
                {"n": HOME_DOCUMENTS},
            )
        ).rows:
            counts.setdefault(r["document_id"], {})[r["status"]] = r["n"]
        for r in (await db.execute("select status, count(*) as n from claims group by 1")).rows:
            totals[r["status"]] = r["n"]
    return {
        "documents": docs,
        "counts": counts,
        "totals": totals,
        "tables": tables,
        "documents_total": tables["documents"],
    }

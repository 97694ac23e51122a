"""Fast, honest facets and counts for big tables (Datasette 0.65.5 internals: see below).

1. Unfiltered table pages (no filter, no search): column facets come from the
   precomputed, exact ``facet_counts`` table (claimkb.summaries) instead of a
   GROUP BY over a million rows. If the table is missing (an older database), or
   its total disagrees with the table's row count (a stale summary), Datasette's
   own SQL runs instead.
2. Filtered or searched pages matching more than FACET_ROW_LIMIT rows: the
   *default* facets of metadata.yml are not computed (each would cost a GROUP BY
   over all those rows); the page says so and offers a link that computes each
   one exactly (a facet the user asks for with ``_facet=`` is always computed).
   Nothing is ever silently empty: a skipped facet is named on the page, and is
   absent (never empty) in the JSON.
3. The row count of an unfiltered claims_view (VIEW_SOURCES), from the summary.
4. The first page and total of a search-only table page (``?_search=`` and nothing else):
   Datasette counts ``rowid in (select rowid from t_fts where match ...)``, which
   builds a temporary b-tree of every match; the count of the full-text index
   itself is the same number (the index holds exactly the table's rows) at a
   tenth of the cost. For a word matching more than INDEX_ORDER_MIN_MATCHES rows,
   the first page is found by walking the table in its (indexed) sort order and
   asking the full-text index about each row, with the usual query as fallback.
   For a rarer word, the bounded count that chose the plan is the exact total: the
   page's count query is answered with it (remembered for that request only).
5. Filtered or searched pages matching at most MERGE_FACET_ROWS rows: all their column
   facets come from one query (the page's rows read once, one GROUP BY per column, the
   same ``order by count desc, value`` and limit as Datasette's) instead of one query
   each; if it fails or runs out of time, Datasette's own queries run.

Every fast path gives exactly what Datasette's own SQL gives (the tests compare
them), provided the build keeps the summary tables current: claimkb.summaries.refresh
must run for every document a build adds, changes or deletes. A summary whose
total disagrees with the table's row count is ignored.

This file wraps ``ColumnFacet.facet_results`` and ``Database.execute`` (claimkb_labels.py
and claimkb_schema.py wrap other parts of Datasette). tests/test_site_speed.py fails if the
source of what it wraps changes (Datasette is pinned to 0.65.5).
"""

from __future__ import annotations

import re
import sqlite3

from datasette import hookimpl
from datasette.database import Database, Results
from datasette.facets import ColumnFacet
from datasette.utils import escape_sqlite, path_with_added_args, path_with_removed_args

from claimkb.site import common as C

#: above this many matching rows, default facets of a filtered page are offered, not computed
FACET_ROW_LIMIT = 50_000

#: at most this many matching rows: the facets of a filtered page come from one query, not one each
MERGE_FACET_ROWS = 10_000

#: view -> (its table, the vocabulary column it joins on, that vocabulary's table): the
#: view is the table inner-joined with documents (on document_id) and with the vocabulary
#: table (on that column), one row per table row at most (both joins are on primary keys);
#: tests/test_site_speed.py checks schema.VIEWS still says so. Its row count is then a sum
#: of document_facet_counts, and when no row is dropped its facets are the table's.
VIEW_SOURCES = {"claims_view": ("claims", "status", "evidence_statuses")}

#: request.scope key listing the default facets not computed for this request
SKIPPED_KEY = "claimkb_skipped_facets"

# the unpatched methods, kept on the classes so that loading this file twice (one
# Datasette instance after another, as in the tests) never wraps a wrapper
if not hasattr(ColumnFacet, "_claimkb_original_facet_results"):
    ColumnFacet._claimkb_original_facet_results = ColumnFacet.facet_results
    Database._claimkb_original_execute = Database.execute
_original_facet_results = ColumnFacet._claimkb_original_facet_results
_original_execute = Database._claimkb_original_execute


def _column(config: dict) -> str:
    return config.get("column") or config["simple"]


def _unfiltered(facet: ColumnFacet) -> bool:
    """True when the facet's SQL is the whole table: no where clause, no parameters."""
    if not facet.table or facet.params:
        return False
    return (
        re.search(r" from " + re.escape(escape_sqlite(facet.table)) + r"\s*\Z", facet.sql)
        is not None
    )


async def _fresh_total(db, table: str, rows: int | None = None) -> int | None:
    """The table's row count if the summary agrees with it (else None: missing or stale).
    `rows`: the table's row count if the caller has it (Datasette counted it for the page)."""
    try:
        total = (
            await db.execute(
                "select sum(count) from facet_counts where table_name = :t and column_name = 'document_id'",
                {"t": table},
            )
        ).rows[0][0]
    except Exception:  # no summary table in this database
        return None
    if total is None:
        return None
    if rows is None:
        rows = (await db.execute(f"select count(*) from {escape_sqlite(table)}")).rows[0][0]
    return total if total == rows else None  # document_id is never null in a summarised table


async def _view_count(db, view: str) -> int | None:
    """Exact row count of a VIEW_SOURCES view from the summary (None when it cannot be trusted)."""
    table, column, vocab = VIEW_SOURCES[view]
    if await _fresh_total(db, table) is None:
        return None
    return (
        await db.execute(
            "select coalesce(sum(count), 0) from document_facet_counts where table_name = :t and column_name = :c"
            f" and value in (select term from {escape_sqlite(vocab)}) and document_id in (select id from documents)",
            {"t": table, "c": column},
        )
    ).rows[0][0]


async def _trusted_source(facet: ColumnFacet) -> str | None:
    """The table whose summary gives this unfiltered table's or view's facets, if it can be trusted."""
    db = facet.ds.databases[facet.database]
    if facet.table in VIEW_SOURCES:
        table, rows = VIEW_SOURCES[facet.table][0], None
    else:  # an unfiltered table: the page's row count (Datasette's count(*)) is the table's
        table, rows = facet.table, facet.row_count
    total = await _fresh_total(db, table, rows)
    if total is None:
        return None
    if facet.table in VIEW_SOURCES:
        rows = facet.row_count  # the view's exact row count (Datasette's, or _view_count's)
        if rows is None:
            rows = await _view_count(db, facet.table)
        if rows != total:
            return None  # the view drops rows of the table: its facets are not the table's
    return table


async def _summary_rows(facet: ColumnFacet, table: str, column: str, limit: int):
    """Rows (value, count) of the summary of table.column, or None when there are none."""
    db = facet.ds.databases[facet.database]
    res = await db.execute(
        "select value, count from facet_counts where table_name = :t and column_name = :c"
        " order by count desc, value limit :n",
        {"t": table, "c": column, "n": limit},
    )
    if not res.rows:
        return None  # column not summarised (or no values at all: let Datasette say so)
    return res.rows


async def _results_from_rows(
    facet: ColumnFacet, source: str, column: str, rows, facet_size: int
) -> dict:
    """A facet result in exactly the shape ColumnFacet.facet_results builds (0.65.5)."""
    qs_pairs = facet.get_querystring_pairs()
    values = []
    shown = rows[:facet_size]
    expanded = await facet.ds.expand_foreign_keys(
        facet.database, facet.table, column, [r[0] for r in shown]
    )
    for value, count in shown:
        column_qs = f"{column}__exact" if column.startswith("_") else column
        selected = (column_qs, str(value)) in qs_pairs
        if selected:
            toggle_path = path_with_removed_args(facet.request, {column_qs: str(value)})
        else:
            toggle_path = path_with_added_args(facet.request, {column_qs: value})
        values.append(
            {
                "value": value,
                "label": expanded.get((column, value), value),
                "count": count,
                "toggle_url": facet.ds.absolute_url(facet.request, facet.ds.urls.path(toggle_path)),
                "selected": selected,
            }
        )
    return {
        "name": column,
        "type": facet.type,
        "hideable": source != "metadata",
        "toggle_url": facet.ds.urls.path(path_with_removed_args(facet.request, {"_facet": column})),
        "results": values,
        "truncated": len(rows) > facet_size,
    }


async def _merged_rows(facet: ColumnFacet, columns: list[str], limit: int) -> list[list] | None:
    """For each column, the rows (value, count) of Datasette's facet query (0.65.5: non-null
    values of the page's SQL, grouped, ``order by count desc, value limit`` facet size + 1),
    all from one query over the page's rows; None if it failed or ran out of time (then
    Datasette's own queries run, one per facet, each with its own time limit)."""
    parts = [
        f"select {k} as facet, value, count, row_number() over (order by count desc, value) as n from ("
        f"select {escape_sqlite(c)} as value, count(*) as count from page_rows "
        f"where {escape_sqlite(c)} is not null group by {escape_sqlite(c)})"
        for k, c in enumerate(columns)
    ]
    needed = ", ".join(dict.fromkeys(escape_sqlite(c) for c in columns))
    sql = (
        f"with page_rows as materialized (select {needed} from ({facet.sql})) select facet, value, count from ("
        + " union all ".join(parts)
        + f") where n <= {int(limit)} order by facet, n"
    )
    try:
        res = await facet.ds.execute(
            facet.database,
            sql,
            facet.params,
            truncate=False,
            custom_time_limit=facet.ds.setting("facet_time_limit_ms"),
        )
    except Exception:  # QueryInterrupted, or SQL this rewrite cannot handle: Datasette's way
        return None
    out: list[list] = [[] for _ in columns]
    for k, value, count in res.rows:
        out[k].append((value, count))
    return out


async def facet_results(self: ColumnFacet):
    configs = self.get_configs()
    if not self.table or not configs:
        return await _original_facet_results(self)
    facet_size = self.get_facet_size()
    unfiltered = _unfiltered(self)
    source = await _trusted_source(self) if unfiltered else None
    requested = {_column(c["config"]) for c in configs if c["source"] == "request"}
    slots: list = [None] * len(
        configs
    )  # results in the order of the configs, as Datasette gives them
    remaining, skipped = [], []
    for i, sc in enumerate(configs):
        column = _column(sc["config"])
        if source is not None:
            rows = await _summary_rows(self, source, column, facet_size + 1)
            if rows is not None:
                slots[i] = await _results_from_rows(self, sc["source"], column, rows, facet_size)
                continue
        if (
            not unfiltered
            and sc["source"] == "metadata"
            and (self.row_count is None or self.row_count > FACET_ROW_LIMIT)
        ):
            if column not in requested:  # a facet the user asked for is computed below
                skipped.append(column)
            continue
        remaining.append((i, sc))
    timed_out: list[str] = []
    if (
        len(remaining) > 1
        and not unfiltered
        and self.row_count is not None
        and self.row_count <= MERGE_FACET_ROWS
    ):
        merged = await _merged_rows(
            self, [_column(sc["config"]) for _, sc in remaining], facet_size + 1
        )
        if merged is not None:
            for (i, sc), rows in zip(remaining, merged):
                slots[i] = await _results_from_rows(
                    self, sc["source"], _column(sc["config"]), rows, facet_size
                )
            remaining = []
    if remaining:
        self.get_configs = lambda: [
            sc for _, sc in remaining
        ]  # the original method computes only these
        more, timed_out = await _original_facet_results(self)
        pending = list(more)
        for i, sc in remaining:
            if pending and pending[0]["name"] == _column(sc["config"]):
                slots[i] = pending.pop(0)
        slots.extend(pending)  # (never happens: one result per config unless it timed out)
    results = [r for r in slots if r is not None]
    if skipped:
        info = self.request.scope.setdefault(
            SKIPPED_KEY, {"row_count": self.row_count, "facets": []}
        )
        for column in skipped:
            if column not in [f["name"] for f in info["facets"]]:
                info["facets"].append(
                    {
                        "name": column,
                        "url": self.ds.urls.path(
                            path_with_added_args(self.request, {"_facet": column})
                        ),
                    }
                )
    return results, timed_out


_SEARCH_COUNT = re.compile(
    r"select count\(\*\) from (\[?[A-Za-z_][A-Za-z0-9_]*\]?) where rowid in "
    r"\(select rowid from (\[?[A-Za-z_][A-Za-z0-9_]*\]?) where \2 match escape_fts\(:search\)\)\s*"
)


_VIEW_COUNT = re.compile(r"select count\(\*\) from (\[?[A-Za-z_][A-Za-z0-9_]*\]?)\s*")

_SEARCH_PAGE = re.compile(
    r"(select .+ from (\[?[A-Za-z_][A-Za-z0-9_]*\]?) )where rowid in "
    r"\(select rowid from (\[?[A-Za-z_][A-Za-z0-9_]*\]?) where \3 match escape_fts\(:search\)\) "
    r"(order by [A-Za-z0-9_\[\] ]+ limit \d+)",
    re.S,
)

#: time allowed to the index-order plan of a common-word search before the usual plan runs
INDEX_ORDER_MS = 150
#: a search matching more rows than this tries the index-order plan first
INDEX_ORDER_MIN_MATCHES = 20_000


async def _search_page(self: Database, m, params, args, kwargs):
    """First page of a search-only table page whose word matches many rows.

    Datasette's plan reads every matching row and sorts them all (0.35 s for
    800,000 matches); walking the table in its sort order and asking the
    full-text index about each row finds the first page after a few dozen rows
    when matches are common. Same SQL meaning, so the same rows; if that walk
    takes longer than INDEX_ORDER_MS (matches rare or clustered), the usual query runs."""
    head, table, fts, tail = m.groups()
    table, fts = table.strip("[]"), fts.strip("[]")
    if fts != f"{table}_fts":
        return None
    q_fts = escape_sqlite(fts)
    order = re.fullmatch(r"order by \[?([A-Za-z0-9_]+)\]?( desc)? limit \d+", tail)
    if order is None:
        return None
    try:
        # first the cheap question that settles rare words (at most N+1 index entries read)
        n = (
            await _original_execute(
                self,
                f"select count(*) from (select 1 from {q_fts} where {q_fts} match escape_fts(:search) limit :n)",
                {"search": params["search"], "n": INDEX_ORDER_MIN_MATCHES + 1},
            )
        ).rows[0][0]
        if n <= INDEX_ORDER_MIN_MATCHES:
            memo = C.REQUEST_MEMO.get()
            if (
                memo is not None
            ):  # n is the exact count: the page's count query (next) needs no query
                memo[(self.name, fts, params["search"])] = n
            return None
        indexed = (
            await _original_execute(
                self,
                "select count(*) from pragma_index_list(:t) as il, pragma_index_info(il.name) as ii "
                "where ii.seqno = 0 and ii.name = :c",
                {"t": table, "c": order.group(1)},
            )
        ).rows[0][0]
    except Exception:
        return None
    if not indexed and order.group(1) != "rowid":
        return None  # no index in that order: the walk would sort the whole table
    fast = (
        f"{head}where exists (select 1 from {q_fts} where {q_fts} match escape_fts(:search) "
        f"and {q_fts}.rowid = {escape_sqlite(table)}.rowid) {tail}"
    )
    kw = dict(
        kwargs,
        custom_time_limit=min(INDEX_ORDER_MS, kwargs.get("custom_time_limit") or INDEX_ORDER_MS),
    )
    try:
        return await _original_execute(self, fast, params, *args, **kw)
    except Exception:  # QueryInterrupted (too slow here) or anything unexpected: the usual query
        return None


async def execute(self: Database, sql, params=None, *args, **kwargs):
    """Count and first page of a search-only table page, cheaper (see the module doc)."""
    if isinstance(sql, str) and isinstance(params, dict) and set(params) == {"search"}:
        m = _SEARCH_PAGE.fullmatch(sql)
        if m:
            res = await _search_page(self, m, params, args, kwargs)
            if res is not None:
                return res
    if isinstance(sql, str) and not params:
        m = _VIEW_COUNT.fullmatch(sql)
        if m and m.group(1).strip("[]") in VIEW_SOURCES:
            try:
                n = await _view_count(self, m.group(1).strip("[]"))
            except Exception:
                n = None
            if n is not None:
                return await _original_execute(
                    self, "select :n as [count(*)]", {"n": n}, *args, **kwargs
                )
    m = _SEARCH_COUNT.fullmatch(sql) if isinstance(sql, str) else None
    if m and isinstance(params, dict) and set(params) == {"search"}:
        table, fts = (g.strip("[]") for g in m.groups())
        if fts == f"{table}_fts":
            n = (C.REQUEST_MEMO.get() or {}).get((self.name, fts, params["search"]))
            if n is not None:
                return Results([(n,)], False, (("count(*)", None, None, None, None, None, None),))
            fast = f"select count(*) from {escape_sqlite(fts)} where {escape_sqlite(fts)} match escape_fts(:search)"
            try:
                return await _original_execute(self, fast, params, *args, **kwargs)
            except sqlite3.Error:
                pass
    return await _original_execute(self, sql, params, *args, **kwargs)


ColumnFacet.facet_results = facet_results
Database.execute = execute


@hookimpl
def extra_template_vars(request):
    return {
        "claimkb_skipped_facets": (request.scope.get(SKIPPED_KEY) if request is not None else None)
    }


@hookimpl
def asgi_wrapper(datasette):
    """A fresh common.REQUEST_MEMO for every request (nothing is remembered from one to the next)."""

    def wrap(app):
        async def with_memo(scope, receive, send):
            token = C.REQUEST_MEMO.set({})
            try:
                await app(scope, receive, send)
            finally:
                C.REQUEST_MEMO.reset(token)

        return with_memo

    return wrap

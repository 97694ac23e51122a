"""Summary tables: exact facet counts, precomputed at build time, for the served site.

Counting a facet over a million claims costs SQLite 50-80 ms per column, every
time the unfiltered claims page is shown. These tables hold the same counts,
computed once by the build (and kept exact by incremental builds), so the site
can show the facets of an unfiltered table page without scanning the table.

* ``document_facet_counts``: for every summarised (table, column) and document,
  how many rows of that document have each value;
* ``facet_counts``: the same summed over all documents: exactly
  ``select column, count(*) from table where column is not null group by column``.

NULL values are not counted (as in Datasette's column facets). Only the
(table, column) pairs of ``SUMMARISED`` are summarised; every row of those tables
has a document_id, which is what makes an incremental refresh possible.

``refresh(conn)`` recomputes everything; ``refresh(conn, document_ids)`` only what
those documents contribute. Call it inside the build's write transaction, after
the main tables (and their indexes) hold their final rows: a full build calls it
once with no ids; an incremental build calls it with the ids of every document
whose rows it deleted, re-inserted or changed (a deleted document's counts
vanish). It never commits.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection

from .schema import Table

#: table -> the columns whose value counts are precomputed: the columns Datasette facets
#: by default on those tables (see site/metadata.yml)
SUMMARISED: dict[str, tuple[str, ...]] = {
    "claims": ("status", "document_id", "claim_type", "voice"),
    "equations": ("check_status", "status", "document_id"),
    "bibliography": ("citation_status", "status", "document_id", "self_citation"),
    "evidence": ("stance", "about_type", "self_citation", "document_id"),
}

FACET_COUNTS = Table(
    name="facet_counts",
    columns={"table_name": str, "column_name": str, "value": str, "count": int},
    pk=("table_name", "column_name", "value"),
    doc="Precomputed facet counts: how many rows of a table have each value of a column "
    "(NULLs not counted), kept exact by every build.",
    column_docs={
        "table_name": "The table counted (claims, equations, bibliography or evidence).",
        "column_name": "The column counted, e.g. status.",
        "value": "A value of that column, with the column's own type (text, or an integer "
        "for self_citation); never null.",
        "count": "Number of rows of the table with that value (always > 0).",
    },
    not_null=frozenset({"count"}),
)

DOCUMENT_FACET_COUNTS = Table(
    name="document_facet_counts",
    columns={"table_name": str, "column_name": str, "document_id": str, "value": str, "count": int},
    pk=("document_id", "table_name", "column_name", "value"),
    doc="Precomputed facet counts per document: how many rows of a document have each "
    "value of a column (the parts facet_counts sums).",
    column_docs={
        "table_name": "The table counted (claims, equations, bibliography or evidence).",
        "column_name": "The column counted, e.g. status.",
        "document_id": "The document whose rows are counted (documents.id).",
        "value": "A value of that column, with the column's own type (text, or an integer "
        "for self_citation); never null.",
        "count": "Number of rows of that document with that value (always > 0).",
    },
    not_null=frozenset({"count"}),
)


def _summary_tables() -> tuple[Table, ...]:
    from .agreement import AGREEMENT

    return (FACET_COUNTS, DOCUMENT_FACET_COUNTS, AGREEMENT)


#: the tables every build computes from the others (documented with the rest, not exported)
SUMMARY_TABLES: tuple[Table, ...] = _summary_tables()

# `value` has no declared type (no type affinity): it keeps each column's own type, so
# an integer column's counts come back as integers, exactly as Datasette's facets give them.
# Create the tables with this DDL (refresh does), not from the Table objects above.
_DDL = (
    """create table if not exists facet_counts (
  table_name text not null, column_name text not null, value not null, count integer not null,
  primary key (table_name, column_name, value))""",
    """create table if not exists document_facet_counts (
  table_name text not null, column_name text not null, document_id text not null, value not null,
  count integer not null,
  primary key (document_id, table_name, column_name, value)) without rowid""",
)


def _q(name: str) -> str:
    """Quote an identifier (names come from SUMMARISED, never from a request)."""
    return '"' + name.replace('"', '""') + '"'


def create_tables(conn: sqlite3.Connection) -> None:
    """Create the summary tables and their index if they do not exist."""
    for ddl in _DDL:
        conn.execute(ddl)


def _existing(conn: sqlite3.Connection) -> dict[str, tuple[str, ...]]:
    """SUMMARISED restricted to the tables and columns this database has."""
    out = {}
    for table, columns in SUMMARISED.items():
        have = {r[1] for r in conn.execute(f"pragma table_info({_q(table)})")}
        cols = tuple(c for c in columns if c in have)
        if cols and "document_id" in have:
            out[table] = cols
    return out


def _has_document_index(conn: sqlite3.Connection, table: str) -> bool:
    for _, name, *_ in conn.execute(f"pragma index_list({_q(table)})"):
        cols = [r[2] for r in conn.execute(f"pragma index_info({_q(name)})")]
        if cols and cols[0] == "document_id":
            return True
    return False


def _document_filter(conn: sqlite3.Connection, table: str, ids_table: str) -> str:
    """SQL condition selecting the rows of the documents listed in ids_table.

    evidence has no index on document_id (schema.py), so its rows are found through
    the records they are about (indexed about_id): an evidence row's document is
    by definition its record's document, and the condition still checks it."""
    cond = f"document_id in (select id from {ids_table})"
    if table == "evidence" and not _has_document_index(conn, table):
        records = " union all ".join(
            f"select id from {_q(t)} where document_id in (select id from {ids_table})"
            for t in ("claims", "equations", "bibliography")
        )
        cond = f"about_id in ({records}) and {cond}"
    return cond


def _insert_document_counts(
    conn: sqlite3.Connection, ids_table: str | None = None
) -> dict[tuple[str, str, str], int]:
    """Insert the per-document counts of every summarised column (of the documents in
    ids_table, or of all documents) and return their totals per (table, column, value).

    One pass over each table, grouped by document, counts every value of every column
    at once into a temporary table (one row per document); one INSERT ... SELECT then
    writes them all, in primary-key order."""
    parts: list[str] = []
    part_params: list[object] = []
    totals: dict[tuple[str, str, str], int] = {}
    pivots = []
    for i, (table, columns) in enumerate(_existing(conn).items()):
        where = f"where {_document_filter(conn, table, ids_table)}" if ids_table else ""
        # the values each column takes (an index scan where the column is indexed)
        values = {
            c: [
                r[0]
                for r in conn.execute(
                    f"select distinct {_q(c)} from {_q(table)} {where}"
                    f"{' and ' if where else ' where '}{_q(c)} is not null and "
                    f"document_id is not null"
                )
            ]
            for c in columns
            if c != "document_id"
        }
        exprs, params, keys = ["count(*) as n0"], [], [("document_id", None)]
        for c, vs in values.items():
            for v in vs:
                exprs.append(f"sum({_q(c)} = ?) as n{len(keys)}")
                params.append(v)
                keys.append((c, v))
        pivot = f"_claimkb_pivot_{i}"
        pivots.append(pivot)
        conn.execute(f"drop table if exists temp.{pivot}")
        conn.execute(
            f"create temp table {pivot} as select document_id as d, {', '.join(exprs)} "
            f"from {_q(table)} {where}"
            f"{' and ' if where else ' where '}document_id is not null group by document_id",
            params,
        )
        sums = conn.execute(
            f"select {', '.join(f'sum(n{k})' for k in range(len(keys)))} from temp.{pivot}"
        ).fetchone()
        for k, (c, v) in enumerate(keys):
            if c == "document_id":
                if "document_id" in columns:
                    for d, n in conn.execute(f"select d, n0 from temp.{pivot} where n0 > 0"):
                        totals[(table, "document_id", d)] = n
                    parts.append(
                        f"select ?, 'document_id', d, d, n0 from temp.{pivot} where n0 > 0"
                    )
                    part_params.append(table)
            elif sums[k]:
                totals[(table, c, v)] = sums[k]
                parts.append(f"select ?, ?, d, ?, n{k} from temp.{pivot} where n{k} > 0")
                part_params += [table, c, v]
    if parts:
        conn.execute(
            "insert into document_facet_counts (table_name, column_name, document_id, "
            "value, count) "
            f"select * from ({' union all '.join(parts)}) order by 3, 1, 2, 4",  # primary key order
            part_params,
        )
    for pivot in pivots:
        conn.execute(f"drop table temp.{pivot}")
    return totals


def refresh(conn: sqlite3.Connection, document_ids: Collection[str] | None = None) -> None:
    """Recompute the summary tables from the real tables (all of them, or only what
    the given documents contribute). Runs in the caller's transaction; never commits."""
    from . import agreement

    agreement.refresh(conn)
    _refresh_facets(conn, document_ids)


def _refresh_facets(conn: sqlite3.Connection, document_ids: Collection[str] | None) -> None:
    create_tables(conn)
    if document_ids is None:
        conn.execute("delete from document_facet_counts")
        conn.execute("delete from facet_counts")
        totals = _insert_document_counts(conn)
        conn.executemany(
            "insert into facet_counts (table_name, column_name, value, count) values (?, ?, ?, ?)",
            sorted((t, c, v, n) for (t, c, v), n in totals.items()),
        )
        return
    ids = sorted(set(document_ids))
    if not ids:
        return
    if conn.execute("select not exists (select 1 from document_facet_counts)").fetchone()[0]:
        # never computed (or nothing to keep): the full refresh is exact and cheap
        return _refresh_facets(conn, None)
    conn.execute("create temp table if not exists _claimkb_refresh_ids (id text primary key)")
    conn.execute("delete from temp._claimkb_refresh_ids")
    conn.executemany("insert into temp._claimkb_refresh_ids (id) values (?)", [(i,) for i in ids])
    in_ids = "document_id in (select id from temp._claimkb_refresh_ids)"
    delta_sql = (
        "select table_name, column_name, value, sum(count) from document_facet_counts "
        f"where {in_ids} group by table_name, column_name, value"
    )
    delta: dict[tuple[str, str, str], int] = {}
    for t, c, v, n in conn.execute(delta_sql).fetchall():
        delta[(t, c, v)] = delta.get((t, c, v), 0) - n
    conn.execute(f"delete from document_facet_counts where {in_ids}")
    for key, n in _insert_document_counts(conn, "temp._claimkb_refresh_ids").items():
        delta[key] = delta.get(key, 0) + n
    changes = [(t, c, v, d) for (t, c, v), d in delta.items() if d]
    conn.executemany(
        "insert into facet_counts (table_name, column_name, value, count) values (?, ?, ?, ?) "
        "on conflict (table_name, column_name, value) do update set count = count + excluded.count",
        changes,
    )
    conn.executemany(
        "delete from facet_counts where table_name = ? and column_name = ? and value = ? "
        "and count <= 0",
        [(t, c, v) for t, c, v, _ in changes],
    )
    conn.execute("delete from temp._claimkb_refresh_ids")

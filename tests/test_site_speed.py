"""Speed features of the site: summary tables (claimkb.build.summaries) and the facet/search
plugin (site/plugins/claimkb_facets.py), on a small database built by the real build code.

Every answer the fast paths give is compared with what Datasette computes the slow way.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
import yaml

from claimkb.build import summaries

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "src" / "claimkb" / "site"
METADATA = yaml.safe_load((SITE / "metadata.yml").read_text(encoding="utf-8"))
SETTINGS = json.loads((SITE / "settings.json").read_text(encoding="utf-8"))


def _copy(src: Path, dest: Path, *, summary: bool, wal: bool = True) -> Path:
    shutil.copy(src, dest)
    conn = sqlite3.connect(dest, isolation_level=None)
    if wal:
        conn.execute("pragma journal_mode=wal")
    if summary:
        conn.execute("begin")
        summaries.refresh(conn)
        conn.execute("commit")
    conn.close()
    return dest


@pytest.fixture
def summary_db(built_db, tmp_path) -> Path:
    return _copy(built_db, tmp_path / "claimkb.db", summary=True)


@pytest.fixture
def plain_db(built_db, tmp_path) -> Path:
    (tmp_path / "plain").mkdir()
    return _copy(built_db, tmp_path / "plain" / "claimkb.db", summary=False)


def make_datasette(db_path: Path):
    """Served as production serves it now: a normal (not immutable) read-only file."""
    from datasette.app import Datasette

    return Datasette(
        [str(db_path)],
        metadata=METADATA,
        template_dir=str(SITE / "templates"),
        plugins_dir=str(SITE / "plugins"),
        static_mounts=[("static", str(SITE / "static"))],
        settings=SETTINGS,
    )


async def get_json(ds, path: str) -> dict:
    r = await ds.client.get(path)
    assert r.status_code == 200, (path, r.status_code, r.text[:500])
    return r.json()


def _plugin_globals() -> dict:
    from datasette.facets import ColumnFacet

    return ColumnFacet.facet_results.__globals__


def _exact_counts(conn, table, column):
    return dict(
        conn.execute(
            f"select [{column}], count(*) from [{table}] where [{column}] is not null group by 1"
        )
    )


def _summary_counts(conn, table, column):
    return dict(
        conn.execute(
            "select value, count from facet_counts where table_name = ? and column_name = ?",
            (table, column),
        )
    )


def assert_exact(conn):
    for table, columns in summaries.SUMMARISED.items():
        for column in columns:
            assert _summary_counts(conn, table, column) == _exact_counts(conn, table, column), (
                table,
                column,
            )
            per_doc = dict(
                conn.execute(
                    "select document_id || '|' || value, count from document_facet_counts where table_name = ? and column_name = ?",
                    (table, column),
                )
            )
            want = dict(
                conn.execute(
                    f"select document_id || '|' || [{column}], count(*) from [{table}] where [{column}] is not null group by document_id, [{column}]"
                )
            )
            assert per_doc == want, (table, column)


# --- summaries.py ------------------------------------------------------------------------------


def test_summary_tables_are_documented_contracts():
    assert [t.name for t in summaries.SUMMARY_TABLES] == ["facet_counts", "document_facet_counts", "agreement"]
    for t in summaries.SUMMARY_TABLES:
        assert t.doc.strip()
        assert set(t.column_docs) == set(t.columns), t.name
        assert all(d.strip() for d in t.column_docs.values())
        pk = (t.pk,) if isinstance(t.pk, str) else t.pk
        assert set(pk) <= set(t.columns)


def test_full_refresh_is_exact(summary_db):
    conn = sqlite3.connect(summary_db)
    assert conn.execute("select count(*) from facet_counts").fetchone()[0] > 0
    assert_exact(conn)
    # refreshing again changes nothing
    before = conn.execute("select * from facet_counts order by 1, 2, 3").fetchall()
    summaries.refresh(conn)
    assert conn.execute("select * from facet_counts order by 1, 2, 3").fetchall() == before
    conn.rollback()


def test_incremental_refresh_follows_changed_and_deleted_documents(summary_db):
    conn = sqlite3.connect(summary_db)
    docs = [
        r[0]
        for r in conn.execute("select document_id from claims group by 1 order by count(*) desc")
    ]
    assert len(docs) >= 2, "the test data needs two documents with claims"
    gone, changed = docs[0], docs[1]
    # a deleted document: all its rows go (what an incremental build does)
    conn.execute("delete from evidence where document_id = ?", (gone,))
    for table in ("claims", "equations", "bibliography"):
        conn.execute(f"delete from [{table}] where document_id = ?", (gone,))
    # a changed document: statuses rewritten, a claim removed
    conn.execute(
        "update claims set status = 'speculative', claim_type = null where document_id = ?",
        (changed,),
    )
    conn.execute(
        "delete from claims where rowid = (select max(rowid) from claims where document_id = ?)",
        (changed,),
    )
    summaries.refresh(conn, {gone, changed})
    assert_exact(conn)
    assert (
        conn.execute(
            "select count(*) from document_facet_counts where document_id = ?", (gone,)
        ).fetchone()[0]
        == 0
    )
    assert conn.execute("select count(*) from facet_counts where count <= 0").fetchone()[0] == 0
    summaries.refresh(conn, [])  # nothing to do
    assert_exact(conn)
    conn.rollback()


def unsummarised_copy(built_db, tmp_path):
    """A copy of the built database without its summary tables (as an older claimkb wrote it)."""
    db = tmp_path / "x.db"
    shutil.copy(built_db, db)
    conn = sqlite3.connect(db)
    conn.execute("drop table if exists facet_counts")
    conn.execute("drop table if exists document_facet_counts")
    conn.commit()
    conn.close()
    return db


def test_incremental_refresh_of_a_database_never_summarised_is_a_full_one(built_db, tmp_path):
    db = unsummarised_copy(built_db, tmp_path)
    conn = sqlite3.connect(db)
    doc = conn.execute("select document_id from claims limit 1").fetchone()[0]
    summaries.refresh(conn, [doc])
    assert_exact(conn)
    conn.rollback()


def test_refresh_creates_its_tables_and_never_commits(built_db, tmp_path):
    db = unsummarised_copy(built_db, tmp_path)
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("begin")
    summaries.refresh(conn)
    assert conn.in_transaction
    conn.execute("rollback")
    assert not conn.execute("select 1 from sqlite_master where name = 'facet_counts'").fetchall()


# --- the plugin --------------------------------------------------------------------------------


FACET_URL = (
    "/claimkb/claims.json?_size=1&_facet=status&_facet=claim_type&_facet=voice&_facet=document_id"
)


def _facets(data: dict) -> dict:
    return {
        name: [(v["value"], v["count"], v["toggle_url"]) for v in f["results"]] + [f["truncated"]]
        for name, f in data["facet_results"].items()
    }


async def test_unfiltered_facets_from_the_summary_equal_datasettes(summary_db, plain_db):
    fast, slow = make_datasette(summary_db), make_datasette(plain_db)
    for path in (
        FACET_URL,
        "/claimkb/claims.json",
        "/claimkb/evidence.json",
        "/claimkb/bibliography.json",
        "/claimkb/equations.json?_facet_size=2",
        "/claimkb/claims_view.json",
        "/claimkb/claims_view.json?_facet=voice",
        "/claimkb/claims.json?_facet=status&_facet=voice&_facet_size=max",
    ):
        a, b = await get_json(fast, path), await get_json(slow, path)
        assert _facets(a) == _facets(b), path
        assert list(a["facet_results"]) == list(b["facet_results"]), path  # same order too
        assert a["facet_results"], path
        assert a["filtered_table_rows_count"] == b["filtered_table_rows_count"]
    # and the summary is what served them: a doctored count shows through
    conn = sqlite3.connect(summary_db)
    conn.execute("update facet_counts set count = count + 0 where table_name = 'claims'")
    value = conn.execute(
        "select value from facet_counts where table_name = 'claims' and column_name = 'status' limit 1"
    ).fetchone()[0]
    conn.execute(
        "update facet_counts set count = 987654 where table_name = 'claims' and column_name = 'status' and value = ?",
        (value,),
    )
    conn.commit()
    a = await get_json(make_datasette(summary_db), FACET_URL)
    assert (value, 987654) in [
        (v["value"], v["count"]) for v in a["facet_results"]["status"]["results"]
    ]


async def test_claims_view_count_and_facets_from_the_summary(summary_db, plain_db):
    fast, slow = make_datasette(summary_db), make_datasette(plain_db)
    a, b = (
        await get_json(fast, "/claimkb/claims_view.json"),
        await get_json(slow, "/claimkb/claims_view.json"),
    )
    assert a["filtered_table_rows_count"] == b["filtered_table_rows_count"] > 0
    assert a["rows"] == b["rows"] and _facets(a) == _facets(b)
    # a claim whose document is missing leaves the view: count still exact, facets back to SQL
    conn = sqlite3.connect(summary_db)
    conn.execute("pragma foreign_keys = off")
    conn.execute(
        "update claims set document_id = 'no-such-document' where rowid = (select min(rowid) from claims)"
    )
    summaries.refresh(conn)
    conn.commit()
    n = conn.execute("select count(*) from claims_view").fetchone()[0]
    a = await get_json(make_datasette(summary_db), "/claimkb/claims_view.json")
    assert a["filtered_table_rows_count"] == n == b["filtered_table_rows_count"] - 1
    status = a["facet_results"]["status"]["results"]
    assert sum(v["count"] for v in status) == n


def test_claims_view_is_what_view_sources_assumes():
    """VIEW_SOURCES: claims_view = claims joined (inner, on primary keys) to documents and evidence_statuses."""
    from claimkb.build.schema import VIEWS

    sql = " ".join(next(v.sql for v in VIEWS if v.name == "claims_view").split())
    assert (
        "from claims join documents on documents.id = claims.document_id "
        "join evidence_statuses on evidence_statuses.term = claims.status" in sql
    )
    assert " where " not in sql.split("from claims", 1)[1] and " left " not in sql.lower()
    for column in ("status", "document_id", "claim_type", "voice"):
        assert f"claims.{column}," in sql or f"claims.{column} " in sql


async def test_stale_or_missing_summary_falls_back_to_sql(summary_db, plain_db):
    slow = await get_json(make_datasette(plain_db), FACET_URL)
    assert _facets(slow)["status"][:-1], "Datasette's own facets work without the summary tables"
    conn = sqlite3.connect(summary_db)
    # a stale summary: its total no longer matches the table's row count
    conn.execute(
        "update facet_counts set count = count + 1 where table_name = 'claims' and column_name = 'document_id' "
        "and rowid = (select min(rowid) from facet_counts where table_name = 'claims' and column_name = 'document_id')"
    )
    conn.execute(
        "update facet_counts set count = 987654 where table_name = 'claims' and column_name = 'status'"
    )
    conn.commit()
    a = await get_json(make_datasette(summary_db), FACET_URL)
    assert _facets(a) == _facets(slow)


async def test_filtered_pages_use_datasettes_sql(summary_db, plain_db):
    fast, slow = make_datasette(summary_db), make_datasette(plain_db)
    status = sqlite3.connect(summary_db).execute("select status from claims limit 1").fetchone()[0]
    for path in (
        f"/claimkb/claims.json?status={status}",
        "/claimkb/claims.json?_search=energy",
        f"/claimkb/claims.json?_facet=status&status__not={status}",
    ):
        a, b = await get_json(fast, path), await get_json(slow, path)
        assert _facets(a) == _facets(b) and a["rows"] == b["rows"], path


async def test_default_facets_over_many_rows_are_offered_never_silently_empty(
    summary_db, plain_db, monkeypatch
):
    plain = make_datasette(plain_db)
    ds = make_datasette(summary_db)  # loads the plugin (again): patch the copy now in use
    monkeypatch.setitem(_plugin_globals(), "FACET_ROW_LIMIT", 0)
    # unfiltered pages always get their default facets, with or without the summary
    data = await get_json(plain, "/claimkb/claims.json")
    assert set(data["facet_results"]) == {"status", "document_id", "claim_type", "voice"}
    word = "the"
    data = await get_json(ds, f"/claimkb/claims.json?_search={word}")
    assert data["filtered_table_rows_count"] > 0
    assert data["facet_results"] == {}  # absent, not empty
    r = await ds.client.get(f"/claimkb/claims?_search={word}")
    html = r.text
    assert "ckb-facets-skipped" in html and "so these facets were not counted" in html
    for column in METADATA["databases"]["claimkb"]["tables"]["claims"]["facets"]:
        assert f"_facet={column}" in html
    # asked for, a facet is computed exactly, and the others are still offered
    data = await get_json(ds, f"/claimkb/claims.json?_search={word}&_facet=status")
    assert list(data["facet_results"]) == ["status"] and data["facet_results"]["status"]["results"]
    html = (await ds.client.get(f"/claimkb/claims?_search={word}&_facet=status")).text
    assert "_facet=voice" in html
    # unfiltered pages are not affected (the summary answers them)
    data = await get_json(ds, "/claimkb/claims.json")
    assert set(data["facet_results"]) == {"status", "document_id", "claim_type", "voice"}
    assert all(f["results"] for f in data["facet_results"].values())


async def test_search_page_fast_paths_give_the_same_rows_and_count(summary_db, monkeypatch):
    conn = sqlite3.connect(summary_db)
    words = [
        w
        for w in ("the", "energy", "claim", "of")
        if conn.execute(
            "select count(*) from claims_fts where claims_fts match ?", (w,)
        ).fetchone()[0]
        > 1
    ]
    assert words
    ds = make_datasette(summary_db)
    paths = [
        f"/claimkb/claims.json?_search={w}&_nofacet=1{s}"
        for w in words
        for s in ("", "&_size=2", "&_sort=document_id", "&_sort_desc=id", "&_sort=confidence")
    ]
    slow = {p: await get_json(ds, p) for p in paths}
    monkeypatch.setitem(_plugin_globals(), "INDEX_ORDER_MIN_MATCHES", 0)
    for p in paths:
        fast = await get_json(ds, p)
        for key in ("rows", "filtered_table_rows_count", "next"):
            assert fast[key] == slow[p][key], (p, key)
    w = words[0]
    want = conn.execute(
        "select count(*) from claims where rowid in (select rowid from claims_fts where claims_fts match ?)",
        (w,),
    ).fetchone()[0]
    assert (await get_json(ds, f"/claimkb/claims.json?_search={w}"))[
        "filtered_table_rows_count"
    ] == want


async def test_site_search_says_when_the_ranking_is_bounded(summary_db):
    ds = make_datasette(summary_db)
    sql = METADATA["databases"]["claimkb"]["queries"]["search"]["sql"]
    assert sql.count("limit 20000") == 4 and "ranked_among_first_20000" in sql
    data = await get_json(ds, "/claimkb/search.json?q=the&_shape=objects")
    assert data["rows"] and all(
        r["ranked_among_first_20000"] == "" for r in data["rows"]
    )  # small: exact
    html = (await ds.client.get("/claimkb/search?q=the")).text
    assert "Approximate ranking" not in html
    # the same query with a bound of 1 is approximate, and the page says so
    bounded = (
        sql.replace("limit 20000", "limit 1")
        .replace("limit 20001", "limit 2")
        .replace("> 20000", "> 1")
    )
    conn = sqlite3.connect(summary_db)
    conn.create_function("escape_fts", 1, lambda q: " ".join(f'"{t}"' for t in q.split()))
    rows = conn.execute(bounded, {"q": "the"}).fetchall()
    assert rows and rows[0][-1] == "claims" or "claims" in rows[0][-1]
    assert len([r for r in rows if r[0] == "claim"]) == 1


def test_datasette_internals_the_plugin_relies_on_are_unchanged():
    """If this fails, Datasette changed: re-read plugins/claimkb_facets.py against the new code."""
    import datasette
    from datasette.database import Database
    from datasette.facets import ColumnFacet
    from datasette.views import table

    assert datasette.__version__ == "0.65.5"
    orig = (
        ColumnFacet._claimkb_original_facet_results
        if hasattr(ColumnFacet, "_claimkb_original_facet_results")
        else ColumnFacet.facet_results
    )
    src = inspect.getsource(orig)
    assert (
        "facet_size + 1" in src
        and "order by count desc, value" in src
        and "expand_foreign_keys" in src
    )
    assert "self.get_configs()" in src and "path_with_removed_args" in src
    assert hashlib.sha256(src.encode()).hexdigest()[:16] == FACET_RESULTS_SHA
    view = inspect.getsource(table)
    for needle in (
        'count_sql = f"select count(*) {from_sql}"',
        '"select {select_specified_columns} from {table_name} {where}{order_by} limit {page_size}{offset}"',
        '"select {select_all_columns} from {table_name} {where}"',
        "row_count=filtered_table_rows_count",
    ):
        assert needle in view, needle
    filters = inspect.getsource(__import__("datasette.filters", fromlist=["x"]))
    assert (
        '"{fts_pk} in (select rowid from {fts_table} where {fts_table} match {match_clause})"'
        in filters
    )
    assert "escape_fts(:search_{})" in filters or "escape_fts(:search)" in filters
    execute = (
        Database._claimkb_original_execute
        if hasattr(Database, "_claimkb_original_execute")
        else Database.execute
    )
    assert list(inspect.signature(execute).parameters)[:3] == ["self", "sql", "params"]


#: sha256 (first 16 hex digits) of ColumnFacet.facet_results in Datasette 0.65.5
FACET_RESULTS_SHA = "00928d1c82a97035"


async def test_vocabulary_cache_follows_in_place_updates(summary_db):
    """Builds now update the served file in place (WAL): cached colours/definitions must follow."""
    ds = make_datasette(summary_db)
    term = (
        sqlite3.connect(summary_db)
        .execute("select term from evidence_statuses order by rank limit 1")
        .fetchone()[0]
    )
    before = (await ds.client.get("/vocabulary")).text
    assert "A brand-new definition" not in before
    conn = sqlite3.connect(summary_db)
    conn.execute(
        "update evidence_statuses set definition = 'A brand-new definition.' where term = ?",
        (term,),
    )
    conn.commit()
    conn.close()
    after = (await ds.client.get("/vocabulary")).text
    assert "A brand-new definition" in after
    html = (await ds.client.get("/claimkb/claims")).text  # badges' hover text too
    assert "A brand-new definition" in html


# --- plugins/claimkb_labels.py ------------------------------------------------------------------

#: sha256 (first 16 hex digits) of Datasette.expand_foreign_keys in Datasette 0.65.5
EXPAND_FOREIGN_KEYS_SHA = "2e287d35cf69e4e2"


def test_expand_foreign_keys_the_labels_plugin_wraps_is_unchanged():
    """If this fails, Datasette changed: re-read plugins/claimkb_labels.py against the new code."""
    from datasette.app import Datasette

    make_datasette  # the plugin is loaded by a Datasette with the site's plugins
    orig = getattr(
        Datasette, "_claimkb_original_expand_foreign_keys", Datasette.expand_foreign_keys
    )
    src = inspect.getsource(orig)
    assert "label_column_for_table" in src and "where {other_column} in ({placeholders})" in src
    assert hashlib.sha256(src.encode()).hexdigest()[:16] == EXPAND_FOREIGN_KEYS_SHA


async def test_vocabulary_labels_without_a_query_equal_datasettes(summary_db):
    """claimkb_labels answers foreign keys into vocabulary tables from the cached vocabulary:
    for every foreign key of every table, with every value the column holds plus values that
    are not terms, the answer must be the one Datasette's own method computes with SQL."""
    from datasette.app import Datasette

    ds = make_datasette(summary_db)
    await ds.invoke_startup()
    assert "claimkb_labels" in Datasette.expand_foreign_keys.__module__  # the plugin is in place
    original = Datasette._claimkb_original_expand_foreign_keys
    db = ds.get_database("claimkb")
    conn = sqlite3.connect(summary_db)
    tables = [r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")]
    compared = short_cut = 0
    for table in tables:
        for fk in await db.foreign_keys_for_table(table):
            column = fk["column"]
            values = [
                r[0] for r in conn.execute(f"select distinct [{column}] from [{table}] limit 50")
            ]
            values += ["no-such-term", "Supported", None]
            got = await ds.expand_foreign_keys("claimkb", table, column, values)
            want = await original(ds, "claimkb", table, column, values)
            assert got == want, (table, column)
            compared += 1
            short_cut += fk["other_table"] in {"evidence_statuses", "claim_types", "voices"}
    conn.close()
    assert compared >= 10 and short_cut >= 3
    # and it counts as a short cut only if no query ran: a vocabulary column costs none
    queries = []
    orig_execute = db.execute

    async def counting(sql, *a, **kw):
        queries.append(sql)
        return await orig_execute(sql, *a, **kw)

    db.execute = counting
    await ds.expand_foreign_keys("claimkb", "claims", "status", ["supported"])
    await ds.expand_foreign_keys("claimkb", "claims", "status", ["supported"])
    db.execute = orig_execute
    assert queries == []


# --- plugins/claimkb_schema.py ------------------------------------------------------------------


def _schema_plugin():
    from datasette.database import Database

    from claimkb.site.plugins import claimkb_schema  # noqa: F401  (the module, for its names)

    return claimkb_schema, Database


def _schema_calls(table: str, kind: str) -> list[tuple[str, tuple]]:
    calls = [
        ("table_exists", (table,)),
        ("table_columns", (table,)),
        ("table_column_details", (table,)),
        ("primary_keys", (table,)),
        ("fts_table", (table,)),
        ("foreign_keys_for_table", (table,)),
        ("get_table_definition", (table, kind)),
    ]
    return calls + [("table_names", ()), ("view_names", ()), ("get_all_foreign_keys", ())]


async def test_schema_cache_answers_equal_datasettes_and_run_no_query(summary_db):
    """Every cached schema look-up, for every table and view, equals Datasette's own answer;
    asked again, it runs no query; what the caller receives can be changed without harm."""
    plugin, Database = _schema_plugin()
    ds = make_datasette(summary_db)
    await ds.invoke_startup()
    db = ds.get_database("claimkb")
    assert type(db).__name__ == "CachingDatabase" and type(ds.get_database("_internal")) is Database
    conn = sqlite3.connect(summary_db)
    objects = conn.execute(
        "select name, type from sqlite_master where type in ('table', 'view')"
    ).fetchall()
    conn.close()
    assert len(objects) > 20
    for name, kind in objects + [("no_such_table", "table"), ("CLAIMS", "table")]:
        for method, args in _schema_calls(name, kind):
            want = await getattr(Database, method)(db, *args)  # Datasette's, uncached
            assert await getattr(db, method)(*args) == want, (method, args)
    sql = next(iter(plugin.SCHEMA_SQL))
    for name in ("Claims", "claims_view", "nope"):
        want = [tuple(r) for r in (await Database.execute(db, sql, (name,))).rows]
        assert [tuple(r) for r in (await db.execute(sql, (name,))).rows] == want
    assert {m for m, _ in _schema_calls("claims", "table")} == set(plugin.CACHED_METHODS)

    hops = []
    orig_fn = db.execute_fn

    async def counting(fn):
        hops.append(fn)
        return await orig_fn(fn)

    db.execute_fn = counting
    for method, args in _schema_calls("claims", "table"):
        got = await getattr(db, method)(*args)
        if isinstance(got, list) and got and isinstance(got[0], dict):
            got[0]["column"] = "changed by the caller"
        elif isinstance(got, list):
            got.append("changed by the caller")
    await db.execute(sql, ("claims",))
    for method, args in _schema_calls(
        "claims", "table"
    ):  # the caller's changes did not reach the cache
        assert await getattr(db, method)(*args) == await getattr(Database, method)(db, *args), (
            method
        )
    n_uncached = len(hops)
    hops.clear()
    for method, args in _schema_calls("claims", "table"):
        await getattr(db, method)(*args)
    await db.execute(sql, ("claims",))
    del db.execute_fn
    assert n_uncached > 10 and hops == []


async def test_schema_cache_sees_an_altered_or_replaced_file_at_once(summary_db, tmp_path):
    """A build changes the served file in place (WAL commits, or the backup API after a full
    build): the next page shows the new schema, and Datasette's own record of it (_internal)
    is refreshed, while an unchanged file is not asked again."""
    ds = make_datasette(summary_db)
    first = await get_json(ds, "/claimkb/claims.json?_size=1")
    assert "zz_added" not in first["columns"]
    await get_json(
        ds, "/claimkb/claims.json?_size=1"
    )  # (the first reader created the -wal file: a change)
    internal = ds.get_database("_internal")
    versions = "select schema_version from databases where database_name = 'claimkb'"
    before = (await internal.execute(versions)).rows[0][0]
    db = ds.get_database("claimkb")
    asked = []  # what really went to SQLite (each a hand-over to a thread): SQL, or the function's name
    orig_fn = db.execute_fn

    async def counting(fn):
        asked.append(inspect.getclosurevars(fn).nonlocals.get("sql") or fn.__qualname__)
        return await orig_fn(fn)

    db.execute_fn = counting
    for _ in range(3):
        await get_json(ds, "/claimkb/claims.json?_size=1")
    schema_questions = [
        q for q in asked if "schema_version" in q or "sqlite_master" in q or "<lambda>" in q
    ]
    assert asked and schema_questions == []

    conn = sqlite3.connect(summary_db)  # in place, as an incremental build writes (WAL)
    conn.execute("alter table claims add column zz_added text")
    conn.commit()
    conn.close()
    asked.clear()
    data = await get_json(ds, "/claimkb/claims.json?_size=1")
    assert "zz_added" in data["columns"] and "PRAGMA schema_version" in asked
    assert (await internal.execute(versions)).rows[0][0] != before
    cols = (
        await internal.execute(
            "select name from columns where database_name = 'claimkb' and table_name = 'claims'"
        )
    ).rows
    assert "zz_added" in {r[0] for r in cols}

    other = tmp_path / "other.db"  # a different database copied in, as a full build installs one
    conn = sqlite3.connect(other)
    with sqlite3.connect(summary_db) as served:
        served.backup(conn)
    conn.execute("alter table claims drop column zz_added")
    conn.execute("create table zz_new_table (id integer primary key)")
    conn.commit()
    src, dst = sqlite3.connect(other), sqlite3.connect(summary_db)
    src.backup(dst)
    dst.execute("pragma wal_checkpoint(truncate)")
    src.close()
    dst.close()
    data = await get_json(ds, "/claimkb/claims.json?_size=1")
    assert "zz_added" not in data["columns"]
    assert (await ds.client.get("/claimkb/zz_new_table.json")).status_code == 200


def _schema_sources() -> str:
    from datasette.app import Datasette

    plugin, Database = _schema_plugin()
    parts = [inspect.getsource(getattr(Database, m)) for m in plugin.CACHED_METHODS]
    parts += [
        inspect.getsource(getattr(Datasette, m))
        for m in ("refresh_schemas", "_refresh_schemas", "permission_allowed")
    ]
    return "".join(parts)


#: sha256 (first 16 hex digits) of what claimkb_schema wraps, in Datasette 0.65.5
SCHEMA_SOURCES_SHA = "01f183096298e3ac"


def test_what_the_schema_plugin_wraps_is_unchanged():
    """If this fails, Datasette changed: re-read plugins/claimkb_schema.py against the new code
    (is every cached method still a pure schema look-up? does refresh_schemas still only
    follow schema changes? is the permission check's SQL still the one cached?)."""
    import ast
    import textwrap

    from datasette.app import Datasette

    plugin, _ = _schema_plugin()
    tree = ast.parse(textwrap.dedent(inspect.getsource(Datasette.permission_allowed)))
    strings = {
        n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    }
    assert plugin.SCHEMA_SQL <= strings
    assert hashlib.sha256(_schema_sources().encode()).hexdigest()[:16] == SCHEMA_SOURCES_SHA


async def test_facets_of_a_small_filtered_page_from_one_query_equal_datasettes(
    summary_db, monkeypatch
):
    """A filtered page matching at most MERGE_FACET_ROWS rows gets all its facets from one
    query; the results (values, counts, order, labels, links, truncation) equal those of
    Datasette's one query per facet."""
    ds = make_datasette(summary_db)
    conn = sqlite3.connect(summary_db)
    status, doc = conn.execute("select status, document_id from claims limit 1").fetchone()
    paths = [
        f"/claimkb/claims.json?status={status}",
        "/claimkb/claims.json?_search=energy",
        f"/claimkb/claims.json?document_id={doc}&_facet_size=2",
        "/claimkb/claims.json?_search=the&_facet=section",
        "/claimkb/claims.json?_search=the&_facet_size=1",
        "/claimkb/claims.json?_search=the&_facet_size=2",
        f"/claimkb/equations.json?document_id={doc}",
        f"/claimkb/evidence.json?document_id={doc}",
        f"/claimkb/bibliography.json?document_id={doc}&_facet=year",
    ]
    merged = {p: await get_json(ds, p) for p in paths}
    hops = []
    db = ds.get_database("claimkb")
    orig_fn = db.execute_fn

    async def counting(fn):
        hops.append(inspect.getclosurevars(fn).nonlocals.get("sql") or "")
        return await orig_fn(fn)

    db.execute_fn = counting
    await get_json(ds, paths[0])
    assert sum("page_rows" in q for q in hops) == 1 and not any(
        " as value, count(*) as count from (" in q for q in hops
    )
    del db.execute_fn
    monkeypatch.setitem(_plugin_globals(), "MERGE_FACET_ROWS", 0)  # Datasette's own queries
    for p in paths:
        want = await get_json(ds, p)
        assert want["facet_results"], p
        assert 0 < merged[p]["filtered_table_rows_count"] == want["filtered_table_rows_count"], p
        assert list(merged[p]["facet_results"]) == list(want["facet_results"]), p
        assert merged[p]["facet_results"] == want["facet_results"], p
    truncated = [f for p in paths for f in merged[p]["facet_results"].values() if f["truncated"]]
    assert len(truncated) >= 3  # the limit of facet size + 1 rows was exercised


async def test_search_count_comes_from_the_plan_check_within_one_request_only(summary_db):
    """A rare word's bounded count (which chose the plan) answers the page's count query;
    it is remembered for that request only: a claim added in place counts at once."""
    ds = make_datasette(summary_db)
    word = "zzuniqueword"
    data = await get_json(ds, f"/claimkb/claims.json?_search={word}")
    assert data["filtered_table_rows_count"] == 0
    db = ds.get_database("claimkb")
    hops = []
    orig_fn = db.execute_fn

    async def counting(fn):
        hops.append(inspect.getclosurevars(fn).nonlocals.get("sql") or "")
        return await orig_fn(fn)

    db.execute_fn = counting
    conn = sqlite3.connect(summary_db)  # claims added in place, as an incremental build adds them
    columns = [r[1] for r in conn.execute("pragma table_info(claims)")]

    def add_claim(n: int) -> None:
        rowid = conn.execute("select max(rowid) + 1 from claims").fetchone()[0]
        values = ", ".join(
            {"id": f"'{word}-{n}'", "statement": f"'a {word} claim'"}.get(c, f"[{c}]")
            for c in columns
        )
        conn.execute(
            f"insert into claims (rowid, {', '.join(columns)}) select {rowid}, {values} from claims limit 1"
        )
        conn.execute(
            "insert into claims_fts (rowid, statement, quote, rationale) "
            "select rowid, statement, quote, rationale from claims where rowid = ?",
            (rowid,),
        )
        conn.commit()

    for n in (1, 2):
        add_claim(n)
        hops.clear()
        data = await get_json(ds, f"/claimkb/claims.json?_search={word}")
        assert data["filtered_table_rows_count"] == n == len(data["rows"])
        assert any("limit :n)" in q for q in hops)  # the bounded count ran
        assert not any(q.startswith("select count(*) from claims_fts where") for q in hops), hops
    # one more claim, then the second page (a plan without the bounded count): its count is fresh
    first = await get_json(ds, f"/claimkb/claims.json?_search={word}&_size=1")
    assert first["filtered_table_rows_count"] == 2 and first["next"]
    add_claim(3)
    hops.clear()
    second = await get_json(
        ds, f"/claimkb/claims.json?_search={word}&_size=1&_next={first['next']}"
    )
    assert second["filtered_table_rows_count"] == 3 and not any("limit :n)" in q for q in hops)
    conn.close()


# --- plugins/claimkb_table.py -------------------------------------------------------------------

#: sha256 (first 16 hex digits) of Datasette 0.65.5's templates/_table.html
TABLE_TEMPLATE_SHA = "f75a8872713f28fd"


def test_the_table_template_rendered_in_python_is_unchanged():
    """If this fails, Datasette's _table.html changed: make plugins/claimkb_table.py build what it builds."""
    import datasette

    src = (Path(datasette.__file__).parent / "templates" / "_table.html").read_bytes()
    assert hashlib.sha256(src).hexdigest()[:16] == TABLE_TEMPLATE_SHA


async def test_rows_table_in_python_equals_datasettes_template(summary_db, tmp_path):
    """Pages of every table and view, sorted each way, searched, empty, and row pages: the HTML with
    templates/_table.html (claimkb_table.rows_table) equals the HTML with Datasette's own."""
    import re

    from datasette.app import Datasette
    from datasette.utils import tilde_encode

    shutil.copytree(SITE / "templates", tmp_path / "templates")
    (tmp_path / "templates" / "_table.html").unlink()  # Datasette's own _table.html
    ours = make_datasette(summary_db)
    theirs = Datasette(
        [str(summary_db)],
        metadata=METADATA,
        template_dir=str(tmp_path / "templates"),
        plugins_dir=str(SITE / "plugins"),
        static_mounts=[("static", str(SITE / "static"))],
        settings=SETTINGS,
    )
    conn = sqlite3.connect(summary_db)
    objects = [
        r[0]
        for r in conn.execute(
            "select name from sqlite_master where type in ('table', 'view') and name not like '%_fts%' order by name"
        )
    ]
    rows = [
        ("evidence", conn.execute("select id from evidence limit 1").fetchone()[0]),
        ("checks", conn.execute("select id from checks limit 1").fetchone()[0]),
        (
            "evidence_statuses",
            conn.execute("select term from evidence_statuses limit 1").fetchone()[0],
        ),
    ]
    conn.close()
    paths = [f"/claimkb/{name}?_size=7" for name in objects]
    paths += [
        f"/claimkb/{table}/{tilde_encode(str(key))}" for table, key in rows
    ]  # row pages include _table.html too
    paths += [
        "/claimkb/claims?_search=energy",
        "/claimkb/claims?_sort=confidence",
        "/claimkb/claims?_sort_desc=confidence",
        "/claimkb/claims?_search=zzzznotthere",
        "/claimkb/documents?_sort=title&_size=3",
        "/claimkb/equations?_size=5",
        "/claimkb/claims_view?_size=3&_sort=id",
    ]
    timing = re.compile(r"Queries took [0-9.]+ms")
    compared = 0
    for path in paths:
        a, b = await ours.client.get(path), await theirs.client.get(path)
        assert a.status_code == b.status_code == 200, path
        assert timing.sub("", a.text) == timing.sub("", b.text), path
        compared += 'class="rows-and-columns"' in a.text
    assert compared >= 15
    assert (
        'class="zero-results"'
        in (await ours.client.get("/claimkb/claims?_search=zzzznotthere")).text
    )

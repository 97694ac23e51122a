"""The plugin's hook implementations: every way the site extends Datasette.

Only documented plugin hooks, documented methods of the ``datasette`` object and the
``Database`` class, and the public names of the ``datasette`` package are used. What
differs between the 0.65 and 1.0 lines is chosen by what the object offers:

* table and column descriptions come from the ``table_docs`` table the build writes: on
  0.65 through the ``get_metadata`` hook, on 1.0 through ``set_resource_metadata`` and
  ``set_column_metadata`` at startup (1.0 has no such hook, 0.65 no such methods);
* a link to run SQL uses ``urls.database_query`` where it exists (1.0), else the 0.65 form.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from importlib.resources import files
from typing import Any

from datasette import hookimpl

from . import cells, guard, kb, watchdog
from .pages import layout_scripts, routes

#: what the instance says of itself on Datasette's own pages
INSTANCE = {
    "title": "claimkb",
    "description": "Claims, equations and references of documents, each with an evidence "
    "status, the exact quote, the reasoning and the evidence behind it.",
    "license": "Apache-2.0 (curation and code); quoted texts remain their authors' work",
}
_STATIC = files("claimkb.site") / "static"
_docs: dict[int, dict[str, Any]] = {}


def _version(name: str) -> str:
    return hashlib.sha256((_STATIC / name).read_bytes()).hexdigest()[:12]


_CSS = f"claimkb.css?v={_version('claimkb.css')}"
_JS = f"claimkb.js?v={_version('claimkb.js')}"


@hookimpl
def register_routes(datasette):
    return routes()


@hookimpl
def extra_css_urls(datasette):
    return [datasette.urls.static_plugins("claimkb", _CSS)]


@hookimpl
def extra_js_urls(datasette):
    return [datasette.urls.static_plugins("claimkb", _JS)]


_OWN = [re.compile(pattern) for pattern, _ in routes()]


def _own(path: str) -> bool:
    """Whether `path` is one of the site's own pages."""
    return any(p.match(path) for p in _OWN)


@hookimpl
def asgi_wrapper(datasette):
    threads = datasette.setting("num_sql_threads") or 1
    return guard.wrapper(_own, lambda: layout_scripts(datasette), sql_slots=max(1, threads - 1))


@hookimpl
def prepare_connection(conn, database, datasette):
    """On a knowledge base's connections, the SQL time limit holds within FTS5 calls too."""
    tables = {r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")}
    if kb.KB_TABLES <= tables:
        watchdog.watch(conn, datasette.setting("sql_time_limit_ms") / 1000)


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    if table is None or database not in (kb.known(datasette) or ()):
        return None

    async def cell():
        vocab = await kb.vocabulary(datasette.get_database(database))
        return cells.render_cell(value, column, table, vocab, datasette)

    return cell


def _read_docs(path: str) -> dict[str, Any]:
    """{table: {"description": ..., "columns": {column: description}}} from table_docs."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        found = conn.execute("select table_name, column_name, description from table_docs")
        tables: dict[str, Any] = {}
        for t, c, d in found:
            entry = tables.setdefault(t, {"columns": {}})
            if c:
                entry["columns"][c] = d
            else:
                entry["description"] = d
        return tables
    finally:
        conn.close()


@hookimpl
def startup(datasette):
    async def inner():
        names = await kb.databases(datasette)
        docs = {
            n: _read_docs(datasette.get_database(n).path)
            for n in names
            if datasette.get_database(n).path
        }
        _docs[id(datasette)] = docs
        if hasattr(datasette, "set_column_metadata"):  # Datasette 1.0: metadata lives there
            await _store_metadata(datasette, docs)

    return inner


async def _store_metadata(datasette: Any, docs: dict[str, Any]) -> None:
    for key, value in INSTANCE.items():
        await datasette.set_instance_metadata(key, value)
    for db, tables in docs.items():
        for table, entry in tables.items():
            if entry.get("description"):
                await datasette.set_resource_metadata(
                    db, table, "description", entry["description"]
                )
            for column, text in entry["columns"].items():
                await datasette.set_column_metadata(db, table, column, "description", text)


@hookimpl(optionalhook=True)
def get_metadata(datasette, key, database, table):
    """Datasette 0.65: the descriptions of the claimkb databases' tables and columns."""
    docs = _docs.get(id(datasette))
    if not docs:
        return {}
    return {**INSTANCE, "databases": {name: {"tables": tables} for name, tables in docs.items()}}

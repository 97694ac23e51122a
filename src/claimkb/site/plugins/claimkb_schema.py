"""Schema look-ups answered from a cache (Datasette 0.65.5 internals: see below).

Datasette asks SQLite about the database's shape on every page: which tables exist, their
columns, primary keys, foreign keys, full-text index, definition, and (before anything else)
whether any schema changed. Each question is a query handed to a thread. A searched claims
page asked 19 of them for 9 queries that read rows; each hand-over costs 0.1-0.3 ms here.

The answers change only when the database file does. This plugin keeps them per database,
keyed by the file's identity (common.db_stamp: inode, modification time and size of the file
and of its WAL; a build either replaces the file, new inode, or commits to it in place, which
changes the WAL or the file), and asks SQLite again as soon as the stamp differs. Nothing
that reads rows is cached. In-memory databases (whose changes no file shows) are never
cached; an immutable database (`-i`) keeps its answers, as it cannot change.

How: at startup, each file-backed database served gets the subclass CachingDatabase (its
methods call Database's, so other plugins' wrappers of Database still apply, in any order),
and the Datasette instance a `_refresh_schemas` that notes the stamps it refreshed for, so
that `refresh_schemas` skips the work while no stamp has changed. A cached value is handed
out as a copy: callers may change what they receive.

Same answers as Datasette's (tests/test_site_speed.py compares them for every table and
view, and checks that a replaced or altered file is seen at once); tests/test_site_speed.py
also fails if the source of anything wrapped here changes.
"""

from __future__ import annotations

import copy

from datasette import hookimpl
from datasette.database import Database, Results

from claimkb.site import common as C

#: Database methods whose answer depends only on the schema (each reads sqlite_master or a
#: schema pragma); table_exists, table_names, view_names and get_table_definition run SQL,
#: the others a function in a thread
CACHED_METHODS = (
    "table_exists",
    "table_names",
    "view_names",
    "table_columns",
    "table_column_details",
    "primary_keys",
    "fts_table",
    "foreign_keys_for_table",
    "get_all_foreign_keys",
    "get_table_definition",
)

#: SQL that Datasette runs inline (Datasette.permission_allowed: the table's name as SQLite
#: spells it) whose answer depends only on the schema
SCHEMA_SQL = frozenset(
    {
        "select name from sqlite_master where type in ('table', 'view') and name = ? collate nocase",
    }
)


class CachingDatabase(Database):
    """A Database whose schema look-ups are cached while the file is unchanged."""

    def _schema_cache(self) -> dict:
        stamp = C.db_stamp(self)
        entry = self.__dict__.get("_claimkb_schema_cache")
        if entry is None or entry[0] != stamp:
            entry = (stamp, {})
            self.__dict__["_claimkb_schema_cache"] = entry
        return entry[1]

    async def _cached(self, key, compute):
        cache = (
            self._schema_cache()
        )  # stamp taken before asking: a change meanwhile is seen next time
        if key not in cache:
            cache[key] = await compute()
        return _copy(cache[key])

    async def execute(self, sql, params=None, *args, **kwargs):
        if (
            isinstance(sql, str)
            and sql in SCHEMA_SQL
            and isinstance(params, (list, tuple))
            and not args
            and not kwargs
        ):
            return await self._cached(
                ("sql", sql, tuple(params)),
                lambda: super(CachingDatabase, self).execute(sql, params),
            )
        return await super().execute(sql, params, *args, **kwargs)


def _copy(value):
    """A copy the caller may change without changing the cache (rows, strings and
    namedtuples are immutable; lists and dicts are not)."""
    if isinstance(value, Results):
        return Results(list(value.rows), value.truncated, value.description)
    if isinstance(value, list):
        return [dict(v) if isinstance(v, dict) else v for v in value]
    if isinstance(value, dict):
        return copy.deepcopy(value)
    return value


def _cached_method(name: str):
    original = getattr(Database, name)

    async def method(self: CachingDatabase, *args):
        return await self._cached(
            (name, args), lambda: getattr(super(CachingDatabase, self), name)(*args)
        )

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"Database.{name}, answered from the cache while the file is unchanged."
    method.__wrapped__ = original
    return method


for _name in CACHED_METHODS:
    setattr(CachingDatabase, _name, _cached_method(_name))


def _stamps(datasette) -> tuple | None:
    """The stamps of every database but _internal (Datasette's own, whose schema only
    Datasette changes); None if one of them is in memory (no file shows its changes)."""
    out = []
    for name, db in datasette.databases.items():
        if name == "_internal":
            continue
        if db.is_memory or not db.path:
            return None
        out.append((name, C.db_stamp(db)))
    return tuple(out)


def _skip_unchanged_refresh(datasette) -> None:
    refresh = datasette._refresh_schemas  # runs under Datasette's lock (refresh_schemas)
    refresh_all = datasette.refresh_schemas

    async def _refresh_schemas():
        stamps = _stamps(datasette)  # taken before refreshing: a change meanwhile is seen next time
        await refresh()
        datasette.__dict__["_claimkb_refreshed_for"] = stamps

    async def refresh_schemas():
        stamps = _stamps(datasette)
        if stamps is not None and stamps == datasette.__dict__.get("_claimkb_refreshed_for"):
            return
        await refresh_all()

    datasette._refresh_schemas = _refresh_schemas
    datasette.refresh_schemas = refresh_schemas


@hookimpl
def startup(datasette):
    for db in datasette.databases.values():
        if type(db) is Database and db.path and not db.is_memory:
            db.__class__ = CachingDatabase
    if "_claimkb_refreshed_for" not in datasette.__dict__:
        datasette.__dict__["_claimkb_refreshed_for"] = None
        _skip_unchanged_refresh(datasette)

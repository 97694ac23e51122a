"""Where the knowledge base is, and what the pages read from it.

The site knows the database and nothing else: a served database is a claimkb database
when it has the tables a build writes (``KB_TABLES``), whatever its file is called, and
every page reads it through Datasette's documented ``Database.execute``. What rarely
changes (the vocabulary) is cached until the file changes.
"""

from __future__ import annotations

import os
import weakref
from typing import Any

from datasette import NotFound

#: tables every claimkb build writes; a database with all of them is a knowledge base
KB_TABLES = frozenset(
    {
        "documents",
        "claims",
        "equations",
        "bibliography",
        "evidence",
        "evidence_statuses",
        "table_docs",
        "build_info",
    }
)

_found: weakref.WeakKeyDictionary[Any, list[str]] = weakref.WeakKeyDictionary()
_vocab: dict[tuple[int, str], tuple[tuple, dict]] = {}


async def databases(datasette: Any) -> list[str]:
    """Names of the served databases that are claimkb databases (looked up once)."""
    names = _found.get(datasette)
    if names is None:
        names = []
        for name, db in datasette.databases.items():
            if name.startswith("_"):
                continue
            try:
                tables = set(await db.table_names())
            except Exception:  # noqa: BLE001 - an unreadable file is not a knowledge base
                continue
            if KB_TABLES <= tables:
                names.append(name)
        _found[datasette] = names
    return names


async def database(datasette: Any) -> Any:
    """The knowledge base's Database (the first served claimkb database)."""
    names = await databases(datasette)
    if not names:
        raise NotFound("No claimkb database is being served.")
    return datasette.get_database(names[0])


async def rows(db: Any, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The rows of one fixed, parameterised query, as dicts (under the SQL time limit)."""
    return [dict(r) for r in (await db.execute(sql, params or {})).rows]


async def one(db: Any, sql: str, params: dict[str, Any], what: str) -> dict[str, Any]:
    found = await rows(db, sql, params)
    if not found:
        raise NotFound(f"There is no {what} {params.get('id')!r} in the knowledge base.")
    return found[0]


def stamp(db: Any) -> tuple:
    """Changes whenever the served file does (a build replaced it or committed to it)."""
    path = getattr(db, "path", None)
    if not path:
        return ()
    out = []
    for p in (path, f"{path}-wal"):
        try:
            st = os.stat(p)
            out.append((st.st_ino, st.st_mtime_ns, st.st_size))
        except OSError:
            out.append(None)
    return tuple(out)


async def vocabulary(db: Any) -> dict[str, dict[str, dict[str, Any]]]:
    """vocabulary -> term -> {rank, colour, text_colour, definition}; cached per file state."""
    key = (id(db), db.name)
    now = stamp(db)
    hit = _vocab.get(key)
    if hit is not None and hit[0] == now:
        return hit[1]
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for r in await rows(
        db,
        "select vocabulary, term, rank, colour, text_colour, definition "
        "from vocabulary order by vocabulary, rank",
    ):
        out.setdefault(r["vocabulary"], {})[r["term"]] = r
    _vocab[key] = (now, out)
    return out


async def etag(db: Any) -> str:
    """A validator for the pages of this database: changes with every build."""
    return 'W/"ckb-' + "-".join(str(abs(hash(x))) for x in stamp(db)) + '"'


def known(datasette: Any) -> list[str] | None:
    """The claimkb databases found at startup (None before)."""
    return _found.get(datasette)

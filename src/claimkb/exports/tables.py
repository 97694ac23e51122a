"""The whole knowledge base, table by table: JSON Lines and CSV.

Tables are the data tables of the built database (the vocabularies, documents,
claims, equations, bibliography, evidence, claim_links, claim_citations,
equation_citations, checks, and any other plain table a later build adds), in
the order of ``schema.TABLES`` (parents before children); views, the
full-text-search tables and the facet counts of summaries.py (all derived from
the others) are left out. Rows come in rowid order: the build's insertion order
(an incremental build appends the rows of the documents it re-read).

- ``jsonl``: one JSON object per line, ``{"table": NAME, "row": {column: value}}``.
  JSON keeps integers, reals, text and null apart, so the file is an exact copy.
- ``csv``: one ``NAME.csv`` per table (UTF-8, header row, RFC 4180 quoting), in a
  directory or a ``.zip``, plus ``datapackage.json`` (a Frictionless Data
  Package naming each file's columns and their types). CSV cannot tell NULL from
  an empty string: both are an empty cell (the data package says so with
  ``missingValues: [""]``); use jsonl when that difference matters.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..build.schema import TABLES
from ..build.summaries import SUMMARY_TABLES
from ..fileio import atomic_path

#: counts of the other tables, kept for the site's speed: not data of their own
DERIVED = frozenset(t.name for t in SUMMARY_TABLES)


def table_names(conn: sqlite3.Connection) -> list[str]:
    """Data tables of the database, parents first; no views, no FTS tables."""
    rows = conn.execute("select name, sql from sqlite_master where type = 'table'").fetchall()
    virtual = [
        r["name"] for r in rows if (r["sql"] or "").upper().startswith("CREATE VIRTUAL TABLE")
    ]
    names = []
    for r in rows:
        n = r["name"]
        if (
            n.startswith("sqlite_")
            or n in virtual
            or any(n.startswith(v + "_") for v in virtual)
            or n in DERIVED
        ):
            continue
        names.append(n)
    order = {t.name: i for i, t in enumerate(TABLES)}
    return sorted(names, key=lambda n: (order.get(n, len(order)), n))


def columns(conn: sqlite3.Connection, table: str) -> list[tuple[str, str]]:
    """(name, declared type) of each column."""
    return [
        (r["name"], (r["type"] or "").upper())
        for r in conn.execute(f"pragma table_info([{table}])")
    ]


def _has_rowid(conn: sqlite3.Connection, table: str) -> bool:
    try:
        conn.execute(f"select rowid from [{table}] limit 1").fetchall()
        return True
    except sqlite3.OperationalError:
        return False


def table_rows(conn: sqlite3.Connection, table: str) -> Iterator[sqlite3.Row]:
    if _has_rowid(conn, table):
        order = "rowid"
    else:
        pk = [r["name"] for r in conn.execute(f"pragma table_info([{table}])") if r["pk"]]
        order = ", ".join(f"[{c}]" for c in pk) or "1"
    yield from conn.execute(f"select * from [{table}] order by {order}")


def iter_jsonl(conn: sqlite3.Connection) -> Iterator[str]:
    for t in table_names(conn):
        for r in table_rows(conn, t):
            yield json.dumps({"table": t, "row": dict(r)}, ensure_ascii=False) + "\n"


def _frictionless_type(decl: str) -> str:
    if "INT" in decl:
        return "integer"
    if any(x in decl for x in ("REAL", "FLOA", "DOUB")):
        return "number"
    return "string"


def csv_text(conn: sqlite3.Connection, table: str) -> str:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    cols = [c for c, _ in columns(conn, table)]
    w.writerow(cols)
    for r in table_rows(conn, table):
        # repr-exact floats; None -> empty cell
        w.writerow(["" if v is None else (repr(v) if isinstance(v, float) else v) for v in r])
    return buf.getvalue()


def datapackage(conn: sqlite3.Connection) -> dict[str, Any]:
    resources = []
    for t in table_names(conn):
        pk = [
            r["name"]
            for r in sorted(conn.execute(f"pragma table_info([{t}])"), key=lambda r: r["pk"])
            if r["pk"]
        ]
        schema: dict[str, Any] = {
            "fields": [{"name": c, "type": _frictionless_type(d)} for c, d in columns(conn, t)],
            "missingValues": [""],
        }
        if pk:
            schema["primaryKey"] = pk
        resources.append(
            {
                "name": t,
                "path": f"{t}.csv",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": schema,
            }
        )
    return {"name": "claimkb", "profile": "tabular-data-package", "resources": resources}


def write_csv(conn: sqlite3.Connection, out: Path) -> list[Path]:
    """Write one CSV per table (and datapackage.json) into a directory, or into a .zip file."""
    out = Path(out)
    files = {f"{t}.csv": csv_text(conn, t) for t in table_names(conn)}
    files["datapackage.json"] = json.dumps(datapackage(conn), ensure_ascii=False, indent=2) + "\n"
    if out.suffix.lower() == ".zip":
        with (
            atomic_path(out) as tmp,
            zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z,
        ):
            for name, text in files.items():
                info = zipfile.ZipInfo(
                    name, date_time=(1980, 1, 1, 0, 0, 0)
                )  # reproducible archive
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                z.writestr(info, text.encode("utf-8"))
        return [out]
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in files.items():
        p = out / name
        p.write_bytes(text.encode("utf-8"))
        written.append(p)
    return written

"""Smoke test of the served database with Datasette's own async client."""

from __future__ import annotations

import sqlite3

import pytest
from datasette.app import Datasette

from claimkb.site import SITE, serve_args as datasette_args


@pytest.fixture(scope="module")
def ds(built_db):
    return Datasette([], immutables=[str(built_db)], metadata=None)


async def test_claims_table_is_served_as_json(ds, built_db):
    name = built_db.stem
    r = await ds.client.get(f"/{name}/claims.json?_shape=array&_size=max")
    assert r.status_code == 200
    rows = r.json()
    n = sqlite3.connect(built_db).execute("select count(*) from claims").fetchone()[0]
    assert len(rows) == min(n, 1000) and n > 0
    assert {"id", "statement", "status", "quote_start", "quote_end"} <= set(rows[0])


async def test_sql_interface_answers_a_join(ds, built_db):
    name = built_db.stem
    r = await ds.client.get(
        f"/{name}.json",
        params={
            "sql": "select status, count(*) as n from claims group by status",
            "_shape": "array",
        },
    )
    assert r.status_code == 200
    assert sum(row["n"] for row in r.json()) > 0


def test_serve_command_line_is_read_only_and_loopback(tmp_path):
    args = datasette_args(tmp_path / "x.db", "127.0.0.1", 8123)
    # a normal file, not -i (immutable): Datasette opens it with ?mode=ro, and sees an
    # incremental update once it is committed (tests/test_reliability.py: read-only through the web)
    assert "-i" not in args and "--immutable" not in args
    assert args[args.index("serve") + 1].endswith("x.db")
    assert args[args.index("--host") + 1] == "127.0.0.1"
    assert str(SITE / "metadata.yml") in args

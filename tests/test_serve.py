"""Serving: the command line `claimkb serve` runs, and the database it serves."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

import sitekit
from claimkb.site.serve import serve_args, settings


@pytest.fixture(scope="module")
async def ds(built_db):
    d = sitekit.datasette(built_db)
    await d.invoke_startup()
    return d


async def test_claims_table_is_served_as_json(ds, built_db):
    r = await ds.client.get(f"/{built_db.stem}/claims.json?_shape=array&_size=max")
    assert r.status_code == 200
    rows = r.json()
    n = sitekit.rows_of(built_db, "select count(*) from claims")[0][0]
    assert len(rows) == min(n, 1000) and n > 0
    assert {"id", "statement", "status", "quote_start", "quote_end"} <= set(rows[0])


async def test_sql_interface_answers_a_join(ds, built_db):
    sql = "select status, count(*) as n from claims group by status"
    r = await ds.client.get(
        f"/{built_db.stem}.json", params={"sql": sql, "_shape": "array"}, follow_redirects=True
    )
    assert r.status_code == 200
    assert (
        sum(row["n"] for row in r.json())
        == sitekit.rows_of(built_db, "select count(*) from claims")[0][0]
    )


def _value(args: list[str], option: str) -> str:
    """The value of the last `option` (the first -m is python's own: -m datasette)."""
    return args[len(args) - 1 - args[::-1].index(option) + 1]


def test_the_command_line_is_read_only_loopback_and_bounded(tmp_path):
    args = serve_args(tmp_path / "x.db", "127.0.0.1", 8123)
    # a normal file, not -i: Datasette opens it with ?mode=ro and sees each incremental
    # update once it is committed (tests/test_reliability.py: read-only through the web)
    assert "-i" not in args and str(tmp_path / "x.db") in args
    assert _value(args, "--host") == "127.0.0.1"
    given = {args[i + 1] for i, a in enumerate(args) if a == "--setting"}
    assert given == set(settings()) and {"sql_time_limit_ms", "max_returned_rows"} <= given


def test_a_release_is_served_immutable(tmp_path):
    args = serve_args(tmp_path / "x.db", "127.0.0.1", 8123, immutable=True)
    assert _value(args, "-i").endswith("x.db")


def test_the_base_url_reaches_the_plugin_on_either_datasette_line(tmp_path):
    args = serve_args(tmp_path / "x.db", "127.0.0.1", 8123, base_url="https://kb.example.org")
    if "-s" in args:  # Datasette 1.0
        i = args.index("-s")
        assert args[i + 1 : i + 3] == ["plugins.claimkb.base_url", "https://kb.example.org"]
    else:  # 0.65: a metadata file next to the database
        meta = json.loads(Path(_value(args, "-m")).read_text(encoding="utf-8"))
        assert meta == {"plugins": {"claimkb": {"base_url": "https://kb.example.org"}}}


# --- the real command ------------------------------------------------------------------


def _serve(data: Path, db: Path, port: int) -> subprocess.Popen:
    cmd = [
        str(Path(sys.executable).with_name("claimkb")),
        "serve",
        "--data",
        str(data),
        "--db",
        str(db),
        "--port",
        str(port),
    ]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait_for(base: str, proc: subprocess.Popen, timeout: float = 120) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read()
        try:
            return httpx.get(base + "/", timeout=2)
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError("the server did not answer in time")


def _stop(proc: subprocess.Popen) -> str:
    proc.terminate()
    try:
        out, _ = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out


def _break(data: Path) -> Path:
    doc = sorted((data / "documents").glob("*.yaml"))[0]
    doc.write_text(
        doc.read_text(encoding="utf-8") + "\n  - this: [is not closed\n", encoding="utf-8"
    )
    return doc


def test_serve_with_bad_data_serves_the_last_good_build(data_copy, built_db, tmp_path):
    from claimkb.bench.run import free_port

    db = tmp_path / "kb.db"
    shutil.copy(built_db, db)
    before = sitekit.rows_of(db, "select count(*) from claims")
    doc = _break(data_copy)
    port = free_port()
    proc = _serve(data_copy, db, port)
    try:
        home = _wait_for(f"http://127.0.0.1:{port}", proc)
        assert home.status_code == 200 and "ckb-main" in home.text
    finally:
        out = _stop(proc)
    assert doc.name in out and "serving the last good build" in out
    assert "Traceback" not in out
    assert sqlite3.connect(db).execute("select count(*) from claims").fetchall() == before


def test_serve_with_bad_data_and_no_database_says_what_to_do(data_copy, tmp_path):
    doc = _break(data_copy)
    proc = _serve(data_copy, tmp_path / "none.db", 1)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode != 0 and doc.name in out and "nothing to serve" in out
    assert "Traceback" not in out and not (tmp_path / "none.db").exists()


async def test_a_release_gets_hashed_database_urls_cached_for_a_year(built_db):
    """`claimkb serve --release` serves the file immutable: datasette-hashed-urls puts the
    file's hash in the database's URLs, and those answers may be cached for a year; the
    reader pages link to the hashed URLs."""
    from datasette.app import Datasette

    ds = Datasette(immutables=[str(built_db)], settings=settings())
    await ds.invoke_startup()
    moved = await ds.client.get(f"/{built_db.stem}/claims")
    assert moved.status_code == 302
    hashed = moved.headers["location"]
    assert hashed.startswith(f"/{built_db.stem}-") and hashed.endswith("/claims")
    table = await ds.client.get(hashed + ".json?_size=1")
    assert table.status_code == 200 and "max-age=31536000" in table.headers["cache-control"]
    home = await ds.client.get("/")
    assert home.status_code == 200 and f'href="{hashed.rsplit("/", 1)[0]}"' in home.text

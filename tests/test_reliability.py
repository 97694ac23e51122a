"""Faults: a build killed at any moment, builds racing, a pathological query through the web.

Every build here is the real `claimkb build` command in a subprocess, on a
synthetic corpus (claimkb.bench.synth) in a temporary folder.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from claimkb.bench import synth

N_CLAIMS = 1500
#: the phases of a full build that replaces an existing database (build.TempDatabase), and
#: of an incremental update in place (update._incremental); CLAIMKB_FAULT_AT=<phase> kills
#: the build with SIGKILL right after one
FULL_PHASES = (
    "tempfile",
    "create",
    "insert-midway",
    "insert",
    "index",
    "fts",
    "summaries",
    "foreign_key_check",
    "analyze",
    "commit",
    "fsync",
    "backup",
)
INCREMENTAL_PHASES = (
    "parse",
    "delete",
    "insert",
    "fts",
    "summaries",
    "foreign_key_check",
    "commit",
    "checkpoint",
)
#: after these the new content is committed: a reader sees the new database, whole
COMMITTED = {("full", "backup"), ("incremental", "commit"), ("incremental", "checkpoint")}


def _env(tmp: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("CLAIMKB_FAULT_AT", None)
    env.update(extra)
    return env


def build_cmd(data: Path, db: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "claimkb", "build", "--data", str(data), "--db", str(db), *extra]


def snapshot(db: Path) -> dict:
    """What a reader sees: integrity, row counts, a digest of every claim, a working FTS query."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
        counts = {
            t: conn.execute(f"select count(*) from [{t}]").fetchone()[0]
            for t in ("documents", "claims", "equations", "bibliography", "evidence", "claim_links")
        }
        h = hashlib.sha256()
        for row in conn.execute(
            "select id, statement, quote_start, quote_end, status from claims order by id"
        ):
            h.update(repr(row).encode())
        fts = conn.execute(
            "select count(*) from claims_fts where claims_fts match ?", (synth.RARE_TERM,)
        ).fetchone()[0]
        return {"counts": counts, "claims_sha": h.hexdigest(), "fts_rare": fts}
    finally:
        conn.close()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("corpus") / "data"
    synth.generate(data, N_CLAIMS)
    return data


@pytest.fixture
def built(corpus, tmp_path) -> tuple[Path, Path, dict]:
    """A private copy of the corpus and a database built from it (the 'previous' database)."""

    data = tmp_path / "data"
    shutil.copytree(corpus, data)
    db = tmp_path / "out" / "claimkb.db"
    subprocess.run(build_cmd(data, db), check=True, env=_env(tmp_path), capture_output=True)
    before = snapshot(db)
    assert before["counts"]["claims"] == N_CLAIMS and before["fts_rare"] >= 1
    synth.touch_document(data, 0)  # the next build has something new to write
    return data, db, before


def _leftovers(db: Path) -> list[Path]:
    from claimkb.build.write import TEMP_SUFFIXES

    assert (
        ".tmp-wal" in TEMP_SUFFIXES
    )  # the temporary database is in WAL mode while its indexes are built
    return sorted(p for s in TEMP_SUFFIXES for p in db.parent.glob(f".{db.name}.*{s}"))


@pytest.mark.parametrize(
    "mode,phase",
    [("full", p) for p in FULL_PHASES] + [("incremental", p) for p in INCREMENTAL_PHASES],
)
def test_build_killed_after_each_phase_leaves_a_servable_database(built, tmp_path, mode, phase):
    data, db, before = built
    extra = ("--full",) if mode == "full" else ()
    r = subprocess.run(
        build_cmd(data, db, *extra), env=_env(tmp_path, CLAIMKB_FAULT_AT=phase), capture_output=True
    )
    assert r.returncode == -signal.SIGKILL, r.stderr.decode()[-2000:]
    after = snapshot(db)
    if (mode, phase) in COMMITTED:  # killed after the commit: the new database, whole
        assert after["counts"] == before["counts"] and after["claims_sha"] != before["claims_sha"]
    else:  # killed before: exactly the previous database
        assert after == before
    # the next build cleans up what the killed one left, and succeeds
    r = subprocess.run(build_cmd(data, db), env=_env(tmp_path), capture_output=True)
    assert r.returncode == 0, r.stderr.decode()[-2000:]
    assert _leftovers(db) == []
    final = snapshot(db)
    assert final["counts"] == before["counts"] and final["claims_sha"] != before["claims_sha"]


@pytest.mark.parametrize("phase", ("create", "insert", "fts", "commit", "fsync", "rename"))
def test_first_build_killed_leaves_no_database_or_a_whole_one(corpus, tmp_path, phase):
    db = tmp_path / "out" / "claimkb.db"
    r = subprocess.run(
        build_cmd(corpus, db), env=_env(tmp_path, CLAIMKB_FAULT_AT=phase), capture_output=True
    )
    assert r.returncode == -signal.SIGKILL, r.stderr.decode()[-2000:]
    if phase == "rename":
        assert snapshot(db)["counts"]["claims"] == N_CLAIMS
    else:
        assert not db.exists()
    r = subprocess.run(build_cmd(corpus, db), env=_env(tmp_path), capture_output=True)
    assert r.returncode == 0, r.stderr.decode()[-2000:]
    assert snapshot(db)["counts"]["claims"] == N_CLAIMS and _leftovers(db) == []


#: random kills of each mode (`claimkb build --full`, and the update in place)
KILLS_PER_MODE = 26


def content_hash(db: Path) -> str:
    """sha256 of every table's rows (build times aside): one state of the database."""
    from claimkb.bench.run import table_contents

    return hashlib.sha256(repr(table_contents(db)).encode()).hexdigest()


def _restore(pristine: Path, db: Path) -> None:
    """The previous database back in place (a stale WAL next to it would be replayed)."""
    for p in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        p.unlink(missing_ok=True)
    shutil.copyfile(pristine, db)


@pytest.fixture(scope="module")
def two_states(corpus, tmp_path_factory) -> dict:
    """A corpus whose every document changed since `pristine` was built from it: the old
    and the new content hash, and how long each mode of build takes from the old state."""
    tmp = tmp_path_factory.mktemp("kills")
    data = tmp / "data"
    shutil.copytree(corpus, data)
    db = tmp / "out" / "claimkb.db"
    subprocess.run(build_cmd(data, db), check=True, env=_env(tmp), capture_output=True)
    pristine = tmp / "pristine.db"
    shutil.copyfile(db, pristine)
    n_docs = len(list((data / "documents").glob("*.yaml")))
    for k in range(n_docs):  # all of them: the update re-reads 15 documents, not one
        synth.touch_document(data, k)
    states = {"data": data, "db": db, "pristine": pristine, "tmp": tmp}
    states["old"] = content_hash(pristine)
    for mode, extra in (("full", ("--full",)), ("incremental", ())):
        _restore(pristine, db)
        t = time.perf_counter()
        r = subprocess.run(build_cmd(data, db, *extra), env=_env(tmp), capture_output=True)
        states[mode] = time.perf_counter() - t
        assert r.returncode == 0 and (mode == "full") == (b"built" in r.stdout), r
        states["new"] = content_hash(db)
    assert states["new"] != states["old"]
    return states


def _kill_at(states: dict, extra: tuple[str, ...], delay: float) -> int | None:
    """Run a build from the old state and SIGKILL it (and its children) after `delay`;
    the exit status when it finished first."""
    _restore(states["pristine"], states["db"])
    proc = subprocess.Popen(
        build_cmd(states["data"], states["db"], *extra),
        env=_env(states["tmp"]),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: the kill reaches its children
    )
    try:
        proc.wait(timeout=delay)
        return proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return None


@pytest.mark.parametrize("mode", ["full", "incremental"])
def test_builds_killed_at_random_moments_leave_exactly_the_old_or_the_new_state(two_states, mode):
    """SIGKILL at KILLS_PER_MODE seeded random moments spread over the whole build (from
    the interpreter's start to past the end): the database always opens, passes
    integrity_check and holds exactly the old rows or exactly the new ones; the next build
    removes what the killed one left."""
    import random

    from claimkb.build import build

    states, db = two_states, two_states["db"]
    rng = random.Random(f"kills:{mode}")
    span = 1.15 * states[mode]
    delays = [(k + rng.random()) * span / KILLS_PER_MODE for k in range(KILLS_PER_MODE)]
    seen = []
    for delay in delays:
        rc = _kill_at(states, ("--full",) if mode == "full" else (), delay)
        assert rc in (None, 0), f"killed after {delay:.3f}s: exit {rc}"
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            assert conn.execute("pragma integrity_check").fetchone()[0] == "ok", delay
        finally:
            conn.close()
        state = {states["old"]: "old", states["new"]: "new"}.get(content_hash(db))
        assert state is not None, f"killed after {delay:.3f}s: neither the old nor the new rows"
        seen.append(state)
        build(states["data"], db)  # the next build: the new state, and nothing left over
        assert content_hash(db) == states["new"] and _leftovers(db) == [], delay
    assert "old" in seen and "new" in seen, seen  # the delays reached past the commit


def test_concurrent_builds_do_not_corrupt_the_database(built, tmp_path):
    data, db, before = built
    procs = [
        subprocess.Popen(
            build_cmd(data, db),
            env=_env(tmp_path),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for _ in range(3)
    ]
    # a reader keeps the previous file open while they race
    reader = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    seen = reader.execute("select count(*) from claims").fetchone()[0]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()[-2000:]
    assert reader.execute("select count(*) from claims").fetchone()[0] == seen == N_CLAIMS
    reader.close()
    after = snapshot(db)
    assert after["counts"] == before["counts"] and after["claims_sha"] != before["claims_sha"]
    assert _leftovers(db) == []


def test_failed_write_leaves_previous_database_and_no_temp_file(built, monkeypatch):
    """An exception in the middle of a full build's write changes nothing on disk."""
    from claimkb.build import build, write

    data, db, before = built
    real_insert = write.TempDatabase.insert

    def failing_insert(self, batch):
        if self.batches == 5:
            raise sqlite3.IntegrityError("a failure in the middle of the write")
        real_insert(self, batch)

    monkeypatch.setattr(write.TempDatabase, "insert", failing_insert)
    with pytest.raises(sqlite3.IntegrityError):
        build(data, db, workers=1, full=True)
    assert snapshot(db) == before
    assert _leftovers(db) == []


# --------------------------------------------------------------------------- the served database


@pytest.fixture(scope="module")
def server(corpus, tmp_path_factory):
    from claimkb.bench.run import Server

    out = tmp_path_factory.mktemp("served")
    db = out / "claimkb.db"
    subprocess.run(build_cmd(corpus, db), check=True, env=_env(out), capture_output=True)
    srv = Server(db)
    with srv:
        yield srv


RUNAWAY = (
    "with recursive c(x) as (select 1 union all select x + 1 from c where x < 1000000000000) "
    "select count(*) from c"
)


def test_pathological_query_is_stopped_and_server_keeps_answering(server):
    import asyncio

    import httpx

    limit_ms = httpx.get(server.base + "/-/settings.json").json()["sql_time_limit_ms"]
    assert 0 < limit_ms <= 30000  # the project sets it in src/claimkb/site/settings.json

    async def go():
        async with httpx.AsyncClient(base_url=server.base, timeout=60) as c:
            t0 = time.perf_counter()
            runaway = asyncio.create_task(c.get("/claimkb.json", params={"sql": RUNAWAY}))
            await asyncio.sleep(0.05)
            # the server answers other requests while the runaway query runs
            other = [await c.get("/claimkb/claims.json?_size=5") for _ in range(3)]
            r = await runaway
            return r, time.perf_counter() - t0, other

    r, elapsed, other = asyncio.run(go())
    assert r.status_code >= 400
    body = r.text.lower()
    assert "interrupted" in body or "too long" in body
    assert elapsed < limit_ms / 1000 + 5
    assert all(o.status_code == 200 for o in other)
    assert httpx.get(server.base + "/claimkb/claims.json?_size=1").status_code == 200


@pytest.mark.parametrize(
    "sql",
    [
        "delete from claims",
        "update claims set status = 'established'",
        "drop table claims",
        "insert into claims_fts(claims_fts) values ('delete-all')",
        "attach database '/tmp/x.db' as x",
        "pragma writable_schema = 1",
    ],
)
def test_served_database_is_read_only(server, sql):
    import httpx

    r = httpx.get(server.base + "/claimkb.json", params={"sql": sql}, timeout=30)
    assert r.status_code >= 400
    assert httpx.get(server.base + "/claimkb/claims.json?_size=1").json()["rows"]
    n = httpx.get(
        server.base + "/claimkb.json",
        params={"sql": "select count(*) from claims", "_shape": "array"},
    ).json()
    assert list(n[0].values()) == [N_CLAIMS]

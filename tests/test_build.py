"""Integration: the real data/ builds into a database with the documented shape."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import sqlite_utils

from claimkb.build import build
from claimkb.build.schema import TABLES, VIEWS, VOCAB_TABLES, fts_table

ROOT = Path(__file__).resolve().parent.parent


def test_every_table_column_and_view_exists(built_db):
    db = sqlite_utils.Database(built_db)
    for t in TABLES:
        assert t.name in db.table_names()
        assert [c.name for c in db[t.name].columns] == list(t.columns)
        pk = [t.pk] if isinstance(t.pk, str) else list(t.pk)
        assert db[t.name].pks == pk
    for v in VIEWS:
        assert v.name in db.view_names()
        db.execute(f"select * from [{v.name}] limit 1").fetchall()


def test_foreign_keys_point_at_vocabularies_and_parents(built_db):
    db = sqlite_utils.Database(built_db)
    fks = {
        (fk.table, fk.column): (fk.other_table, fk.other_column)
        for t in db.tables
        for fk in t.foreign_keys
    }
    assert fks[("claims", "status")] == ("evidence_statuses", "term")
    assert fks[("claims", "document_id")] == ("documents", "id")
    assert fks[("equations", "check_status")] == ("check_statuses", "term")
    assert fks[("bibliography", "citation_status")] == ("citation_statuses", "term")
    assert fks[("evidence", "claim_id")] == ("claims", "id")
    assert fks[("claim_links", "relation")] == ("relations", "term")
    conn = sqlite3.connect(built_db)
    assert conn.execute("pragma foreign_key_check").fetchall() == []
    assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"


def test_indexes_for_common_filters(built_db):
    db = sqlite_utils.Database(built_db)
    indexed = {tuple(i.columns) for i in db["claims"].indexes}
    assert (
        ("status", "id") in indexed
        and ("claim_type", "id") in indexed
        and ("document_id", "position") in indexed
    )


def test_every_document_is_built_with_its_exact_text(built_db):
    conn = sqlite3.connect(built_db)
    rows = conn.execute("select id, sha256, text from documents").fetchall()
    assert rows
    for doc_id, sha, text in rows:
        raw = (ROOT / "data" / "sources" / f"{doc_id}.txt").read_bytes()
        assert hashlib.sha256(raw).hexdigest() == sha
        assert text == raw.decode("utf-8")


def test_stored_offsets_point_at_the_quote(built_db):
    conn = sqlite3.connect(built_db)
    n = 0
    for table in ("claims", "equations"):
        q = (
            "select t.quote, substr(d.text, t.quote_start + 1, t.quote_end - t.quote_start), "
            "t.quote_prefix, substr(d.text, max(1, t.quote_start - 31), min(32, t.quote_start)) "
            f"from [{table}] t join documents d on d.id = t.document_id"
        )
        for quote, span, prefix, before in conn.execute(q):
            n += 1
            assert " ".join(quote.split()) == " ".join(span.split())
            assert prefix == before
    assert n > 0


def test_fts_porter_over_claims_equations_bibliography_and_text(built_db):
    db = sqlite_utils.Database(built_db)
    for name in ("claims", "equations", "bibliography", "documents"):
        fts = fts_table(next(t for t in TABLES if t.name == name))
        assert fts in db.table_names()
        assert "porter" in db[fts].schema
    # porter stemming: the singular finds "Quantum nanosystems" (the title of document 002)
    hits = db.execute(
        "select count(*) from documents_fts where documents_fts match 'nanosystem'"
    ).fetchone()[0]
    assert hits >= 1
    plain = db.execute("select count(*) from documents where text like '%nanosystem %'").fetchone()[
        0
    ]
    assert plain == 0  # so the hit above came from stemming, not a literal match


def test_vocabulary_tables_are_filled_in_rank_order(built_db):
    conn = sqlite3.connect(built_db)
    terms = [r[0] for r in conn.execute("select term from evidence_statuses order by rank")]
    assert terms[0] == "established" and terms[-1] == "not assessed"
    for table in VOCAB_TABLES.values():
        assert conn.execute(f"select count(*) from [{table}]").fetchone()[0] > 0


def test_claims_view_joins_title_and_rank(built_db):
    conn = sqlite3.connect(built_db)
    row = conn.execute(
        "select document_title, status, status_rank from claims_view limit 1"
    ).fetchone()
    rank = conn.execute("select rank from evidence_statuses where term = ?", (row[1],)).fetchone()[
        0
    ]
    assert row[0] and row[2] == rank


def _dump(path: Path) -> list:
    conn = sqlite3.connect(path)
    out = []
    for (name,) in conn.execute(
        "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' "
        "and name not like '%_fts%' and name not like 'build_%' order by name"
    ):
        out.append((name, conn.execute(f"select * from [{name}] order by 1, 2").fetchall()))
    for (name,) in conn.execute(
        "select name from sqlite_master where type = 'table' and name like '%_fts' order by name"
    ):
        out.append((name, conn.execute(f"select rowid, * from [{name}] order by rowid").fetchall()))
    return out


def test_build_is_deterministic(tmp_path):
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    build(ROOT / "data", a, workers=1)
    build(ROOT / "data", b, workers=2, full=True)
    assert _dump(a) == _dump(b)


def _rebuilt_in_place(db_path: Path) -> dict:
    """The shadow tables FTS5's own 'rebuild' writes for each indexed table of db_path (in
    a fresh database holding a copy of the table), with the build's pending-data budgets."""
    from claimkb.build.schema import (
        BULK_FTS_HASHSIZE,
        FTS_HASHSIZE,
        FTS_SHADOW_TABLES,
        fts_create_sql,
        fts_tables,
    )

    out = {}
    for t in fts_tables():
        fts = fts_table(t)
        conn = sqlite3.connect(":memory:", isolation_level=None)
        conn.execute("attach database ? as src", (str(db_path),))
        conn.execute(f"create table main.[{t.name}] as select * from src.[{t.name}] where 0")
        conn.execute(f"insert into main.[{t.name}] select * from src.[{t.name}] order by rowid")
        conn.execute(fts_create_sql(t))
        conn.execute(
            f"insert into [{fts}] ([{fts}], rank) values ('hashsize', ?)", [BULK_FTS_HASHSIZE]
        )
        conn.execute(f"insert into [{fts}] ([{fts}]) values ('rebuild')")
        conn.execute(f"insert into [{fts}] ([{fts}], rank) values ('hashsize', ?)", [FTS_HASHSIZE])
        for shadow in FTS_SHADOW_TABLES:
            out[f"{fts}_{shadow}"] = conn.execute(
                f"select * from [{fts}_{shadow}] order by 1, 2"
            ).fetchall()
        conn.close()
    return out


def test_full_build_full_text_indexes_are_what_fts5_rebuild_writes(tmp_path):
    """A full build fills its FTS5 indexes beside its other work (side.SideBuild: another
    thread, a side file, shadow tables copied in). They must hold exactly what FTS5 writes
    when it rebuilds the index from the table itself, pass FTS5's integrity check, and the
    build must leave no side file behind."""
    from claimkb.bench import synth
    from claimkb.build import build
    from claimkb.build.schema import FTS_SHADOW_TABLES, fts_tables

    data = tmp_path / "data"
    synth.generate(data, 3000)
    db = tmp_path / "out" / "claimkb.db"
    build(data, db, workers=1, full=True)
    conn = sqlite3.connect(db)
    got = {}
    for t in fts_tables():
        fts = fts_table(t)
        conn.execute(f"insert into [{fts}] ([{fts}]) values ('integrity-check')")
        for shadow in FTS_SHADOW_TABLES:
            got[f"{fts}_{shadow}"] = conn.execute(
                f"select * from [{fts}_{shadow}] order by 1, 2"
            ).fetchall()
    hits = conn.execute(
        "select count(*) from claims_fts where claims_fts match ?", (synth.RARE_TERM,)
    ).fetchone()[0]
    expected = conn.execute(
        "select count(*) from claims where statement like ?", (f"%{synth.RARE_TERM}%",)
    ).fetchone()[0]
    conn.close()
    assert hits == expected > 0
    assert len(got["claims_fts_docsize"]) == 3000
    assert got == _rebuilt_in_place(db)
    assert sorted(p.name for p in db.parent.iterdir()) == ["claimkb.db", "claimkb.db.lock"]


def test_a_failed_full_build_stops_the_side_index_build_and_leaves_no_file(tmp_path):
    """TempDatabase.discard (any failure after the rows are written) stops the side FTS
    thread and removes the temporary database, its WAL files and the side file."""
    from claimkb.build.side import SideBuild
    from claimkb.build.write import TempDatabase

    db = tmp_path / "claimkb.db"
    out = TempDatabase(db)
    out.conn.execute("commit")
    side = out.side = SideBuild(out.tmp, db).start()
    assert side.path.exists()
    out.discard()
    assert not side._thread.is_alive()
    assert list(tmp_path.iterdir()) == []


def test_a_dangling_foreign_key_fails_the_full_build_with_the_side_check(tmp_path):
    """The foreign-key check of a full build runs in the side build (side.SideBuild), on
    the committed rows: a row pointing at nothing must still fail the build, write nothing
    and leave no file."""
    import pytest

    from claimkb.build.schema import TABLES_BY_NAME
    from claimkb.build.write import TempDatabase

    t = TABLES_BY_NAME["evidence"]
    row = {c: (0 if typ is int else "x") for c, typ in t.columns.items()}
    row.update(
        id="e1",
        document_id="no-such-document",
        claim_id=None,
        equation_id=None,
        bibliography_id=None,
        cites_bibliography_id=None,
        stance="no-such-stance",
    )
    db = tmp_path / "claimkb.db"
    out = TempDatabase(db)
    out.insert({"evidence": [tuple(row[c] for c in t.columns)]})
    with pytest.raises(RuntimeError, match="foreign key check failed.*evidence"):
        try:
            out.finish()
        except BaseException:
            out.discard()
            raise
    assert list(tmp_path.iterdir()) == []


def test_hold_in_cache_sets_the_spill_threshold_and_keeps_spilling_on(tmp_path):
    from claimkb.build.write import TAIL_SPILL_PAGES, hold_in_cache

    conn = sqlite3.connect(tmp_path / "x.db")
    hold_in_cache(conn, TAIL_SPILL_PAGES)
    # reads back 0 when spilling is off, as `pragma cache_spill = 262144` alone leaves it
    assert conn.execute("pragma cache_spill").fetchone()[0] == TAIL_SPILL_PAGES
    conn.close()


def test_a_full_build_whose_cache_overflows_waits_for_the_side_build(tmp_path, monkeypatch):
    """With a tiny page cache the build's connection runs out of room while the side build
    (slowed down here) still reads the file, so it cannot write pages to it yet: the build
    must still succeed (no "database is locked") with the same result (FTS shadow tables
    equal to a 'rebuild', integrity ok)."""
    import time

    from claimkb.bench import synth
    from claimkb.build import build
    from claimkb.build import side as side_mod
    from claimkb.build import write as build_mod
    from claimkb.build.schema import fts_tables

    monkeypatch.setattr(build_mod, "CACHE_KIB", 64)
    monkeypatch.setattr(build_mod, "TAIL_SPILL_PAGES", 16)
    slow_started = []

    def slow_fill(conn, t, source="main"):  # the side build holds its read for a while
        side_mod_fill(conn, t, source)
        slow_started.append(t.name)
        time.sleep(0.5)

    side_mod_fill = side_mod.fill_fts
    monkeypatch.setattr(side_mod, "fill_fts", slow_fill)
    data = tmp_path / "data"
    synth.generate(data, 2000)
    db = tmp_path / "out" / "claimkb.db"
    build(data, db, workers=1, full=True)
    assert len(slow_started) == len(fts_tables())
    conn = sqlite3.connect(db)
    assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
    assert conn.execute("select count(*) from claims").fetchone()[0] == 2000
    conn.close()
    got = {}
    conn = sqlite3.connect(db)
    from claimkb.build.schema import FTS_SHADOW_TABLES, fts_tables

    for t in fts_tables():
        for shadow in FTS_SHADOW_TABLES:
            name = f"{fts_table(t)}_{shadow}"
            got[name] = conn.execute(f"select * from [{name}] order by 1, 2").fetchall()
    conn.close()
    assert got == _rebuilt_in_place(db)

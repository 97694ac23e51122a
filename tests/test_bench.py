"""The benchmark (a reduced run), the synthetic corpus, and the build's determinism under its speed-ups."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlite_utils
import yaml

from claimkb import synth
from claimkb.bench import same_database

KEYS = {
    "claims", "documents", "machine", "build_s", "peak_rss_mb", "peak_rss_total_mb", "build_phases", "baseline_s", "write_s", "write_ratio",
    "incremental_s", "rebuild_unchanged_s", "search_rare_p95_ms", "search_common_p95_ms", "page_p95_ms",
    "page_p95_by_url", "load_rps", "load_requests", "errors", "facets", "facets_silently_empty", "targets_met",
}


def test_reduced_benchmark_run(tmp_path):
    from claimkb.bench import run

    res = run(2000, tmp_path, workers=2, repeat=5, connections=8, load_seconds=2.0, verify_incremental=True, log=lambda m: None)
    assert KEYS <= set(res), KEYS - set(res)
    assert res["claims"] == 2000 and res["documents"] == 20
    assert res["errors"] == 0, res["error_detail"]
    assert res["facets_silently_empty"] is False and res["facets"]["empty"] == []
    assert res["server_alive_after_load"] is True
    assert res["incremental_identical_to_full"] is True
    for k in ("build_s", "baseline_s", "write_s", "incremental_s", "search_rare_p95_ms", "search_common_p95_ms", "page_p95_ms", "load_rps"):
        assert 0 < res[k] < 600, (k, res[k])
    assert 50 < res["peak_rss_mb"] <= res["peak_rss_total_mb"] < 4096
    assert res["rows"] > 2000 and 0 < res["write_ratio"] < 50
    assert set(res["build_phases"]) >= {"insert", "index", "fts", "summaries", "foreign_key_check", "analyze", "rename"}
    assert len(res["page_p95_by_url"]) == 5
    m = res["machine"]
    assert m["nproc"] >= 1 and m["sqlite"] and m["python"]


# --------------------------------------------------------------------------- the corpus


def test_corpus_is_deterministic_and_valid(tmp_path):
    from claimkb.load import load_knowledge_base

    a, b = tmp_path / "a", tmp_path / "b"
    synth.generate(a, 350, seed=7)
    synth.generate(b, 350, seed=7)
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert all((a / f).read_bytes() == (b / f).read_bytes() for f in files)
    kb = load_knowledge_base(a)
    claims = [c for ld in kb.documents for c in ld.doc.claims]
    assert len(kb.documents) == 4 and len(claims) == 350
    assert len({c.id for c in claims}) == 350
    assert any(c.occurrence for c in claims), "a quote that needs `occurrence`"
    assert any("\n" in ld.text[ld.anchors[c.id].start : ld.anchors[c.id].end] for ld in kb.documents for c in ld.doc.claims)
    needs = [c for c in claims if c.status in ("established", "supported", "contradicted", "no physical basis")]
    assert needs and all(c.evidence for c in needs)
    assert sum(synth.RARE_TERM in c.statement for c in claims) >= 1
    assert sum(synth.COMMON_TERM in c.statement for c in claims) > len(claims) / 2


def test_touch_and_restore_document(tmp_path):
    synth.generate(tmp_path, 150)
    path = tmp_path / "documents" / "syn0000000.yaml"
    before = path.read_bytes()
    synth.touch_document(tmp_path, 0)
    assert path.read_bytes() != before
    synth.restore_document(tmp_path, 0, 150)
    assert path.read_bytes() == before


# --------------------------------------------------------------------------- determinism of the fast paths


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("small") / "data"
    synth.generate(data, 600)
    return data


def test_streamed_write_equals_plain_write(small, tmp_path):
    """write_database (batches, indexes after the rows, bulk foreign-key check) gives the
    same tables as the straightforward path: all rows, then executemany."""
    from claimkb.build import refresh_summaries, rows, write_database, write_rows
    from claimkb.load import load_knowledge_base
    from claimkb.schema import ensure_db_shape, fill_fts, fts_tables

    kb = load_knowledge_base(small)
    fast = tmp_path / "fast.db"
    write_database(kb, fast)
    plain = tmp_path / "plain.db"
    db = sqlite_utils.Database(sqlite3.connect(plain))
    ensure_db_shape(db)
    write_rows(db, rows(kb))
    for t in fts_tables():
        fill_fts(db.conn, t)
    refresh_summaries(db.conn, None)
    db.conn.execute("analyze")
    db.conn.commit()
    db.conn.close()
    assert same_database(fast, plain)
    schema = lambda p: sorted(r[0] for r in sqlite3.connect(p).execute("select sql from sqlite_master where sql is not null"))  # noqa: E731
    assert schema(fast) == schema(plain)


def test_yaml_cache_and_workers_do_not_change_the_database(small, tmp_path, monkeypatch):
    from claimkb.build import write_database
    from claimkb.load import load_knowledge_base

    monkeypatch.setenv("CLAIMKB_NO_CACHE", "1")
    write_database(load_knowledge_base(small), tmp_path / "a.db")
    monkeypatch.delenv("CLAIMKB_NO_CACHE")
    monkeypatch.setenv("CLAIMKB_CACHE_DIR", str(tmp_path / "cache"))
    write_database(load_knowledge_base(small, workers=2), tmp_path / "b.db")  # fills the cache
    assert any((tmp_path / "cache").rglob("*"))
    write_database(load_knowledge_base(small), tmp_path / "c.db")  # served from the cache
    # a corrupted cache entry is ignored, not trusted
    for f in (tmp_path / "cache").rglob("*"):
        if f.is_file():
            f.write_bytes(b"\x00garbage")
    write_database(load_knowledge_base(small), tmp_path / "d.db")
    assert same_database(tmp_path / "a.db", tmp_path / "b.db")
    assert same_database(tmp_path / "a.db", tmp_path / "c.db")
    assert same_database(tmp_path / "a.db", tmp_path / "d.db")


def test_fast_yaml_loader_matches_pyyaml(small):
    from claimkb.yamlfile import _duplicate_keys, _load

    root = Path(__file__).resolve().parent.parent
    files = sorted(small.rglob("*.yaml")) + sorted((root / "data").rglob("*.yaml"))
    for f in files:
        text = f.read_text(encoding="utf-8")
        data, dups = _load(text)
        assert data == yaml.load(text, Loader=yaml.CSafeLoader), f
        assert dups == _duplicate_keys(yaml.compose(text, Loader=yaml.CSafeLoader)), f


def test_document_cache_never_hides_a_changed_file(small, tmp_path, monkeypatch):
    """A warm cache is keyed by both files' content: an edited source or document is parsed
    again, and its problems are reported exactly as without the cache."""
    import shutil

    from claimkb.load import load_knowledge_base
    from claimkb.problems import DataError

    data = tmp_path / "data"
    shutil.copytree(small, data)
    monkeypatch.setenv("CLAIMKB_CACHE_DIR", str(tmp_path / "cache"))
    load_knowledge_base(data)
    assert any((tmp_path / "cache" / "documents").rglob("*")), "clean documents are cached"
    src = data / "sources" / "syn0000001.txt"
    src.write_bytes(src.read_bytes().replace(b"Synthetic document", b"Synthetic d0cument", 1))
    doc = data / "documents" / "syn0000002.yaml"
    doc.write_text(doc.read_text().replace("status: \"supported\"", "status: \"bogus\"", 1))
    with pytest.raises(DataError) as warm:
        load_knowledge_base(data)
    monkeypatch.setenv("CLAIMKB_NO_CACHE", "1")
    with pytest.raises(DataError) as cold:
        load_knowledge_base(data)
    assert [str(p) for p in warm.value.problems] == [str(p) for p in cold.value.problems]
    text = warm.value.report()
    assert "sha256 of" in text and "syn0000001" in text and "bogus" in text

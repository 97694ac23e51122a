"""The benchmark (a reduced run), the synthetic corpus, and the build's determinism under
its speed-ups."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlite_utils

from claimkb.bench import synth
from claimkb.bench.run import table_contents

KEYS = {
    "claims",
    "documents",
    "machine",
    "build_s",
    "peak_rss_mb",
    "peak_rss_total_mb",
    "build_phases",
    "baseline_s",
    "write_s",
    "write_ratio",
    "incremental_s",
    "rebuild_unchanged_s",
    "search_rare_p95_ms",
    "search_common_p95_ms",
    "site_search_rare_p95_ms",
    "site_search_common_p95_ms",
    "page_p95_ms",
    "page_p95_by_url",
    "datasette_p95_ms",
    "load_rps",
    "load_requests",
    "errors",
    "facets",
    "facets_silently_empty",
    "targets_met",
}


def test_reduced_benchmark_run(tmp_path):
    from claimkb.bench.run import run

    res = run(
        2000,
        tmp_path,
        workers=2,
        repeat=5,
        connections=8,
        load_seconds=2.0,
        verify_incremental=True,
        log=lambda m: None,
    )
    assert KEYS <= set(res), KEYS - set(res)
    assert res["claims"] == 2000 and res["documents"] == 20
    assert res["errors"] == 0, res["error_detail"]
    assert res["facets_silently_empty"] is False and res["facets"]["empty"] == []
    assert res["server_alive_after_load"] is True
    assert res["incremental_identical_to_full"] is True
    for k in (
        "build_s",
        "baseline_s",
        "write_s",
        "incremental_s",
        "search_rare_p95_ms",
        "search_common_p95_ms",
        "site_search_rare_p95_ms",
        "site_search_common_p95_ms",
        "page_p95_ms",
        "datasette_p95_ms",
        "load_rps",
    ):
        assert 0 < res[k] < 600, (k, res[k])
    assert 50 < res["peak_rss_mb"] <= res["peak_rss_total_mb"] < 4096
    assert res["rows"] > 2000 and 0 < res["write_ratio"] < 50
    assert set(res["build_phases"]) >= {
        "insert",
        "index",
        "fts",
        "summaries",
        "foreign_key_check",
        "analyze",
        "rename",
    }
    timed = {k.split(" /")[0] for k in res["page_p95_by_url"]}
    assert {"home", "claim page", "document page", "reading view", "reference page"} <= timed
    assert len(res["datasette_p95_by_url"]) == 3 and 0 < res["datasette_p95_ms"] < 600
    m = res["machine"]
    assert m["nproc"] >= 1 and m["sqlite"] and m["python"]


# --------------------------------------------------------------------------- the corpus


def test_corpus_is_deterministic_and_valid(tmp_path):
    from support import load_kb

    a, b = tmp_path / "a", tmp_path / "b"
    synth.generate(a, 350, seed=7)
    synth.generate(b, 350, seed=7)
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert all((a / f).read_bytes() == (b / f).read_bytes() for f in files)
    kb = load_kb(a)
    claims = [c for ld in kb.documents for c in ld.doc.claims]
    assert len(kb.documents) == 4 and len(claims) == 350
    assert len({c.id for c in claims}) == 350
    assert any(c.occurrence for c in claims), "a quote that needs `occurrence`"
    assert any(
        "\n" in ld.text[ld.anchors[c.id].start : ld.anchors[c.id].end]
        for ld in kb.documents
        for c in ld.doc.claims
    )
    needs = [
        c
        for c in claims
        if c.status in ("established", "supported", "contradicted", "no physical basis")
    ]
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


# -------------------------------------------------------------------- determinism of the fast paths


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("small") / "data"
    synth.generate(data, 600)
    return data


def test_full_build_equals_a_plain_write(small, tmp_path):
    """A full build (rows written as documents arrive, indexes after the rows, the side
    build's FTS indexes and foreign-key check) gives the same tables as the straightforward
    path: every row, then executemany, then indexes and FTS in place."""
    from claimkb.build import build
    from claimkb.build.rows import (
        document_rows,
        finding_rows,
        insert_sql,
        table_docs_rows,
        vocabulary_rows,
    )
    from claimkb.build.schema import ensure_db_shape, fill_fts, fts_tables
    from claimkb.build.summaries import refresh
    from support import load_kb

    fast = tmp_path / "fast.db"
    build(small, fast, workers=2)
    kb = load_kb(small)
    plain = tmp_path / "plain.db"
    db = sqlite_utils.Database(sqlite3.connect(plain))
    ensure_db_shape(db)
    batches = [vocabulary_rows(kb.vocabulary)] + [document_rows(ld) for ld in kb.documents]
    for batch in batches + [finding_rows(kb.findings), table_docs_rows()]:
        for name, rs in batch.items():
            if rs:
                db.conn.executemany(insert_sql(name), rs)
    for t in fts_tables():
        fill_fts(db.conn, t)
    refresh(db.conn, None)
    db.conn.execute("analyze")
    db.conn.commit()
    db.conn.close()
    a, b = table_contents(fast), table_contents(plain)
    for t in ("build_files", "build_info"):  # what the build read, and when
        a.pop(t, None), b.pop(t, None)
    assert a == b

    def schema(p):
        conn = sqlite3.connect(p)
        return sorted(
            r[0] for r in conn.execute("select sql from sqlite_master where sql is not null")
        )

    assert schema(fast) == schema(plain)

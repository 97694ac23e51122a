"""Builds in worker processes and incremental updates give the same database as a build in
one process; an update judges what crosses documents against the database."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from claimkb.bench import synth
from claimkb.bench.run import same_database, table_contents
from claimkb.build import CheckErrors, build
from claimkb.problems import DataError
from support import load_kb

ROOT = Path(__file__).resolve().parent.parent


def reference_build(data: Path, db: Path) -> None:
    """The database as a full build in one process writes it."""
    build(data, db, workers=1, full=True)


def fts_ok(db: Path) -> None:
    conn = sqlite3.connect(db)
    try:
        for t in ("claims", "equations", "bibliography", "documents"):
            conn.execute(f"insert into {t}_fts({t}_fts) values ('integrity-check')")
        assert conn.execute("pragma foreign_key_check").fetchall() == []
        assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("stream") / "data"
    synth.generate(data, 1200, claims_per_doc=100)
    return data


def test_a_build_in_workers_equals_one_in_one_process_on_the_real_corpus(tmp_path):
    report = build(ROOT / "data", tmp_path / "stream.db", workers=2)
    n_claims = sum(len(d.doc.claims) for d in load_kb(ROOT / "data").documents)
    assert report.mode == "full" and report.counts["claims"] == n_claims
    reference_build(ROOT / "data", tmp_path / "ref.db")
    a, b = table_contents(tmp_path / "stream.db"), table_contents(tmp_path / "ref.db")
    for t in ("build_files", "build_info"):  # times of the build
        a.pop(t, None), b.pop(t, None)
    assert a == b
    # the workers ran the machine checks: their findings are there, about equations
    sql = "select count(*) from checks where about_type = 'equation' and rule = 'machine-check'"
    assert sqlite3.connect(tmp_path / "stream.db").execute(sql).fetchone()[0] > 0


def test_a_build_in_workers_equals_one_in_one_process_on_a_synthetic_corpus(corpus, tmp_path):
    build(corpus, tmp_path / "stream.db", workers=2)
    reference_build(corpus, tmp_path / "ref.db")
    a, b = table_contents(tmp_path / "stream.db"), table_contents(tmp_path / "ref.db")
    assert len(a.pop("build_files")) == len(b.pop("build_files")) == 2 * 12 + 1
    assert a == b


@pytest.fixture()
def built(corpus, tmp_path) -> tuple[Path, Path]:
    data = tmp_path / "data"
    shutil.copytree(corpus, data)
    db = tmp_path / "kb.db"
    assert build(data, db).mode == "full"
    return data, db


def full_copy(data: Path, tmp_path: Path) -> Path:
    ref = tmp_path / "full" / "kb.db"
    ref.parent.mkdir(exist_ok=True)
    build(data, ref, full=True)
    return ref


def test_nothing_changed_is_up_to_date(built):
    data, db = built
    before = db.read_bytes()
    assert build(data, db).mode == "unchanged"
    (data / "documents" / "syn0000003.yaml").touch()  # same content, new mtime
    assert build(data, db).mode == "unchanged"
    assert build(data, db).mode == "unchanged"
    assert table_contents(db)["claims"] == sorted(
        sqlite3.connect(db).execute("select * from claims").fetchall(), key=repr
    )
    assert len(before) > 0


def test_an_edited_document_is_updated_in_place_and_equals_a_full_build(built, tmp_path):
    data, db = built
    synth.touch_document(data, 3)
    report = build(data, db)
    assert report.mode == "incremental" and report.changed == ["syn0000003"]
    assert report.counts["claims"] == 100
    fts_ok(db)
    assert same_database(db, full_copy(data, tmp_path))
    conn = sqlite3.connect(db)
    hits = conn.execute(
        "select count(*) from claims_fts where claims_fts match '\"revision 2\"'"
    ).fetchone()[0]
    assert (
        hits
        == conn.execute(
            "select count(*) from claims where document_id = 'syn0000003' "
            "and statement like '%revision 2%'"
        ).fetchone()[0]
        > 0
    )


def test_added_and_removed_documents(built, tmp_path):
    data, db = built
    # remove the last document (nothing links into it: links go to the previous document)
    (data / "documents" / "syn0000011.yaml").unlink()
    (data / "sources" / "syn0000011.txt").unlink()
    report = build(data, db)
    assert report.mode == "incremental" and report.removed == ["syn0000011"]
    assert same_database(db, full_copy(data, tmp_path))
    # and add it back
    synth.write_document(data, 11, 1200)
    report = build(data, db)
    assert report.changed == ["syn0000011"]
    fts_ok(db)
    assert same_database(db, full_copy(data, tmp_path))


def test_removing_a_document_others_link_to_fails_at_the_linking_file(built):
    data, db = built
    before = table_contents(db)
    linking = [
        line
        for line in (data / "documents" / "syn0000005.yaml").read_text().splitlines()
        if "syn0000004" in line and "to:" in line
    ]
    assert linking, "the synthetic corpus links into the previous document"
    (data / "documents" / "syn0000004.yaml").unlink()
    with pytest.raises(DataError) as e:
        build(data, db)
    text = e.value.report()
    assert (
        "syn0000005.yaml:" in text
        and "links to 'syn0000004" in text
        and "not a record in the knowledge base" in text
    )
    assert table_contents(db) == before


def test_a_duplicate_id_against_the_database_is_reported_with_both_files(built):
    data, db = built
    before = table_contents(db)
    path = data / "documents" / "syn0000002.yaml"
    text = path.read_text()
    first = next(
        line for line in text.splitlines() if line.strip().startswith("- id: syn0000002-c")
    )
    other_id = "syn0000007-c0005"
    path.write_text(text.replace(first, first.split("id:")[0] + f"id: {other_id}", 1))
    with pytest.raises(DataError) as e:
        build(data, db)
    text = e.value.report()
    assert (
        f"duplicate id {other_id!r}" in text
        and "syn0000007.yaml:" in text
        and "syn0000002.yaml:" in text
    )
    assert table_contents(db) == before


def test_contradiction_findings_of_other_documents_are_rejudged(built, tmp_path):
    """A claim of document 5 says it contradicts a claim of document 4: when document 4's
    claim becomes `established` like the linking one, the update fails at document 5's link."""
    data, db = built
    import yaml

    d5 = data / "documents" / "syn0000005.yaml"
    doc5 = yaml.safe_load(d5.read_text())
    src, link = next(
        (c, ln)
        for c in doc5["claims"]
        for ln in c.get("links", [])
        if ln["to"].startswith("syn0000004")
    )
    d4 = data / "documents" / "syn0000004.yaml"
    doc4 = yaml.safe_load(d4.read_text())
    target = next(c for c in doc4["claims"] if c["id"] == link["to"])
    # make the link a `contradicts` between two established claims, in two steps
    link["relation"] = "contradicts"
    src["status"] = "established"
    src.setdefault("evidence", []).append(
        {
            "stance": "supports",
            "note": "An independent test.",
            "work": {"title": "An independent test", "doi": "10.5555/12345678"},
        }
    )
    d5.write_text(yaml.safe_dump(doc5, sort_keys=False, allow_unicode=True))
    build(data, db)  # the target is not established yet: fine
    target["status"] = "established"
    target.setdefault("evidence", []).append(
        {
            "stance": "supports",
            "note": "Another independent test.",
            "work": {"title": "Another independent test", "doi": "10.5555/87654321"},
        }
    )
    d4.write_text(yaml.safe_dump(doc4, sort_keys=False, allow_unicode=True))
    before = table_contents(db)
    with pytest.raises(CheckErrors) as e:
        build(data, db)
    assert any(
        f.rule == "contradiction-both-established"
        and f.about_id == src["id"]
        and f.file
        and f.file.endswith("syn0000005.yaml")
        and f.line
        for f in e.value.findings
    )
    assert table_contents(db) == before
    # with the target merely `supported`, the update writes the warning into the linking
    # document's findings
    target["status"] = "supported"
    d4.write_text(yaml.safe_dump(doc4, sort_keys=False, allow_unicode=True))
    assert build(data, db).mode == "incremental"
    rows = (
        sqlite3.connect(db)
        .execute("select document_id, rule from checks where about_id = ?", (src["id"],))
        .fetchall()
    )
    assert ("syn0000005", "contradiction-both-backed") in rows
    assert same_database(db, full_copy(data, tmp_path))


def test_many_changes_fall_back_to_a_full_build(built, monkeypatch):
    from claimkb.build import incremental as update

    data, db = built
    monkeypatch.setattr(update, "FULL_BUILD_MIN", 1)
    monkeypatch.setattr(update, "FULL_BUILD_SHARE", 0.0)
    synth.touch_document(data, 1)
    synth.touch_document(data, 2)
    report = build(data, db)
    assert report.mode == "full" and "2 documents changed" in report.reason


def test_a_code_change_means_a_full_build(built, monkeypatch):
    from claimkb import build as update

    data, db = built
    synth.touch_document(data, 1)
    monkeypatch.setattr(update, "code_fingerprint", lambda: "another version")
    report = build(data, db)
    assert report.mode == "full" and "code changed" in report.reason


def test_readers_see_the_old_state_until_the_update_commits(built):
    """WAL: a reader holding a read transaction keeps its snapshot during an update."""
    data, db = built
    reader = sqlite3.connect(f"file:{db}?mode=ro", uri=True, isolation_level=None)
    reader.execute("begin")
    old = reader.execute("select statement from claims where id = 'syn0000003-c0000'").fetchone()[0]
    synth.touch_document(data, 3)
    assert build(data, db).mode == "incremental"
    assert (
        reader.execute("select statement from claims where id = 'syn0000003-c0000'").fetchone()[0]
        == old
    )
    reader.execute("commit")
    new = reader.execute("select statement from claims where id = 'syn0000003-c0000'").fetchone()[0]
    assert new != old and "revision 2" in new
    reader.close()


def test_build_command_says_what_it_did(built):
    from click.testing import CliRunner

    from claimkb.cli import cli

    data, db = built
    r = CliRunner().invoke(cli, ["build", "--data", str(data), "--db", str(db)])
    assert r.exit_code == 0 and "is up to date" in r.output, r.output
    synth.touch_document(data, 2)
    r = CliRunner().invoke(cli, ["build", "--data", str(data), "--db", str(db)])
    assert (
        r.exit_code == 0
        and "updated" in r.output
        and "1 document(s) re-read (syn0000002)" in r.output
    ), r.output
    r = CliRunner().invoke(cli, ["build", "--data", str(data), "--db", str(db), "--full"])
    assert (
        r.exit_code == 0
        and "built" in r.output
        and "(--full)" in r.output
        and "1200 claims" in r.output
    ), r.output


def test_a_changed_source_text_is_caught_by_an_incremental_build(built):
    data, db = built
    before = table_contents(db)
    src = data / "sources" / "syn0000006.txt"
    src.write_bytes(src.read_bytes().replace(b"Synthetic document", b"Synthetic d0cument", 1))
    with pytest.raises(DataError) as e:
        build(data, db)
    assert "sha256 of" in e.value.report() and "syn0000006" in e.value.report()
    assert table_contents(db) == before

"""`claimkb check`, the build's use of the checks, the online lookups (fake network) and the
real corpus."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from claimkb.checks import report, run_all
from claimkb.checks.online import check as online_check
from claimkb.cli import cli
from support import CORPUS, by_rule, errors, make_doc, make_kb

ROOT = Path(__file__).resolve().parent.parent
REAL_000 = ROOT / "data" / "documents" / "000_743566680b31fb4b.yaml"


@pytest.fixture
def corpus(tmp_path) -> Path:
    dest = tmp_path / "data"
    shutil.copytree(CORPUS, dest)
    shutil.copy(ROOT / "data" / "vocabulary.yaml", dest / "vocabulary.yaml")  # the real one
    return dest


def break_eq01(data: Path) -> None:
    f = data / "documents" / "fx000.yaml"
    text = f.read_text(encoding="utf-8")
    assert "relation: a_0 == lambda_e/alpha" in text
    f.write_text(
        text.replace("relation: a_0 == lambda_e/alpha", "relation: a_0 == lambda_e*alpha"),
        encoding="utf-8",
    )


def test_check_command_on_the_fixture_corpus(corpus):
    res = CliRunner().invoke(cli, ["check", "--data", str(corpus)])
    assert res.exit_code == 0, res.output
    out = res.output
    assert "== fx000" in out and "warning (" in out and "0 errors" in out
    assert "[printed-doi-malformed] bibliography fx000-ref06" in out
    assert "info finding" in out  # infos are counted, shown with --all
    res_all = CliRunner().invoke(cli, ["check", "--data", str(corpus), "--all"])
    assert "[machine-check] equation fx000-eq01" in res_all.output and "info (" in res_all.output


def test_check_errors_exit_1_and_name_file_and_line(corpus):
    break_eq01(corpus)
    res = CliRunner().invoke(cli, ["check", "--data", str(corpus)])
    assert res.exit_code == 1
    assert "error (" in res.output and "[verified-not-confirmed] equation fx000-eq01" in res.output
    assert "fx000.yaml:" in res.output


def test_build_fails_on_check_errors_and_writes_nothing(corpus, tmp_path):
    break_eq01(corpus)
    db = tmp_path / "kb.db"
    res = CliRunner().invoke(cli, ["build", "--data", str(corpus), "--db", str(db)])
    assert res.exit_code == 1 and not db.exists()
    assert "check error" in res.output


def test_build_stores_findings_in_the_checks_table(corpus, tmp_path):
    db = tmp_path / "kb.db"
    res = CliRunner().invoke(cli, ["build", "--data", str(corpus), "--db", str(db)])
    assert res.exit_code == 0, res.output
    rows = (
        sqlite3.connect(db)
        .execute("select document_id, about_type, about_id, rule, severity, message from checks")
        .fetchall()
    )
    got = {(r[2], r[3]) for r in rows}
    assert ("fx000-ref06", "printed-doi-malformed") in got
    assert ("fx000-ref15", "printed-isbn-invalid") in got
    assert ("fx000-eq01", "machine-check") in got
    assert ("fx000-c02", "machine-check") in got
    assert all(r[0] == "fx000" and r[4] in ("error", "warning", "info") and r[5] for r in rows)


def test_report_groups_by_document_and_severity():
    fs = run_all(
        make_kb(
            make_doc(
                "d1", claims=[{"id": "c1", "quote": "q", "statement": "s", "status": "established"}]
            ),
            make_doc("d2", bibliography=[{"id": "r1", "label": "1", "quote": "ISBN 0 444 86361"}]),
        )
    )
    text = report(fs)
    assert text.index("== d1") < text.index("== d2")
    assert "  error (1):" in text and "  warning (1):" in text
    assert report(fs, only_errors=True).count("[") == 1


# --------------------------------------------------------------- online lookups with a fake network


def kb_with_dois():
    return make_kb(
        make_doc(
            bibliography=[
                {
                    "id": "r1",
                    "label": "1",
                    "quote": "p",
                    "doi": "10.1000/good",
                    "title": "Attosecond science",
                    "year": 2007,
                },
                {"id": "r2", "label": "2", "quote": "p", "doi": "10.1000/missing"},
                {
                    "id": "r3",
                    "label": "3",
                    "quote": "p",
                    "doi": "10.1000/other",
                    "title": "Attosecond science",
                    "year": 2007,
                },
            ]
        )
    )


class FakeNet:
    def __init__(self):
        self.calls = []

    def __call__(self, url):
        self.calls.append(url)
        if url.endswith("/works/10.1000/good"):
            return 200, json.dumps(
                {
                    "message": {
                        "title": ["Attosecond science"],
                        "issued": {"date-parts": [[2007, 6]]},
                    }
                }
            ).encode()
        if url.endswith("/works/10.1000/other"):
            return 200, json.dumps(
                {
                    "message": {
                        "title": ["Something else entirely"],
                        "issued": {"date-parts": [[1999]]},
                    }
                }
            ).encode()
        if "/works/" in url:
            return 404, b"Resource not found."
        if url.endswith("/handles/10.1000/missing"):
            return 404, json.dumps({"responseCode": 100}).encode()
        raise AssertionError(url)


def test_online_lookups_with_a_fake_fetcher_and_cache(tmp_path):
    from claimkb.checks.findings import Collector

    net = FakeNet()
    col = Collector()
    online_check(kb_with_dois(), col, fetch=net, cache_dir=tmp_path)
    fs = col.findings
    assert by_rule(fs, "online-doi", "r1")[0].severity == "info"
    assert by_rule(fs, "online-doi", "r2")[0].severity == "error"
    other = by_rule(fs, "online-doi", "r3")[0]
    assert (
        other.severity == "warning"
        and "Something else entirely" in other.message
        and "1999" in other.message
    )
    assert len(list((tmp_path / "doi").glob("*.json"))) == 3
    # second run: answered from the cache, no network
    n = len(net.calls)
    col2 = Collector()
    online_check(kb_with_dois(), col2, fetch=net, cache_dir=tmp_path)
    assert len(net.calls) == n and [f.severity for f in col2.findings] == [f.severity for f in fs]


def test_without_network_nothing_fails(tmp_path):
    def offline(url):
        raise OSError("Network is unreachable")

    fs = run_all(kb_with_dois(), online=True, fetch=offline, cache_dir=tmp_path)
    f = by_rule(fs, "online-unavailable")
    assert len(f) == 1 and f[0].severity == "info" and "Network is unreachable" in f[0].message
    assert errors(fs) == []


def test_check_online_on_this_machine_degrades_gracefully(corpus):
    res = CliRunner().invoke(cli, ["check", "--data", str(corpus), "--online", "--all"])
    assert res.exit_code == 0, (
        res.output
    )  # fixture has no DOI in metadata; nothing to look up, nothing fails


# --------------------------------------------------------------------------- the real corpus


def test_real_corpus_has_no_check_errors(kb):
    fs = run_all(kb)
    assert errors(fs) == [], report(fs, only_errors=True)


@pytest.fixture(scope="module")
def kb000():
    """Document 000 alone, loaded by the real loader (independent of the state of the other
    documents)."""
    from claimkb.ingest.load import KnowledgeBase, load_vocabulary, parse_document
    from claimkb.problems import DataError

    vocab, vp = load_vocabulary(ROOT / "data" / "vocabulary.yaml")
    ld, problems = parse_document(REAL_000, ROOT / "data" / "sources")
    problems = [p for p in vp + problems if p.severity == "error"]
    if problems or ld is None:
        raise DataError(problems)
    return KnowledgeBase(vocabulary=vocab, documents=[ld])


def test_known_bad_printed_identifiers_of_000_are_found_in_the_real_corpus(kb000):
    kb = kb000
    fs = run_all(kb)
    assert by_rule(fs, "printed-doi-malformed", "000-ref06")
    assert by_rule(fs, "printed-url-instead-of-doi", "000-ref09") or by_rule(
        fs, "printed-link-without-doi", "000-ref09"
    )
    assert by_rule(fs, "printed-doi-legacy-link", "000-ref10")
    assert by_rule(fs, "printed-isbn-invalid", "000-ref15")


PROPOSED = Path(__file__).resolve().parent / "fixtures" / "checks" / "000_machine_checks.yaml"


def test_proposed_machine_checks_pass_on_the_curated_000(kb000):
    """The blocks handed to the lead for 000-eq01/eq03/eq06: eq01 comes out verified, nothing
    is an error."""
    import copy

    import yaml

    from claimkb.model import MachineCheck

    blocks = yaml.safe_load(PROPOSED.read_text(encoding="utf-8"))
    kb = copy.deepcopy(kb000)
    eqs = {e.id: e for ld in kb.documents for e in ld.doc.equations}
    assert set(blocks) <= set(eqs), "the curated 000 has the equations the blocks are for"
    for eq_id, block in blocks.items():
        eqs[eq_id].machine_check = MachineCheck.model_validate(block)
    eqs["000-eq01"].check_status = "verified"
    fs = run_all(kb)
    assert errors(fs) == [], report(fs, only_errors=True)
    eq01 = by_rule(fs, "machine-check", "000-eq01")
    assert eq01[0].severity == "info" and "holds symbolically" in eq01[0].message
    assert [f.severity for f in by_rule(fs, "machine-check", "000-c050")] == ["warning", "warning"]
    assert by_rule(fs, "machine-check", "000-c044")[0].severity == "info"
    assert by_rule(fs, "machine-check", "000-c049")[0].severity == "info"
    assert any(
        "differ by Theta_2*Phi_1" in f.message for f in by_rule(fs, "machine-check", "000-eq06")
    )
    assert not by_rule(
        fs, "machine-check-passes", "000-eq03"
    )  # a normalisation check does not make eq. (3) verifiable


def test_every_rule_is_documented():
    from claimkb.checks import RULES

    docs = "".join(
        p.read_text(encoding="utf-8") for p in (ROOT / "docs" / "checks.md", ROOT / "README.md")
    )
    missing = [r for r in RULES if f"`{r}`" not in docs]
    assert missing == [], f"rules not documented in docs/checks.md or README.md: {missing}"

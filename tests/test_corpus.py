"""What completeness of the curated corpus can be checked mechanically."""

from __future__ import annotations

import sqlite3
from collections import Counter

import pytest

from claimkb.model import NEEDS_EVIDENCE

D000, D001, D002 = "000_743566680b31fb4b", "001_245bb09855103021", "002_fc3bf734e4e9af51"


@pytest.fixture(scope="module")
def conn(built_db):
    c = sqlite3.connect(built_db)
    c.row_factory = sqlite3.Row
    return c


def test_all_three_documents_are_curated(conn):
    ids = [r[0] for r in conn.execute("select id from documents order by id")]
    assert [D000, D001, D002] == [i for i in ids if i in (D000, D001, D002)]
    # a draft `claimkb new` wrote is not curated yet: it may sit in data/ beside the rest
    for r in conn.execute("select id, kind, assessment from documents where draft = 0"):
        assert r["kind"] and r["assessment"], f"{r['id']} needs kind and an overall assessment"


def test_000_has_equations_1_to_11_and_references_1_to_16(conn):
    labels = {
        r[0] for r in conn.execute("select label from equations where document_id = ?", (D000,))
    }
    assert {str(n) for n in range(1, 12)} <= labels
    refs = {
        r[0] for r in conn.execute("select label from bibliography where document_id = ?", (D000,))
    }
    assert {str(n) for n in range(1, 17)} <= refs


def test_000_equations_have_latex_and_a_glossary(conn):
    for r in conn.execute(
        "select id, latex, mathml, symbols from equations where document_id = ?", (D000,)
    ):
        assert r["latex"] and r["mathml"], r["id"]
        assert r["symbols"] != "[]", f"{r['id']} needs a glossary of its symbols"


def test_lost_equations_of_001_are_not_reconstructed_into_quotes(conn):
    rows = conn.execute(
        (
            "select id, latex, quote from equations "
            "where document_id = ? and check_status = 'not recoverable'"
        ),
        (D001,),
    ).fetchall()
    assert rows, "001 lost equations in extraction; they are recorded as not recoverable"
    for r in rows:
        assert r["latex"] is None, (
            f"{r['id']}: a lost equation has no LaTeX of its own (use reconstruction)"
        )


def test_no_claim_is_left_unassessed_and_each_has_type_rationale_confidence(conn):
    bad = conn.execute(
        "select c.id from claims c join documents d on d.id = c.document_id where d.draft = 0 "
        "and (c.status = 'not assessed' or c.claim_type is null or c.rationale is null "
        "or c.confidence is null)"
    ).fetchall()
    assert not bad, [r[0] for r in bad]


def test_records_rated_on_evidence_have_evidence(conn):
    marks = ",".join("?" for _ in NEEDS_EVIDENCE)
    for table, col in (
        ("claims", "claim_id"),
        ("equations", "equation_id"),
        ("bibliography", "bibliography_id"),
    ):
        missing = conn.execute(
            (
                f"select id from [{table}] t where status in ({marks}) "
                f"and not exists (select 1 from evidence e where e.{col} = t.id)"
            ),
            NEEDS_EVIDENCE,
        ).fetchall()
        assert not missing, f"{table} without evidence: {[r[0] for r in missing]}"


def test_no_two_claims_share_the_same_quote_span(conn):
    spans = Counter(
        (r[0], r[1], r[2])
        for r in conn.execute("select document_id, quote_start, quote_end from claims")
    )
    dup = [s for s, n in spans.items() if n > 1]
    assert not dup, (
        "claims with identical quote spans "
        f"(give each the smallest quote that carries its proposition): {dup}"
    )


def test_site_summary_of_002_is_marked_as_the_sites(conn):
    voices = dict(
        conn.execute(
            "select voice, count(*) from claims where document_id = ? group by voice", (D002,)
        ).fetchall()
    )
    assert voices.get("site summary", 0) >= 3 and voices.get("authors", 0) >= 3
    tldr = conn.execute(
        (
            "select voice from claims where document_id = ? "
            "and section in ('TL;DR', 'Contribution', 'Findings')"
        ),
        (D002,),
    ).fetchall()
    assert tldr and all(v[0] == "site summary" for v in tldr)
    boiler = conn.execute(
        "select count(*) from claims where document_id = ? and quote like '%No public reviews%'",
        (D002,),
    ).fetchone()[0]
    assert boiler == 0


def test_claims_citing_references_are_linked(conn):
    # every "[n]" citation marker inside a quote of 000 is linked to that bibliography entry
    import re

    checked = 0
    for r in conn.execute("select id, quote from claims where document_id = ?", (D000,)):
        for group in re.findall(r"\[([\d,–\s-]+)\]", r["quote"]):
            checked += 1
            labels: set[str] = set()
            for part in group.split(","):
                part = part.strip()
                if re.fullmatch(r"\d+[–-]\d+", part):
                    a, b = re.split(r"[–-]", part)
                    labels |= {str(n) for n in range(int(a), int(b) + 1)}
                elif part.isdigit():
                    labels.add(part)
            cited = {
                row[0]
                for row in conn.execute(
                    (
                        "select b.label from claim_citations c "
                        "join bibliography b on b.id = c.bibliography_id where c.claim_id = ?"
                    ),
                    (r["id"],),
                )
            }
            assert labels <= cited, f"{r['id']} quotes [{group}] but cites {sorted(cited)}"
    assert checked >= 5, "000 quotes carry citation markers; the test must have found them"

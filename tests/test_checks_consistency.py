"""Consistency rules over the whole knowledge base: each with a failing and a passing case."""

from __future__ import annotations

import pytest

from support import by_rule, errors, judged, make_doc, run, supporting

SELF = {
    "stance": "supports",
    "work": {"title": "Our earlier paper", "url": "https://example.org/ours"},
    "note": "Our claim.",
    "self_citation": True,
}


def claim(cid, status="not assessed", **kw):
    return {
        "id": cid,
        "quote": f"quote {cid}",
        "statement": f"statement {cid}",
        "status": status,
        **kw,
    }


def entry(rid, label, **kw):
    return {"id": rid, "label": label, "quote": f"printed {rid}", **kw}


# ------------------------------------------------------------------------- evidence behind a status


@pytest.mark.parametrize(
    "status", ["established", "supported", "contradicted", "no physical basis"]
)
def test_assessed_claim_without_evidence_is_an_error(status):
    fs = run(make_doc(claims=[claim("c1", status)]))
    f = by_rule(fs, "needs-evidence", "c1")
    assert f and f[0].severity == "error" and status in f[0].message


def test_assessed_equation_and_entry_without_evidence_are_errors():
    fs = run(
        make_doc(
            equations=[{"id": "e1", "quote": "q", "status": "established"}],
            bibliography=[entry("r1", "1", status="contradicted")],
        )
    )
    assert by_rule(fs, "needs-evidence", "e1") and by_rule(fs, "needs-evidence", "r1")


def test_evidence_written_apart_counts():
    ld = make_doc(claims=[claim("c1", "established")], evidence=[supporting(about="c1")])
    assert run(ld) == []


@pytest.mark.parametrize("status", ["speculative", "unsupported", "not assessed"])
def test_other_statuses_need_no_evidence(status):
    assert run(make_doc(claims=[claim("c1", status)])) == []


# --------------------------------------------------------------------------- self-citation


def test_established_on_self_citation_only_is_an_error():
    fs = run(make_doc(claims=[claim("c1", "established", evidence=[SELF])]))
    f = by_rule(fs, "self-citation-only", "c1")
    assert f and f[0].severity == "error"


def test_supported_on_self_citation_only_is_a_warning():
    fs = run(make_doc(claims=[claim("c1", "supported", evidence=[SELF])]))
    f = by_rule(fs, "self-citation-only", "c1")
    assert f and f[0].severity == "warning"


def test_self_citation_inherited_from_the_bibliography_entry():
    ev = {"stance": "supports", "bibliography": "11", "note": "Ref. 11."}
    fs = run(
        make_doc(
            claims=[claim("c1", "established", evidence=[ev])],
            bibliography=[entry("r11", "11", self_citation=True)],
        )
    )
    assert by_rule(fs, "self-citation-only", "c1")


def test_independent_support_or_speculative_status_passes():
    fs = run(
        make_doc(
            claims=[
                claim("c1", "established", evidence=[SELF, supporting()]),
                claim("c2", "speculative", evidence=[SELF]),
            ]
        )
    )
    assert not by_rule(fs, "self-citation-only")


def test_context_items_do_not_count_as_independent_support():
    ctx = supporting(stance="context")
    fs = run(make_doc(claims=[claim("c1", "established", evidence=[SELF, ctx])]))
    assert by_rule(fs, "self-citation-only", "c1")


# --------------------------------------------------------------------------- contradicting claims


def test_contradicting_claims_both_established_is_an_error():
    a = claim(
        "c1",
        "established",
        evidence=[supporting()],
        links=[{"relation": "contradicts", "to": "c2"}],
    )
    b = claim("c2", "established", evidence=[supporting()])
    f = by_rule(judged(make_doc(claims=[a, b]))[1], "contradiction-both-established", "c1")
    assert f and f[0].severity == "error" and "c2" in f[0].message


def test_contradiction_across_documents():
    a = claim(
        "d1-c1",
        "established",
        evidence=[supporting()],
        links=[{"relation": "contradicts", "to": "d2-c1"}],
    )
    b = claim("d2-c1", "established", evidence=[supporting()])
    problems, fs = judged(make_doc("d1", claims=[a]), make_doc("d2", claims=[b]))
    assert problems == [] and by_rule(fs, "contradiction-both-established", "d1-c1")


def test_contradicting_claims_with_one_contradicted_pass():
    a = claim(
        "c1",
        "established",
        evidence=[supporting()],
        links=[{"relation": "contradicts", "to": "c2"}],
    )
    b = claim("c2", "contradicted", evidence=[supporting(stance="contradicts")])
    doc = make_doc(claims=[a, b])
    assert run(doc) == [] and judged(doc) == ([], [])


def test_established_against_supported_is_a_warning():
    a = claim(
        "c1",
        "established",
        evidence=[supporting()],
        links=[{"relation": "contradicts", "to": "c2"}],
    )
    b = claim("c2", "supported", evidence=[supporting()])
    f = by_rule(judged(make_doc(claims=[a, b]))[1], "contradiction-both-backed", "c1")
    assert f and f[0].severity == "warning"


# --------------------------------------------------------------------- labels, duplicates, verified


def test_citing_an_unknown_label_is_an_error():
    # the loader refuses this already; the rule keeps a knowledge base built another way honest
    fs = run(make_doc(claims=[claim("c1", cites=["99"])], bibliography=[entry("r1", "1")]))
    f = by_rule(fs, "unknown-bibliography-label", "c1")
    assert f and f[0].severity == "error" and "'99'" in f[0].message and "1" in f[0].message


def test_evidence_naming_an_unknown_label_is_an_error():
    ev = {"stance": "supports", "bibliography": "7", "note": "x"}
    fs = run(make_doc(claims=[claim("c1", "speculative", evidence=[ev])]))
    assert by_rule(fs, "unknown-bibliography-label", "c1")


def test_known_labels_pass():
    fs = run(make_doc(claims=[claim("c1", cites=["1"])], bibliography=[entry("r1", "1")]))
    assert not by_rule(fs, "unknown-bibliography-label")


def test_duplicate_doi_and_title():
    fs = run(
        make_doc(
            bibliography=[
                entry("r1", "1", doi="10.1000/dup", title="Attosecond physics"),
                entry("r2", "2", doi="10.1000/DUP"),
                entry("r3", "3", title="Attosecond  Physics."),
            ]
        )
    )
    dups = by_rule(fs, "duplicate-bibliography")
    assert {f.about_id for f in dups} == {"r2", "r3"} and all(f.severity == "warning" for f in dups)


def test_duplicate_noted_in_problems_or_distinct_works_pass():
    fs = run(
        make_doc(
            bibliography=[
                entry("r1", "1", doi="10.1000/dup"),
                entry(
                    "r2",
                    "2",
                    doi="10.1000/dup",
                    problems=["The document lists this work twice (duplicate of ref 1)."],
                ),
                entry("r3", "3", title="Attosecond science", doi="10.1000/a"),
                entry("r4", "4", title="Attosecond science and technology", doi="10.1000/b"),
                entry("r5", "5", title="Same title", doi="10.1000/c"),
                entry("r6", "6", title="Same title", doi="10.1000/d"),
            ]
        )
    )
    assert not by_rule(fs, "duplicate-bibliography")


def test_verified_entry_with_problems_is_a_warning():
    fs = run(
        make_doc(
            bibliography=[
                entry("r1", "1", citation_status="verified", problems=["Page range wrong."])
            ]
        )
    )
    f = by_rule(fs, "verified-with-problems", "r1")
    assert f and f[0].severity == "warning"
    assert not errors(fs)


def test_findings_are_deterministic():
    docs = lambda: [
        make_doc(claims=[claim("c1", "established"), claim("c2", "supported", evidence=[SELF])])
    ]  # noqa: E731
    assert run(*docs()) == run(*docs())

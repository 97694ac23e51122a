"""Identifier rules: DOI, ISBN, arXiv, URL, in metadata and in the printed citations."""

from __future__ import annotations

import pytest

from claimkb.checks.identifiers import (
    arxiv_problem,
    doi_problem,
    isbn_problem,
    printed_identifiers,
    url_problem,
)
from support import by_rule, errors, make_doc, run, supporting

# the printed entries of document 000 (data/sources/000_743566680b31fb4b.txt), exactly as printed
REF03 = (
    "Corkum, P.B. & Krausz, F. (2007). Attosecond science. *Nature Physics*, 3, 6, 381–387. "
    "<https://doi.org/10.1038/nphys620>"
)
REF06 = (
    "Zewail, A.H. (2000). Femtochemistry. Past, present, and future. "
    "*Pure and Applied Chemistry*, 72, 12, 2219–2231. "
    "<https://doi.org/10.10910.1351/pac200072122219>"
)
REF09 = (
    "Ranitovic, P., Hogle, C.W., Riviere, P., Palacios, A., Tong, X.M., Toshima, N., "
    "Gonzalez-Castrillo, A., Martin, L., Martin, F., Murnane, M. & Kapteyn, H. (2014). "
    "Attosecond VUV coherent control of molecular dynamics. "
    "*Proceedings of the National Academy of Sciences USA*, 111, 3, 912–917. "
    "<https://jila.colorado.edu/bibcite/reference/3356>"
)
REF10 = (
    "Calegari F., Sansone, G., Stagira, S., Vozzi, C. & Nisoli, M. (2016). "
    "Advances in attosecond science. "
    "*Journal of Physics B: Atomic, Molecular and Optical Physics*, 49, 062001, 1–27. "
    "<http://dx.doi.org/10.1088/0953-4075/49/6/062001>"
)
REF15 = (
    "Umezawa, H., Matsumoto, H. & Tachiki, M. (1982). "
    "*Thermo Field Dynamics and Condensed States*. North-Holland; "
    "Amsterdam (Netherlands); ISBN 0 444 86361, 607 pp."
)


def ref(rid: str, quote: str, **kw):
    return {"id": rid, "label": rid.split("-")[-1], "quote": quote, **kw}


# --------------------------------------------------------------------------- single identifiers


@pytest.mark.parametrize(
    "doi",
    [
        "10.1038/nphys620",
        "10.1103/RevModPhys.81.163",
        "10.1146/annurev-physchem-032511-143702",
        "10.1134/S102995991701009X",
        "10.1504/IJNT.2018.094783",
        "10.1088/0953-4075/49/6/062001",
        "10.1002/(SICI)1097-4636(199812)43:4<374::AID-JBM5>3.0.CO;2-5",
    ],
)
def test_well_formed_dois_pass(doi):
    assert doi_problem(doi) is None


@pytest.mark.parametrize(
    "doi, words",
    [
        ("10.10910.1351/pac200072122219", "doubled or garbled prefix"),
        ("10.1038", "no `/`"),
        ("11.1000/xyz", "does not start with `10.`"),
        ("10.12/xyz", "malformed prefix"),
        ("10.1038/nphys 620", "outside Crossref's recommended DOI pattern"),
        ("https://doi.org/10.1038/nphys620", "resolver"),
    ],
)
def test_malformed_dois_are_named(doi, words):
    p = doi_problem(doi)
    assert p is not None and words in p


def test_doubled_prefix_names_the_wellformed_rest():
    assert "10.1351/pac200072122219" in doi_problem("10.10910.1351/pac200072122219")


@pytest.mark.parametrize(
    "isbn", ["0-306-40615-2", "978-0-306-40615-7", "0 306 40615 2", "080442957X"]
)
def test_valid_isbns_pass(isbn):
    assert isbn_problem(isbn) is None


def test_isbn_missing_digit_is_flagged_with_the_computed_check_digit():
    p = isbn_problem("0 444 86361")
    # 0*10+4*9+4*8+4*7+8*6+6*5+3*4+6*3+1*2 = 206; 206 mod 11 = 8; check digit (11-8) mod 11 = 3
    assert "9 digits" in p and "0444863613" in p


@pytest.mark.parametrize(
    "isbn, words",
    [
        ("0-306-40615-3", "check digit 3"),
        ("978-0-306-40615-6", "check digit 6"),
        ("12345", "10 or 13"),
        ("977-0-306-40615-7", "978 or 979"),
    ],
)
def test_bad_isbns(isbn, words):
    p = isbn_problem(isbn)
    assert p is not None and words in p


@pytest.mark.parametrize(
    "a",
    [
        "quant-ph/0101001",
        "2101.01234v2",
        "0704.0001",
        "1412.9999",
        "1501.00001",
        "math.AG/0601001",
        "hep-th/9108001v3",
    ],
)
def test_valid_arxiv_ids(a):
    assert arxiv_problem(a) is None


@pytest.mark.parametrize(
    "a, words",
    [
        ("2101.1234", "five digits"),
        ("1401.12345", "four digits"),
        ("0612.0001", "April 2007"),
        ("2113.01234", "month"),
        ("foo-ph/0101001", "not an arXiv archive"),
        ("quant-ph/0801001", "9108 to 0703"),
        ("arXiv:2101.01234", "prefix"),
        ("quant-ph/01010", "neither"),
    ],
)
def test_bad_arxiv_ids(a, words):
    p = arxiv_problem(a)
    assert p is not None and words in p


def test_url_problems():
    assert url_problem("https://physics.nist.gov/cuu/Constants/index.html") is None
    assert "http" in url_problem("jila.colorado.edu/bibcite/reference/3356")
    assert "spaces" in url_problem("https://example.org/a b")


def test_printed_identifiers_are_extracted_from_000_entries():
    assert printed_identifiers(REF06).dois == [
        ("10.10910.1351/pac200072122219", "https://doi.org/10.10910.1351/pac200072122219")
    ]
    p9 = printed_identifiers(REF09)
    assert p9.dois == [] and p9.urls == ["https://jila.colorado.edu/bibcite/reference/3356"]
    assert printed_identifiers(REF10).dois == [
        ("10.1088/0953-4075/49/6/062001", "http://dx.doi.org/10.1088/0953-4075/49/6/062001")
    ]
    assert printed_identifiers(REF15).isbns == ["0 444 86361"]
    assert printed_identifiers("see doi:10.1038/nphys620.").dois == [("10.1038/nphys620", None)]
    assert printed_identifiers("arXiv:quant-ph/0101001, 2001").arxiv == ["quant-ph/0101001"]


# --------------------------------------------------------------------------- rules on records


def test_known_bad_printed_identifiers_of_000_are_found():
    ld = make_doc(
        bibliography=[
            ref(
                "x-ref06", REF06, citation_status="citation error", problems=["Doubled DOI prefix."]
            ),
            ref("x-ref09", REF09),
            ref("x-ref10", REF10),
            ref(
                "x-ref15",
                REF15,
                citation_status="minor errors",
                problems=["ISBN lacks its check digit."],
            ),
        ]
    )
    fs = run(ld)
    assert by_rule(fs, "printed-doi-malformed", "x-ref06")
    assert by_rule(fs, "printed-link-without-doi", "x-ref09")
    assert by_rule(fs, "printed-doi-legacy-link", "x-ref10")
    assert by_rule(fs, "printed-isbn-invalid", "x-ref15")
    assert not errors(fs)  # the statuses admit the problems: warnings, shown on the pages


def test_a_verified_entry_with_a_bad_printed_identifier_is_an_error():
    ld = make_doc(
        bibliography=[
            ref("x-ref06", REF06, citation_status="verified"),
            ref("x-ref15", REF15, citation_status="verified"),
        ]
    )
    fs = run(ld)
    assert [f.severity for f in by_rule(fs, "printed-doi-malformed", "x-ref06")] == ["error"]
    assert [f.severity for f in by_rule(fs, "printed-isbn-invalid", "x-ref15")] == ["error"]
    assert "citation_status" in by_rule(fs, "printed-doi-malformed")[0].message


def test_link_in_place_of_a_doi_when_the_record_has_one():
    # 10.1000/ is the DOI Handbook's example prefix: a made-up DOI for the rule, not a record of
    # the work
    ld = make_doc(
        bibliography=[ref("x-ref09", REF09, doi="10.1000/example.9", citation_status="verified")]
    )
    f = by_rule(run(ld), "printed-url-instead-of-doi", "x-ref09")
    assert f and f[0].severity == "error" and "10.1000/example.9" in f[0].message


def test_a_correct_printed_citation_gives_no_finding():
    ld = make_doc(
        bibliography=[ref("x-ref03", REF03, doi="10.1038/nphys620", citation_status="verified")]
    )
    assert run(ld) == []


def test_printed_doi_differs_from_record():
    ld = make_doc(
        bibliography=[ref("x-ref03", REF03, doi="10.1000/other", citation_status="minor errors")]
    )
    f = by_rule(run(ld), "printed-doi-differs", "x-ref03")
    assert f and f[0].severity == "warning"


def test_malformed_metadata_identifier_is_an_error_and_blocks_verified():
    ld = make_doc(
        bibliography=[
            ref("x-ref06", REF06, doi="10.10910.1351/pac200072122219", citation_status="verified")
        ]
    )
    fs = run(ld)
    assert by_rule(fs, "doi-malformed", "x-ref06")[0].severity == "error"
    assert by_rule(fs, "verified-with-bad-identifier", "x-ref06")[0].severity == "error"


def test_bad_isbn_and_arxiv_in_metadata():
    ld = make_doc(
        bibliography=[
            ref(
                "x-ref15",
                REF15,
                isbn="0 444 86361",
                arxiv_id="2101.1234",
                citation_status="incomplete",
            )
        ]
    )
    fs = run(ld)
    assert by_rule(fs, "isbn-invalid", "x-ref15") and by_rule(fs, "arxiv-malformed", "x-ref15")
    assert not by_rule(fs, "verified-with-bad-identifier")


def test_url_that_is_a_doi_link_and_url_next_to_doi():
    ld = make_doc(
        bibliography=[
            ref("x-a", "A. (2000). Title.", url="https://doi.org/10.1000/a1"),
            ref("x-b", "B. (2000). Title B.", doi="10.1000/b1", url="https://example.org/b"),
        ]
    )
    fs = run(ld)
    assert by_rule(fs, "url-is-doi", "x-a")[0].severity == "warning"
    assert "10.1000/a1" in by_rule(fs, "url-is-doi", "x-a")[0].message
    assert by_rule(fs, "url-with-doi", "x-b")[0].severity == "warning"


def test_evidence_with_a_malformed_identifier_is_an_error():
    bad = {
        "stance": "supports",
        "work": {"title": "A book", "isbn": "0-306-40615-3"},
        "note": "p. 1",
    }
    ld = make_doc(
        claims=[
            {
                "id": "x-c1",
                "quote": "q",
                "statement": "s",
                "status": "speculative",
                "evidence": [supporting(), bad],
            }
        ]
    )
    fs = run(ld)
    f = by_rule(fs, "evidence-identifier")
    assert (
        len(f) == 1
        and f[0].severity == "error"
        and f[0].about_type == "evidence"
        and f[0].about_id == "x-c1/e2"
    )


def test_good_evidence_gives_no_finding():
    ld = make_doc(
        claims=[
            {
                "id": "x-c1",
                "quote": "q",
                "statement": "s",
                "status": "established",
                "evidence": [supporting()],
            }
        ]
    )
    assert run(ld) == []


# --------------------------------------------------------------------------- properties

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from claimkb.identifiers import isbn10_check, isbn13_check  # noqa: E402

digits = st.text(alphabet="0123456789", min_size=9, max_size=9)


@given(digits, st.integers(0, 8), st.integers(1, 9))
def test_isbn10_check_digit_catches_every_single_digit_error(first9, pos, delta):
    good = first9 + isbn10_check(first9)
    assert isbn_problem(good) is None
    bad = good[:pos] + str((int(good[pos]) + delta) % 10) + good[pos + 1 :]
    assert isbn_problem(bad) is not None


@given(
    st.text(alphabet="0123456789", min_size=9, max_size=9), st.integers(0, 11), st.integers(1, 9)
)
def test_isbn13_check_digit_catches_every_single_digit_error(rest, pos, delta):
    first12 = "978" + rest
    good = first12 + isbn13_check(first12)
    assert isbn_problem(good) is None
    bad = good[:pos] + str((int(good[pos]) + delta) % 10) + good[pos + 1 :]
    if bad[:3] in ("978", "979"):
        assert isbn_problem(bad) is not None


@given(st.from_regex(r"\A10\.[0-9]{4,9}/[-._;()/:A-Za-z0-9]{1,30}\Z"))
def test_every_string_of_crossrefs_pattern_is_accepted(doi):
    assert doi_problem(doi) is None

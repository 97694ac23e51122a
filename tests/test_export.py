"""`claimkb export`: every format is parsed back by a real consumer and compared with the database.

Two databases are used: the session-built database of the real data/ (``built_db``), and a
small database built here by the real loader and build code from a fixture document that has
a claim in every evidence status, evidence works (two of them the same DOI, written differently)
and bibliography entries with DOI, ISBN, arXiv id and URL.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import sys
import zipfile
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from claimkb.cli import cli

pytestmark = pytest.mark.usefixtures("no_network_for_pyld")

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_TEXT = ROOT / "tests" / "fixtures" / "new" / "article.md"

# works used as evidence and references: each identifier was checked (see the final report of the
# helper that wrote this test): Corkum & Krausz, Nature Physics 3, 381 (2007), doi 10.1038/nphys620;
# Sakurai, Modern Quantum Mechanics, revised ed., Addison-Wesley 1994, ISBN 0-201-53929-2;
# Streltsov et al., Measuring quantum coherence with entanglement, arXiv:1502.05876
# (PRL 115, 020403);
# NIST fundamental physical constants pages, https://physics.nist.gov/cuu/Constants/
CORKUM = {
    "title": "Attosecond science",
    "authors": ["Corkum, P. B.", "Krausz, Ferenc"],
    "year": 2007,
    "venue": "Nature Physics",
    "volume": "3",
    "pages": "381–387",
    "doi": "10.1038/nphys620",
}
SAKURAI = {
    "title": "Modern Quantum Mechanics (revised edition)",
    "authors": ["Sakurai, J. J."],
    "year": 1994,
    "publisher": "Addison-Wesley",
    "isbn": "0-201-53929-2",
}
STRELTSOV = {
    "title": "Measuring quantum coherence with entanglement",
    "authors": [
        "Streltsov, Alexander",
        "Singh, Uttam",
        "Dhar, Himadri Shekhar",
        "Bera, Manabendra Nath",
        "Adesso, Gerardo",
    ],
    "year": 2015,
    "arxiv_id": "1502.05876",
}
NIST = {
    "title": "Fundamental physical constants & units: 50% of {everything} #1",
    "authors": ["National Institute of Standards and Technology"],
    "url": "https://physics.nist.gov/cuu/Constants/",
}


def _doc() -> dict:
    text = FIXTURE_TEXT.read_bytes()
    return {
        "id": "900_export",
        "title": "Attosecond Pulses and the Scales of Atomic Physics",
        "authors": ["Author, Test"],
        "year": 2024,
        "url": "https://example.org/article",
        "kind": "unreviewed manuscript",
        "sha256": hashlib.sha256(text).hexdigest(),
        "claims": [
            {
                "id": "900-c01",
                "quote": (
                    "Attosecond light pulses resolve the motion of electrons inside atoms [1]."
                ),
                "statement": "Attosecond pulses resolve electron motion in atoms.",
                "claim_type": "empirical",
                "status": "established",
                "confidence": 0.9,
                "rationale": "Textbook attosecond physics; see the review.",
                "cites": ["1"],
                "evidence": [
                    {
                        "stance": "supports",
                        "work": CORKUM,
                        "note": "Review of attosecond measurements.",
                    }
                ],
            },
            {
                "id": "900-c02",
                "quote": "The Bohr radius sets the length scale of atomic physics [2].",
                "statement": "The Bohr radius is the length scale of atomic physics.",
                "claim_type": "definitional",
                "status": "supported",
                "rationale": "Standard textbook statement.",
                "evidence": [
                    {"stance": "supports", "work": SAKURAI, "note": "Textbook definition."},
                    {
                        "stance": "context",
                        "bibliography": "2",
                        "note": "The document's own reference.",
                    },
                ],
            },
            {
                "id": "900-c03",
                "quote": (
                    "Coherence of the electrons involved can be converted into entanglement [3]."
                ),
                "statement": "Electron coherence can be converted into entanglement.",
                "claim_type": "theoretical",
                "status": "speculative",
                "rationale": "Shown for abstract systems, not for these electrons.",
                "evidence": [{"stance": "context", "work": STRELTSOV, "note": "General theorem."}],
            },
            {
                "id": "900-c04",
                "quote": "These results need independent confirmation.",
                "occurrence": 1,
                "statement": "The results need confirmation.",
                "claim_type": "methodological",
                "status": "unsupported",
                "rationale": "Nothing backs it.",
            },
            {
                "id": "900-c05",
                "quote": (
                    "Shorter pulses will open new measurements of electron correlation "
                    "in molecules [1]."
                ),
                "statement": "Shorter pulses will open new measurements.",
                "claim_type": "forecast",
                "status": "contradicted",
                "rationale": "Contradicted (for the test).",
                "evidence": [
                    {
                        "stance": "contradicts",
                        "work": {**CORKUM, "doi": "10.1038/NPHYS620", "title": None},
                        "note": "Same DOI, other case.",
                    },
                    {"stance": "context", "work": NIST, "note": "Constants."},
                ],
            },
            {
                "id": "900-c06",
                "quote": "The photon energy of a pulse follows from its carrier frequency:",
                "statement": "Photon energy follows from frequency.",
                "claim_type": "theoretical",
                "status": "no physical basis",
                "rationale": "For the test only.",
                "evidence": [{"stance": "contradicts", "work": SAKURAI, "note": "E = ħω."}],
            },
            {
                "id": "900-c07",
                "quote": "These results need independent confirmation.",
                "occurrence": 2,
                "statement": "Still not assessed.",
                "status": "not assessed",
            },
        ],
        "equations": [
            {
                "id": "900-eq01",
                "label": "1",
                "latex": r"a_0 = \frac{\lambda_e}{\alpha}",
                "quote": r"$$a_0 = \frac{\lambda_e}{\alpha}. \quad (1)$$",
            }
        ],
        "bibliography": [
            {
                "id": "900-ref01",
                "label": "1",
                "quote": "Corkum, P.B. & Krausz, F. (2007). Attosecond science.",
                **CORKUM,
                "citation_status": "verified",
            },
            {"id": "900-ref02", "label": "2", "quote": "Sakurai, J.J. (1994).", **SAKURAI},
            {
                "id": "900-ref03",
                "label": "3",
                "quote": "Measuring quantum coherence with entanglement. arXiv:1502.05876",
                **STRELTSOV,
            },
            {"id": "900-ref04", "label": "4", "quote": "NIST. Fundamental physical constants."},
        ],
    }


@pytest.fixture(scope="module")
def small_db(tmp_path_factory) -> Path:
    """A small database built by the real loader and build code (with the machine checks)."""
    from claimkb.build import build

    base = tmp_path_factory.mktemp("small")
    data = base / "data"
    (data / "documents").mkdir(parents=True)
    (data / "sources").mkdir()
    shutil.copy(ROOT / "data" / "vocabulary.yaml", data / "vocabulary.yaml")
    shutil.copy(FIXTURE_TEXT, data / "sources" / "900_export.txt")
    (data / "documents" / "900_export.yaml").write_text(
        yaml.safe_dump(_doc(), sort_keys=False, allow_unicode=True), encoding="utf-8"
    )
    db = base / "small.db"
    build(data, db, workers=1)
    return db


def run_export(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(cli, ["export", *args], catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


def rows(db: Path, sql: str) -> list[sqlite3.Row]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


# --------------------------------------------------------------------------- ClaimReview

SO = "http://schema.org/"
BASE = "https://kb.example.org"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


def _triples(doc: dict, loader=None) -> list[tuple[str, str, str]]:
    from pyld import jsonld

    opts = {}
    if loader is not None:
        opts["documentLoader"] = loader
    dataset = jsonld.to_rdf(doc, opts)
    out = []
    for t in dataset["@default"]:
        out.append((t["subject"]["value"], t["predicate"]["value"], t["object"]["value"]))
    return out


def _reviews_from_triples(triples: list[tuple[str, str, str]]) -> dict[str, dict]:
    """claim id -> {statement, rating value, best, worst, status, date, explanation, author name,
    doc name}."""
    by_s: dict[str, dict[str, list[str]]] = {}
    for s, p, o in triples:
        by_s.setdefault(s, {}).setdefault(p, []).append(o)
    out = {}
    for _s, props in by_s.items():
        if SO + "ClaimReview" not in props.get(RDF_TYPE, []):
            continue
        rating = by_s[props[SO + "reviewRating"][0]]
        claim = by_s[props[SO + "itemReviewed"][0]]
        appearance = by_s[claim[SO + "appearance"][0]]
        author = by_s[props[SO + "author"][0]]
        out[props[SO + "identifier"][0]] = {
            "statement": props[SO + "claimReviewed"][0],
            "date": props[SO + "datePublished"][0],
            "value": int(rating[SO + "ratingValue"][0]),
            "best": int(rating[SO + "bestRating"][0]),
            "worst": int(rating[SO + "worstRating"][0]),
            "status": rating[SO + "alternateName"][0],
            "explanation": rating.get(SO + "ratingExplanation", [None])[0],
            "claim_type": claim[RDF_TYPE][0],
            "quote": claim[SO + "text"][0],
            "doc_name": appearance[SO + "name"][0],
            "author": author[SO + "name"][0],
            "citations": len(props.get(SO + "citation", [])),
        }
    return out


@pytest.mark.parametrize("which", ["small", "real"])
def test_claimreview_expands_to_the_claims_and_ratings(which, small_db, request, tmp_path):
    db = small_db if which == "small" else request.getfixturevalue("built_db")
    out = tmp_path / "reviews.jsonld"
    code, _, err = run_export(
        "claimreview",
        "--db",
        str(db),
        "--out",
        str(out),
        "--date",
        "2026-01-02",
        "--publisher",
        "Test KB",
        "--base-url",
        BASE,
    )
    assert code == 0, err
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert isinstance(doc["@context"], dict)  # embedded: expands offline
    reviews = _reviews_from_triples(_triples(doc))
    claims = rows(
        db,
        (
            "select c.*, d.title from claims c join documents d on d.id = c.document_id "
            "where c.status != 'not assessed'"
        ),
    )
    ranks = {r["term"]: r["rank"] for r in rows(db, "select term, rank from evidence_statuses")}
    assert set(reviews) == {c["id"] for c in claims}
    for c in claims:
        r = reviews[c["id"]]
        assert r["statement"] == c["statement"]
        assert r["quote"] == c["quote"]
        assert r["status"] == c["status"]
        assert r["value"] == 7 - ranks[c["status"]] and r["best"] == 6 and r["worst"] == 1
        assert r["explanation"] == c["rationale"]
        assert r["date"] == "2026-01-02"
        assert r["author"] == "Test KB"
        assert r["doc_name"] == c["title"]
        assert r["claim_type"] == SO + "Claim"
    if which == "small":
        # the scale end to end: established is best, no physical basis worst
        assert reviews["900-c01"]["value"] == 6 and reviews["900-c06"]["value"] == 1
        assert (
            reviews["900-c02"]["citations"] == 1
        )  # the own-bibliography evidence is not an external work
        assert reviews["900-c05"]["citations"] == 2
        assert "900-c07" not in reviews


def test_claimreview_remote_context_with_a_local_loader(small_db):
    code, out, err = run_export(
        "claimreview",
        "--db",
        str(small_db),
        "--date",
        "2026-01-02",
        "--context",
        "remote",
        "--base-url",
        BASE,
    )
    assert code == 0, err
    doc = json.loads(out)
    assert doc["@context"] == "https://schema.org"
    served = []

    def loader(url, options=None):  # a minimal schema.org context, served locally
        served.append(url)
        return {
            "contextUrl": None,
            "documentUrl": url,
            "document": {
                "@context": {
                    "@vocab": SO,
                    "url": {"@id": SO + "url", "@type": "@id"},
                    "sameAs": {"@id": SO + "sameAs", "@type": "@id"},
                }
            },
        }

    reviews = _reviews_from_triples(_triples(doc, loader))
    assert served and served[0].startswith("https://schema.org")
    embedded = json.loads(
        run_export(
            "claimreview", "--db", str(small_db), "--date", "2026-01-02", "--base-url", BASE
        )[1]
    )
    assert reviews == _reviews_from_triples(_triples(embedded))
    assert len(reviews) == 6


def test_claimreview_document_metadata(small_db):
    doc = json.loads(
        run_export(
            "claimreview",
            "--db",
            str(small_db),
            "--date",
            "2026-01-02",
            "--base-url",
            "https://kb.example/claimkb/",
        )[1]
    )
    r = next(g for g in doc["@graph"] if g["identifier"] == "900-c01")
    assert r["url"] == r["@id"] == "https://kb.example/claimkb/claim/900-c01"
    work = r["itemReviewed"]["appearance"]
    assert work["@type"] == "CreativeWork" and work["url"] == "https://example.org/article"
    assert work["author"] == [
        {"@type": "Person", "name": "Test Author", "familyName": "Author", "givenName": "Test"}
    ]
    assert "claimkb:900_export" in work["identifier"]
    assert r["itemReviewed"]["firstAppearance"] == work
    assert r["citation"][0]["sameAs"] == ["https://doi.org/10.1038/nphys620"]


def test_claimreview_without_a_base_url_is_a_clear_error(small_db):
    r = CliRunner().invoke(cli, ["export", "claimreview", "--db", str(small_db)])
    assert r.exit_code == 2 and "--base-url" in r.output and "Traceback" not in r.output


def test_claimreview_bad_date_is_a_clear_error(small_db):
    r = CliRunner().invoke(
        cli,
        [
            "export",
            "claimreview",
            "--db",
            str(small_db),
            "--date",
            "2026-13-45",
            "--base-url",
            BASE,
        ],
    )
    assert r.exit_code == 2 and "YYYY-MM-DD" in r.output and "Traceback" not in r.output


# --------------------------------------------------------------------------- BibTeX and CSL-JSON


def _works(db: Path):
    from claimkb.exports import connect_ro
    from claimkb.exports.works import collect, unnamed

    conn = connect_ro(db)
    try:
        return collect(conn), unnamed(conn)
    finally:
        conn.close()


def _identities(fields: dict) -> str:
    from claimkb.exports.works import _citation_key, identity

    return identity(fields) or _citation_key(fields)


@pytest.mark.parametrize("which", ["small", "real"])
def test_every_work_is_exported_once_and_only_works(which, small_db, request):
    db = small_db if which == "small" else request.getfixturevalue("built_db")
    works, left_out = _works(db)
    keys = [w.key for w in works]
    assert len(keys) == len({k.lower() for k in keys})
    idents = [_identities(w.fields) for w in works]
    assert None not in idents and len(idents) == len(set(idents)), "a work exported twice"
    not_works = {r["id"] for r in rows(db, "select id from bibliography where work = 0")}
    covered = {a for w in works for a in w.about}
    for r in rows(db, "select id from bibliography where work = 1"):
        assert r["id"] in covered or r["id"] in left_out, r["id"]
    assert not covered & not_works
    for w in works:
        assert w.fields.get("title") or w.fields.get("authors"), w.key


def _bibliography_text(items: list[dict]) -> list[str]:
    import citeproc
    from citeproc import (
        Citation,
        CitationItem,
        CitationStylesBibliography,
        CitationStylesStyle,
        formatter,
    )
    from citeproc.source.json import CiteProcJSON

    source = CiteProcJSON(items)  # raises on a variable CSL does not know
    style_path = Path(citeproc.__file__).parent / "data" / "styles" / "harvard-cite-them-right.csl"
    style = CitationStylesStyle(str(style_path), validate=False)
    bibliography = CitationStylesBibliography(style, source, formatter.plain)
    for i in items:
        bibliography.register(Citation([CitationItem(i["id"].lower())]))
    return [str(x) for x in bibliography.bibliography()]


@pytest.mark.parametrize("which", ["small", "real"])
def test_csl_json_renders_with_citeproc_without_an_empty_or_repeated_entry(
    which, small_db, request
):
    import warnings

    from citeproc import types as csl_types

    db = small_db if which == "small" else request.getfixturevalue("built_db")
    code, text, err = run_export("csl-json", "--db", str(db))
    assert code == 0, err
    items = json.loads(text)
    assert len(items) == len(_works(db)[0])
    valid_types = {v for k, v in vars(csl_types).items() if k.isupper() and isinstance(v, str)}
    assert all(i["type"] in valid_types for i in items)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rendered = _bibliography_text(items)
    assert not caught, [str(w.message) for w in caught]
    assert len(rendered) == len(items) and len(set(rendered)) == len(rendered)
    for line in rendered:  # never a bare "n.d." with nothing before it
        assert not re.match(r"^\W*(n\.d\.|\(n\.d\.\))", line), line
    joined = "\n".join(rendered)
    for i in items:
        assert i.get("title", "") in joined
        for a in i.get("author", [])[:1]:  # the style abbreviates four or more authors
            assert (a.get("family") or a["literal"]) in joined
        if "DOI" in i:
            assert i["DOI"] in joined
    for w in _works(db)[0]:
        item = next(i for i in items if i["id"] == w.key)
        assert item.get("DOI") == w.fields.get("doi") and item.get("ISBN") == w.fields.get("isbn")
        if w.fields.get("year"):
            assert item["issued"] == {"date-parts": [[int(w.fields["year"])]]}


@pytest.mark.parametrize("which", ["small", "real"])
def test_bibtex_parses_back_with_one_entry_per_work(which, small_db, request):
    import bibtexparser
    from bibtexparser.middlewares import LatexDecodingMiddleware

    db = small_db if which == "small" else request.getfixturevalue("built_db")
    code, text, err = run_export("bibtex", "--db", str(db))
    assert code == 0, err
    raw = bibtexparser.parse_string(text)
    decoded = bibtexparser.parse_string(text, append_middleware=[LatexDecodingMiddleware()])
    assert raw.failed_blocks == [] and decoded.failed_blocks == []
    works, left_out = _works(db)
    keys = [e.key for e in raw.entries]
    assert keys == [w.key for w in works]
    dec = {e.key: {f.key: f.value for f in e.fields} for e in decoded.entries}
    verb = {e.key: {f.key: f.value for f in e.fields} for e in raw.entries}
    for w in works:
        f, v = dec[w.key], verb[w.key]
        assert f.get("title") == w.fields.get("title")
        names = _bib_names(v["author"]) if "author" in v else []
        assert len(names) == len(w.fields["authors"]), w.key
        if names:
            assert w.fields["authors"][0].split(",")[0] in f["author"]
        assert v.get("doi") == w.fields.get("doi") and v.get("url") == w.fields.get("url")
        assert f.get("isbn") == w.fields.get("isbn") and v.get("eprint") == w.fields.get("arxiv_id")
        assert (int(f["year"]) if "year" in f else None) == w.fields.get("year")
        assert f.get("title") or f.get("author"), w.key
    for rid in left_out:
        assert rid in text.split("\n\n", 1)[0]  # named in the header
    if which == "small":
        by_doi = {w.fields["doi"].lower(): dec[w.key] for w in works if w.fields.get("doi")}
        corkum = by_doi["10.1038/nphys620"]  # cited twice (DOI case differs): one entry
        assert corkum["journal"] == "Nature Physics"
        assert [w.fields["isbn"] for w in works].count("0-201-53929-2") == 1  # Sakurai, twice
        nist = next(dec[w.key] for w in works if "nist.gov" in (w.fields.get("url") or ""))
        assert nist["title"] == NIST["title"]  # & % { } # escaped and decoded back
        assert nist["author"] == "National Institute of Standards and Technology"
        assert run_export("bibtex", "--db", str(db))[1] == text  # stable keys, same text


def _bib_names(value: str) -> list[str]:
    """A BibTeX author field split at " and " outside braces."""
    out, depth, start = [], 0, 0
    for i, c in enumerate(value):
        depth += (c == "{") - (c == "}")
        if depth == 0 and value.startswith(" and ", i):
            out.append(value[start:i])
            start = i + 5
    return out + [value[start:]]


def test_a_work_cited_twice_is_one_entry(small_db, tmp_path):
    """The same DOI in two documents' bibliographies and as evidence: one entry."""
    works, _ = _works(small_db)
    by_doi: dict[str, list] = {}
    for w in works:
        if w.fields.get("doi"):
            by_doi.setdefault(w.fields["doi"].lower(), []).append(w.key)
    assert all(len(v) == 1 for v in by_doi.values()), by_doi


# --------------------------------------------------------------------------- tables


def _db_tables(db: Path) -> dict[str, list[dict]]:
    from claimkb.exports import connect_ro
    from claimkb.exports.tables import table_names, table_rows

    conn = connect_ro(db)
    try:
        return {t: [dict(r) for r in table_rows(conn, t)] for t in table_names(conn)}
    finally:
        conn.close()


@pytest.mark.parametrize("which", ["small", "real"])
def test_jsonl_round_trip(which, small_db, request):
    from claimkb.build.schema import TABLES

    db = small_db if which == "small" else request.getfixturevalue("built_db")
    code, text, err = run_export("jsonl", "--db", str(db))
    assert code == 0, err
    got: dict[str, list[dict]] = {}
    for line in text.splitlines():
        obj = json.loads(line)
        assert set(obj) == {"table", "row"}
        got.setdefault(obj["table"], []).append(obj["row"])
    expected = _db_tables(db)
    assert {t.name for t in TABLES} <= set(expected)
    assert not {"facet_counts", "document_facet_counts"} & set(
        expected
    )  # derived counts are not exported
    assert not any(t.endswith(("_fts", "_fts_data", "_fts_idx")) for t in expected)
    for t, rs in expected.items():
        assert got.get(t, []) == rs, t
    # independent check on the raw database: every row of every schema table is there, exactly
    conn = sqlite3.connect(db)
    try:
        for t in TABLES:
            raw = conn.execute(f"select * from [{t.name}]").fetchall()
            assert sorted(map(repr, raw)) == sorted(
                repr(tuple(r.values())) for r in got.get(t.name, [])
            ), t.name
    finally:
        conn.close()


def _csv_value(v):
    if v is None:
        return ""
    return repr(v) if isinstance(v, float) else str(v)


@pytest.mark.parametrize("target", ["dir", "zip"])
@pytest.mark.parametrize("which", ["small", "real"])
def test_csv_round_trip(which, target, small_db, request, tmp_path):
    db = small_db if which == "small" else request.getfixturevalue("built_db")
    out = tmp_path / ("export" if target == "dir" else "export.zip")
    code, _, err = run_export("csv", "--db", str(db), "--out", str(out))
    assert code == 0, err
    if target == "dir":
        files = {p.name: p.read_bytes() for p in out.iterdir()}
    else:
        with zipfile.ZipFile(out) as z:
            files = {n: z.read(n) for n in z.namelist()}
    package = json.loads(files.pop("datapackage.json"))
    expected = _db_tables(db)
    assert sorted(files) == sorted(f"{t}.csv" for t in expected)
    assert [r["name"] for r in package["resources"]] == list(expected)
    csv.field_size_limit(sys.maxsize)
    for t, rs in expected.items():
        reader = csv.reader(io.StringIO(files[f"{t}.csv"].decode("utf-8"), newline=""))
        header, *body = list(reader)
        cols = [
            c["name"]
            for c in next(r for r in package["resources"] if r["name"] == t)["schema"]["fields"]
        ]
        assert header == cols
        assert body == [[_csv_value(r[c]) for c in header] for r in rs], t
        # typed read-back through the data package's field types
        types = {
            f["name"]: f["type"]
            for f in next(r for r in package["resources"] if r["name"] == t)["schema"]["fields"]
        }
        for raw_row, db_row in zip(body, rs, strict=True):
            for c, v in zip(header, raw_row, strict=True):
                want = db_row[c]
                if v == "":
                    assert want in (None, "")
                elif types[c] == "integer":
                    assert int(v) == want
                elif types[c] == "number":
                    assert float(v) == want
                else:
                    assert v == want


def test_zip_is_reproducible(small_db, tmp_path):
    a, b = tmp_path / "a.zip", tmp_path / "b.zip"
    run_export("csv", "--db", str(small_db), "--out", str(a))
    run_export("csv", "--db", str(small_db), "--out", str(b))
    assert a.read_bytes() == b.read_bytes()


# --------------------------------------------------------------------------- errors


def test_missing_database_is_a_clear_error(tmp_path):
    code, out, err = run_export("jsonl", "--db", str(tmp_path / "none.db"))
    assert (
        code == 1
        and "does not exist" in err
        and "claimkb build" in err
        and "Traceback" not in err + out
    )


def test_not_a_database(tmp_path):
    bad = tmp_path / "bad.db"
    bad.write_text("not sqlite")
    code, _, err = run_export("bibtex", "--db", str(bad))
    assert code == 1 and "not a claimkb database" in err


def test_csv_needs_out(small_db):
    code, _, err = run_export("csv", "--db", str(small_db))
    assert code == 1 and "--out" in err


def test_export_writes_files_atomically(small_db, tmp_path):
    out = tmp_path / "sub" / "works.bib"
    code, _, err = run_export("bibtex", "--db", str(small_db), "--out", str(out))
    assert code == 0 and out.exists() and f"wrote {out}" in err
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]
    assert oct(os.stat(out).st_mode & 0o777) == oct(0o644)

"""`claimkb export web-annotation`: W3C Web Annotation JSON-LD, read back as a consumer would.

Two databases: the session-built database of the real data/ (``built_db``), and a small one
built here by the real loader and build code from three fixture documents: one whose text has
characters outside the Basic Multilingual Plane and combining marks before its quotes (so code
points and UTF-16 code units differ), a claim in three statuses (one ``not assessed``, without
rationale), a quote that occurs twice and an equation; one with only a DOI; one with no claim.

JSON-LD is processed with pyld and a document loader that serves the bundled anno.jsonld for
http://www.w3.org/ns/anno.jsonld and fails on any other URL: nothing is fetched.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import tomllib
from fnmatch import fnmatch
from importlib import resources
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from claimkb.cli import cli
from claimkb.exports.annotations import (
    ANNO_CONTEXT,
    COLLECTION_CONTEXT,
    CONTEXT_ORIGIN,
    document_loader,
    source_iri,
    w3c_datetime,
)

pytestmark = pytest.mark.usefixtures("no_network_for_pyld")

ROOT = Path(__file__).resolve().parent.parent
BASE = "https://kb.example.org/kb"
OA = "http://www.w3.org/ns/oa#"
AS = "http://www.w3.org/ns/activitystreams#"
DCT = "http://purl.org/dc/terms/"
FOAF = "http://xmlns.com/foaf/0.1/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = RDF + "type"
CONTEXT_LEN = 32

# U+1D53C (double-struck E) and U+1F642 (emoji) are one code point and two UTF-16 code units
# each; "e" + U+0301 is two code points shown as one character.
TEXT = (
    "# Notes on \U0001d53cnergy\n\n"
    "The symbol \U0001d53c denotes an expectation value; cafe\u0301 is written with a "
    "combining accent, and \U0001f642 is a single code point.\n"
    "The energy of a photon is E = \u0127\u03c9.\n"
    "These results need independent confirmation. The energy of a photon is E = \u0127\u03c9.\n\n"
    "$$E = \\hbar \\omega \\quad (1)$$\n"
)

PLAIN = "A short note with one sentence and no claims in it at all, of any kind.\n"
DOI_TEXT = "Measured spectra agree with the model to within two per cent over the range.\n"


def _doc(doc_id: str, text: str, **fields) -> dict:
    return {
        "id": doc_id,
        "title": f"Fixture {doc_id}",
        "authors": ["Author, Test"],
        "kind": "unreviewed manuscript",
        "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        **fields,
    }


def _documents() -> dict[str, tuple[str, dict]]:
    """document id -> (source text, data file)."""
    first = _doc(
        "910_wa",
        TEXT,
        url="https://example.org/notes",
        claims=[
            {
                "id": "910-c01",
                "quote": "The symbol \U0001d53c denotes an expectation value;",
                "statement": "The double-struck E denotes an expectation value.",
                "claim_type": "definitional",
                "status": "unsupported",
                "rationale": "A *notation* choice; no source is given.",
            },
            {
                "id": "910-c02",
                "quote": "The energy of a photon is E = \u0127\u03c9.",
                "occurrence": 2,
                "statement": "Photon energy is hbar omega.",
                "status": "not assessed",
            },
            {
                "id": "910-c03",
                "quote": "These results need independent confirmation.",
                "statement": "The results need confirmation.",
                "claim_type": "methodological",
                "status": "unsupported",
                "rationale": "Nothing backs it.",
            },
        ],
        equations=[
            {
                "id": "910-eq01",
                "label": "1",
                "latex": r"E = \hbar \omega",
                "quote": r"$$E = \hbar \omega \quad (1)$$",
            }
        ],
    )
    return {
        "910_wa": (TEXT, first),
        "911_wa": (
            DOI_TEXT,
            _doc(
                "911_wa",
                DOI_TEXT,
                doi="10.1038/nphys620",
                claims=[
                    {
                        "id": "911-c01",
                        "quote": "Measured spectra agree with the model",
                        "statement": "The spectra agree with the model.",
                        "status": "not assessed",
                    }
                ],
            ),
        ),
        "912_wa": (PLAIN, _doc("912_wa", PLAIN)),
    }


@pytest.fixture(scope="module")
def small_db(tmp_path_factory) -> Path:
    from claimkb.build import build

    base = tmp_path_factory.mktemp("wa")
    data = base / "data"
    (data / "documents").mkdir(parents=True)
    (data / "sources").mkdir()
    shutil.copy(ROOT / "data" / "vocabulary.yaml", data / "vocabulary.yaml")
    for doc_id, (text, doc) in _documents().items():
        (data / "sources" / f"{doc_id}.txt").write_bytes(text.encode("utf-8"))
        (data / "documents" / f"{doc_id}.yaml").write_text(
            yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8"
        )
    db = base / "small.db"
    build(data, db, workers=1)
    return db


@pytest.fixture(params=["small", "real"])
def db(request, small_db) -> Path:
    return small_db if request.param == "small" else request.getfixturevalue("built_db")


def bundled_text() -> bytes:
    return resources.files("claimkb.exports").joinpath("anno.jsonld").read_bytes()


def local_loader(url, options=None):
    """Serves the bundled context for the anno context URL; fails on any other URL."""
    if url != "http://www.w3.org/ns/anno.jsonld":
        raise AssertionError(f"tried to load {url}")
    return {"contextUrl": None, "documentUrl": url, "document": json.loads(bundled_text())}


def run_export(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(cli, ["export", *args], catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


def export(db: Path, *extra: str, base: str = BASE) -> tuple[str, list[dict]]:
    code, out, err = run_export("web-annotation", "--db", str(db), "--base-url", base, *extra)
    assert code == 0, err
    return out, json.loads(out)


def rows(db: Path, sql: str) -> list[dict]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql)]
    finally:
        conn.close()


def items(collection: dict) -> list[dict]:
    return collection["first"]["items"] if collection["total"] else []


def record_of(anno: dict) -> tuple[str, str]:
    """(kind, id) of the record an annotation stands for, from its id."""
    path = anno["id"].removeprefix(BASE + "/").removesuffix("#annotation")
    kind, rid = path.split("/")
    return kind, rid


# --------------------------------------------------------------------------- selectors


def test_selectors_quote_the_stored_text(db):
    _, out = export(db)
    docs = {d["id"]: d for d in rows(db, "select * from documents")}
    records = {("claim", r["id"]): r for r in rows(db, "select * from claims")}
    records |= {("equation", r["id"]): r for r in rows(db, "select * from equations")}
    assert [c["id"] for c in out] == [f"{BASE}/document/{d}#annotations" for d in sorted(docs)]
    seen = set()
    for c in out:
        doc_id = c["id"].removeprefix(f"{BASE}/document/").removesuffix("#annotations")
        text = docs[doc_id]["text"]
        annos = items(c)
        assert c["total"] == len(annos)
        starts = []
        for a in annos:
            key = record_of(a)
            rec = records[key]
            assert rec["document_id"] == doc_id
            seen.add(key)
            quote, position = a["target"]["selector"]
            assert quote["type"] == "TextQuoteSelector"
            assert position["type"] == "TextPositionSelector"
            start, end = position["start"], position["end"]
            assert (start, end) == (rec["quote_start"], rec["quote_end"])
            assert quote["exact"] == text[start:end]
            assert quote["prefix"] == text[max(0, start - CONTEXT_LEN) : start]
            assert quote["suffix"] == text[end : end + CONTEXT_LEN]
            # the same context the build stored for the reading view
            assert quote["prefix"] == (rec["quote_prefix"] or "")
            assert quote["suffix"] == (rec["quote_suffix"] or "")
            assert len(quote["prefix"]) <= CONTEXT_LEN and len(quote["suffix"]) <= CONTEXT_LEN
            # the curated quote is the passage, up to whitespace
            assert quote["exact"].split() == rec["quote"].split()
            assert a["target"]["source"] == source_iri(docs[doc_id])
            starts.append((start, end))
        assert starts == sorted(starts)  # reading order
    assert seen == set(records)  # every claim and equation, whatever its status


def test_positions_count_code_points_not_utf16_units(small_db):
    _, out = export(small_db)
    annos = {record_of(a)[1]: a for a in items(out[0])}
    c01 = annos["910-c01"]["target"]["selector"]
    quote, position = c01
    start = position["start"]
    # the quote starts after U+1D53C: as code points (Python, the model) and as UTF-16 code
    # units (JavaScript) the position differs by one
    assert TEXT[start:].startswith("The symbol \U0001d53c denotes")
    assert start == TEXT.index("The symbol")
    assert len(TEXT[:start].encode("utf-16-le")) // 2 == start + 1
    assert position["end"] - start == len(quote["exact"])  # one per code point
    # a later quote comes after U+1D53C twice, a combining accent and U+1F642
    later = annos["910-c03"]["target"]["selector"][1]["start"]
    assert TEXT[later:].startswith("These results")
    assert len(TEXT[:later].encode("utf-16-le")) // 2 == later + 3
    # occurrence 2 of a repeated quote: the second one, told apart by its prefix
    c02 = annos["910-c02"]["target"]["selector"]
    assert c02[1]["start"] == TEXT.rindex("The energy of a photon")
    assert c02[0]["prefix"].endswith("independent confirmation. ")


# --------------------------------------------------------------------------- content


def test_annotation_content(small_db):
    _, out = export(small_db, "--publisher", "Test KB", "--publisher-url", "https://kb.example")
    first, doi_only, empty = out
    assert first["@context"] == COLLECTION_CONTEXT
    assert first["type"] == "AnnotationCollection" and first["total"] == 4
    assert first["label"].startswith("Claims and equations of Fixture 910_wa")
    page = first["first"]
    assert page["type"] == "AnnotationPage" and "@context" not in page
    assert page["partOf"] == first["id"] and page["startIndex"] == 0
    assert first["last"] == page["id"]
    annos = {record_of(a): a for a in page["items"]}
    c01 = annos[("claim", "910-c01")]
    assert c01["id"] == f"{BASE}/claim/910-c01#annotation"
    assert c01["type"] == "Annotation" and c01["motivation"] == "assessing"
    assert c01["body"] == [
        {"type": "TextualBody", "purpose": "tagging", "value": "unsupported"},
        {
            "type": "TextualBody",
            "purpose": "describing",
            "value": "The double-struck E denotes an expectation value.",
            "format": "text/plain",
        },
        {
            "type": "TextualBody",
            "purpose": "assessing",
            "value": "A *notation* choice; no source is given.",
            "format": "text/markdown",
        },
        {"id": f"{BASE}/claim/910-c01", "type": "Text", "format": "text/html"},
    ]
    assert c01["target"]["type"] == "SpecificResource"
    assert c01["target"]["source"] == "https://example.org/notes"
    creator = {"type": "Organization", "name": "Test KB", "homepage": "https://kb.example"}
    assert c01["creator"] == creator and first["creator"] == creator
    assert c01["generator"]["type"] == "Software"
    assert c01["generator"]["name"].startswith("claimkb ")
    built = rows(small_db, "select value from build_info where key = 'built_at'")[0]["value"]
    assert c01["created"] == w3c_datetime(built) and c01["created"].endswith("Z")
    assert "modified" not in c01  # a full build, never updated
    # not assessed, no rationale: the status is still there, as a tag
    c02 = annos[("claim", "910-c02")]
    assert [b.get("purpose") for b in c02["body"]] == ["tagging", "describing", None]
    assert c02["body"][0]["value"] == "not assessed"
    eq = annos[("equation", "910-eq01")]
    assert [b.get("purpose") for b in eq["body"]] == ["tagging", None]
    assert eq["body"][-1]["id"] == f"{BASE}/equation/910-eq01"
    # sources: the DOI when there is no URL; a collection without annotations has no page
    assert items(doi_only)[0]["target"]["source"] == "https://doi.org/10.1038/nphys620"
    assert empty["total"] == 0 and "first" not in empty and "last" not in empty


def test_source_iri_order():
    doc = {"id": "x_1", "url": None, "doi": None, "arxiv_id": None}
    assert source_iri(doc) == "urn:claimkb:document:x_1"
    assert source_iri({**doc, "arxiv_id": "1103.1862"}) == "https://arxiv.org/abs/1103.1862"
    assert source_iri({**doc, "arxiv_id": "1", "doi": "10.1/a b"}) == "https://doi.org/10.1/a%20b"
    assert source_iri({**doc, "doi": "10.1/a", "url": "https://e.org/p"}) == "https://e.org/p"


def test_times_are_utc_with_z():
    assert w3c_datetime("2026-01-02T03:04:05+00:00") == "2026-01-02T03:04:05Z"
    assert w3c_datetime("2026-01-02T05:04:05+02:00") == "2026-01-02T03:04:05Z"
    assert w3c_datetime("2026-01-02T03:04:05") == "2026-01-02T03:04:05Z"


def test_base_url_trailing_slash_and_quoting(small_db):
    _, out = export(small_db, base=BASE + "/")
    assert out[0]["id"] == f"{BASE}/document/910_wa#annotations"
    assert items(out[0])[0]["id"] == f"{BASE}/claim/910-c01#annotation"


# --------------------------------------------------------------------------- JSON-LD


def _triples(doc) -> list[tuple[str, str, dict]]:
    from pyld import jsonld

    dataset = jsonld.to_rdf(doc, {"documentLoader": local_loader})
    return [
        (t["subject"]["value"], t["predicate"]["value"], t["object"]) for t in dataset["@default"]
    ]


def _graph(triples) -> dict[str, dict[str, list[dict]]]:
    out: dict[str, dict[str, list[dict]]] = {}
    for s, p, o in triples:
        out.setdefault(s, {}).setdefault(p, []).append(o)
    return out


def _values(node: dict, p: str) -> list[str]:
    return [o["value"] for o in node.get(p, [])]


def _rdf_list(g: dict, head: str) -> list[str]:
    out = []
    while head != RDF + "nil":
        out.append(g[head][RDF + "first"][0]["value"])
        head = g[head][RDF + "rest"][0]["value"]
    return out


def test_expands_to_the_web_annotation_vocabulary(db):
    from pyld import jsonld

    _, out = export(db)
    expanded = jsonld.expand(out, {"documentLoader": local_loader})
    assert len(expanded) == len(out)
    triples = _triples(out)
    # no relative IRI anywhere: pyld would have resolved it against its placeholder base
    iris = [s for s, _, _ in triples] + [o["value"] for _, _, o in triples if o["type"] == "IRI"]
    assert not [i for i in iris if i.startswith(jsonld.DEFAULT_BASE_IRI)]
    g = _graph(triples)
    for c in out:
        node = g[c["id"]]
        assert _values(node, RDF_TYPE) == [AS + "OrderedCollection"]
        total = node[AS + "totalItems"][0]
        assert total["datatype"] == XSD + "nonNegativeInteger"
        assert int(total["value"]) == c["total"]
        assert _values(node, "http://www.w3.org/2000/01/rdf-schema#label") == [c["label"]]
        if not c["total"]:
            assert AS + "first" not in node
            continue
        page = g[_values(node, AS + "first")[0]]
        assert _values(page, RDF_TYPE) == [AS + "OrderedCollectionPage"]
        assert _values(page, AS + "partOf") == [c["id"]]
        assert _values(node, AS + "last") == [c["first"]["id"]]
        listed = _rdf_list(g, _values(page, AS + "items")[0])
        assert listed == [a["id"] for a in items(c)]  # an ordered list, in reading order
        for a in items(c):
            _check_annotation(g, a)


def _check_annotation(g: dict, a: dict) -> None:
    node = g[a["id"]]
    assert _values(node, RDF_TYPE) == [OA + "Annotation"]
    assert _values(node, OA + "motivatedBy") == [OA + "assessing"]
    created = node[DCT + "created"][0]
    assert created["datatype"] == XSD + "dateTime" and created["value"] == a["created"]
    creator = g[_values(node, DCT + "creator")[0]]
    assert _values(creator, RDF_TYPE) == [FOAF + "Organization"]
    assert _values(creator, FOAF + "name") == ["claimkb"]
    generator = g[_values(node, AS + "generator")[0]]
    assert _values(generator, RDF_TYPE) == [AS + "Application"]
    target = g[_values(node, OA + "hasTarget")[0]]
    assert _values(target, RDF_TYPE) == [OA + "SpecificResource"]
    assert target[OA + "hasSource"] == [{"type": "IRI", "value": a["target"]["source"]}]
    quote, position = a["target"]["selector"]
    sel = {_values(g[s], RDF_TYPE)[0]: g[s] for s in _values(target, OA + "hasSelector")}
    assert set(sel) == {OA + "TextQuoteSelector", OA + "TextPositionSelector"}
    q = sel[OA + "TextQuoteSelector"]
    for key in ("exact", "prefix", "suffix"):
        assert _values(q, OA + key) == [quote[key]]
    p = sel[OA + "TextPositionSelector"]
    for key in ("start", "end"):
        assert p[OA + key][0]["datatype"] == XSD + "nonNegativeInteger"
        assert int(p[OA + key][0]["value"]) == position[key]
    purposes = {}
    for b in _values(node, OA + "hasBody"):
        body = g.get(b, {})
        for purpose in _values(body, OA + "hasPurpose"):
            assert _values(body, RDF_TYPE) == [OA + "TextualBody"]
            purposes[purpose] = _values(body, RDF + "value")
    tag = next(b["value"] for b in a["body"] if b.get("purpose") == "tagging")
    assert purposes[OA + "tagging"] == [tag]
    page = a["body"][-1]["id"]
    assert page in _values(node, OA + "hasBody")
    assert _values(g[page], RDF_TYPE) == ["http://purl.org/dc/dcmitype/Text"]
    assert _values(g[page], "http://purl.org/dc/elements/1.1/format") == ["text/html"]


def test_the_extra_term_is_what_makes_assessing_expand():
    """The bundled (2016) anno.jsonld has no "assessing" term: without the collection's
    extra context entry, "motivation": "assessing" would not be oa:assessing."""
    from pyld import jsonld

    context = json.loads(bundled_text())["@context"]
    assert "assessing" not in context and context["reviewing"] == "oa:reviewing"
    anno = {"id": "https://e.org/a", "type": "Annotation", "motivation": "assessing"}
    opts = {"documentLoader": local_loader, "base": "https://e.org/doc"}
    bare = jsonld.expand({"@context": ANNO_CONTEXT, **anno}, opts)
    assert bare[0][OA + "motivatedBy"] == [{"@id": "https://e.org/assessing"}]
    fixed = jsonld.expand({"@context": COLLECTION_CONTEXT, **anno}, opts)
    assert fixed[0][OA + "motivatedBy"] == [{"@id": OA + "assessing"}]


def test_compacts_back_to_the_same_document(db):
    """expand -> compact with the collection's own @context gives each collection back, key for
    key. (Compacting the whole array at once gives {"@context": ..., "@graph": [...]}: the
    same collections without their @context, the normalisation JSON-LD makes of a top-level
    array.)"""
    from pyld import jsonld

    _, out = export(db)
    opts = {"documentLoader": local_loader}
    for c in out:
        again = jsonld.compact(jsonld.expand(c, opts), c["@context"], opts)
        assert again == c
    whole = jsonld.compact(jsonld.expand(out, opts), COLLECTION_CONTEXT, opts)
    if len(out) > 1:
        assert whole["@context"] == COLLECTION_CONTEXT
        assert whole["@graph"] == [{k: v for k, v in c.items() if k != "@context"} for c in out]


def test_json_is_stable(db, tmp_path):
    text, out = export(db)
    assert json.dumps(out, ensure_ascii=False, indent=2) + "\n" == text
    assert export(db)[0] == text  # the same database, the same bytes
    path = tmp_path / "annotations.jsonld"
    code, stdout, err = run_export(
        "web-annotation", "--db", str(db), "--base-url", BASE, "--out", str(path)
    )
    assert code == 0 and stdout == "" and f"wrote {path}" in err
    assert path.read_text(encoding="utf-8") == text


# --------------------------------------------------------------------------- the context file


def test_bundled_context_is_the_w3c_file():
    data = bundled_text()
    blob = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()  # git's id of the file
    assert blob == CONTEXT_ORIGIN["blob"]
    assert CONTEXT_ORIGIN["repository"] == "w3c/web-annotation"
    context = json.loads(data)["@context"]
    assert context["oa"] == OA and context["TextQuoteSelector"] == "oa:TextQuoteSelector"


def test_bundled_context_is_package_data():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["claimkb"]
    assert any(fnmatch("exports/anno.jsonld", p) for p in patterns)


def test_document_loader_serves_only_the_anno_context():
    assert document_loader(ANNO_CONTEXT)["document"] == json.loads(bundled_text())
    for url in ("https://www.w3.org/ns/anno.jsonld", "http://schema.org/", "file:///etc/passwd"):
        with pytest.raises(ValueError, match="only http://www.w3.org/ns/anno.jsonld"):
            document_loader(url)


# --------------------------------------------------------------------------- errors


def test_without_a_base_url_is_a_clear_error(small_db):
    r = CliRunner().invoke(cli, ["export", "web-annotation", "--db", str(small_db)])
    assert r.exit_code == 2
    assert "web-annotation needs --base-url" in r.output and "Traceback" not in r.output


def test_missing_database_is_a_clear_error(tmp_path):
    code, out, err = run_export(
        "web-annotation", "--db", str(tmp_path / "none.db"), "--base-url", BASE
    )
    assert code == 1 and "does not exist" in err and "claimkb build" in err
    assert "Traceback" not in out + err


def test_not_a_database_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.db"
    bad.write_text("not sqlite")
    code, out, err = run_export("web-annotation", "--db", str(bad), "--base-url", BASE)
    assert code == 1 and "not a claimkb database" in err and "Traceback" not in out + err


def test_help_documents_the_format():
    r = CliRunner().invoke(cli, ["export", "--help"])
    assert r.exit_code == 0
    for words in ("web-annotation", "AnnotationCollection", "TextPositionSelector", "code"):
        assert words in r.output

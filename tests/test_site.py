"""The Datasette site: every page type and canned query, on databases built by the real build code.

Two databases are used:
- `built_db` (tests/conftest.py): the real data/, whatever the curators have written so far;
  tests query it for ids and check the pages show them.
- `feature_db` (below): a small fictitious document written by this module, built with the
  same code, that exercises every feature whatever the real data holds (overlapping spans,
  evidence with DOI/ISBN/arXiv/URL, self-citations, contradicting claims, math, hostile Markdown).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import shutil
import sqlite3
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml
from claimkb.ingest.mathml import MathError, normalise_latex, to_mathml
from hypothesis import given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "src" / "claimkb" / "site"
METADATA = yaml.safe_load((SITE / "metadata.yml").read_text(encoding="utf-8"))
SETTINGS = json.loads((SITE / "settings.json").read_text(encoding="utf-8"))

#: columns the build is about to add (metadata may describe them ahead of time);
#: remove an entry once the build writes the column
PENDING_COLUMNS: set[tuple[str, str]] = set()


def make_datasette(db_path: Path):
    from datasette.app import Datasette

    return Datasette(
        [],
        immutables=[str(db_path)],
        metadata=METADATA,
        template_dir=str(SITE / "templates"),
        plugins_dir=str(SITE / "plugins"),
        static_mounts=[("static", str(SITE / "static"))],
        settings=SETTINGS,
    )


def rows(db_path: Path, sql: str, params=()) -> list[sqlite3.Row]:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def load_plugin(name: str):
    """A site plugin module, loaded the way Datasette loads it (by path)."""
    spec = importlib.util.spec_from_file_location(f"test_{name}", SITE / "plugins" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


# --- a fictitious document that exercises every feature --------------------------------------

SOURCE = """Test Document on Quantum Claims

Introduction

Quantum entanglement links the states of two particles [1]. Entangled photons can carry energy faster than light [2].

The Bohr radius is a_0 = hbar^2/(m_e e^2)   (1)
and the transition is written A -> B   (2).

References
[1] Example, A. (2001). A fictitious paper about entanglement. Journal of Tests 1, 1-2.
[2] Sample, B. (2002). Another fictitious work. Test Press.
"""

# Fictitious records for tests only: 10.5555 is Crossref's test prefix, 978-3-16-148410-0 the
# customary example ISBN; nothing here describes a real work.
DOCUMENT = {
    "id": "tsite_doc",
    "title": "Test Document on Quantum Claims",
    "authors": ["Sample, B."],
    "kind": "unreviewed manuscript",
    "sha256": hashlib.sha256(SOURCE.encode("utf-8")).hexdigest(),
    "metadata_notes": "Fictitious document written by tests/test_site.py.",
    "assessment": {
        "summary": "A **test** assessment. <script>alert('x')</script>",
        "status": "speculative",
    },
    "claims": [
        {
            "id": "tsite-c01",
            "quote": "Quantum entanglement links the states of two particles [1].",
            "statement": "Entanglement links the states of two particles.",
            "section": "Introduction",
            "claim_type": "theoretical",
            "status": "established",
            "confidence": 0.9,
            "rationale": "Textbook *quantum mechanics*.\n\n<script>alert('owned')</script>\n\n![tracker](http://example.com/pixel.png)",
            "cites": ["1"],
            "evidence": [
                {
                    "stance": "supports",
                    "work": {
                        "title": "A fictitious paper",
                        "authors": ["Example, A."],
                        "year": 2001,
                        "doi": "10.5555/12345678",
                    },
                    "note": "Says so.",
                },
                {
                    "stance": "context",
                    "work": {"title": "A fictitious preprint", "arxiv_id": "2101.00001"},
                    "note": "Background.",
                },
                {
                    "stance": "context",
                    "work": {"title": "A fictitious book", "isbn": "978-3-16-148410-0"},
                    "note": "Textbook.",
                },
                {
                    "stance": "context",
                    "work": {"title": "A fictitious page", "url": "https://example.org/page"},
                    "note": "Web page.",
                },
            ],
        },
        {
            "id": "tsite-c02",
            "quote": "entanglement links the states",
            "statement": "Nested claim inside the first one.",
            "claim_type": "definitional",
            "status": "speculative",
            "evidence": [
                {"stance": "supports", "bibliography": "2", "note": "The authors' own book."}
            ],
        },
        {
            "id": "tsite-c03",
            "quote": "Entangled photons can carry energy faster than light [2].",
            "statement": "Entangled photons carry energy faster than light.",
            "claim_type": "theoretical",
            "status": "no physical basis",
            "rationale": "Violates the no-signalling theorem.",
            "cites": ["2"],
            "evidence": [
                {
                    "stance": "supports",
                    "bibliography": "2",
                    "note": "Only the authors' own book says so.",
                }
            ],
            "links": [{"relation": "contradicts", "to": "tsite-c01", "note": "Test link."}],
        },
        {
            "id": "tsite-c04",
            "quote": "two particles [1]. Entangled photons",
            "statement": "A claim overlapping two others.",
            "claim_type": "empirical",
            "status": "unsupported",
        },
    ],
    "equations": [
        {
            "id": "tsite-eq01",
            "label": "1",
            "latex": r"a_0 = \frac{\hbar^2}{m_e e^2}",
            "quote": "a_0 = hbar^2/(m_e e^2)   (1)",
            "symbols": [{"symbol": "a_0", "meaning": "Bohr radius", "units": "m"}],
            "status": "established",
            "check_status": "consistent",
            "evidence": [
                {
                    "stance": "supports",
                    "work": {"title": "A fictitious table", "url": "https://example.org/constants"},
                    "note": "Value.",
                }
            ],
        },
        {
            "id": "tsite-eq02",
            "label": "2",
            "latex": r"A \xrightarrow{\gamma} B",
            "quote": "A -> B   (2)",
            "status": "not assessed",
            "check_status": "notation problem",
        },
    ],
    "bibliography": [
        {
            "id": "tsite-ref01",
            "label": "1",
            "quote": "[1] Example, A. (2001). A fictitious paper about entanglement. Journal of Tests 1, 1-2.",
            "title": "A fictitious paper about entanglement",
            "authors": ["Example, A."],
            "year": 2001,
            "doi": "10.5555/12345678",
            "citation_status": "minor errors",
            "problems": ["Issue number missing."],
            "status": "supported",
            "evidence": [{"stance": "supports", "bibliography": "1",
                          "note": "The paper reports the measurement it is cited for."}],
        },
        {
            "id": "tsite-ref02",
            "label": "2",
            "quote": "[2] Sample, B. (2002). Another fictitious work. Test Press.",
            "title": "Another fictitious work",
            "authors": ["Sample, B."],
            "isbn": "978-3-16-148410-0",
            "self_citation": True,
            "citation_status": "unverifiable",
            "status": "speculative",
        },
    ],
}


@pytest.fixture(scope="session")
def feature_db(tmp_path_factory) -> Path:
    from claimkb.build import build

    data = tmp_path_factory.mktemp("site_data")
    (data / "documents").mkdir()
    (data / "sources").mkdir()
    shutil.copy(ROOT / "data" / "vocabulary.yaml", data / "vocabulary.yaml")
    (data / "sources" / "tsite_doc.txt").write_text(SOURCE, encoding="utf-8")
    (data / "documents" / "tsite_doc.yaml").write_text(
        yaml.safe_dump(DOCUMENT, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    path = tmp_path_factory.mktemp("site_db") / "claimkb.db"
    build(data, path, workers=1)
    return path


@pytest.fixture(scope="session")
def ds(built_db):
    return make_datasette(built_db)


@pytest.fixture(scope="session")
def fds(feature_db):
    return make_datasette(feature_db)


async def get(ds, path: str, status: int = 200) -> str:
    r = await ds.client.get(path)
    assert r.status_code == status, f"{path}: {r.status_code}\n{r.text[:3000]}"
    return r.text


def assert_offline(html: str, path: str) -> None:
    """Nothing on the page loads from another machine (links to elsewhere are fine)."""
    for m in re.finditer(
        r"<(script|link|img|iframe|source|video|audio|embed|object)\b[^>]*>", html, re.I
    ):
        tag = m.group(0)
        for attr in re.findall(r"""\b(?:src|href|data)\s*=\s*["']([^"']*)["']""", tag):
            if m.group(1).lower() == "link" and not re.search(
                r"""rel=["'](stylesheet|preload|icon|modulepreload)""", tag
            ):
                continue
            assert not re.match(r"(?i)^(https?:)?//", attr), (
                f"{path} loads {attr} from off the machine: {tag}"
            )
    assert "@import" not in html and "url(http" not in html, f"{path} imports a remote resource"


# --- metadata --------------------------------------------------------------------------------


def test_every_table_and_column_is_described(built_db):
    tables = METADATA["databases"]["claimkb"]["tables"]
    names = [
        r["name"]
        for r in rows(
            built_db,
            "select name, type from sqlite_master where type in ('table', 'view') order by name",
        )
        if not r["name"].startswith("sqlite_") and "_fts" not in r["name"]
    ]
    assert "claims" in names and "vocabulary" in names
    missing = []
    for name in names:
        meta = tables.get(name)
        if not meta or not str(meta.get("description", "")).strip():
            missing.append(name)
            continue
        for col in (r["name"] for r in rows(built_db, f"pragma table_info([{name}])")):
            if not str(meta.get("columns", {}).get(col, "")).strip():
                missing.append(f"{name}.{col}")
    assert not missing, f"described nowhere in metadata.yml: {missing}"
    stale = []
    for name, meta in tables.items():
        if name not in names:
            stale.append(name)
            continue
        cols = {r["name"] for r in rows(built_db, f"pragma table_info([{name}])")}
        stale += [
            f"{name}.{c}"
            for c in meta.get("columns", {})
            if c not in cols and (name, c) not in PENDING_COLUMNS
        ]
    assert not stale, f"metadata.yml describes what the database does not have: {stale}"


def test_settings_are_valid_and_hold_at_scale():
    from datasette.app import DEFAULT_SETTINGS

    assert set(SETTINGS) <= set(DEFAULT_SETTINGS), set(SETTINGS) - set(DEFAULT_SETTINGS)
    assert SETTINGS["suggest_facets"] is False
    # a facet over a million-row table or view takes ~2 s here: leave room so none times out
    assert SETTINGS["facet_time_limit_ms"] >= 3000
    assert SETTINGS["sql_time_limit_ms"] >= SETTINGS["facet_time_limit_ms"]
    assert 20 <= SETTINGS["default_page_size"] <= 200


def test_canned_queries_declared():
    queries = METADATA["databases"]["claimkb"]["queries"]
    for name in (
        "search",
        "claims_by_status",
        "no_physical_basis",
        "citation_problems",
        "equations_not_verified",
        "self_citation_only",
        "contradicting_pairs",
    ):
        assert name in queries and queries[name]["sql"].strip() and queries[name].get("title")
    assert "escape_fts(:q)" in queries["search"]["sql"] and "snippet(" in queries["search"]["sql"]
    assert ".rank" in queries["search"]["sql"]


# --- MathML ----------------------------------------------------------------------------------


def test_to_mathml_renders_standard_macros():
    out = to_mathml(r"\frac{\hbar^2}{m_0 e^2} \otimes \bigoplus_N H^{NP} \geq \dots \text{Asym}")
    assert (
        out.startswith("<math")
        and 'display="block"' in out
        and "<mfrac>" in out
        and "\\" not in out
    )
    assert 'display="inline"' in to_mathml("E = mc^2", display=False)


def test_to_mathml_rejects_unknown_macros_and_broken_input():
    with pytest.raises(MathError, match=r"unknown LaTeX macro.*\\foo"):
        to_mathml(r"a + \foo{b}")
    with pytest.raises(MathError, match=r"\\nonsense"):
        to_mathml(r"\text{\nonsense}")
    with pytest.raises(MathError, match="unclosed"):
        to_mathml(r"\frac{a}{b")
    with pytest.raises(MathError, match="unmatched"):
        to_mathml("a}")
    with pytest.raises(MathError, match="missing argument"):
        to_mathml(r"\frac{a}")
    with pytest.raises(MathError, match="empty"):
        to_mathml("  ")


def test_xrightarrow_becomes_an_arrow_with_its_label_over_it():
    assert normalise_latex(r"A \xrightarrow{x} B") == r"A {\overset{x}{\longrightarrow}} B"
    assert (
        normalise_latex(r"A \xrightarrow[t]{x} B")
        == r"A {\underset{t}{\overset{x}{\longrightarrow}}} B"
    )
    out = to_mathml(r"\Psi_1 \xrightarrow{\delta\tau_1} \Psi_2")
    assert "<mover>" in out and "mpadded" not in out
    # the arrow is a stretchy operator (drawn as wide as its label), not a fixed-width glyph
    assert "<mover><mo stretchy=\"true\">\u2192</mo>" in out and "\u27f6" not in out
    assert "<mover><mo stretchy=\"true\">\u21d2</mo>" in to_mathml(
        r"\overset{\text{if}}{\Longrightarrow}"
    )


# --- the reading view's segmentation -----------------------------------------------------------

pages_plugin = load_plugin("claimkb_pages")


def test_segments_split_at_every_boundary():
    spans = [
        {"start": 2, "end": 10, "id": "a"},
        {"start": 4, "end": 6, "id": "b"},
        {"start": 5, "end": 12, "id": "c"},
    ]
    segs = pages_plugin.segments(15, spans)
    assert [(a, b, [s["id"] for s in cov]) for a, b, cov in segs] == [
        (0, 2, []),
        (2, 4, ["a"]),
        (4, 5, ["a", "b"]),
        (5, 6, ["a", "b", "c"]),
        (6, 10, ["a", "c"]),
        (10, 12, ["c"]),
        (12, 15, []),
    ]


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 60).flatmap(
        lambda n: st.tuples(
            st.just(n), st.lists(st.tuples(st.integers(0, n), st.integers(0, n)), max_size=8)
        )
    )
)
def test_segments_partition_the_text_and_cover_correctly(case):
    n, pairs = case
    spans = [{"start": min(a, b), "end": max(a, b), "id": i} for i, (a, b) in enumerate(pairs)]
    segs = pages_plugin.segments(n, spans)
    assert [a for a, _, _ in segs] == sorted(a for a, _, _ in segs)
    covered = [0] * n
    prev = 0
    for a, b, cov in segs:
        assert a == prev and b > a
        prev = b
        want = {sp["id"] for sp in spans if sp["start"] <= a and b <= sp["end"]}
        assert {sp["id"] for sp in cov} == want
        for i in range(a, b):
            covered[i] += 1
    assert prev == n and all(c == 1 for c in covered)


# --- pages on the real data ------------------------------------------------------------------


async def test_home_page_lists_every_document(ds, built_db):
    html = await get(ds, "/")
    assert_offline(html, "/")
    assert "/static/claimkb.css" in html
    for d in rows(built_db, "select id, title from documents"):
        assert f'href="/document/{quote(d["id"], safe=":")}"' in html
    assert "All claims by evidence status" in html
    for term in (r["term"] for r in rows(built_db, "select term from evidence_statuses")):
        assert f">{term}</span>" in html


async def test_claim_pages(ds, built_db):
    claims = rows(
        built_db, "select id, statement, status, quote, document_id from claims order by id"
    )
    assert claims, "the curated corpus in data/ has claims"
    for c in claims[:: max(1, len(claims) // 25)]:  # a spread of up to ~25 claims
        path = f"/claim/{quote(c['id'], safe=':')}"
        html = await get(ds, path)
        assert_offline(html, path)
        from markupsafe import escape

        assert str(escape(c["statement"])) in html
        assert f"ckb-evidence-status-{re.sub(r'[^a-z0-9]+', '-', c['status']).strip('-')}" in html
        assert "<mark" in html and f"#claim-{c['id']}" in html


async def test_document_pages_and_reading_views(ds, built_db):
    for d in rows(built_db, "select id, title, char_count from documents"):
        html = await get(ds, f"/document/{d['id']}")
        assert_offline(html, d["id"])
        assert f"/document/{d['id']}/read" in html
        assert "Distribution of statuses" in html
        read = await get(ds, f"/document/{d['id']}/read")
        assert_offline(read, d["id"] + "/read")
        for c in rows(built_db, "select id from claims where document_id = ?", (d["id"],)):
            assert f'id="claim-{c["id"]}"' in read, c["id"]
        for e in rows(built_db, "select id from equations where document_id = ?", (d["id"],)):
            assert f'id="equation-{e["id"]}"' in read, e["id"]
        for b in rows(built_db, "select id from bibliography where document_id = ?", (d["id"],)):
            assert f'id="bibliography-{b["id"]}"' in read, b["id"]


async def test_equation_and_reference_pages(ds, built_db):
    for e in rows(built_db, "select id, latex from equations limit 20"):
        html = await get(ds, f"/equation/{quote(e['id'], safe=':')}")
        assert_offline(html, e["id"])
        if e["latex"]:
            assert "<math" in html or "ckb-latex" in html
    for b in rows(built_db, "select id, label from bibliography limit 20"):
        html = await get(ds, f"/reference/{quote(b['id'], safe=':')}")
        assert f"[{b['label']}]" in html


async def test_unknown_records_are_404(ds):
    for path in (
        "/claim/no-such-claim",
        "/equation/nope",
        "/reference/nope",
        "/document/nope",
        "/document/nope/read",
    ):
        await get(ds, path, status=404)


async def test_vocabulary_page_shows_every_term_with_its_definition(ds, built_db):
    html = await get(ds, "/vocabulary")
    from markupsafe import escape

    for r in rows(built_db, "select vocabulary, term, definition, colour from vocabulary"):
        assert str(escape(r["definition"])) in html
        assert f"--ckb-bg:{r['colour']}" in html
    view = await get(ds, "/claimkb/vocabulary")
    assert "ckb-badge" in view


async def test_table_pages_show_badges_facets_and_reader_links(ds, built_db):
    html = await get(ds, "/claimkb/claims")
    assert_offline(html, "/claimkb/claims")
    n = rows(built_db, "select count(*) as n from claims")[0]["n"]
    if n:
        assert "ckb-badge" in html and 'href="/claim/' in html
        for facet in ("status", "document_id", "claim_type"):
            assert f'data-column="{facet}"' in html or f">{facet}</" in html
        assert "facets-timed-out" not in html
    for table in (
        "documents",
        "equations",
        "bibliography",
        "evidence",
        "claim_links",
        "checks",
        "claims_view",
        "equations_view",
        "bibliography_view",
    ):
        page = await get(ds, f"/claimkb/{table}")
        assert "facets-timed-out" not in page
    c = rows(built_db, "select id from claims limit 1")
    if c:
        row_page = await get(ds, f"/claimkb/claims/{c[0]['id']}")
        assert f'href="/claim/{c[0]["id"]}"' in row_page


async def test_search_finds_a_claim_by_a_word_of_its_statement(ds, built_db):
    claims = rows(built_db, "select id, statement from claims")
    word = None
    for c in claims:
        words = [w for w in re.findall(r"[A-Za-z]{6,}", c["statement"])]
        if words:
            word, cid = words[0], c["id"]
            break
    assert word is not None, "some claim statement has a word of six letters or more"
    html = await get(ds, f"/claimkb/search?q={quote(word)}")
    assert_offline(html, "search")
    assert f'href="/claim/{cid}"' in html
    assert '<mark class="ckb-hit">' in html
    data = json.loads(await get(ds, f"/claimkb/search.json?q={quote(word)}&_shape=array"))
    scores = [r["score"] for r in data]
    assert scores == sorted(scores) and cid in {r["record_id"] for r in data}
    empty = await get(ds, "/claimkb/search?q=")
    assert "message-error" not in empty


async def json_rows(ds, path):
    sep = "&" if "?" in path else "?"
    return json.loads(await get(ds, f"{path}{sep}_shape=array&_size=max"))


async def test_canned_queries_return_what_they_promise(ds, built_db):
    got = await json_rows(ds, "/claimkb/no_physical_basis.json")
    assert {r["claim_id"] for r in got} == {
        r["id"] for r in rows(built_db, "select id from claims where status = 'no physical basis'")
    }

    got = await json_rows(ds, "/claimkb/equations_not_verified.json")
    assert {r["equation_id"] for r in got} == {
        r["id"] for r in rows(built_db, "select id from equations where check_status <> 'verified'")
    }

    got = await json_rows(ds, "/claimkb/citation_problems.json")
    want = {
        r["id"]
        for r in rows(built_db, "select id, citation_status, problem_count from bibliography")
        if r["problem_count"] > 0
        or r["citation_status"] in ("minor errors", "citation error", "incomplete", "unverifiable")
    }
    assert {r["bibliography_id"] for r in got} == want

    evidence: dict[str, list[int]] = {}
    for r in rows(
        built_db, "select claim_id, self_citation from evidence where claim_id is not null"
    ):
        evidence.setdefault(r["claim_id"], []).append(r["self_citation"])
    got = await json_rows(ds, "/claimkb/self_citation_only.json")
    assert {r["claim_id"] for r in got} == {c for c, flags in evidence.items() if all(flags)}

    got = await json_rows(ds, "/claimkb/contradicting_pairs.json")
    assert {(r["from_claim"], r["to_claim"]) for r in got} == {
        (r["from_claim"], r["to_claim"])
        for r in rows(built_db, "select * from claim_links where relation = 'contradicts'")
    }

    for d in rows(built_db, "select id from documents"):
        got = await json_rows(ds, f"/claimkb/claims_by_status.json?document={d['id']}")
        want = rows(
            built_db,
            "select c.id from claims c join evidence_statuses s on s.term = c.status where document_id = ? order by s.rank, c.position",
            (d["id"],),
        )
        assert [r["claim_id"] for r in got] == [r["id"] for r in want]
    got = await json_rows(ds, "/claimkb/status_counts.json")
    assert (
        sum(r["claims"] for r in got) == rows(built_db, "select count(*) as n from claims")[0]["n"]
    )

    for name in METADATA["databases"]["claimkb"]["queries"]:
        html = await get(ds, f"/claimkb/{name}")
        assert_offline(html, name)


# --- every feature, on the fictitious document -------------------------------------------------


async def test_feature_claim_page(fds):
    html = await get(fds, "/claim/tsite-c01")
    assert "Entanglement links the states of two particles." in html
    assert (
        "ckb-evidence-status-established" in html
        and 'title="evidence status “established”: Agrees' in html
    )
    assert '<span class="ckb-vh">evidence status: </span>established' in html
    # the quote inside its surrounding text, highlighted, with a link to the spot in the reading view
    assert re.search(
        r"<mark[^>]*>.*Quantum entanglement links the states of two particles \[1\]\.", html
    )
    assert 'href="/document/tsite_doc/read#claim-tsite-c01"' in html
    # evidence with working identifier links
    assert 'href="https://doi.org/10.5555/12345678"' in html
    assert 'href="https://arxiv.org/abs/2101.00001"' in html
    assert 'href="https://openlibrary.org/isbn/9783161484100"' in html
    assert 'href="https://example.org/page"' in html
    # references cited, related claims (incoming contradiction)
    assert 'href="/reference/tsite-ref01"' in html
    assert 'href="/claim/tsite-c03"' in html and "ckb-relation-contradicts" in html
    # sanitized Markdown: emphasis kept, script and remote image dropped
    assert "<em>quantum mechanics</em>" in html
    assert "<script>alert" not in html
    assert "<img" not in html and "http://example.com/pixel.png" not in html
    assert_offline(html, "claim")


async def test_feature_self_citation_and_checks_sections(fds):
    html = await get(fds, "/claim/tsite-c03")
    assert "self-citation" in html and "Machine check findings" in html
    assert 'href="/claim/tsite-c01"' in html  # outgoing contradiction


async def test_feature_equation_page_renders_mathml(fds):
    html = await get(fds, "/equation/tsite-eq02")
    assert "<math" in html and "<mover>" in html and "\u03b3" in html  # gamma over the arrow
    assert "ckb-check-status-notation-problem" in html
    html = await get(fds, "/equation/tsite-eq01")
    assert "<mfrac>" in html and "Bohr radius" in html


async def test_feature_reference_page(fds):
    html = await get(fds, "/reference/tsite-ref02")
    assert "ckb-citation-status-unverifiable" in html and "self-citation" in html
    assert 'href="https://openlibrary.org/isbn/9783161484100"' in html
    assert 'href="/claim/tsite-c03"' in html  # cited by
    html = await get(fds, "/reference/tsite-ref01")
    assert "Issue number missing." in html


async def test_feature_reading_view_handles_overlaps(fds):
    html = await get(fds, "/document/tsite_doc/read")
    for rid in (
        "claim-tsite-c01",
        "claim-tsite-c02",
        "claim-tsite-c03",
        "claim-tsite-c04",
        "equation-tsite-eq01",
        "equation-tsite-eq02",
        "bibliography-tsite-ref01",
        "bibliography-tsite-ref02",
    ):
        assert f'id="{rid}"' in html
    # "entanglement links the states" is covered by c01 and c02: one segment carrying both, with a popover
    m = re.search(
        r'<span class="ckb-hl ckb-hl-multi[^"]*"[^>]*data-spans="([^"]*)"[^>]*>entanglement links the states<',
        html,
    )
    assert m and set(m.group(1).split()) == {"claim-tsite-c01", "claim-tsite-c02"}
    # "two particles [1]." is covered by c01 and c04, " Entangled photons" by c03 and c04
    assert re.search(
        r'data-spans="claim-tsite-c01 claim-tsite-c04"[^>]*>two particles \[1\]\.<', html
    )
    assert re.search(
        r'data-spans="claim-tsite-c04 claim-tsite-c03"[^>]*>Entangled photons<', html
    ) or re.search(r'data-spans="claim-tsite-c03 claim-tsite-c04"[^>]*>Entangled photons<', html)
    # the text outside every span is there, unmarked
    assert "Test Document on Quantum Claims\n\nIntroduction\n\n" in html
    # rendered equations next to their spans
    assert html.count("ckb-eq-render") >= 2 and "<mfrac>" in html
    # the whole text is there exactly once, in order, once the markup is removed
    text_only = re.sub(r'<span class="ckb-pop".*?</span></span>', "", html, flags=re.S)
    body = re.search(
        r'<div class="ckb-text" id="ckb-text">(.*?)</div>\s*<aside', text_only, re.S
    ).group(1)
    body = re.sub(r'<a class="ckb-start.*?</a>', "", body, flags=re.S)
    body = re.sub(r'<a class="ckb-eq-render.*?</math></span></a>', "", body, flags=re.S)
    import html as htmllib

    assert htmllib.unescape(re.sub(r"<[^>]+>", "", body)) == SOURCE


async def test_feature_document_page(fds):
    html = await get(fds, "/document/tsite_doc")
    assert "<strong>test</strong>" in html and "<script>alert" not in html
    assert (
        'role="img" aria-label="Claims by evidence status: 1 established, 1 speculative, 1 unsupported, 1 no physical basis"'
        in html
    )
    assert "/document/tsite_doc/read" in html


async def test_feature_canned_queries(fds):
    assert [r["claim_id"] for r in await json_rows(fds, "/claimkb/no_physical_basis.json")] == [
        "tsite-c03"
    ]
    got = {r["claim_id"] for r in await json_rows(fds, "/claimkb/self_citation_only.json")}
    assert got == {"tsite-c02", "tsite-c03"}
    assert [
        (r["from_claim"], r["to_claim"])
        for r in await json_rows(fds, "/claimkb/contradicting_pairs.json")
    ] == [("tsite-c03", "tsite-c01")]
    assert {
        r["bibliography_id"] for r in await json_rows(fds, "/claimkb/citation_problems.json")
    } == {"tsite-ref01", "tsite-ref02"}
    assert {
        r["equation_id"] for r in await json_rows(fds, "/claimkb/equations_not_verified.json")
    } == {"tsite-eq01", "tsite-eq02"}
    html = await get(fds, "/claimkb/no_physical_basis")
    assert 'href="/claim/tsite-c03"' in html
    assert "no-signalling" in html
    html = await get(fds, "/claimkb/contradicting_pairs")
    assert (
        "ckb-evidence-status-established" in html
        and "ckb-evidence-status-no-physical-basis" in html
    )


async def test_feature_search_ranks_and_highlights(fds):
    data = await json_rows(fds, "/claimkb/search.json?q=entanglement")
    kinds = {r["record_type"] for r in data}
    assert {"claim", "reference", "document"} <= kinds
    assert [r["score"] for r in data] == sorted(r["score"] for r in data)
    html = await get(fds, "/claimkb/search?q=entanglement")
    assert (
        '<mark class="ckb-hit">entanglement</mark>' in html.lower()
        or '<mark class="ckb-hit">Entanglement</mark>' in html
    )
    assert 'href="/claim/tsite-c01"' in html and 'href="/reference/tsite-ref01"' in html
    # FTS syntax in user input is escaped, not an error
    html = await get(fds, "/claimkb/search?q=%22unbalanced+AND+OR+NEAR(")
    assert "message-error" not in html


async def test_stylesheet_and_math_font_are_served_locally(fds):
    r = await fds.client.get("/static/claimkb.css")
    assert r.status_code == 200
    css = r.text
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", css) and "@import" not in css
    font = re.search(r'url\("([^"]+\.ttf)"\)', css).group(1)
    r = await fds.client.get("/static/" + font)
    assert (
        r.status_code == 200 and len(r.content) > 100_000 and r.content[:4] == b"\x00\x01\x00\x00"
    )

"""`claimkb new`: drafts from a Markdown-like text and from a hard-wrapped PDF extraction.

Every draft is loaded by the real loader and built by the real `claimkb build` in a scratch
data folder holding a copy of data/vocabulary.yaml.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from claimkb.cli import cli
from claimkb.draft.analyze import citation_labels, extract_identifiers
from claimkb.identifiers import isbn_problem
from claimkb.ingest.anchor import SourceText
from support import load_kb

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "tests" / "fixtures" / "new"
MARKDOWN = FIX / "article.md"
PDF = FIX / "pdf_extract.txt"


@pytest.fixture
def data(tmp_path) -> Path:
    d = tmp_path / "data"
    (d / "documents").mkdir(parents=True)
    (d / "sources").mkdir()
    shutil.copy(ROOT / "data" / "vocabulary.yaml", d / "vocabulary.yaml")
    return d


def new(*args: str):
    return CliRunner().invoke(cli, ["new", *args])


def draft_of(data: Path, doc_id: str) -> tuple[str, dict]:
    text = (data / "documents" / f"{doc_id}.yaml").read_text(encoding="utf-8")
    return text, yaml.safe_load(text)


def build(data: Path, tmp_path: Path) -> sqlite3.Connection:
    """The real build, as a user runs it (checks included); returns the database."""
    db = tmp_path / "kb.db"
    r = CliRunner().invoke(cli, ["build", "--data", str(data), "--db", str(db)])
    assert r.exit_code == 0, r.output
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    return conn


def assert_every_record_not_assessed(doc: dict) -> None:
    for c in doc["claims"]:
        assert c["status"] == "not assessed" and "claim_type" not in c
    for e in doc["equations"]:
        assert e["status"] == "not assessed" and e["check_status"] == "not checked"
    for r in doc["bibliography"]:
        assert r["status"] == "not assessed" and r["citation_status"] == "not checked"


# --------------------------------------------------------------------------- Markdown-like text


def test_markdown_article(data, tmp_path):
    r = new(str(MARKDOWN), "--id", "900_md", "--data", str(data))
    assert r.exit_code == 0, r.output
    assert "10 candidate claims, 2 equations, 4 references" in r.stdout

    # the source is stored byte-identical and its sha256 recorded
    raw = MARKDOWN.read_bytes()
    assert (data / "sources" / "900_md.txt").read_bytes() == raw
    text, doc = draft_of(data, "900_md")
    assert doc["sha256"] == hashlib.sha256(raw).hexdigest()
    assert text.startswith("# yaml-language-server: $schema=../../schema/document.schema.json\n")
    assert "\n  - id: 900-c001\n" in text  # block style, sequences indented as in the curated files
    assert doc["title"] == "Attosecond Pulses and the Scales of Atomic Physics"
    assert doc["received_from"] in (
        "tests/fixtures/new/article.md",
        "article.md",
    )  # never an absolute path
    assert_every_record_not_assessed(doc)

    # equations: label, LaTeX without the label, the $$...$$ quote
    assert [(e["id"], e["label"], e["latex"]) for e in doc["equations"]] == [
        ("900-eq01", "1", r"a_0 = \frac{\lambda_e}{\alpha}"),
        ("900-eq02", "2", r"E = \hbar \omega"),
    ]
    assert doc["equations"][0]["quote"] == r"$$a_0 = \frac{\lambda_e}{\alpha}. \quad (1)$$"
    assert doc["equations"][1]["section"] == "1. Scales"

    # references: numbered entries with their identifiers pulled out
    refs = {b["label"]: b for b in doc["bibliography"]}
    assert list(refs) == ["1", "2", "3", "4"]
    assert (
        refs["1"]["id"] == "900-ref01"
        and refs["1"]["doi"] == "10.1038/nphys620"
        and "url" not in refs["1"]
    )
    assert refs["2"]["isbn"] == "9780201539295"  # printed 0-201-53929-2: kept as ISBN-13
    assert refs["3"]["arxiv_id"] == "1502.05876"
    assert refs["4"]["url"] == "https://physics.nist.gov/cuu/Constants/"
    assert refs["1"]["quote"].startswith("Corkum, P.B. & Krausz, F. (2007). Attosecond science.")

    # candidate claims: body sentences with their citations; no heading, caption, keyword line or
    # equation
    assert [c["quote"] for c in doc["claims"]] == [
        "Attosecond light pulses resolve the motion of electrons inside atoms [1].",
        (
            "This short text was written to test the drafting command of claimkb "
            "and is not a real article."
        ),
        "The Bohr radius sets the length scale of atomic physics [2].",
        (
            "It is related to the reduced Compton wavelength of the electron "
            "by the fine-structure constant [2, 4]:"
        ),
        "The photon energy of a pulse follows from its carrier frequency:",
        "Attosecond science has grown quickly since the first isolated pulses were measured [1–3].",
        "Coherence of the electrons involved can be converted into entanglement [3].",
        "These results need independent confirmation.",
        "Shorter pulses will open new measurements of electron correlation in molecules [1].",
        "These results need independent confirmation.",
    ]
    claims = {c["quote"]: c for c in doc["claims"]}
    assert claims["Attosecond light pulses resolve the motion of electrons inside atoms [1]."][
        "cites"
    ] == ["1"]
    assert (
        claims["Attosecond light pulses resolve the motion of electrons inside atoms [1]."][
            "section"
        ]
        == "Abstract"
    )
    assert claims[
        "Attosecond science has grown quickly since the first isolated pulses were measured [1–3]."
    ]["cites"] == ["1", "2", "3"]
    related = (
        "It is related to the reduced Compton wavelength of the electron "
        "by the fine-structure constant [2, 4]:"
    )
    assert claims[related]["cites"] == ["2", "4"]
    assert (
        claims[related]["statement"]
        == "It is related to the reduced Compton wavelength of the electron "
        "by the fine-structure constant:"
    )
    all_quotes = " ".join(c["quote"] for c in doc["claims"])
    for absent in (
        "Figure 1",
        "Keywords",
        "e-mail",
        "$$",
        "References",
        "Corkum",
        "## ",
        "Outlook",
    ):
        assert absent not in all_quotes
    # the sentence written twice: one candidate per occurrence, each saying which
    twice = [
        c for c in doc["claims"] if c["quote"] == "These results need independent confirmation."
    ]
    assert [c.get("occurrence") for c in twice] == [1, 2]
    assert [c["section"] for c in twice] == ["1. Scales", "2. Outlook"]

    # the draft loads with the real loader, every quote anchored where the drafter found it
    kb = load_kb(data)
    (ld,) = kb.documents
    src = SourceText(raw.decode())
    for c in twice:
        start = ld.anchors[c["id"]].start
        assert start == src.find_all(c["quote"])[c["occurrence"] - 1][0]
    assert (
        ld.text[ld.anchors["900-eq02"].start : ld.anchors["900-eq02"].end]
        == r"$$E = \hbar \omega \quad (2)$$"
    )

    # and builds with the real build: the database has every record, and the citation links
    conn = build(data, tmp_path)
    assert conn.execute("select count(*) from claims").fetchone()[0] == len(doc["claims"])
    assert conn.execute("select count(*) from equations").fetchone()[0] == 2
    assert (
        conn.execute(
            "select count(*) from bibliography where doi is not null or isbn is not null "
            "or arxiv_id is not null or url is not null"
        ).fetchone()[0]
        == 4
    )
    cited = conn.execute(
        (
            "select b.label from claim_citations cc join claims c on c.id = cc.claim_id "
            "join bibliography b on b.id = cc.bibliography_id where c.quote = ? order by b.label"
        ),
        (related,),
    ).fetchall()
    assert [r[0] for r in cited] == ["2", "4"]


# --------------------------------------------------------------------------- PDF-style text


def test_pdf_style_text(data, tmp_path):
    r = new(
        str(PDF),
        "--id",
        "901_pdf",
        "--data",
        str(data),
        "--received-from",
        "shared/seeds/pdf_extract.txt",
    )
    assert r.exit_code == 0, r.output
    raw = PDF.read_bytes()
    assert (data / "sources" / "901_pdf.txt").read_bytes() == raw
    text, doc = draft_of(data, "901_pdf")
    assert doc["received_from"] == "shared/seeds/pdf_extract.txt"
    assert doc["title"] == "Zero-point energy in a harmonic trap: a test text"
    assert_every_record_not_assessed(doc)

    # the formula line ending in (3): label 3, no LaTeX (plain text has none), the line as quote
    (eq,) = doc["equations"]
    assert eq["label"] == "3" and "latex" not in eq
    assert eq["quote"] == "E_n = (n + 1/2) hbar omega (3)"
    assert eq["section"] == "1 Introduction"

    # wrapped reference entries joined; identifiers found across the wrap
    refs = {b["label"]: b for b in doc["bibliography"]}
    assert list(refs) == ["1", "2", "3"]
    assert refs["1"]["quote"] == (
        "Sakurai, J. J. Modern Quantum Mechanics, revised edition. Addison- Wesley, Reading, "
        "Massachusetts (1994). ISBN 0-201-53929-2."
    )
    assert refs["1"]["isbn"] == "9780201539295"  # printed 0-201-53929-2: kept as ISBN-13
    assert refs["2"]["doi"] == "10.1038/nphys620"
    assert refs["3"]["doi"] == "10.1103/PhysRev.71.38" and "url" not in refs["3"]

    # sentences joined across hard line breaks, with "ref. N" markers resolved
    claims = {c["quote"]: c for c in doc["claims"]}
    snyder = (
        "A quantized space-time was proposed by Snyder in 1947 (ref. 3), "
        "long before such measurements were possible."
    )
    assert claims[snyder]["cites"] == ["3"]
    assert claims[
        "Both attosecond metrology and quantized space-time are far from this question "
        "(refs. 2 and 3)."
    ]["cites"] == ["2", "3"]
    oscillator = [
        q
        for q in claims
        if q.startswith("A quantum harmonic oscillator has equally spaced energy levels")
    ]
    assert len(oscillator) == 1 and claims[oscillator[0]]["cites"] == ["1"]
    assert (
        claims[
            "The ground state energy is not zero but half a quantum, "
            "which is called the zero-point energy."
        ]["section"]
        == "1 Introduction"
    )
    assert "2 Discussion" in {c.get("section") for c in doc["claims"]}
    all_quotes = " ".join(doc_c["quote"] for doc_c in doc["claims"])
    for absent in ("1 Introduction", "2 Discussion", "References", "hbar omega", "Sakurai, J. J."):
        assert absent not in all_quotes

    # quotes are written with single spaces; in the source they span line breaks, and still anchor
    kb = load_kb(data)
    (ld,) = kb.documents
    cid = claims[snyder]["id"]
    exact = ld.text[ld.anchors[cid].start : ld.anchors[cid].end]
    assert "\n" in exact and " ".join(exact.split()) == snyder
    ref1 = ld.text[ld.anchors[refs["1"]["id"]].start : ld.anchors[refs["1"]["id"]].end]
    assert (
        ref1.startswith("Sakurai")
        and ref1.endswith("ISBN 0-201-53929-2.")
        and "Addison-\n   Wesley" in ref1
    )

    conn = build(data, tmp_path)
    assert conn.execute("select count(*) from claims").fetchone()[0] == len(doc["claims"])
    assert conn.execute("select quote_start, quote_end from equations").fetchone()[1] > 0


# --------------------------------------------------------------------------- the real source texts


@pytest.mark.parametrize(
    ("name", "n_eq", "n_refs"),
    [("000_743566680b31fb4b", 11, 16), ("001_245bb09855103021", 1, 0)],
)
def test_real_sources_draft_and_build(data, tmp_path, name, n_eq, n_refs):
    r = new(
        str(ROOT / "data" / "sources" / f"{name}.txt"),
        "--id",
        name,
        "--data",
        str(data),
        "--prefix",
        "t" + name[:3],
    )
    assert r.exit_code == 0, r.output
    _, doc = draft_of(data, name)
    assert len(doc["equations"]) == n_eq and len(doc["bibliography"]) == n_refs
    assert len(doc["claims"]) > 50
    if name.startswith("000"):
        assert [e["label"] for e in doc["equations"]] == [str(i) for i in range(1, 12)]
        refs = {b["label"]: b for b in doc["bibliography"]}
        assert "doi" not in refs["6"] and "well-formed DOI" in refs["6"]["problems"][0]
        assert "isbn" not in refs["15"] and "9 digits" in refs["15"]["problems"][0]
        assert refs["16"]["doi"] == "10.1098/rsta.2019.0371"
        cites = {c["quote"][:40]: c.get("cites") for c in doc["claims"]}
        assert cites["It has been shown earlier [11–14] that a"] == ["11", "12", "13", "14"]
        # the sentence cut by a page break ("phenom-" / "ena") is one candidate, de-hyphenated in
        # the statement
        cut = next(
            c
            for c in doc["claims"]
            if c["quote"].startswith("The dynamics of these states can lead to various phenom")
        )
        assert "phenomena at the supra-atomic level" in cut["statement"]
    else:
        assert (
            doc["equations"][0]["label"] == "3" and doc["equations"][0]["quote"] == "d ∂L = ∂L (3)"
        )
        assert "no reference list found" in r.stderr
    kb = load_kb(data)
    assert len(kb.documents[0].anchors) == len(doc["claims"]) + n_eq + n_refs
    build(data, tmp_path)


# --------------------------------------------------------------------------- refusals and errors


def test_refuses_to_overwrite_without_force(data):
    assert new(str(MARKDOWN), "--id", "902_x", "--data", str(data)).exit_code == 0
    path = data / "documents" / "902_x.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "# curated by hand\n", encoding="utf-8")
    r = new(str(MARKDOWN), "--id", "902_x", "--data", str(data))
    assert r.exit_code == 1 and "already exists" in r.stderr and "--force" in r.stderr
    assert "Traceback" not in r.output and path.read_text(encoding="utf-8").endswith(
        "# curated by hand\n"
    )
    r = new(str(MARKDOWN), "--id", "902_x", "--data", str(data), "--force")
    assert r.exit_code == 0 and not path.read_text(encoding="utf-8").endswith("# curated by hand\n")


def test_refuses_a_different_text_under_an_existing_source(data):
    (data / "sources" / "903_x.txt").write_text("another text\n", encoding="utf-8")
    r = new(str(MARKDOWN), "--id", "903_x", "--data", str(data))
    assert r.exit_code == 1 and "different text" in r.stderr
    assert (data / "sources" / "903_x.txt").read_text() == "another text\n"
    assert not (data / "documents" / "903_x.yaml").exists()


def test_same_text_already_in_sources_is_fine(data):
    shutil.copy(MARKDOWN, data / "sources" / "904_x.txt")
    r = new(str(data / "sources" / "904_x.txt"), "--id", "904_x", "--data", str(data))
    assert r.exit_code == 0, r.output
    assert (data / "sources" / "904_x.txt").read_bytes() == MARKDOWN.read_bytes()


def test_id_clash_with_another_document(data):
    assert new(str(MARKDOWN), "--id", "905_a", "--data", str(data), "--prefix", "p").exit_code == 0
    r = new(str(PDF), "--id", "905_b", "--data", str(data), "--prefix", "p")
    assert r.exit_code == 1 and "already used by 905_a.yaml" in r.stderr and "--prefix" in r.stderr
    assert (
        not (data / "documents" / "905_b.yaml").exists()
        and not (data / "sources" / "905_b.txt").exists()
    )


@pytest.mark.parametrize(
    ("setup", "args", "message"),
    [
        ("latin1", ["--id", "906_x"], "not UTF-8"),
        ("empty", ["--id", "906_x"], "is empty"),
        ("missing", ["--id", "906_x"], "no such file"),
        ("ok", ["--id", "bad id"], "not a valid id"),
        ("ok", ["--id", "906_x", "--data", "/nonexistent/data"], "no data folder"),
    ],
)
def test_clear_errors(data, tmp_path, setup, args, message):
    src = tmp_path / "in.txt"
    if setup == "latin1":
        src.write_bytes("Schr\u00f6dinger equation.\n".encode("latin-1"))
    elif setup == "empty":
        src.write_text("  \n")
    elif setup == "ok":
        shutil.copy(MARKDOWN, src)
    full = [str(src), *args] + ([] if "--data" in args else ["--data", str(data)])
    r = new(*full)
    assert r.exit_code == 1, r.output
    assert message in r.stderr and "Traceback" not in r.output


# --------------------------------------------------------------------------- pieces


def test_citation_markers():
    assert citation_labels("as shown [11] and [2–5], also [11, 15] and ref. 2") == [
        "11",
        "2",
        "3",
        "4",
        "5",
        "15",
    ]
    assert citation_labels("see refs. 3 and 4; Ref. 7") == ["3", "4", "7"]
    assert citation_labels("the interval [a, b] and e^- [x]") == []


def test_identifiers():
    ids = extract_identifiers(
        "X. (2019). Title. J. 1, 2. <https://doi.org/10.1098/rsta.2019.0371>."
    )
    assert ids["doi"] == "10.1098/rsta.2019.0371" and ids["url"] is None and ids["problems"] == []
    ids = extract_identifiers(
        "Book. ISBN 978-0-201-53929-0 and arXiv:quant-ph/0101001v2, https://example.org/a_(b))."
    )
    assert ids["arxiv_id"] == "quant-ph/0101001v2"
    assert ids["url"] == "https://example.org/a_(b)"
    assert ids["isbn"] is None and "a digit is wrong" in ids["problems"][0]
    # Sakurai, Modern Quantum Mechanics (revised ed.), as printed in the book: kept as ISBN-13
    ids = extract_identifiers("Sakurai. Modern Quantum Mechanics. ISBN 0-201-53929-2.")
    assert ids["isbn"] == "9780201539295" and ids["problems"] == []
    assert isbn_problem("9780201539295") is None  # the same ISBN in its 13-digit form
    assert isbn_problem("9780201539290")  # wrong check digit
    assert "9 digits" in isbn_problem("044486361")  # nine digits (as printed in data/sources/000)


def test_crlf_and_byte_order_mark(data, tmp_path):
    src = tmp_path / "crlf.md"
    src.write_bytes(b"\xef\xbb\xbf" + MARKDOWN.read_bytes().replace(b"\n", b"\r\n"))
    r = new(str(src), "--id", "907_crlf", "--data", str(data))
    assert r.exit_code == 0, r.output
    assert (data / "sources" / "907_crlf.txt").read_bytes() == src.read_bytes()
    _, doc = draft_of(data, "907_crlf")
    assert doc["title"] == "Attosecond Pulses and the Scales of Atomic Physics"
    assert [e["latex"] for e in doc["equations"]] == [
        r"a_0 = \frac{\lambda_e}{\alpha}",
        r"E = \hbar \omega",
    ]
    assert len(doc["claims"]) == 10 and len(doc["bibliography"]) == 4
    load_kb(data)


# ---------------------------------------------------------------- any text drafts into a valid file

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

TOKENS = [
    "The",
    "energy",
    "is",
    "conserved",
    "in",
    "every",
    "closed",
    "system",
    "we",
    "show",
    "that",
    ".",
    ". ",
    ",",
    ":",
    " ",
    "  ",
    "\n",
    "\n\n",
    "\r\n",
    "\t",
    "[1]",
    "[2–3]",
    "[1, 4]",
    "ref. 2",
    "refs. 1 and 3",
    "$$E = mc^2 \\quad (1)$$",
    "$$x$$",
    "E = m c^2   (2)\n",
    "(3)\n",
    "# Title\n",
    "## 1. Part\n",
    "References\n",
    "Bibliography\n",
    "[1] A. Author, J. 1, 2 (2000). doi:10.1000/abc\n",
    "2. B. Author. ISBN 0-201-53929-2\n",
    "- 3 C. Author. arXiv:1502.05876\n",
    "- D. Author https://example.org/x\n",
    "Figure 1. A caption.\n",
    "Keywords: a, b.\n",
    "e.g.",
    "Phys. Rev. Lett. 1, 2",
    "phenom-\n\nena",
    "\u00e9",
    "\u2014",
    '"',
    "'",
    "#",
    "*",
    "Fig. 2",
    "ISBN 0 444 86361",
    "https://doi.org/10.10910.1351/x",
    "1 Introduction\n",
]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=120))
def test_any_text_gives_a_draft_that_loads(tmp_path_factory, tokens):
    text = "".join(tokens)
    if not text.strip():
        return
    base = tmp_path_factory.mktemp("h")
    data = base / "data"
    (data / "documents").mkdir(parents=True)
    (data / "sources").mkdir()
    shutil.copy(ROOT / "data" / "vocabulary.yaml", data / "vocabulary.yaml")
    src = base / "in.txt"
    src.write_text(text, encoding="utf-8", newline="")
    r = new(str(src), "--id", "908_h", "--data", str(data))
    assert r.exit_code == 0, r.output
    kb = load_kb(data)
    (ld,) = kb.documents
    _, doc = draft_of(data, "908_h")
    source = SourceText(text)
    for kind in ("claims", "equations", "bibliography"):
        for rec in doc[kind]:
            hits = source.find_all(rec["quote"])
            assert ("occurrence" in rec) == (len(hits) > 1)
            assert ld.anchors[rec["id"]].start == hits[rec.get("occurrence", 1) - 1][0]


def test_latex_display_forms():
    from claimkb.draft.analyze import analyze

    text = (
        "We state the second law of motion in its usual form here.\n\n"
        "\\[ F = m a \\tag{4} \\]\n\n"
        "\\begin{equation} p = m v \\label{eq:p} \\end{equation}\n\n"
        "$$ x = 1, \\qquad (5a) $$\n"
    )
    eqs = analyze(text).equations
    assert [(e.label, e.latex) for e in eqs] == [
        ("4", "F = m a"),
        (None, "p = m v"),
        ("5a", "x = 1"),
    ]
    assert [text[e.start : e.end] for e in eqs] == [e.quote for e in eqs]

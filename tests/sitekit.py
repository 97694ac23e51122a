"""What the site tests share: databases built by the real build code, under any file name,
and Datasette instances made the documented way (``Datasette([...], settings=...)``) with
the claimkb plugin installed (an entry point, as a user installs it)."""

from __future__ import annotations

import hashlib
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"

# --- a fictitious document that exercises every feature (and carries hostile input) -------

SOURCE = """Test Document on Quantum Claims

Introduction

Quantum entanglement links the states of two particles [1]. \
Entangled photons can carry energy faster than light [2].

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
            "quote": (
                "[1] Example, A. (2001). A fictitious paper about entanglement. "
                "Journal of Tests 1, 1-2."
            ),
            "title": "A fictitious paper about entanglement",
            "authors": ["Example, A."],
            "year": 2001,
            "doi": "10.5555/12345678",
            "citation_status": "minor errors",
            "problems": ["Issue number missing."],
            "status": "supported",
            "evidence": [
                {
                    "stance": "supports",
                    "bibliography": "1",
                    "note": "The paper reports the measurement it is cited for.",
                }
            ],
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
            "tried": ["The publisher's list has no work of this title."],
            "status": "speculative",
        },
    ],
}


def build_feature_data(folder: Path) -> Path:
    """A data folder holding the fictitious document, with the real vocabulary."""
    (folder / "documents").mkdir(parents=True)
    (folder / "sources").mkdir()
    shutil.copy(DATA / "vocabulary.yaml", folder / "vocabulary.yaml")
    (folder / "sources" / "tsite_doc.txt").write_text(SOURCE, encoding="utf-8")
    (folder / "documents" / "tsite_doc.yaml").write_text(
        yaml.safe_dump(DOCUMENT, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    return folder


def rows_of(db: Path, sql: str) -> list[tuple]:
    """Every row a fixed query returns, read-only."""
    import sqlite3

    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def _ids(db: Path, sql: str) -> list[str]:
    return [r[0] for r in rows_of(db, sql)]


def reader_urls(db: Path) -> list[str]:
    """One of every kind of reader page, for a database."""
    doc = _ids(db, "select id from documents order by id")[0]
    claim = _ids(db, "select id from claims order by id")[0]
    out = [
        "/",
        "/documents",
        f"/document/{doc}",
        f"/document/{doc}/read",
        f"/claim/{claim}",
        "/claims",
        "/claims?status=established",
        "/equations",
        "/references",
        "/search?q=quantum",
        "/questions",
        "/vocabulary",
    ]
    out += [f"/equation/{e}" for e in _ids(db, "select id from equations limit 1")]
    out += [f"/reference/{r}" for r in _ids(db, "select id from bibliography limit 1")]
    from claimkb.site.pages.questions import QUESTIONS

    return out + [f"/questions/{q.name}" for q in QUESTIONS]


def build(data: Path, db: Path) -> Path:
    from claimkb.build import build as build_db

    build_db(data, db, workers=1)
    return db


def datasette(*paths: Path, config: dict | None = None):
    """A Datasette serving these files as a user would (the plugin found installed)."""
    from datasette.app import Datasette

    from claimkb.site.serve import settings

    kwargs = {"settings": settings()}
    if config:
        key = "config" if _is_one() else "metadata"
        kwargs[key] = config
    return Datasette([str(p) for p in paths], **kwargs)


def _is_one() -> bool:
    from datasette.version import __version__

    return not __version__.startswith("0.")


class Text(HTMLParser):
    """The text a reader sees (outside <math>, <script> and <style>, and outside the LaTeX
    source an equation page offers in a closed <details>: <pre class="ckb-latex">), and
    every link."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = {"math": 0, "script": 0, "style": 0, "pre": 0}
        self.text: list[str] = []
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None
        self._label: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.depth and (tag != "pre" or "ckb-latex" in (dict(attrs).get("class") or "")):
            self.depth[tag] += 1
        if tag == "a":
            self._href, self._label = dict(attrs).get("href"), []

    def handle_endtag(self, tag):
        if tag in self.depth and self.depth[tag]:
            self.depth[tag] -= 1
        if tag == "a" and self._href is not None:
            self.links.append((self._href, " ".join("".join(self._label).split())))
            self._href = None

    def handle_data(self, data):
        if not any(self.depth.values()):
            self.text.append(data)
            if self._href is not None:
                self._label.append(data)


def visible(html: str) -> Text:
    t = Text()
    t.feed(html)
    return t


RAW_LATEX = re.compile(r"\\[A-Za-z]{2,}|\$[^$\s][^$]*\$")

SECOND_SOURCE = """A Second Test Document

Two particles in an entangled state share one quantum state.
"""
SECOND = {
    "id": "tsite_two",
    "title": "A Second Test Document",
    "kind": "web page",
    "sha256": hashlib.sha256(SECOND_SOURCE.encode("utf-8")).hexdigest(),
    "assessment": {"summary": "Restates the first one.", "status": "established"},
    "claims": [
        {
            "id": "tsite2-c01",
            "quote": "Two particles in an entangled state share one quantum state.",
            "statement": "Entangled particles share one state, written $|\\psi\\rangle$.",
            "claim_type": "theoretical",
            "status": "established",
            "rationale": "Textbook: the state $|\\psi\\rangle$ of two entangled particles does "
            "not factorise.",
            "evidence": [
                {
                    "stance": "supports",
                    "locator": "chapter on entanglement",
                    "work": {"title": "A fictitious textbook", "isbn": "978-3-16-148410-0"},
                    "note": "Textbook account.",
                }
            ],
            "links": [{"relation": "restates", "to": "tsite-c01", "note": "Same proposition."}],
        },
        {
            "id": "tsite2-c02",
            "quote": "share one quantum state",
            "statement": "The two particles have a single joint state.",
            "claim_type": "theoretical",
            "status": "established",
            "evidence": [
                {
                    "stance": "supports",
                    "work": {"title": "A fictitious textbook", "isbn": "978-3-16-148410-0"},
                    "note": "Textbook account.",
                }
            ],
            "links": [{"relation": "restates", "to": "tsite-c01", "proposed": True}],
        },
        {
            "id": "tsite2-c03",
            "quote": "A Second Test Document",
            "statement": "The second document is a test document.",
            "claim_type": "attribution/historical",
            "status": "supported",
            "evidence": [
                {
                    "stance": "supports",
                    "self_citation": True,
                    "note": "The authors' own page.",
                    "work": {"title": "A fictitious page", "url": "https://example.org/own"},
                },
                {
                    "stance": "context",
                    "note": "A work with both a DOI and a link.",
                    "work": {
                        "title": "A fictitious paper",
                        "doi": "10.5555/12345678",
                        "url": "https://example.org/paper",
                    },
                },
            ],
        },
    ],
    "acknowledged": [
        {
            "rule": "self-citation-only",
            "about": "tsite2-c03",
            "reason": "The page describes itself: its own text is the right source.",
        },
    ],
}


def build_feature_pair(folder: Path) -> Path:
    """The fictitious document and a second one that restates one of its claims."""
    build_feature_data(folder)
    (folder / "sources" / "tsite_two.txt").write_text(SECOND_SOURCE, encoding="utf-8")
    (folder / "documents" / "tsite_two.yaml").write_text(
        yaml.safe_dump(SECOND, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    return folder

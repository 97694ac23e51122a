"""Every kind of bad input gets a clear error naming file and line, never a traceback,
and an existing database is left untouched."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from claimkb.problems import DataError
from support import load_kb

ROOT = Path(__file__).resolve().parent.parent

SOURCE = """A Test Paper

The Bohr radius is about 0.0529 nm [1]. Entangled particles behave as one,
independent of distance. Measuring one particle therefore instantaneously
influences the other.

References
[1] Mohr, P. J. et al. CODATA recommended values.
"""

GOOD = """\
id: doc1
title: A Test Paper
kind: unreviewed manuscript
sha256: {sha}
claims:
  - id: doc1-c01
    quote: The Bohr radius is about 0.0529 nm
    statement: The Bohr radius is about 0.0529 nm.
    claim_type: empirical
    status: established
    cites: ["1"]
    evidence:
      - stance: supports
        note: CODATA value of the Bohr radius.
        work: {{title: CODATA, url: "https://physics.nist.gov/cgi-bin/cuu/Value?bohrrada0"}}
  - id: doc1-c02
    quote: Measuring one particle therefore instantaneously influences the other.
    statement: A measurement on one entangled particle instantly influences the other.
    claim_type: theoretical
    status: not assessed
    links:
      - {{relation: depends_on, to: doc1-c01}}
bibliography:
  - id: doc1-ref01
    label: "1"
    quote: "[1] Mohr, P. J. et al. CODATA recommended values."
"""


def make_data(root: Path, yaml_text: str | None = None, source: str = SOURCE) -> Path:
    data = root / "data"
    (data / "documents").mkdir(parents=True)
    (data / "sources").mkdir()
    shutil.copy(ROOT / "data" / "vocabulary.yaml", data / "vocabulary.yaml")
    (data / "sources" / "doc1.txt").write_text(source, encoding="utf-8")
    sha = hashlib.sha256(source.encode()).hexdigest()
    text = (yaml_text or GOOD).replace("{sha}", sha) if yaml_text else GOOD.format(sha=sha)
    (data / "documents" / "doc1.yaml").write_text(text, encoding="utf-8")
    return data


def good_yaml() -> str:
    return GOOD.replace("{{", "{").replace("}}", "}")


def line_of(text: str, needle: str, nth: int = 1) -> int:
    pos = -1
    for _ in range(nth):
        pos = text.index(needle, pos + 1)
    return text[:pos].count("\n") + 1


def problems_for(tmp_path: Path, yaml_text: str, source: str = SOURCE) -> list:
    data = make_data(tmp_path, yaml_text, source)
    with pytest.raises(DataError) as e:
        load_kb(data)
    return e.value.problems


def test_good_fixture_loads(tmp_path):
    kb = load_kb(make_data(tmp_path))
    (ld,) = kb.documents
    a = ld.anchors["doc1-c02"]
    assert ld.text[a.start : a.end].startswith(
        "Measuring one particle therefore instantaneously\ninfluences"
    )


CASES = {
    # name: (mutation of the good YAML, text on the expected line, expected message part,
    #        expected hint part)
    "yaml syntax": (
        lambda y: y.replace("    statement: The Bohr radius", "    statement: [The Bohr radius"),
        "claim_type: empirical",
        "YAML syntax error",
        "syntax",
    ),
    "unknown key": (
        lambda y: y.replace("    statement: A measurement", "    statment: A measurement"),
        "statment:",
        "unknown key `statment`",
        "did you mean `statement`",
    ),
    "wrong type": (
        lambda y: y.replace(
            "kind: unreviewed manuscript", "kind: unreviewed manuscript\nyear: nineteen"
        ),
        "year: nineteen",
        "valid integer",
        "expected type",
    ),
    "unknown status label": (
        lambda y: y.replace("status: established", "status: proven"),
        "status: proven",
        "unknown label 'proven'",
        "'established'",
    ),
    "missing key": (
        lambda y: y.replace(
            (
                "    statement: A measurement on one entangled particle "
                "instantly influences the other.\n"
            ),
            "",
        ),
        "- id: doc1-c02",
        "missing required key `statement`",
        "add `statement:`",
    ),
    "duplicate id": (
        lambda y: y.replace("id: doc1-c02", "id: doc1-c01"),
        ("- id: doc1-c01", 2),
        "duplicate id 'doc1-c01'",
        "unique",
    ),
    "duplicate key": (
        lambda y: y.replace(
            "    claim_type: theoretical", "    claim_type: theoretical\n    claim_type: empirical"
        ),
        "claim_type: empirical\n    status: not",
        "given twice",
        "keep only one",
    ),
    "dangling citation": (
        lambda y: y.replace('cites: ["1"]', 'cites: ["7"]'),
        '"7"',
        "cites bibliography label '7'",
        "use one of: 1",
    ),
    "dangling link": (
        lambda y: y.replace("to: doc1-c01", "to: doc1-c99"),
        "to: doc1-c99",
        "links to 'doc1-c99'",
        "did you mean",
    ),
    "evidence about missing record": (
        lambda y: (
            y
            + "evidence:\n  - about: doc1-c77\n    stance: context\n    note: n\n    work: {url: 'https://example.org/x'}\n"
        ),
        "about: doc1-c77",
        "evidence is about 'doc1-c77'",
        "id of a claim",
    ),
    "quote not found": (
        lambda y: y.replace(
            "quote: The Bohr radius is about 0.0529 nm",
            "quote: The Bohr radius is roughly 0.0529 nm",
        ),
        "quote: The Bohr radius is roughly",
        "quote not found",
        "closest passage",
    ),
    "quote ambiguous": (
        lambda y: y.replace(
            "quote: Measuring one particle therefore instantaneously influences the other.",
            "quote: the",
        ),
        "quote: the",
        "occurs",
        "occurrence",
    ),
    "sha256 mismatch": (
        lambda y: y.replace(y.split("sha256: ")[1][:64], "a" * 64),
        "sha256:",
        "sha256 of",
        "byte-identical",
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_reported_with_file_line_and_advice(tmp_path, name):
    mutate, at, message, hint = CASES[name]
    sha = hashlib.sha256(SOURCE.encode()).hexdigest()
    good = good_yaml().replace("{sha}", sha)
    bad = mutate(good)
    assert bad != good, "the mutation must change the fixture"
    problems = problems_for(tmp_path, bad)
    matching = [p for p in problems if message in p.message]
    assert matching, f"no problem mentioning {message!r} in {[str(p) for p in problems]}"
    p = matching[0]
    assert p.file.endswith("doc1.yaml")
    needle, nth = at if isinstance(at, tuple) else (at, 1)
    assert p.line == line_of(bad, needle, nth), str(p)
    assert hint in p.hint, str(p)


def test_missing_source_file(tmp_path):
    data = make_data(tmp_path)
    (data / "sources" / "doc1.txt").unlink()
    with pytest.raises(DataError) as e:
        load_kb(data)
    (p,) = [p for p in e.value.problems if "is missing" in p.message]
    assert p.file.endswith("doc1.yaml") and p.line == line_of(
        (data / "documents" / "doc1.yaml").read_text(), "sha256:"
    )
    assert "byte-identical" in p.hint


def test_all_problems_are_reported_in_one_run(tmp_path):
    sha = hashlib.sha256(SOURCE.encode()).hexdigest()
    bad = (
        good_yaml()
        .replace("{sha}", sha)
        .replace("status: established", "status: proven")
        .replace("to: doc1-c01", "to: nowhere")
    )
    bad = bad.replace("quote: Measuring one", "quote: Measurin one")
    problems = problems_for(tmp_path, bad)
    # the pydantic error stops the document before anchoring; fix it and the rest appears
    assert any("proven" in p.message for p in problems)
    bad2 = bad.replace("status: proven", "status: established")
    problems = problems_for(tmp_path / "2", bad2)
    messages = " | ".join(p.message for p in problems)
    assert "quote not found" in messages and "links to 'nowhere'" in messages


def _run_cli(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "claimkb", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_build_fails_cleanly_and_keeps_the_old_database(tmp_path):
    data = make_data(tmp_path)
    db = tmp_path / "kb.db"
    ok = _run_cli("build", "--data", str(data), "--db", str(db), cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    before = db.read_bytes()
    doc = data / "documents" / "doc1.yaml"
    doc.write_text(doc.read_text().replace("status: established", "status: proven"))
    bad = _run_cli("build", "--data", str(data), "--db", str(db), cwd=tmp_path)
    assert bad.returncode == 1
    assert "Traceback" not in bad.stderr + bad.stdout
    line = line_of(doc.read_text(), "status: proven")
    assert f"doc1.yaml:{line}: error: unknown label 'proven'" in bad.stderr
    assert "nothing was written" in bad.stderr
    assert db.read_bytes() == before
    assert not list(tmp_path.glob(".kb.db.*.tmp"))


def test_cli_reports_yaml_that_is_not_a_mapping(tmp_path):
    data = make_data(tmp_path)
    (data / "documents" / "doc1.yaml").write_text("- just\n- a list\n")
    r = _run_cli("validate", "--data", str(data), cwd=tmp_path)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "doc1.yaml:1: error: a document file must be a YAML mapping" in r.stderr


def test_cli_reports_an_unwritable_database_without_traceback(tmp_path):
    data = make_data(tmp_path)
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where a folder should be")
    r = _run_cli("build", "--data", str(data), "--db", str(blocker / "kb.db"), cwd=tmp_path)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "cannot write the database" in r.stderr


def test_cli_reports_a_missing_data_folder(tmp_path):
    r = _run_cli("validate", "--data", str(tmp_path / "nowhere"), cwd=tmp_path)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "vocabulary.yaml: error: file not found" in r.stderr
    assert "no documents folder" in r.stderr


def test_unknown_latex_macro_is_a_build_error_at_the_latex_line(tmp_path):
    sha = hashlib.sha256(SOURCE.encode()).hexdigest()
    y = good_yaml().replace("{sha}", sha) + (
        "equations:\n"
        "  - id: doc1-eq01\n"
        "    quote: The Bohr radius is about 0.0529 nm\n"
        "    latex: a_0 = \\bohrradius\n"
    )
    problems = problems_for(tmp_path, y)
    (p,) = [p for p in problems if "doc1-eq01" in p.message]
    assert "cannot be rendered" in p.message and "bohrradius" in p.message
    assert p.line == line_of(y, "latex: a_0")


def test_equation_mathml_is_stored(tmp_path):
    import sqlite3

    from claimkb.build import build

    sha = hashlib.sha256(SOURCE.encode()).hexdigest()
    y = good_yaml().replace("{sha}", sha) + (
        "equations:\n"
        "  - id: doc1-eq01\n"
        "    quote: The Bohr radius is about 0.0529 nm\n"
        "    latex: a_0 = \\frac{\\hbar^2}{m_e e^2}\n"
    )
    data = make_data(tmp_path, y)
    build(data, tmp_path / "kb.db")
    mathml = (
        sqlite3.connect(tmp_path / "kb.db").execute("select mathml from equations").fetchone()[0]
    )
    assert mathml.startswith("<math") and "<mfrac>" in mathml


def test_a_broken_document_does_not_make_links_into_it_look_dangling(tmp_path):
    """One invalid file reports its own error; other files linking into it get no false errors."""
    data = make_data(tmp_path)
    sha = hashlib.sha256(b"Another text.").hexdigest()
    (data / "sources" / "doc2.txt").write_text("Another text.")
    (data / "documents" / "doc2.yaml").write_text(
        f"id: doc2\ntitle: T\nkind: web page\nsha256: {sha}\nclaims:\n"
        "  - id: doc2-c01\n    quote: Another text.\n    statement: s\n    claim_type: empirical\n"
        "    links:\n      - {relation: restates, to: doc1-c01}\n"
        "      - {relation: restates, to: doc1-c99}\n"
    )
    doc1 = data / "documents" / "doc1.yaml"
    doc1.write_text(doc1.read_text().replace("status: established", "status: proven"))
    with pytest.raises(DataError) as e:
        load_kb(data)
    messages = [p.message for p in e.value.problems]
    assert any("unknown label 'proven'" in m for m in messages)
    assert not any("'doc1-c01'" in m for m in messages), messages  # exists in the broken file
    assert any("links to 'doc1-c99'" in m for m in messages), (
        messages
    )  # exists nowhere: still reported

"""Hostile input to the build: nothing gets in, nothing hangs, nothing is lost.

Every test runs the real `claimkb validate` / `claimkb build` in a subprocess on a data
folder of its own and checks what a user sees (exit status, `file:line` messages, no
traceback, the time taken) and what is on disk (the previous database byte for byte, no
temporary file left). The helpers read the database with plain SQL only, so the same
tests can be pointed at another version of the code (CODE_ENV, VOCABULARY).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from claimkb.bench import synth
from claimkb.ingest.anchor import AnchorError, SourceText, normalize

ROOT = Path(__file__).resolve().parent.parent
#: the vocabulary the fixtures use, and what the subprocesses add to their environment
VOCABULARY = ROOT / "data" / "vocabulary.yaml"
CODE_ENV: dict[str, str] = {}
#: what "does not hang" means for one command on one hostile file
LIMIT_S = 5.0

SOURCE = (
    "A Test Paper\n\n"
    "The Bohr radius is about 0.0529 nm [1]. Entangled particles behave as one,\n"
    "independent of distance. Measuring one particle therefore instantaneously\n"
    "influences the other. The vacuum has an energy of its own. Gravity bends light\n"
    "near the Sun. Heat flows from hot to cold bodies.\n\n"
    "References\n"
    "[1] Mohr, P. J. et al. CODATA recommended values.\n"
    "[2] Einstein, A. Die Feldgleichungen der Gravitation.\n"
)
QUOTES = (
    "The Bohr radius is about 0.0529 nm",
    "Entangled particles behave as one, independent of distance.",
    "Measuring one particle therefore instantaneously influences the other.",
    "The vacuum has an energy of its own.",
    "Gravity bends light near the Sun.",
    "Heat flows from hot to cold bodies.",
)
REFERENCES = (
    "[1] Mohr, P. J. et al. CODATA recommended values.",
    "[2] Einstein, A. Die Feldgleichungen der Gravitation.",
)


# --------------------------------------------------------------------------- fixtures


def claim_yaml(cid: str, n: int, links: tuple[tuple[str, str], ...] = ()) -> str:
    """One claim quoting sentence n of SOURCE; links are (relation, to)."""
    y = (
        f"  - id: {cid}\n"
        f"    quote: {QUOTES[n % len(QUOTES)]!r}\n"
        f"    statement: Statement {n}.\n"
        "    claim_type: empirical\n"
    )
    if links:
        y += "    links:\n" + "".join(f"      - {{relation: {r}, to: {t}}}\n" for r, t in links)
    return y


def document_yaml(
    did: str,
    claims: list[tuple[str, tuple[tuple[str, str], ...]]] | None = None,
    equations: tuple[str, ...] = (),
    bibliography: tuple[str, ...] | None = None,
    source: str = SOURCE,
) -> str:
    """A valid document: claims [(id, links)], equations and bibliography entries by id."""
    if claims is None:
        claims = [(f"{did}-c1", ()), (f"{did}-c2", (("depends_on", f"{did}-c1"),))]
    sha = hashlib.sha256(source.encode()).hexdigest()
    y = f"id: {did}\ntitle: Test {did}\nkind: unreviewed manuscript\nsha256: {sha}\nclaims:\n"
    y += "".join(claim_yaml(cid, n, links) for n, (cid, links) in enumerate(claims))
    if equations:
        y += "equations:\n" + "".join(
            f"  - id: {eid}\n    quote: {QUOTES[n + 3]!r}\n" for n, eid in enumerate(equations)
        )
    bib = (f"{did}-ref1",) if bibliography is None else bibliography
    if bib:
        y += "bibliography:\n" + "".join(
            f'  - id: {bid}\n    label: "{n + 1}"\n    quote: {REFERENCES[n % 2]!r}\n'
            for n, bid in enumerate(bib)
        )
    return y


def make_data(root: Path, docs: dict[str, str], sources: dict[str, str] | None = None) -> Path:
    """A data folder with the given document files (by id) and their source texts."""
    data = root / "data"
    (data / "documents").mkdir(parents=True)
    (data / "sources").mkdir()
    shutil.copy(VOCABULARY, data / "vocabulary.yaml")
    for did, text in docs.items():
        (data / "documents" / f"{did}.yaml").write_text(text, encoding="utf-8")
        src = (sources or {}).get(did, SOURCE)
        (data / "sources" / f"{did}.txt").write_bytes(src.encode())
    return data


def env(tmp: Path, **extra: str) -> dict[str, str]:
    out = dict(os.environ, **CODE_ENV)
    for k in ("CLAIMKB_FAULT_AT", "CLAIMKB_MAX_PAGES"):
        out.pop(k, None)
    out.update(extra)
    return out


class Run:
    """One `claimkb` command run in a subprocess: status, output, seconds."""

    def __init__(self, *args: str | Path, tmp: Path, timeout: float = 60, **extra: str):
        cmd = [sys.executable, "-m", "claimkb", *map(str, args)]
        t = time.perf_counter()
        try:
            r = subprocess.run(
                cmd, env=env(tmp, **extra), capture_output=True, text=True, timeout=timeout
            )
            self.rc, self.out = r.returncode, r.stderr + r.stdout
        except subprocess.TimeoutExpired:
            self.rc, self.out = None, f"timed out after {timeout} s"
        self.seconds = time.perf_counter() - t

    def __repr__(self) -> str:
        return f"rc={self.rc} in {self.seconds:.2f}s:\n{self.out[-3000:]}"

    def failed_cleanly(self) -> bool:
        """Exit 1 with a message, no traceback."""
        return self.rc == 1 and "Traceback" not in self.out and bool(self.out.strip())


def build(data: Path, db: Path, *extra: str, tmp: Path, **env_extra: str) -> Run:
    return Run("build", "--data", data, "--db", db, *extra, tmp=tmp, **env_extra)


def built(tmp: Path, docs: dict[str, str], **kw) -> tuple[Path, Path, bytes]:
    """A data folder, a database built from it, and that database's bytes."""
    data = make_data(tmp, docs, **kw)
    db = tmp / "out" / "kb.db"
    r = build(data, db, tmp=tmp)
    assert r.rc == 0, r
    return data, db, db.read_bytes()


#: columns that say when and in which order a database was written, not what it holds
VOLATILE = {"build_files": ("mtime_ns",), "checks": ("id",)}


def contents(db: Path) -> dict[str, list[tuple]]:
    """Every table's rows, sorted (full-text shadow tables, statistics and build_info,
    which holds the build's time and mode, left out): what a full build and an update
    must agree on. Plain SQL, so it reads a database of any claimkb version."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        names = [
            r[0]
            for r in conn.execute("select name from sqlite_master where type = 'table'")
            if not r[0].startswith("sqlite_") and "_fts" not in r[0] and r[0] != "build_info"
        ]
        out = {}
        for name in sorted(names):
            cols = [
                r[1]
                for r in conn.execute(f"pragma table_info([{name}])")
                if r[1] not in VOLATILE.get(name, ())
            ]
            rows = conn.execute(f"select {', '.join(f'[{c}]' for c in cols)} from [{name}]")
            out[name] = sorted(rows.fetchall(), key=repr)
        return out
    finally:
        conn.close()


def leftovers(db: Path) -> list[Path]:
    """Temporary files of a build next to the database."""
    return sorted(p for p in db.parent.iterdir() if p.name.startswith(f".{db.name}."))


def full_reference(data: Path, tmp: Path) -> Path:
    ref = tmp / "reference" / "kb.db"
    r = build(data, ref, "--full", tmp=tmp)
    assert r.rc == 0, r
    return ref


# --------------------------------------------------------------------------- 4. line endings


def _to_crlf(path: Path) -> bytes:
    raw = path.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    path.write_bytes(raw)
    return raw


def test_crlf_source_text_without_its_new_sha256_fails_the_update_as_a_full_build(tmp_path):
    """The bytes are hashed: LF -> CRLF is a new text, whose sha256 the document does not
    record. (The old code hashed the text read with universal newlines: no change seen,
    'up to date' with a database that a full build refuses.)"""
    data, db, before = built(tmp_path, {"doc1": document_yaml("doc1")})
    _to_crlf(data / "sources" / "doc1.txt")
    r = build(data, db, tmp=tmp_path)
    assert r.failed_cleanly(), r
    assert re.search(r"doc1\.yaml:4: error: sha256 of \S*doc1\.txt is [0-9a-f]{64}", r.out), r
    assert db.read_bytes() == before
    full = build(data, db, "--full", tmp=tmp_path)
    assert full.failed_cleanly() and "sha256 of" in full.out, full


def test_crlf_source_text_with_its_sha256_recorded_is_updated_like_a_full_build(tmp_path):
    data, db, _ = built(tmp_path, {"doc1": document_yaml("doc1")})
    crlf = _to_crlf(data / "sources" / "doc1.txt")
    doc = data / "documents" / "doc1.yaml"
    doc.write_text(document_yaml("doc1", source=crlf.decode()), encoding="utf-8")
    r = build(data, db, tmp=tmp_path)
    assert r.rc == 0 and "updated" in r.out, r
    got = contents(db)
    assert [t for (t,) in sqlite3.connect(db).execute("select text from documents")] == [
        crlf.decode()
    ]
    stored = {p: sha for p, _size, sha, _doc in got["build_files"]}
    assert stored["sources/doc1.txt"] == hashlib.sha256(crlf).hexdigest()
    assert got == contents(full_reference(data, tmp_path))


def test_crlf_document_file_alone_is_seen_and_its_bytes_hashed(tmp_path):
    """Same data, other bytes: the update re-reads it and records the sha256 of the bytes
    (the old code recorded the sha256 of the text with universal newlines)."""
    data, db, _ = built(tmp_path, {"doc1": document_yaml("doc1")})
    raw = _to_crlf(data / "documents" / "doc1.yaml")
    r = build(data, db, tmp=tmp_path)
    assert r.rc == 0, r
    stored = {p: sha for p, _size, sha, _doc in contents(db)["build_files"]}
    assert stored["documents/doc1.yaml"] == hashlib.sha256(raw).hexdigest()
    for rel, sha in stored.items():
        assert sha == hashlib.sha256((data / rel).read_bytes()).hexdigest(), rel
    assert contents(db) == contents(full_reference(data, tmp_path))


# --------------------------------------------------------------------------- 5. YAML bounds


def _alias_bomb() -> str:
    lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):  # 10^9 values once expanded
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


def _line_at(text: str, offset: int) -> int:
    return text.encode()[:offset].count(b"\n") + 1


_LARGE = "id: doc2\nx: |\n" + ("  " + "y" * 78 + "\n") * (17 * 2**20 // 81)
#: name -> (the text of doc2.yaml, its expected line, words of the message naming the bound)
HOSTILE_YAML = {
    "deep block nesting": (
        "id: doc2\nx:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 200)),
        66,
        "nest deeper than 64 levels",
    ),
    "deep flow nesting": (
        "id: doc2\nx: " + "[" * 100_000 + "]" * 100_000 + "\n",
        2,
        "nest deeper than 64 levels",
    ),
    "alias bomb": (_alias_bomb(), 6, "more than 300,000 values once its aliases are expanded"),
    "too many aliases": (
        "a: &a 1\nb: [" + ", ".join(["*a"] * 1001) + "]\n",
        2,
        "more than 1000 aliases",
    ),
    "too many values": (
        "id: doc2\nx:\n" + "- 1\n" * 3_000_000,
        299_998,  # the root, id, doc2, x and the list: 5 values before the items
        "more than 300,000 values",
    ),
    "larger than 16 MiB": (_LARGE, _line_at(_LARGE, 2**24), "more than 16,777,216 bytes"),
}


@pytest.fixture(scope="module")
def previous(tmp_path_factory) -> tuple[Path, Path, bytes]:
    """A data folder and the database built from it (copied by each test)."""
    tmp = tmp_path_factory.mktemp("previous")
    return built(tmp, {"doc1": document_yaml("doc1")})


def _copy(previous, tmp: Path) -> tuple[Path, Path, bytes]:
    data, db, before = previous
    shutil.copytree(data, tmp / "data")
    (tmp / "out").mkdir()
    shutil.copy(db, tmp / "out" / "kb.db")
    return tmp / "data", tmp / "out" / "kb.db", before


@pytest.mark.parametrize("name", list(HOSTILE_YAML))
@pytest.mark.parametrize("command", ["validate", "build"])
def test_yaml_over_a_bound_is_refused_at_its_line_in_seconds(previous, tmp_path, name, command):
    text, line, words = HOSTILE_YAML[name]
    data, db, before = _copy(previous, tmp_path)
    (data / "documents" / "doc2.yaml").write_text(text, encoding="utf-8")
    args = ("--db", db) if command == "build" else ()
    r = Run(command, "--data", data, *args, tmp=tmp_path, timeout=60)
    assert r.failed_cleanly(), r
    assert r.seconds < LIMIT_S, r
    assert re.search(rf"doc2\.yaml:{line}: error: [^\n]*{re.escape(words)}", r.out), r
    assert "nothing was written" in r.out
    assert db.read_bytes() == before and leftovers(db) == []


def test_a_source_text_over_the_bound_is_refused_at_its_line(previous, tmp_path):
    data, db, before = _copy(previous, tmp_path)
    big = ("word " * 15 + "\n") * (17 * 2**20 // 76)
    (data / "sources" / "doc2.txt").write_text(big, encoding="utf-8")
    (data / "documents" / "doc2.yaml").write_text(document_yaml("doc2", source=big))
    r = build(data, db, tmp=tmp_path)
    assert r.failed_cleanly() and r.seconds < LIMIT_S, r
    line = _line_at(big, 2**24)
    assert re.search(rf"doc2\.txt:{line}: error: [^\n]*more than 16,777,216 bytes", r.out), r
    assert db.read_bytes() == before


# --------------------------------------------------------------------------- 6. long quotes


def _words(n_chars: int, seed: int) -> str:
    """About n_chars of text: seven-letter words of one vocabulary of 900, in an order
    given by `seed` (so two texts share words, as a wrong quote shares them with its text)."""
    import random

    vocab_rng = random.Random(0)
    vocab = ["".join(vocab_rng.choices("abcdefghijklmnopqrstuvwxyz", k=7)) for _ in range(900)]
    return " ".join(random.Random(seed).choices(vocab, k=n_chars // 8 + 1))


@pytest.mark.parametrize(
    "source_kb, quote_chars", [(200, 5000), (200, 2000), (200, 50_000), (2000, 5000)]
)
def test_a_long_unmatched_quote_is_reported_fast_with_its_closest_passage(source_kb, quote_chars):
    """5,000 characters not in a 200 KB text took 5 s (RapidFuzz aligned the whole quote
    against the whole text); a bounded prefix and suffix of it are aligned now."""
    text = _words(source_kb * 1024, 1)
    src = SourceText(text)
    start = text.index(" ", len(text) // 3) + 1
    passage = text[start : start + quote_chars]
    cases = {
        "one word wrong": passage[: quote_chars // 2] + "XYZ" + passage[quote_chars // 2 + 3 :],
        "its start wrong": "Q" * 300 + passage[300:],
        "its end wrong": passage[:-300] + "Q" * 300,
        "other words": _words(quote_chars, 99)[:quote_chars],  # the slow case of the old code
    }
    for name, quote in cases.items():
        t = time.perf_counter()
        with pytest.raises(AnchorError) as e:
            src.anchor(quote)
        assert time.perf_counter() - t < LIMIT_S, name
        assert e.value.message == "quote not found in the source text"
        assert e.value.hint.startswith("the closest passage ("), (name, e.value.hint[:200])
        if name != "other words":  # the very passage, found and shown
            assert f"at offset {start})" in e.value.hint, (name, e.value.hint[:200])
            assert repr(passage[:200])[1:-1] in e.value.hint, name


def test_a_quote_like_nothing_in_the_text_is_reported_fast():
    src = SourceText(_words(2000 * 1024, 2))
    for quote in ("Q" * 5000, "\u00e9" * 300, "Q" * 40):
        t = time.perf_counter()
        with pytest.raises(AnchorError) as e:
            src.anchor(quote)
        assert time.perf_counter() - t < 1.0
        assert "no passage of the source text is even 30% alike" in e.value.hint


def test_many_unmatched_quotes_of_one_document_take_bounded_time():
    """The closest-passage searches of one text have a budget; past it, no guess."""
    text = _words(1000 * 1024, 3)
    src = SourceText(text)
    t = time.perf_counter()
    hints = []
    for k in range(200):
        at = text.index(" ", 5000 * k) + 1
        with pytest.raises(AnchorError) as e:
            src.anchor(text[at : at + 400] + " nowhere")
        hints.append(e.value.hint)
    assert time.perf_counter() - t < LIMIT_S
    assert hints[0].startswith("the closest passage") and "too many quotes" in hints[-1]


def test_an_ambiguous_quote_in_a_huge_text_is_reported_fast_and_short():
    src = SourceText("ab " * 2_000_000)
    t = time.perf_counter()
    with pytest.raises(AnchorError) as e:
        src.anchor("ab")
    assert "occurs more than 10,000 times" in e.value.message and len(e.value.hint) < 1000
    with pytest.raises(AnchorError) as e:
        src.anchor("ab", occurrence=10**9)
    assert "more than 10,000 times" in e.value.message
    assert src.anchor("ab", occurrence=7).start == 18
    assert time.perf_counter() - t < 2


def test_a_long_unmatched_quote_through_the_cli(previous, tmp_path):
    """5,000 characters of other words in a 400 KB text: the old code took 6 s."""
    data, db, before = _copy(previous, tmp_path)
    text = _words(400 * 1024, 4)
    quote = _words(5000, 5)[:5000].strip()
    (data / "sources" / "doc2.txt").write_text(text, encoding="utf-8")
    doc = document_yaml("doc2", claims=[], bibliography=(), source=text)
    doc = doc.replace(
        "claims:\n",
        f"claims:\n  - id: doc2-c1\n    quote: {quote!r}\n    statement: S.\n"
        "    claim_type: empirical\n",
    )
    (data / "documents" / "doc2.yaml").write_text(doc, encoding="utf-8")
    r = build(data, db, tmp=tmp_path)
    assert r.failed_cleanly() and r.seconds < LIMIT_S, r
    assert "doc2.yaml:7: error: claim doc2-c1: quote not found in the source text" in r.out, r
    m = re.search(r"-> the closest passage \((\d+)% alike, at offset (\d+)\) is: '([a-z ]+)", r.out)
    assert m and int(m.group(1)) >= 30, r
    assert normalize(m.group(3)) in text  # a passage of the text, shown
    assert db.read_bytes() == before


# --------------------------------------------------------------------------- 7. duplicate ids


def _two_docs(kind: str, across: bool) -> tuple[dict[str, str], str, list[tuple[str, int]]]:
    """Documents with one id used twice, the id, and where both are (file, line)."""
    dup = {"claim": "x-c1", "equation": "x-eq1", "bibliography": "x-ref1"}[kind]

    def doc(did: str, twice: bool) -> str:
        ids = [dup, dup] if twice else [dup]
        if kind == "claim":
            return document_yaml(did, claims=[(i, ()) for i in ids] + [(f"{did}-c9", ())])
        if kind == "equation":
            return document_yaml(did, equations=tuple(ids))
        return document_yaml(did, bibliography=tuple(ids))

    docs = {"doc1": doc("doc1", not across)}
    if across:
        docs["doc2"] = doc("doc2", False)
    where = []
    for did, text in docs.items():
        where += [(did, n + 1) for n, ln in enumerate(text.splitlines()) if ln == f"  - id: {dup}"]
    return docs, dup, where


@pytest.mark.parametrize("kind", ["claim", "equation", "bibliography"])
@pytest.mark.parametrize("across", [False, True], ids=["in one file", "in two files"])
@pytest.mark.parametrize("mode", ["first build", "full build"])
def test_a_duplicate_id_names_both_places(tmp_path, kind, across, mode):
    """The old code wrote rows until SQLite said 'UNIQUE constraint failed: claims.id'."""
    docs, dup, where = _two_docs(kind, across)
    if mode == "first build":
        data, db, before = make_data(tmp_path, docs), tmp_path / "out" / "kb.db", None
    else:
        data, db, before = built(tmp_path, {"doc1": document_yaml("doc1")})
        for did, text in docs.items():
            (data / "documents" / f"{did}.yaml").write_text(text, encoding="utf-8")
            (data / "sources" / f"{did}.txt").write_text(SOURCE, encoding="utf-8")
    r = build(data, db, *(("--full",) if before else ()), tmp=tmp_path)
    assert r.failed_cleanly(), r
    assert "UNIQUE" not in r.out
    (first, first_line), (second, second_line) = where
    pattern = (
        rf"{second}\.yaml:{second_line}: error: duplicate id '{dup}': also the id of "
        rf"[^\n]* at \S*{first}\.yaml:{first_line}\n"
    )
    assert re.search(pattern, r.out), r
    if before is None:
        assert not db.exists()
    else:
        assert db.read_bytes() == before
    assert leftovers(db) == [] if db.parent.exists() else True


@pytest.mark.parametrize("mode", ["first build", "full build"])
def test_a_duplicate_document_id_names_both_files(tmp_path, mode):
    docs = {"doc1": document_yaml("doc1"), "doc2": document_yaml("doc1").replace("doc1-", "d2-")}
    if mode == "first build":
        data, db = make_data(tmp_path, docs), tmp_path / "out" / "kb.db"
    else:
        data, db, before = built(tmp_path, {"doc1": docs["doc1"]})
        (data / "documents" / "doc2.yaml").write_text(docs["doc2"], encoding="utf-8")
        (data / "sources" / "doc2.txt").write_text(SOURCE, encoding="utf-8")
    r = build(data, db, *(("--full",) if mode == "full build" else ()), tmp=tmp_path)
    assert r.failed_cleanly(), r
    assert re.search(
        r"doc2\.yaml:1: error: document id 'doc1' is also used by \S*doc1\.yaml:1\n", r.out
    ), r


@pytest.mark.parametrize("mode", ["first build", "full build", "update"])
def test_a_link_given_twice_names_both_lines(tmp_path, mode):
    """The old code failed with 'UNIQUE constraint failed: claim_links...', the new one
    (before this fix) with a traceback."""
    twice = document_yaml(
        "doc1", claims=[("doc1-c1", ()), ("doc1-c2", (("depends_on", "doc1-c1"),) * 2)]
    )
    if mode == "first build":
        data, db, before = make_data(tmp_path, {"doc1": twice}), tmp_path / "out" / "kb.db", None
    else:
        data, db, before = built(tmp_path, {"doc1": document_yaml("doc1")})
        (data / "documents" / "doc1.yaml").write_text(twice, encoding="utf-8")
    r = build(data, db, *(("--full",) if mode == "full build" else ()), tmp=tmp_path)
    assert r.failed_cleanly(), r
    first = twice.splitlines().index("      - {relation: depends_on, to: doc1-c1}") + 1
    assert re.search(
        rf"doc1\.yaml:{first + 1}: error: claim doc1-c2 links to doc1-c1 \(`depends_on`\) "
        rf"twice; the first link is at \S*doc1\.yaml:{first}\n",
        r.out,
    ), r
    assert (db.read_bytes() == before) if before else not db.exists()


def test_thousands_of_duplicate_ids_in_one_file_are_reported_in_seconds(tmp_path):
    """Every problem's line was found by reading the file again: 5,000 duplicates of a
    1 MB file took minutes."""
    claims = [("same-id", ())] * 5000
    data = make_data(tmp_path, {"doc1": document_yaml("doc1", claims=claims)})
    r = build(data, tmp_path / "kb.db", tmp=tmp_path, timeout=120)
    assert r.failed_cleanly() and r.seconds < LIMIT_S, r
    assert r.out.count("duplicate id 'same-id'") == 4999


# --------------------------------------------------------------------------- 8. disk full


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("synthetic") / "data"
    synth.generate(data, 600)
    return data


@pytest.mark.parametrize("pages", [1, 20, 120, 300])
@pytest.mark.parametrize("mode", ["first build", "full build", "update"])
def test_a_full_disk_leaves_the_previous_database_and_says_how_much_is_needed(
    synthetic, tmp_path, pages, mode
):
    data = tmp_path / "data"
    shutil.copytree(synthetic, data)
    db = tmp_path / "out" / "kb.db"
    before = None
    if mode != "first build":
        assert build(data, db, tmp=tmp_path).rc == 0
        before = db.read_bytes()
        synth.touch_document(data, 1)
    extra = ("--full",) if mode == "full build" else ()
    r = build(data, db, *extra, tmp=tmp_path, CLAIMKB_MAX_PAGES=str(pages))
    assert r.failed_cleanly(), r
    m = re.search(
        r"kb\.db: error: the disk holding \S+ is full: the build needs about (\d+) MB", r.out
    )
    assert m and int(m.group(1)) >= 1, r
    if before is None:
        assert not db.exists() and "nothing was written" in r.out
    else:
        assert db.read_bytes() == before and "the previous database is unchanged" in r.out
    assert leftovers(db) == []
    again = build(data, db, tmp=tmp_path)  # with room: it builds
    assert again.rc == 0, again
    assert leftovers(db) == []


# --------------------------------------------------------------------------- 9. links


def _link_cases(data: Path, outside: Path) -> dict:
    def doc_to_passwd():
        (data / "documents" / "evil.yaml").symlink_to("/etc/passwd")
        return "documents/evil.yaml"

    def doc_outside():
        shutil.move(data / "documents" / "doc1.yaml", outside / "doc1.yaml")
        (data / "documents" / "doc1.yaml").symlink_to(outside / "doc1.yaml")
        return "documents/doc1.yaml"

    def source_outside():
        shutil.move(data / "sources" / "doc1.txt", outside / "doc1.txt")
        (data / "sources" / "doc1.txt").symlink_to(outside / "doc1.txt")
        return "sources/doc1.txt"

    def source_to_passwd():
        (data / "sources" / "doc1.txt").unlink()
        (data / "sources" / "doc1.txt").symlink_to("/etc/passwd")
        return "sources/doc1.txt"

    def documents_folder_outside():
        shutil.move(data / "documents", outside / "documents")
        (data / "documents").symlink_to(outside / "documents")
        return "documents/doc1.yaml"

    def sources_folder_outside():
        shutil.move(data / "sources", outside / "sources")
        (data / "sources").symlink_to(outside / "sources")
        return "sources/doc1.txt"

    def vocabulary_outside():
        shutil.move(data / "vocabulary.yaml", outside / "vocabulary.yaml")
        (data / "vocabulary.yaml").symlink_to(outside / "vocabulary.yaml")
        return "vocabulary.yaml"

    return {
        f.__name__: f
        for f in (
            doc_to_passwd,
            doc_outside,
            source_outside,
            source_to_passwd,
            documents_folder_outside,
            sources_folder_outside,
            vocabulary_outside,
        )
    }


LINKS = list(_link_cases(Path("."), Path(".")))


@pytest.mark.parametrize("case", LINKS)
@pytest.mark.parametrize("mode", ["first build", "update"])
def test_a_link_leading_outside_the_data_folder_is_refused(tmp_path, case, mode):
    """The same content behind a link: the old code built it; the update of the new one
    (before this fix) said 'up to date' where a full build refuses it."""
    if mode == "first build":
        data, db, before = make_data(tmp_path, {"doc1": document_yaml("doc1")}), None, None
        db = tmp_path / "out" / "kb.db"
    else:
        data, db, before = built(tmp_path, {"doc1": document_yaml("doc1")})
    outside = tmp_path / "outside"
    outside.mkdir()
    link = _link_cases(data, outside)[case]()
    r = build(data, db, tmp=tmp_path)
    assert r.failed_cleanly(), r
    assert re.search(
        rf"{re.escape(link)}: error: the file is a link to \S+, outside the data folder", r.out
    ), r
    assert (db.read_bytes() == before) if before else not db.exists()
    assert Run("validate", "--data", data, tmp=tmp_path).failed_cleanly()


@pytest.mark.parametrize("mode", ["first build", "update"])
def test_links_inside_the_data_folder_are_followed(tmp_path, mode):
    """A decision: a link from one place of the data folder to another is fine."""
    docs = {"doc1": document_yaml("doc1")}
    if mode == "first build":
        data, db = make_data(tmp_path, docs), tmp_path / "out" / "kb.db"
    else:
        data, db, _ = built(tmp_path, docs)
    shutil.move(data / "sources" / "doc1.txt", data / "doc1-as-received.txt")
    (data / "sources" / "doc1.txt").symlink_to("../doc1-as-received.txt")
    (data / "documents" / "doc1.yaml").rename(data / "doc1.yaml")
    (data / "documents" / "doc1.yaml").symlink_to(data / "doc1.yaml")
    r = build(data, db, tmp=tmp_path)
    assert r.rc == 0, r
    assert contents(db) == contents(full_reference(data, tmp_path))


def _special_cases(data: Path) -> dict:
    def named_pipe_document():
        os.mkfifo(data / "documents" / "pipe.yaml")
        return "documents/pipe.yaml", "not a regular file"

    def named_pipe_source():
        (data / "sources" / "doc1.txt").unlink()
        os.mkfifo(data / "sources" / "doc1.txt")
        return "sources/doc1.txt", "not a regular file"

    def folder_named_yaml():
        (data / "documents" / "folder.yaml").mkdir()
        return "documents/folder.yaml", "a folder where a file is expected"

    def link_loop():
        (data / "documents" / "loop.yaml").symlink_to("loop.yaml")
        return "documents/loop.yaml", "a link that cannot be followed"

    def dangling_link():
        (data / "documents" / "gone.yaml").symlink_to("gone-for-good.yaml")
        return "documents/gone.yaml", "file not found"

    return {
        f.__name__: f
        for f in (
            named_pipe_document,
            named_pipe_source,
            folder_named_yaml,
            link_loop,
            dangling_link,
        )
    }


@pytest.mark.parametrize("case", list(_special_cases(Path("."))))
@pytest.mark.parametrize("mode", ["first build", "update"])
def test_what_is_not_a_regular_file_is_refused_without_waiting(tmp_path, case, mode):
    """A named pipe made every build wait forever (open() blocks until a writer comes);
    the update skipped folders and pipes a full build refuses."""
    if mode == "first build":
        data, db, before = make_data(tmp_path, {"doc1": document_yaml("doc1")}), None, None
        db = tmp_path / "out" / "kb.db"
    else:
        data, db, before = built(tmp_path, {"doc1": document_yaml("doc1")})
    rel, words = _special_cases(data)[case]()
    r = build(data, db, tmp=tmp_path, timeout=20)
    assert r.failed_cleanly() and r.seconds < LIMIT_S, r
    assert re.search(rf"{re.escape(rel)}(:\d+)?: error: [^\n]*{words}", r.out), r
    assert (db.read_bytes() == before) if before else not db.exists()


# --------------------------------------------------------------------------- 10. cycles


def _cycle_docs(case: str) -> tuple[dict[str, str], str]:
    """Documents with a cycle of depends_on links, and the cycle as reported."""
    dep = "depends_on"
    if case == "a -> b -> a":
        claims = [("a-c1", ((dep, "a-c2"),)), ("a-c2", ((dep, "a-c1"),))]
        return {"doc1": document_yaml("doc1", claims=claims)}, "a-c1 -> a-c2 -> a-c1"
    if case == "four claims":
        claims = [
            ("a-c1", ((dep, "a-c2"),)),
            ("a-c2", ((dep, "a-c3"),)),
            ("a-c3", ((dep, "a-c4"),)),
            ("a-c4", ((dep, "a-c1"),)),
        ]
        return {
            "doc1": document_yaml("doc1", claims=claims)
        }, "a-c1 -> a-c2 -> a-c3 -> a-c4 -> a-c1"
    if case == "across documents":
        one = [("a-c1", ((dep, "b-c1"),)), ("a-c2", ())]
        two = [("b-c1", ((dep, "b-c2"),)), ("b-c2", ((dep, "a-c1"),))]
        return {
            "doc1": document_yaml("doc1", claims=one),
            "doc2": document_yaml("doc2", claims=two),
        }, "a-c1 -> b-c1 -> b-c2 -> a-c1"
    raise AssertionError(case)


@pytest.mark.parametrize("case", ["a -> b -> a", "four claims", "across documents"])
@pytest.mark.parametrize("mode", ["first build", "full build", "update"])
def test_a_cycle_of_depends_on_links_is_an_error_naming_it(tmp_path, case, mode):
    docs, shown = _cycle_docs(case)
    if mode == "first build":
        data, db, before = make_data(tmp_path, docs), tmp_path / "out" / "kb.db", None
    else:
        # the database holds the documents without the link that closes the cycle
        last = list(docs)[-1]
        acyclic = dict(docs)
        acyclic[last] = re.sub(
            r"\n    links:\n      - \{relation: depends_on, to: a-c1\}", "", docs[last]
        )
        assert acyclic[last] != docs[last]
        data, db, before = built(tmp_path, acyclic)
        (data / "documents" / f"{last}.yaml").write_text(docs[last], encoding="utf-8")
    r = build(data, db, *(("--full",) if mode == "full build" else ()), tmp=tmp_path)
    assert r.failed_cleanly(), r
    assert re.search(
        rf"doc\d\.yaml:\d+: error: the depends_on links form a cycle: {re.escape(shown)}\n",
        r.out,
    ), r
    assert (db.read_bytes() == before) if before else not db.exists()


@pytest.mark.parametrize("mode", ["first build", "update"])
def test_a_claim_depending_on_itself_is_an_error_at_its_link(tmp_path, mode):
    claims = [("a-c1", ()), ("a-c2", (("depends_on", "a-c2"),))]
    docs = {"doc1": document_yaml("doc1", claims=claims)}
    if mode == "first build":
        data, db, before = make_data(tmp_path, docs), tmp_path / "out" / "kb.db", None
    else:
        data, db, before = built(tmp_path, {"doc1": document_yaml("doc1")})
        (data / "documents" / "doc1.yaml").write_text(docs["doc1"], encoding="utf-8")
    r = build(data, db, tmp=tmp_path)
    assert r.failed_cleanly(), r
    line = docs["doc1"].splitlines().index("      - {relation: depends_on, to: a-c2}") + 1
    assert f"doc1.yaml:{line}: error: claim a-c2 links to itself" in r.out, r
    assert (db.read_bytes() == before) if before else not db.exists()

"""Property-based tests: bad input always gives file:line problems, never a traceback, a
hang or a partial database; anchoring maps whitespace-mangled quotes back to the right
offsets."""

from __future__ import annotations

import hashlib
import random
import re
import shutil
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from claimkb.bench import synth
from claimkb.ingest.anchor import AnchorError, SourceText, normalize
from claimkb.ingest.load import parse_document
from claimkb.problems import DataError, Problem
from support import load_kb

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# --------------------------------------------------------------------------- a small valid corpus


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("fuzz") / "data"
    synth.generate(data, 24, claims_per_doc=12)  # two documents, linked to each other
    return data


def _fresh_copy(corpus: Path, dest: Path) -> Path:
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(corpus, dest)
    return dest


def _assert_clear(problems: list[Problem], yaml_name: str) -> None:
    assert problems, "a DataError must carry at least one problem"
    for p in problems:
        assert isinstance(p, Problem)
        assert p.file and p.message
        text = str(p)
        assert "Traceback" not in text
        if p.file.endswith(yaml_name) and p.severity == "error":
            assert p.line is not None and p.line >= 1, f"no line for: {text}"


# ------------------------------------------------------------------ mutations of a valid file


def _mutate(text: str, rng: random.Random, n: int) -> str:
    lines = text.split("\n")
    for _ in range(n):
        op = rng.randrange(9)
        i = rng.randrange(len(lines))
        if op == 0 and len(lines) > 1:
            del lines[i]
        elif op == 1:
            lines.insert(
                i, lines[rng.randrange(len(lines))]
            )  # duplicate a line: duplicate keys, bad ids
        elif op == 2:
            lines[i] = " " * rng.randrange(1, 5) + lines[i]  # indentation
        elif op == 3 and lines[i]:
            j = rng.randrange(len(lines[i]))
            lines[i] = (
                lines[i][:j]
                + rng.choice(
                    [":", "- ", '"', "'", "{", "[", "#", "&a ", "*a", "!!", "\t", "é", "\x00", "%"]
                )
                + lines[i][j:]
            )
        elif op == 4 and lines[i]:
            j = rng.randrange(len(lines[i]))
            lines[i] = lines[i][:j]  # truncate a line
        elif op == 5:
            k = rng.randrange(len(lines))
            lines[i], lines[k] = lines[k], lines[i]
        elif op == 6:
            lines[i] = re.sub(
                r"status: .*",
                rng.choice(
                    ["status: established", "status: supported", "status: bogus", "status: 3"]
                ),
                lines[i],
            )
        elif op == 7:
            lines[i] = re.sub(
                r"(syn\d+-c\d+)", lambda m: m.group(1)[:-1] + rng.choice("0123456789x"), lines[i]
            )
        else:
            lines[i] = re.sub(
                r"quote: \"(.*)\"",
                lambda m: (
                    'quote: "'
                    + m.group(1)[: max(1, len(m.group(1)) // 2)]
                    + rng.choice(["", " zz", "\\n", "  "])
                    + '"'
                ),
                lines[i],
            )
    return "\n".join(lines)


@FUZZ
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 6))
def test_mutated_document_gives_clear_problems_or_loads(corpus, tmp_path_factory, seed, n):
    data = _fresh_copy(corpus, tmp_path_factory.getbasetemp() / "mut")
    path = data / "documents" / "syn0000000.yaml"
    path.write_text(
        _mutate(path.read_text(encoding="utf-8"), random.Random(seed), n), encoding="utf-8"
    )
    try:
        kb = load_kb(data)
    except DataError as e:
        _assert_clear(e.problems, "syn0000000.yaml")
        assert "nothing was written" in e.report()
    else:
        assert len(kb.documents) == 2


YAML_TOKENS = st.lists(
    st.sampled_from(
        list("ab: -\n\t\"'{}[],#&*!|>?%@`\\é0123456789")
        + [
            "id: ",
            "claims:",
            "\n  - ",
            "quote",
            "  ",
            "&x ",
            "*x",
            "<<: ",
            "!!str ",
            "? ",
            "---\n",
            "2001-01-01",
            "~",
            "yes",
        ]
    ),
    max_size=60,
).map("".join)


@FUZZ
@given(text=YAML_TOKENS)
def test_yaml_reader_agrees_with_pyyaml_on_random_text(text):
    import yaml

    from claimkb.ingest.yamlfile import YamlFile, YamlSyntaxError

    try:
        expected = yaml.load(text, Loader=yaml.CSafeLoader)
    except yaml.YAMLError:
        with pytest.raises(YamlSyntaxError):
            YamlFile(text)
    else:
        assert YamlFile(text).data == expected


@FUZZ
@given(text=YAML_TOKENS)
def test_random_yaml_never_raises_anything_but_problems(corpus, tmp_path_factory, text):
    data = tmp_path_factory.getbasetemp() / "rand"
    (data / "documents").mkdir(parents=True, exist_ok=True)
    (data / "sources").mkdir(exist_ok=True)
    path = data / "documents" / "x.yaml"
    path.write_text(text, encoding="utf-8")
    ld, problems = parse_document(path, data / "sources")
    if ld is None:
        _assert_clear(problems, "x.yaml")


@FUZZ
@given(blob=st.binary(max_size=120))
def test_random_bytes_never_raise(tmp_path_factory, blob):
    data = tmp_path_factory.getbasetemp() / "bytes"
    (data / "documents").mkdir(parents=True, exist_ok=True)
    (data / "sources").mkdir(exist_ok=True)
    path = data / "documents" / "x.yaml"
    path.write_bytes(blob)
    ld, problems = parse_document(path, data / "sources")
    assert ld is None and problems
    assert all(isinstance(p, Problem) and p.message for p in problems)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 2**32 - 1))
def test_build_with_bad_input_writes_nothing(corpus, tmp_path_factory, seed):
    """`claimkb build` on a broken corpus exits 1 with problems and leaves the previous
    database byte-identical."""
    from claimkb.cli import cli

    base = tmp_path_factory.getbasetemp()
    db = base / "prev" / "claimkb.db"
    if not db.exists():
        r = CliRunner().invoke(cli, ["build", "--data", str(corpus), "--db", str(db)])
        assert r.exit_code == 0, r.output
    before = db.read_bytes()
    data = _fresh_copy(corpus, base / "broken")
    path = data / "documents" / "syn0000001.yaml"
    rng = random.Random(seed)
    mutated = _mutate(path.read_text(encoding="utf-8"), rng, rng.randint(2, 6))
    assume(mutated != path.read_text(encoding="utf-8"))
    path.write_text(mutated, encoding="utf-8")
    r = CliRunner().invoke(cli, ["build", "--data", str(data), "--db", str(db)])
    assert r.exit_code in (0, 1), r.output
    if r.exception is not None:
        assert isinstance(r.exception, SystemExit), repr(r.exception)
    assert "Traceback" not in r.output
    if r.exit_code == 1:
        assert "nothing was written" in r.output
        assert db.read_bytes() == before
    assert list(db.parent.glob(".claimkb.db.*.tmp")) == []


# --------------------------------------------------------------------------- anchoring

WS = st.sampled_from([" ", "  ", "\n", "\t", "\r\n", " \n  ", "\u00a0", "\u2003"])
WORD = st.text(st.sampled_from(list("abcdefgé.,;()0123")), min_size=1, max_size=6)


@st.composite
def text_and_span(draw):
    words = draw(st.lists(WORD, min_size=2, max_size=40))
    seps = draw(st.lists(WS, min_size=len(words) - 1, max_size=len(words) - 1))
    lead, trail = draw(st.sampled_from(["", " ", "\n\n"])), draw(st.sampled_from(["", "\n", "  "]))
    parts = [lead]
    starts = []
    for i, w in enumerate(words):
        starts.append(len("".join(parts)))
        parts.append(w)
        if i < len(seps):
            parts.append(seps[i])
    parts.append(trail)
    text = "".join(parts)
    i = draw(st.integers(0, len(words) - 1))
    j = draw(st.integers(i, len(words) - 1))
    start, end = starts[i], starts[j] + len(words[j])
    return text, start, end


@settings(max_examples=200, deadline=None)
@given(case=text_and_span(), new_ws=st.lists(WS, min_size=1, max_size=50))
def test_whitespace_changed_quote_anchors_back_to_its_text(case, new_ws):
    text, start, end = case
    original = text[start:end]
    # the quote as a curator might type it: every whitespace run replaced by another
    k = iter(new_ws * 50)
    quote = re.sub(r"\s+", lambda m: next(k), original)
    src = SourceText(text)
    hits = src.find_all(quote)
    assert (start, end) in hits
    for s, e in hits:
        assert normalize(text[s:e]) == normalize(quote)
        assert not text[s].isspace() and not text[e - 1].isspace()
    n = hits.index((start, end)) + 1
    a = src.anchor(quote, occurrence=n if len(hits) > 1 else None)
    assert (a.start, a.end) == (start, end)
    assert a.prefix == text[max(0, start - 32) : start] and a.suffix == text[end : end + 32]


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=300), quote=st.text(min_size=1, max_size=30))
def test_random_quote_anchors_or_explains(text, quote):
    src = SourceText(text)
    assume(normalize(quote))
    try:
        a = src.anchor(quote)
    except AnchorError as e:
        assert e.message and e.hint
    else:
        assert normalize(text[a.start : a.end]) == normalize(quote)


# --------------------------------------------------------------------------- hostile values

#: characters that have broken parsers, terminals, databases or pages elsewhere: NUL and
#: other controls, lone surrogates, bidirectional overrides and isolates, byte-order marks,
#: non-characters, line and paragraph separators, combining marks, YAML's indicators
SPECIALS = list(
    "\x00\x01\x08\x0b\x0c\x1b\x7f\x85\x9b\ud800\udbff\udc00\udfff\u202a\u202b\u202c\u202d"
    "\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c\u200b\u200d\ufeff\ufffe\uffff\ufdd0"
    "\u2028\u2029\u0301\u0338\u00a0\u3000\U0001f600\U0010ffff\r\t\n'\":#&*!|>%@`{}[],?-\\~"
)
HOSTILE_TEXT = st.text(
    alphabet=st.one_of(st.sampled_from(SPECIALS), st.characters(codec=None)), max_size=40
)
#: where each field of syn0000001.yaml is (a pattern of its line), and how to write it
FIELDS = {
    "title": (r"^title: .*$", "title: {}"),
    "id": (r"^id: .*$", "id: {}"),
    "claim id": (r"^  - id: syn0000001-c0000$", "  - id: {}"),
    "quote": (r"^    quote: .*$", "    quote: {}"),
    "statement": (r"^    statement: .*$", "    statement: {}"),
    "key": (r"^    section: Abstract$", "    {}: Abstract"),
    "sha256": (r"^sha256: .*$", "sha256: {}"),
    "label": (r'^    label: "1"$', "    label: {}"),
}


def _written(value: str, style: str) -> str:
    """A value as a curator (or an attacker) might write it in YAML."""
    import json

    if style == "escaped":  # \\u escapes: a lone surrogate written this way too
        return json.dumps(value, ensure_ascii=True)
    if style == "quoted":
        return json.dumps(value, ensure_ascii=False)
    if style == "block":
        return "|\n      " + value.replace("\n", "\n      ")
    return value  # plain


@st.composite
def hostile_value(draw) -> tuple[str, str, str]:
    """(field, value, style): a hostile value, up to some 200 KB, written into a field."""
    value = draw(HOSTILE_TEXT) * draw(st.sampled_from([1, 1, 1, 64, 5000]))
    style = draw(st.sampled_from(["escaped", "quoted", "block", "plain"]))
    return draw(st.sampled_from(sorted(FIELDS))), value, style


KEYS = ["id", "quote", "statement", "status", "links", "evidence", "to", "relation", "<<", "x"]
_LEAF = st.one_of(HOSTILE_TEXT, st.integers(), st.floats(), st.booleans(), st.none())
#: (a YAML value, how many times it stands in the claims list)
HOSTILE_SHAPE = st.tuples(
    st.recursive(
        _LEAF,
        lambda kids: st.one_of(
            st.lists(kids, max_size=4), st.dictionaries(st.sampled_from(KEYS), kids, max_size=4)
        ),
        max_leaves=20,
    ),
    st.sampled_from([1, 3, 2000]),
)


def hostile_bytes(text: str, case: tuple) -> bytes:
    """The document text with the hostile case put in: a value in a field, or a shape in
    place of the claims."""
    import yaml

    if len(case) == 3:
        field, value, style = case
        pattern, line = FIELDS[field]
        text = re.sub(
            pattern, lambda _m: line.format(_written(value, style)), text, count=1, flags=re.M
        )
    else:
        value, repeat = case
        head, tail = text.split("claims:\n", 1)
        dumped = yaml.safe_dump({"claims": [value] * repeat}, allow_unicode=True)
        text = head + dumped + tail[tail.index("equations:") :]
    return text.encode("utf-8", "surrogatepass")  # a lone surrogate: bytes that are not UTF-8


def _loads_or_explains(corpus: Path, dest: Path, case: tuple) -> None:
    data = _fresh_copy(corpus, dest)
    path = data / "documents" / "syn0000001.yaml"
    path.write_bytes(hostile_bytes(path.read_text(encoding="utf-8"), case))
    t = time.perf_counter()
    ld, problems = parse_document(path, data / "sources", data)
    assert time.perf_counter() - t < 5.0
    errors = [p for p in problems if p.severity == "error"]
    if ld is None or errors:
        _assert_clear(errors or problems, "syn0000001.yaml")


@settings(FUZZ, max_examples=200)
@given(case=hostile_value())
def test_hostile_unicode_in_any_field_gives_problems_with_lines_or_loads(
    corpus, tmp_path_factory, case
):
    _loads_or_explains(corpus, tmp_path_factory.getbasetemp() / "hostile", case)


@settings(FUZZ, max_examples=60)
@given(case=HOSTILE_SHAPE)
def test_hostile_yaml_shapes_give_problems_with_lines(corpus, tmp_path_factory, case):
    _loads_or_explains(corpus, tmp_path_factory.getbasetemp() / "shapes", case)


def _content(db: Path) -> str:
    from claimkb.bench.run import table_contents

    return hashlib.sha256(repr(table_contents(db)).encode()).hexdigest()


@pytest.fixture(scope="module")
def old_database(corpus, tmp_path_factory) -> tuple[Path, str]:
    from claimkb.build import build

    db = tmp_path_factory.mktemp("old") / "pristine.db"
    build(corpus, db, workers=1)
    return db, _content(db)


@settings(FUZZ, max_examples=40)
@given(case=st.one_of(hostile_value(), HOSTILE_SHAPE))
def test_a_build_with_hostile_input_leaves_the_old_database_intact(
    corpus, old_database, tmp_path_factory, case
):
    """`claimkb build` (and --full) on hostile input: exit 0 or 1 within 5 s, never a
    traceback; after a failure the old database holds the same rows (content hash) and the
    same bytes, and no temporary file is left."""
    from claimkb.cli import cli

    pristine, old_hash = old_database
    base = tmp_path_factory.getbasetemp()
    data = _fresh_copy(corpus, base / "hostile-build")
    path = data / "documents" / "syn0000001.yaml"
    path.write_bytes(hostile_bytes(path.read_text(encoding="utf-8"), case))
    for extra in ((), ("--full",)):
        db = base / "hostile-db" / "claimkb.db"
        db.parent.mkdir(exist_ok=True)
        for p in db.parent.iterdir():
            p.unlink()
        shutil.copyfile(pristine, db)
        before = db.read_bytes()
        t = time.perf_counter()
        r = CliRunner().invoke(cli, ["build", "--data", str(data), "--db", str(db), *extra])
        assert time.perf_counter() - t < 5.0
        assert r.exit_code in (0, 1), r.output
        assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
        assert "Traceback" not in r.output
        if r.exit_code == 1:
            assert "nothing was written" in r.output, r.output
            assert _content(db) == old_hash and db.read_bytes() == before
        assert [p.name for p in db.parent.iterdir() if p.name.startswith(".claimkb.db.")] == []

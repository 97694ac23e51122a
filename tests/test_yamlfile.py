"""The bounded YAML reader: the data of yaml.safe_load, the line of every value, and
refusals (with a line) for input over the bounds: nesting, aliases, alias bombs, size."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claimkb.bench import synth
from claimkb.ingest import yamlfile
from claimkb.ingest.yamlfile import YamlFile, YamlSyntaxError

ROOT = Path(__file__).resolve().parents[1]
REPO_YAML = sorted(
    p for p in ROOT.rglob("*.yaml") if ".venv" not in p.parts and ".git" not in p.parts
)


def reference_lines(text: str) -> dict[tuple, int]:
    """The line of every key and item, from PyYAML's composed node tree (an independent
    reading: a key's line is its key's, an item's line where the item starts)."""
    out: dict[tuple, int] = {}
    stack = [((), yaml.compose(text, Loader=yaml.SafeLoader))]
    while stack:
        path, node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                out[path + (k.value,)] = k.start_mark.line + 1
                stack.append((path + (k.value,), v))
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                out[path + (i,)] = v.start_mark.line + 1
                stack.append((path + (i,), v))
    return out


@pytest.mark.parametrize("path", REPO_YAML, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_yaml_file_of_the_repository_reads_as_pyyaml_reads_it(path):
    text = path.read_text(encoding="utf-8")
    yf = YamlFile(text)
    assert yf.data == yaml.safe_load(text)
    for where, line in reference_lines(text).items():
        assert yf.line(where) == line, where


def test_a_synthetic_document_reads_the_same(tmp_path):
    synth.generate(tmp_path, 300)
    for p in sorted((tmp_path / "documents").glob("*.yaml"))[:3]:
        text = p.read_text(encoding="utf-8")
        assert YamlFile(text).data == yaml.safe_load(text)


def test_duplicate_keys_are_found_with_their_line():
    yf = YamlFile("a: 1\nb:\n  c: 1\n  c: 2\na: 3\n")
    assert yf.duplicate_keys() == [(4, "c"), (5, "a")]
    assert yf.data == {"a": 3, "b": {"c": 2}}


def test_line_of_a_missing_part_is_the_deepest_that_exists():
    yf = YamlFile("claims:\n  - id: x\n    status: ok\n  - id: y\n")
    assert yf.line(("claims", 1, "status")) == 4
    assert yf.line(("claims", 0, "status")) == 3
    assert yf.line(("nothing",)) == 1


@pytest.mark.parametrize(
    "text, line, words",
    [
        ("a: " + "[" * 65 + "]" * 65 + "\n", 1, "nest deeper than 64"),
        ("x:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 80)), 65, "nest deeper"),
        ("a: &a [1]\nb: *a\nc: *nope\n", 3, "no anchor &nope"),
        ("a: &a\n  b: *a\n", 2, "recursive alias"),
        ("a: 1\n---\nb: 2\n", 2, "a second YAML document"),
        ("t: !!python/object:os.system x\n", 1, "unknown tag"),
        ("a: [1, 2\n", 2, "YAML syntax error"),
        ("a: b\n\x01\n", 2, "unacceptable character"),
    ],
)
def test_input_over_the_bounds_is_refused_at_its_line(text, line, words):
    with pytest.raises(YamlSyntaxError) as e:
        YamlFile(text)
    assert e.value.line == line and words in e.value.message


def _bomb(levels: int) -> str:
    lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_fast():
    t = time.perf_counter()
    with pytest.raises(YamlSyntaxError) as e:
        YamlFile(_bomb(9))  # 10^9 values once expanded
    assert time.perf_counter() - t < 1
    # line 6 (level 5) is the first to hold more than MAX_NODES values: 10^6 plus the rest
    assert "alias bomb" in e.value.message and e.value.line == 6


def test_too_many_aliases_are_refused():
    text = "a: &a 1\nb: [" + ", ".join(["*a"] * (yamlfile.MAX_ALIASES + 1)) + "]\n"
    with pytest.raises(YamlSyntaxError) as e:
        YamlFile(text)
    assert "aliases" in e.value.message


def test_deep_nesting_neither_recurses_nor_takes_long():
    """100,000 levels crashed the old reader (a RecursionError, then the C stack)."""
    t = time.perf_counter()
    for text in ("a: " + "[" * 100_000 + "]" * 100_000, "- " * 100_000 + "x"):
        with pytest.raises(YamlSyntaxError):
            YamlFile(text + "\n")
    assert time.perf_counter() - t < 2


def test_a_file_over_the_size_bound_is_refused(monkeypatch):
    monkeypatch.setattr(yamlfile, "MAX_BYTES", 100)
    with pytest.raises(YamlSyntaxError) as e:
        YamlFile("a: " + "x" * 200 + "\n")
    assert "larger than" in e.value.message


def test_merge_keys_and_aliases_read_as_pyyaml_reads_them():
    text = "base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  y: 3\nl: [*b, *b]\n"
    assert YamlFile(text).data == yaml.safe_load(text)


KEYS = st.sampled_from(["id", "status", "a", "b", "yes", "1", "null", "x y", "<<"])
SCALARS = st.one_of(
    st.sampled_from(["yes", "no", "~", "0x1f", "1e3", "2026-11-21", "'q'", '"d"', ".inf", "x: y"]),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=12),
    st.integers(),
    st.floats(allow_nan=False),
)


def _node(depth: int):
    if depth == 0:
        return SCALARS
    return st.one_of(
        SCALARS,
        st.lists(_node(depth - 1), max_size=4),
        st.dictionaries(KEYS, _node(depth - 1), max_size=4),
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_node(3), st.sampled_from([None, False, True]))
def test_random_documents_read_as_pyyaml_reads_them(value, flow):
    text = yaml.safe_dump(value, default_flow_style=flow, allow_unicode=True)
    try:
        expected = yaml.safe_load(text)
    except yaml.YAMLError:
        with pytest.raises(YamlSyntaxError):
            YamlFile(text)
        return
    assert YamlFile(text).data == expected


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab:- \n[]{}&*!|>'\"#,?", max_size=60))
def test_random_text_gives_data_or_a_syntax_error(text):
    try:  # libyaml's reading (the reader uses its parser)
        expected = yaml.load(text, Loader=yaml.CSafeLoader)
    except yaml.YAMLError:
        expected = YamlSyntaxError
    except Exception:  # noqa: BLE001 - PyYAML's own crash on odd input; ours must not crash
        expected = None
    try:
        got = YamlFile(text).data
    except YamlSyntaxError:
        got = YamlSyntaxError
    if expected is not None:
        assert got == expected or got is YamlSyntaxError, text

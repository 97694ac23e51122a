"""The fast YAML path (yaml_rs) must return exactly what the PyYAML path returns."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claimkb import synth, yamlfile

ROOT = Path(__file__).resolve().parents[1]
ERROR = object()  # PyYAML raised


def reference(text: str):
    try:
        return yamlfile._pyyaml_load(text)
    except Exception as e:  # noqa: BLE001
        return (ERROR, type(e).__name__)


def assert_same_as_pyyaml(text: str) -> None:
    """The combined loader returns what PyYAML returns, or raises when PyYAML raises."""
    ref = reference(text)
    if ref[0] is ERROR:
        with pytest.raises(Exception):  # noqa: B017 - whichever PyYAML error it is
            yamlfile._load(text)
    else:
        assert yamlfile._load(text) == ref, text
    try:
        fast = yamlfile._fast_load(text)
    except yamlfile._Fallback:
        return
    assert ref[0] is not ERROR and fast == ref[0], text


def test_fast_path_is_available_and_taken_for_plain_documents(tmp_path):
    assert yamlfile.yaml_rs is not None, "yaml-rs is a pinned dependency (requirements.lock)"
    synth.generate(tmp_path, 300)
    texts = [p.read_text(encoding="utf-8") for p in sorted((tmp_path / "documents").glob("*.yaml"))]
    assert texts and not any(yamlfile._risky(t) for t in texts)
    for t in texts:
        assert yamlfile._fast_load(t) == yamlfile._pyyaml_load(t)[0]


@pytest.mark.parametrize("path", sorted((ROOT / "data" / "documents").glob("*.yaml")) + [ROOT / "data" / "vocabulary.yaml"] + sorted((ROOT / "tests" / "fixtures").rglob("*.yaml")), ids=lambda p: str(p.relative_to(ROOT)))
def test_both_paths_agree_on_every_file_of_the_repository(path):
    assert_same_as_pyyaml(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "value",
    ["yes", "No", "on", "OFF", "y", "010", "083003", "0o17", "0b101", "0x1F", "1_000", "1e3", "1.5e-3", "3:20", "190:20:30.15",
     ".5", ".inf", "-.Inf", ".NaN", "2014-01-02", "2001-12-14t21:59:43.10-05:00", "=", "<<", "!!str 12", "!custom x", "&a 1", "*a"],
)
def test_risky_scalars_take_the_pyyaml_path(value):
    for text in (f"x: {value}\n", f"- {value}\n", f"x: [a, {value}, b]\n", f"a:\n  - b: {value}  # note\n", f"a:\n  {value}\n", f"{value}: 1\n"):
        assert yamlfile._risky(text), text
        assert_same_as_pyyaml(text)


def test_syntax_errors_and_duplicate_keys_are_reported_by_the_pyyaml_path():
    data, dups = yamlfile._load("a: 1\nb: 2\na: 3\n")
    assert dups == [(3, "a")] and data == {"a": 3, "b": 2}
    with pytest.raises(yamlfile.YamlSyntaxError) as e:
        yamlfile.YamlFile("a: [1, 2\n")
    assert e.value.line is not None


SCALARS = st.one_of(
    st.sampled_from(["yes", "no", "On", "off", "y", "N", "true", "False", "null", "~", "0", "-0", "007", "0x1f", "1_0", "1e5",
                     "1.0e+5", "2.5", "-3", "+4", "3:25:45", ".inf", "2020-02-29", "=", "<<", "'quoted'", '"dq \\u00e9"', "a: b",
                     "x#y", "x #y", "plain words", "?", "- x", "|", ">", "*a", "&a 1", "!!int 3", "@", "`", "%x", "\t", "a\tb",
                     "\x85", "[|]", "[0:]", "[?]", "{a: 1}", "{a: [b, c]}", "[\"x\", 'y']", "|-\n  kept", ">+\n  folded\n",
                     "---", "...", '"esc \\/ \\x41"', ":", "x:", "0:0", "[a, [b]]", "\u2028", "'it''s'", "\"a\\\"b\"", "- ", "[", "]",
                     "{", "}", ",", "a, b", "[a b, c]", "[1, 2]", "{x: y, z: 1}", "|\n  a\n  b", ">-\n  a\n\n  b", "#c", "a #b"]),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12),
    st.integers(-10_000, 10_000).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
)
KEYS = st.sampled_from(["id", "statement", "quote", "status", "year", "pages", "x", "yes", "1", "a b", "'q'", '"d"', "? k", "-"])
INDENT = st.sampled_from(["", " ", "  ", "    "])


@st.composite
def documents(draw):
    lines = []
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["map", "seq", "flow", "nested", "block", "next-line"]))
        key = draw(KEYS)
        if kind == "map":
            lines.append(f"{key}: {draw(SCALARS)}")
        elif kind == "seq":
            lines.append(f"{key}:")
            lines += [f"{draw(INDENT)}- {draw(SCALARS)}" for _ in range(draw(st.integers(1, 3)))]
        elif kind == "flow":
            lines.append(f"{key}: [{', '.join(draw(st.lists(SCALARS, min_size=1, max_size=3)))}]")
        elif kind == "nested":
            lines.append(f"{key}:")
            lines.append(f"  - {draw(KEYS)}: {draw(SCALARS)}")
            lines.append(f"    {draw(KEYS)}: {draw(SCALARS)}")
        elif kind == "block":
            lines.append(f"{key}: {draw(st.sampled_from(['|', '>', '|-', '>+', '|2']))}")
            lines += [f"{draw(INDENT)}{draw(SCALARS)}" for _ in range(draw(st.integers(0, 2)))]
        else:
            lines.append(f"{key}:")
            lines.append(f"{draw(INDENT)}{draw(SCALARS)}")
    end = draw(st.sampled_from(["\n", "", "\n\n"]))
    return "\n".join(lines) + end


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_fast_path_never_changes_the_data(text):
    assert_same_as_pyyaml(text)


@pytest.mark.parametrize(
    "line",
    ["x: [" + "ab " * 5000 + "!]", "x: [" + "a, " * 5000 + "!", "- {" + "k: v, " * 3000 + "?", "x: " + "1_" * 5000, "x: |" + " " * 5000],
)
def test_the_guard_takes_linear_time_on_adversarial_lines(line):
    """An earlier flow-collection pattern backtracked exponentially on a long unmatched line."""
    import time

    text = (line + "\n") * 5
    t = time.perf_counter()
    yamlfile._risky(text)
    assert time.perf_counter() - t < 0.5
    assert_same_as_pyyaml(text)


ONE_LINE_SCALARS = ["yes", "no", "On", "y", "n", "true", "null", "~", "0", "007", "0x1f", "1_0", "1e5", "e5", "2.5", "-3", "+4", "3:25:45",
                    ".inf", "2020-02-29", "2020-02-29 #c", "=", "<<", "'q'", "'q': x", '"dq"', '"d": x', '": x', "': x", '":', '"":', "'':", '"a" # c', '"a, 1"', '"a, b"', '"a: on"',
                    '"a,b"', '"x#y"', '"[x]"', '"a\\"b"', "a: b", "x#y", "x #y", "yes #c", "yes  #c", "yes#c", "plain words", "?",
                    "- x", "|", ">", "|+", "*a", "&a 1", "!!int 3", "@", "`", "%x", "[|]", "[0:]", '["a", "b"]', '["a, no"]',
                    '["a, Bob"]', '["x, yes, z"]', '["a, 010: b"]', '{a: "b, on: c"}', "[a, b]", "{a: 1}", "{a: b}", "{a: on}", '{a: "b, c"}', "{on: b}", "{relation: depends_on, to: x-c1}",
                    "{a: b, n: c}", "{a: b,c: d}", "---", "...", ":", "x:", "0:0", "#c", "a #b", "", " ", "syn0-c0001", "10.5555/x"]


def test_lines_the_fast_pattern_passes_are_lines_the_line_check_passes():
    """_risky skips the lines _SAFE_LINE matches without calling _line_risky: every such line
    must be one _line_risky passes (exhaustively over keys, prefixes and values)."""
    import re

    safe = re.compile(yamlfile._SAFE_LINE)
    prefixes = ["", "  ", "- ", "  - ", "- - ", "-", "---", "% ", "... "]
    keys = ["id", "x", "y", "yes", "On", "n", "_k", "e5", "k2", "a b", "'q'", '"d"', "1", "? k", "!t", "&a", "-"]
    lines = [p + v for p in prefixes for v in ONE_LINE_SCALARS]
    lines += [f"{p}{k}:{sep}{v}" for p in prefixes for k in keys for sep in (" ", "  ", "") for v in ONE_LINE_SCALARS]
    lines += [f"{p}{v}\r" for p in prefixes for v in ONE_LINE_SCALARS] + [f"id: {v}\r" for v in ONE_LINE_SCALARS]
    passed = 0
    for line in lines:
        if safe.fullmatch(line + "\n"):
            passed += 1
            assert not yamlfile._line_risky(line, line + "\n", len(line) + 1), repr(line)
    assert passed > 1000  # the fast pattern does pass most ordinary lines


def test_the_synthetic_corpus_passes_the_fast_pattern_line_by_line(tmp_path):
    synth.generate(tmp_path, 200)
    text = "".join(p.read_text(encoding="utf-8") for p in sorted((tmp_path / "documents").glob("*.yaml")))
    assert yamlfile._SAFE_RUN.match(text).end() == len(text)

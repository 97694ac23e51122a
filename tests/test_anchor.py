"""Anchoring: quote <-> offsets, tolerant of whitespace only."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claimkb.ingest.anchor import AnchorError, SourceText, collapse, normalize


def test_exact_quote_offsets_are_code_points():
    text = "α β — the fine-structure constant 𝛼 is about 1/137."
    src = SourceText(text)
    a = src.anchor("𝛼 is about 1/137")
    assert text[a.start : a.end] == "𝛼 is about 1/137"
    # a character outside the BMP counts as one code point, as in the W3C selectors
    assert a.start == text.index("𝛼")


def test_hard_line_breaks_in_source_match_spaces_in_quote():
    text = (
        'The ring produced an overall magnetic\nfield ("spin") due to the current of the moving\n'
        "charge elements."
    )
    a = SourceText(text).anchor('an overall magnetic field ("spin") due to the current')
    assert text[a.start : a.end] == 'an overall magnetic\nfield ("spin") due to the current'


def test_whitespace_runs_in_quote_and_hyphenated_page_break():
    text = "can lead to various phenom-\n\nena at the supra-atomic level"
    a = SourceText(text).anchor("various   phenom- ena at")
    assert text[a.start : a.end] == "various phenom-\n\nena at"


def test_prefix_and_suffix_are_exact_context():
    text = "x" * 50 + "QUOTE" + "y" * 50
    a = SourceText(text).anchor("QUOTE")
    assert a.prefix == "x" * 32 and a.suffix == "y" * 32


def test_other_differences_are_not_tolerated():
    src = SourceText("Einstein maintains there (Bacciagaluppi and Valentini 2009, p. 488)")
    with pytest.raises(AnchorError) as e:
        src.anchor("Einstein maintains here")
    assert "not found" in e.value.message
    assert "Einstein maintains there" in e.value.hint  # the closest passage is shown


def test_repeated_quote_needs_occurrence():
    text = "Ref. 2 is cited. Then again Ref. 2 appears.\nRef. 2"
    src = SourceText(text)
    with pytest.raises(AnchorError) as e:
        src.anchor("Ref. 2")
    assert "3 times" in e.value.message and "occurrence" in e.value.hint
    second = src.anchor("Ref. 2", occurrence=2)
    assert second.start == text.index("Ref. 2", 1)
    with pytest.raises(AnchorError):
        src.anchor("Ref. 2", occurrence=4)


def test_find_all_maps_back_to_exact_text():
    text = "a  b\n c\t\td  a b c d"
    src = SourceText(text)
    hits = src.find_all("a b c d")
    assert len(hits) == 2
    for s, e in hits:
        assert normalize(text[s:e]) == "a b c d"
        assert not text[s].isspace() and not text[e - 1].isspace()


WHITESPACE = (
    " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2007\u200a\u2028\u2029\u202f\u205f\u3000"
)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from(list(WHITESPACE) + ["a", "é", "\u200b", "-"]), max_size=40))
def test_whitespace_is_collapsed_exactly_as_the_regular_expression_does(text):
    """collapse() and normalize() use str.split(); they must find the runs re's \\s finds."""
    import re

    assert collapse(text) == re.sub(r"\s+", " ", text)
    assert normalize(text) == re.sub(r"\s+", " ", text).strip()

"""Quote <-> offsets: find an exact quote in a source text.

Offsets are Unicode code points into the exact stored text (Python ``str``
indices), as the W3C Web Annotation TextPositionSelector counts them; prefix and
suffix follow the TextQuoteSelector. Matching tolerates whitespace differences
(hard line breaks, double spaces) and nothing else: every run of whitespace in
both the quote and the text counts as one space.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

_WS_LONG = re.compile(r"\s{2,}")

#: characters of context kept on each side of a quote (TextQuoteSelector prefix/suffix)
CONTEXT = 32


@dataclass(frozen=True)
class Anchor:
    """Where a quote sits in the source text."""

    start: int
    end: int
    prefix: str
    suffix: str


@dataclass(frozen=True)
class Closest:
    """The passage of the source most like a quote that was not found."""

    start: int
    end: int
    passage: str
    score: float


class AnchorError(Exception):
    """A quote that cannot be anchored: not found, ambiguous, or a bad occurrence."""

    def __init__(self, message: str, hint: str):
        super().__init__(message)
        self.message = message
        self.hint = hint


def normalize(text: str) -> str:
    """Collapse every whitespace run to one space and trim the ends."""
    return " ".join(
        text.split()
    )  # str.split() and re's \s both use Py_UNICODE_ISSPACE: the same runs


def collapse(text: str) -> str:
    r"""Every whitespace run to one space, the ends kept: ``re.sub(r"\s+", " ", text)``, faster
    (str.split() finds the same runs, see normalize)."""
    core = normalize(text)
    if not core:
        return " " if text else ""
    return (" " if text[0].isspace() else "") + core + (" " if text[-1].isspace() else "")


class SourceText:
    """A source text indexed for whitespace-tolerant quote search."""

    def __init__(self, text: str):
        self.text = text
        # Normalized text keeps every non-space character and turns each
        # whitespace run into one space. To map a normalized offset back we keep,
        # for every run, its normalized position and the cumulative number of
        # characters the collapsing removed up to and including it.
        # A run of one whitespace character removes nothing, so only runs of two
        # or more need a table entry (far fewer: paragraph breaks, double spaces).
        self._run_norm: list[int] = []  # normalized offset of each collapsed run's space
        self._run_shift: list[int] = []  # chars removed up to and including this run
        removed = 0
        for m in _WS_LONG.finditer(text):
            start, end = m.span()
            self._run_norm.append(start - removed)
            removed += end - start - 1
            self._run_shift.append(removed)
        self.norm = collapse(text)

    def to_original(self, norm_pos: int, *, is_end: bool = False) -> int:
        """Map an offset in the normalized text to the exact text."""
        if is_end:
            # an end offset maps to just after the character before it
            if norm_pos == 0:
                return 0
            return self.to_original(norm_pos - 1) + 1
        i = bisect.bisect_left(self._run_norm, norm_pos)
        # runs strictly before norm_pos shift it; a run *at* norm_pos starts there
        shift = self._run_shift[i - 1] if i > 0 else 0
        return norm_pos + shift

    def find_all(self, quote: str) -> list[tuple[int, int]]:
        """Every (start, end) of the quote in the exact text, overlaps included."""
        q = normalize(quote)
        if not q:
            return []
        hits = []
        pos = self.norm.find(q)
        while pos != -1:
            hits.append((self.to_original(pos), self.to_original(pos + len(q), is_end=True)))
            pos = self.norm.find(q, pos + 1)
        return hits

    def anchor(self, quote: str, occurrence: int | None = None) -> Anchor:
        """Anchor a quote, or raise AnchorError saying what to do."""
        hits = self.find_all(quote)
        if not hits:
            close = self.closest(quote)
            shown = close.passage if len(close.passage) <= 240 else close.passage[:237] + "..."
            raise AnchorError(
                "quote not found in the source text",
                f"the closest passage ({close.score:.0f}% alike, at offset {close.start}) is: {shown!r}; "
                "copy the quote exactly from the source (only whitespace may differ)",
            )
        if occurrence is None:
            if len(hits) > 1:
                where = "; ".join(
                    f"{n}: offset {s} after {self.text[max(0, s - 30) : s]!r}"
                    for n, (s, _) in enumerate(hits, 1)
                )
                raise AnchorError(
                    f"quote occurs {len(hits)} times in the source text",
                    f"add `occurrence: N` to say which one is meant ({where}), or lengthen the quote",
                )
            start, end = hits[0]
        else:
            if occurrence > len(hits):
                raise AnchorError(
                    f"occurrence {occurrence} asked for, but the quote occurs {len(hits)} time(s)",
                    "correct `occurrence`, or remove it if the quote occurs once",
                )
            start, end = hits[occurrence - 1]
        return Anchor(
            start=start,
            end=end,
            prefix=self.text[max(0, start - CONTEXT) : start],
            suffix=self.text[end : end + CONTEXT],
        )

    def closest(self, quote: str) -> Closest:
        """The passage most like the quote (for error messages)."""
        from rapidfuzz import fuzz

        q = normalize(quote)
        al = fuzz.partial_ratio_alignment(q, self.norm)
        if al is None:  # pragma: no cover - rapidfuzz returns an alignment for non-empty input
            return Closest(0, 0, "", 0.0)
        start = self.to_original(al.dest_start)
        end = self.to_original(al.dest_end, is_end=True) if al.dest_end > al.dest_start else start
        # widen to whole words, so the curator sees where the passage begins and ends
        while start > 0 and not self.text[start - 1].isspace():
            start -= 1
        while end < len(self.text) and not self.text[end].isspace():
            end += 1
        return Closest(start, end, normalize(self.text[start:end]), al.score)

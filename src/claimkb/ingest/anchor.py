"""Quote <-> offsets: find an exact quote in a source text.

Offsets are Unicode code points into the exact stored text (Python ``str``
indices), as the W3C Web Annotation TextPositionSelector counts them; prefix and
suffix follow the TextQuoteSelector. Matching tolerates whitespace differences
(hard line breaks, double spaces) and nothing else: every run of whitespace in
both the quote and the text counts as one space.
"""

from __future__ import annotations

import bisect
import math
import re
from dataclasses import dataclass

_WS_LONG = re.compile(r"\s{2,}")

#: characters of context kept on each side of a quote (TextQuoteSelector prefix/suffix)
CONTEXT = 32

# Bounds on the work a quote can cause (a hostile or mistaken one included):
#: the closest-passage search aligns at most this many characters of a quote: RapidFuzz's
#: alignment costs about the quote's length times the text's (a 5,000-character quote in a
#: 200 KB text took 5 s), so a longer quote is aligned by its first and by its last PROBE
#: characters, and the passage found is widened to the quote's length
PROBE = 256
#: the passage found for a longer quote is compared with the whole quote up to this length
#: (the comparison is quadratic); past it, the probe's own score is given
COMPARED = 32_768
#: a passage less alike than this (percent) is not shown: the search prunes the text's
#: windows that cannot reach it (without it a quote sharing no character with the text
#: took 0.7 microseconds per character of text, 30 times as long)
MIN_ALIKE = 30
#: characters of source text the closest-passage searches of one text may go through in
#: all (at most about 1.5 s): past it a quote not found gets no closest passage, so a
#: document with thousands of wrong quotes (the wrong source text?) still fails in seconds
SEARCH_BUDGET = 32 * 1024 * 1024
#: occurrences of an ambiguous quote listed in its hint, and counted at most
LISTED = 5
COUNTED = 10_000


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
        self._searched = 0  # characters the closest-passage searches went through

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

    def find_all(self, quote: str, limit: int | None = None) -> list[tuple[int, int]]:
        """Every (start, end) of the quote in the exact text, overlaps included (the first
        `limit` of them when given)."""
        q = normalize(quote)
        if not q:
            return []
        hits: list[tuple[int, int]] = []
        pos = self.norm.find(q)
        while pos != -1 and (limit is None or len(hits) < limit):
            hits.append((self.to_original(pos), self.to_original(pos + len(q), is_end=True)))
            pos = self.norm.find(q, pos + 1)
        return hits

    def anchor(self, quote: str, occurrence: int | None = None) -> Anchor:
        """Anchor a quote, or raise AnchorError saying what to do."""
        wanted = COUNTED + 1 if occurrence is None else min(occurrence, COUNTED + 1)
        hits = self.find_all(quote, limit=wanted)
        if not hits:
            raise AnchorError("quote not found in the source text", self._not_found_hint(quote))
        if occurrence is None and len(hits) > 1:
            raise AnchorError(
                f"quote occurs {_times(len(hits))} in the source text",
                f"add `occurrence: N` to say which one is meant ({self._listed(hits)}), "
                "or lengthen the quote",
            )
        n = occurrence or 1
        if n > len(hits):
            raise AnchorError(
                f"occurrence {n} asked for, but the quote occurs {_times(len(hits))}",
                "correct `occurrence`, or remove it if the quote occurs once",
            )
        start, end = hits[n - 1]
        return Anchor(
            start=start,
            end=end,
            prefix=self.text[max(0, start - CONTEXT) : start],
            suffix=self.text[end : end + CONTEXT],
        )

    def _listed(self, hits: list[tuple[int, int]]) -> str:
        where = "; ".join(
            f"{n}: offset {s} after {self.text[max(0, s - 30) : s]!r}"
            for n, (s, _) in enumerate(hits[:LISTED], 1)
        )
        return where + ("; ..." if len(hits) > LISTED else "")

    def _not_found_hint(self, quote: str) -> str:
        advice = "copy the quote exactly from the source (only whitespace may differ)"
        spent = self._searched >= SEARCH_BUDGET
        close = self.closest(quote)
        if close is None and spent:
            return (
                "no closest passage searched: too many quotes of this document are not in "
                f"its source text (is it the right text?); {advice}"
            )
        if close is None:
            return f"no passage of the source text is even {MIN_ALIKE}% alike; {advice}"
        shown = close.passage if len(close.passage) <= 240 else close.passage[:237] + "..."
        return (
            f"the closest passage ({math.floor(close.score)}% alike, at offset {close.start}) "
            f"is: {shown!r}; {advice}"
        )

    def closest(self, quote: str) -> Closest | None:
        """The passage most like the quote (for error messages), found in bounded time: None
        when none is MIN_ALIKE, and once this text's SEARCH_BUDGET is spent."""
        q = normalize(quote)
        probes = [q] if len(q) <= PROBE else [q[:PROBE], q[-PROBE:]]
        if not q or self._searched >= SEARCH_BUDGET:
            return None
        self._searched += len(self.norm) * len(probes)
        score, nstart, nend = max(self._align(q, probe, k) for k, probe in enumerate(probes))
        if score < MIN_ALIKE:
            return None
        start = self.to_original(nstart)
        end = self.to_original(nend, is_end=True) if nend > nstart else start
        # widen to whole words, so the curator sees where the passage begins and ends
        lo, hi = max(0, start - CONTEXT), min(len(self.text), end + CONTEXT)
        while start > lo and not self.text[start - 1].isspace():
            start -= 1
        while end < hi and not self.text[end].isspace():
            end += 1
        return Closest(start, end, normalize(self.text[start:end]), score)

    def _align(self, q: str, probe: str, k: int) -> tuple[float, int, int]:
        """(score, start, end) in the normalized text of the passage best aligned with
        `probe`: the whole quote, or (k = 0, 1) its head or tail, widened to its length."""
        from rapidfuzz import fuzz

        al = fuzz.partial_ratio_alignment(probe, self.norm, score_cutoff=MIN_ALIKE)
        if al is None:  # nothing MIN_ALIKE
            return 0.0, 0, 0
        start, end = al.dest_start, al.dest_end
        if probe is q:
            return al.score, start, end
        if k == 0:
            end = min(len(self.norm), start + len(q))
        else:
            start = max(0, end - len(q))
        if len(q) > COMPARED:
            return al.score, start, end
        return fuzz.ratio(q, self.norm[start:end]), start, end


def _times(n: int) -> str:
    return f"more than {COUNTED:,} times" if n > COUNTED else f"{n} time{'s' if n != 1 else ''}"

"""What a search may ask of SQLite: a bounded number of plain words.

FTS5 ranks and snips inside single steps of SQLite's virtual machine, which the SQL time
limit's progress handler does not see (``watchdog`` interrupts such a query at the limit);
its work grows with the number of terms. So every search the site runs is cut to at most
``MAX_TERMS`` distinct words of at most ``MAX_CHARS`` characters before SQLite sees it, and
the page says so in words: a search answers in milliseconds, whatever is typed. The words
are passed to FTS5 as quoted strings (no operators, no column filters), so any input is
a valid query.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_CHARS = 200
MAX_TERMS = 12
#: the ranked part of a table's matches: beyond it, results come in the table's own order
RANK_WITHIN = 20000
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Search:
    text: str  # what was asked, as received (shown back, escaped)
    terms: tuple[str, ...]  # the words searched for
    notice: str | None  # in words, when the search was cut

    @property
    def match(self) -> str:
        """The FTS5 query: every word, as a quoted string (implicit AND)."""
        return " ".join('"' + t.replace('"', '""') + '"' for t in self.terms)


def parse(text: str | None) -> Search:
    raw = (text or "").strip()
    notes = []
    clipped = raw[:MAX_CHARS]
    if len(raw) > MAX_CHARS:
        notes.append(f"only its first {MAX_CHARS} characters were used")
    words = list(dict.fromkeys(w.lower() for w in _WORD.findall(clipped)))
    if len(words) > MAX_TERMS:
        notes.append(
            f"only its first {MAX_TERMS} different words were searched for (it has {len(words)})"
        )
        words = words[:MAX_TERMS]
    notice = ("Your search was shortened: " + "; ".join(notes) + ".") if notes else None
    return Search(raw, tuple(words), notice)


def too_large(value: str) -> bool:
    """Whether a full-text search passed to one of Datasette's own pages is over the bounds."""
    return len(value) > MAX_CHARS or len(set(_WORD.findall(value.lower()))) > MAX_TERMS

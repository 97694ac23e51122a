"""A text -> its sentences, with their character offsets.

Paragraphs are separated by blank lines; inside one, hard line breaks are spaces. A
sentence ends at ``.``, ``!`` or ``?`` (and closing quotes or brackets) followed by
white space and a capital letter, a digit or an opening quote, or at the end of its
paragraph; not after a common abbreviation (``Fig.``, ``Eq.``, ``et al.``, ``e.g.``) or an
initial (``A. Einstein``). Linear in the length of the text: no backtracking pattern.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_PARAGRAPH_RE = re.compile(r"\S(?:.|\n(?![ \t\r]*\n))*")
_END_RE = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9]|\s*$)")
_ABBREVIATIONS = frozenset(
    "fig figs eq eqs ref refs sec ch vol no nos pp p al e.g i.e cf vs etc approx resp dr mr "
    "mrs ms prof st jr sr phys rev lett proc j ibid op cit".split()
)


@dataclass(frozen=True)
class Sentence:
    start: int  # offset of the first character in the text
    end: int  # offset after the last character
    text: str  # the sentence with white-space runs as single spaces


def _abbreviation(para: str, dot: int) -> bool:
    """The full stop at `dot` ends an abbreviation or an initial, not a sentence."""
    m = re.search(r"([A-Za-z.]+)$", para[max(0, dot - 12) : dot])
    if m is None:
        return False
    word = m[1].lower().strip(".")
    return word in _ABBREVIATIONS or (len(m[1]) == 1 and m[1].isupper())


def split(text: str) -> list[Sentence]:
    """The sentences of a text, in order (each with at least one letter)."""
    out = []
    for p in _PARAGRAPH_RE.finditer(text):
        para, base = p.group().rstrip(), p.start()
        start = 0
        for m in _END_RE.finditer(para):
            if para[m.start()] == "." and _abbreviation(para, m.start()):
                continue
            out += _sentence(text, base + start, base + m.end())
            start = m.end()
        out += _sentence(text, base + start, base + len(para))
    return out


def _sentence(text: str, a: int, b: int) -> list[Sentence]:
    while a < b and text[a].isspace():
        a += 1
    piece = text[a:b]
    if not re.search(r"[^\W\d_]", piece):
        return []
    return [Sentence(a, b, " ".join(piece.split()))]


#: the largest text `claimkb match` reads (bytes)
MAX_BYTES = 2 * 1024 * 1024


class TextError(Exception):
    """A file that cannot be read as a text; the message names it and says why."""


def read_text(path: Path, max_bytes: int = MAX_BYTES) -> str:
    """The file's text (UTF-8, not empty, not binary, at most `max_bytes`); TextError if not.

    A byte order mark becomes a space, so offsets still count every character."""
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise TextError(f"{path} is a directory: give the path of a text file")
        if size > max_bytes:
            raise TextError(
                f"{path} is {size / 1e6:.1f} MB: at most {max_bytes // (1024 * 1024)} MB "
                f"({max_bytes:,} bytes) is read; split the text"
            )
        raw = path.read_bytes()
    except FileNotFoundError:
        raise TextError(f"{path}: no such file") from None
    except OSError as e:
        raise TextError(f"{path}: cannot read it ({e.strerror})") from None
    if b"\0" in raw:
        raise TextError(f"{path} is a binary file (it holds NUL bytes), not a text")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise TextError(
            f"{path} is not UTF-8 text ({e.reason} at byte {e.start}): convert it first, "
            "e.g. `iconv -f latin1 -t utf-8`"
        ) from None
    if not text.strip():
        raise TextError(f"{path} is empty: nothing to match")
    return text.replace("\ufeff", " ", 1) if text.startswith("\ufeff") else text

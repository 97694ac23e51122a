"""Read a new source text; find what a curator will describe: equations, references, claims.

``analyze(text)`` works on Markdown-like text (paragraphs on one line each,
``$$ ... $$`` display equations, ``- 3 ...`` reference lists) and on plain
text extracted from PDFs (hard line breaks, equations reduced to a line ending
in ``(3)``, references wrapped over several lines). It never changes the text:
every record it returns carries the *exact* span it came from, and its quote is
that span with whitespace runs written as single spaces (which anchors, since
anchoring is whitespace-tolerant).

What it finds:

- display equations: ``$$...$$``, ``\\[...\\]`` and ``equation`` environments
  (LaTeX kept, the ``\\quad (2)`` / ``\\tag{2}`` label pulled out), and in plain
  text a formula line ending in ``(N)`` or a line that is only ``(N)`` (then the
  formula line above it is part of the quote);
- the reference list under the last References/Bibliography heading: entries
  ``[3] ...``, ``3. ...``, ``3) ...``, ``- 3 ...`` or ``- ...``, wrapped lines
  joined, with DOI, ISBN, arXiv id and URL pulled out (malformed ones are
  reported as problems instead);
- claim sentences of the body (pysbd), skipping headings, front matter,
  captions, equations and everything from the reference heading on, with their
  in-text citation markers (``[11]``, ``[2–5]``, ``[11, 15]``, ``ref. 2``)
  resolved to reference labels.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

from ..identifiers import arxiv_problem, doi_problem, isbn13, isbn_problem, printed_identifiers
from ..ingest.anchor import SourceText, normalize

# --------------------------------------------------------------------------- records


@dataclass
class FoundEquation:
    start: int
    end: int
    quote: str
    label: str | None
    latex: str | None
    section: str | None
    occurrence: int | None = None


@dataclass
class FoundReference:
    start: int
    end: int
    quote: str
    label: str
    doi: str | None = None
    isbn: str | None = None
    arxiv_id: str | None = None
    url: str | None = None
    problems: list[str] = field(default_factory=list)
    occurrence: int | None = None


@dataclass
class FoundSentence:
    start: int
    end: int
    quote: str
    statement: str
    section: str | None
    cites: list[str] = field(default_factory=list)
    occurrence: int | None = None


@dataclass
class Analysis:
    title: str | None
    equations: list[FoundEquation]
    references: list[FoundReference]
    sentences: list[FoundSentence]
    hard_wrapped: bool


# --------------------------------------------------------------------------- lines


@dataclass
class Line:
    start: int  # offset of the first character
    end: int  # offset after the last non-newline character (a trailing \r excluded)
    text: str

    @property
    def blank(self) -> bool:
        return not self.text.strip()


def split_lines(text: str) -> list[Line]:
    out = []
    pos = 0
    for m in re.finditer(r"[^\n]*(?:\n|$)", text):
        if m.start() == len(text) and m.start() > 0 and m.group() == "":
            break
        raw = m.group()
        content = raw[:-1] if raw.endswith("\n") else raw
        if content.endswith("\r"):
            content = content[:-1]
        out.append(Line(m.start(), m.start() + len(content), content))
        pos = m.end()
        if pos >= len(text):
            break
    return out


# --------------------------------------------------------------------------- identifiers


def extract_identifiers(entry: str) -> dict[str, object]:
    """DOI, ISBN (as ISBN-13), arXiv id and URL printed in a reference entry; a malformed
    DOI or an invalid ISBN goes to ``problems`` instead of its field."""
    out: dict[str, object] = {"doi": None, "isbn": None, "arxiv_id": None, "url": None}
    problems: list[str] = []
    pr = printed_identifiers(entry)
    if pr.dois:
        doi = pr.dois[0][0]
        p = doi_problem(doi)
        if p is None:
            out["doi"] = doi
        else:
            problems.append(
                f"the printed DOI is malformed: {p}; check it against the publisher's record"
            )
    if pr.isbns:
        p = isbn_problem(pr.isbns[0])
        if p is None:
            out["isbn"] = isbn13(pr.isbns[0])
        else:
            problems.append(f"the printed ISBN is not valid: {p}")
    if pr.arxiv and arxiv_problem(pr.arxiv[0]) is None:
        out["arxiv_id"] = pr.arxiv[0]
    urls = [u for u in pr.urls if not (out["arxiv_id"] and "arxiv.org/" in u.lower())]
    if urls:
        out["url"] = urls[0]
    out["problems"] = problems
    return out


# --------------------------------------------------------------------------- citation markers

_NUM_LIST = r"\d{1,4}(?:\s*[-–—]\s*\d{1,4})?(?:\s*[,;]\s*\d{1,4}(?:\s*[-–—]\s*\d{1,4})?)*"
BRACKET_CITE_RE = re.compile(r"\[\s*(" + _NUM_LIST + r")\s*\]")
REF_CITE_RE = re.compile(r"\b[Rr]efs?\.\s*(\d{1,4}(?:\s*(?:,|and|&|[-–—])\s*\d{1,4})*)")


def _expand(numbers: str) -> list[str]:
    out: list[str] = []
    for part in re.split(r"\s*(?:,|;|\band\b|&)\s*", numbers):
        part = part.strip()
        if not part:
            continue
        m = re.fullmatch(r"(\d+)\s*[-–—]\s*(\d+)", part)
        if m:
            a, b = int(m.group(1)), int(m.group(2))
            if a <= b <= a + 200:
                out += [str(n) for n in range(a, b + 1)]
            else:
                out += [str(a), str(b)]
        elif part.isdigit():
            out.append(str(int(part)))
    return out


def citation_labels(sentence: str) -> list[str]:
    """Labels cited in a sentence, in order, without repeats."""
    labels: list[str] = []
    hits = [(m.start(), m.group(1)) for m in BRACKET_CITE_RE.finditer(sentence)]
    hits += [(m.start(), m.group(1)) for m in REF_CITE_RE.finditer(sentence)]
    for _, nums in sorted(hits):
        for lab in _expand(nums):
            if lab not in labels:
                labels.append(lab)
    return labels


# --------------------------------------------------------------------------- equations

DISPLAY_RE = re.compile(
    r"\$\$(?P<a>.+?)\$\$|\\\[(?P<b>.+?)\\\]|\\begin\{(?P<env>equation|align|eqnarray|multline|gather)(?P<star>\*?)\}(?P<c>.+?)\\end\{(?P=env)(?P=star)\}",
    re.S,
)
LATEX_LABEL_RES = (
    re.compile(r"\\tag\*?\{\s*([^{}]+?)\s*\}"),
    re.compile(
        r"\\q?quad\s*\(\s*([0-9]+[a-z]?|[A-Z]?\.?[0-9]+(?:\.[0-9]+)?[a-z]?)\s*\)\s*[.,;]?\s*$"
    ),
    re.compile(r"(?:\\,|\\;|\\ |~|\s)\s*\(\s*([0-9]+[a-z]?)\s*\)\s*[.,;]?\s*$"),
)
PLAIN_LABEL_RE = re.compile(r"^(?P<body>.*?)\s*\(\s*(?P<label>\d{1,3}[a-z]?)\s*\)\s*[.,;]?\s*$")
MATH_CHARS = set("=≈≠≤≥<>∂∑∫∏√∞±∓×÷·→←↔⇒⇔∈∉⊂⊃∪∩∇∆ΔΩωαβγδεζηθλμνξπρστφχψ^_")


def latex_and_label(inner: str) -> tuple[str | None, str | None]:
    """The LaTeX of a display equation without its printed label, and the label."""
    label = None
    body = inner.strip()
    for rx in LATEX_LABEL_RES:
        m = rx.search(body)
        if m:
            label = m.group(1).strip()
            body = (body[: m.start()] + body[m.end() :]).strip()
            break
    body = re.sub(r"\\label\{[^{}]*\}", "", body).strip()
    body = re.sub(r"(?:\\q?quad|\\,|\\;|\\ |~|\s)+$", "", body)
    body = re.sub(r"\s*[.,;]$", "", body).strip()
    return (body or None), label


def _is_formula(body: str) -> bool:
    """A line that is a formula rather than prose ending in '(2)'."""
    if not body:
        return True
    if sum(c in MATH_CHARS for c in body) == 0:
        return False
    words = re.findall(r"[A-Za-z]{4,}", body)
    return len(words) <= 4 or sum(c in MATH_CHARS for c in body) >= 2 and len(words) <= 8


# --------------------------------------------------------------------------- references

REF_HEADING_RE = re.compile(
    r"^\s*(?:#{1,6}\s*)?(?:\*\*|__)?\s*(?:\d+\.?\s+)?"
    r"(references?(?:\s+and\s+notes)?|bibliography|literature(?:\s+cited)?|works\s+cited|reference\s+list|cited\s+literature|notes\s+and\s+references)"
    r"\s*(?:\*\*|__)?\s*:?\s*$",
    re.I,
)
ENTRY_RE = re.compile(
    r"^(?P<indent>\s*)(?:(?P<bullet>[-*•+])\s+)?"
    r"(?:\[(?P<b>\d{1,4})\]|(?P<d>\d{1,4})[.)](?=\s)|\((?P<p>\d{1,4})\)|(?P<n>\d{1,4})(?=\s))?\s*"
)


def _entry_marker(line: str, expected: int | None) -> tuple[str, int] | None:
    """(label, offset where the entry text starts) of a line that starts an entry, else None.

    The label is "" for an unnumbered bullet. A number is only a marker in sequence
    (the next one, or one or two further on when an entry was lost), so a wrapped line
    that starts with a year or a page range is not taken for a new entry.
    """
    m = ENTRY_RE.match(line)
    if not m or m.end() >= len(line.rstrip()):
        return None
    num = m.group("b") or m.group("d") or m.group("p") or m.group("n")
    if num is not None:
        k = int(num)
        if expected is not None:
            allowed = (
                (expected,) if m.group("n") is not None else (expected, expected + 1, expected + 2)
            )
            if k not in allowed:
                return None
        return str(k), m.end()
    if m.group("bullet"):
        return "", m.end()
    return None


@dataclass
class _Entry:
    label: str
    first_line: int
    text_start: int
    last_line: int


def parse_references(
    text: str, lines: list[Line], heading_idx: int
) -> tuple[list[FoundReference], int]:
    """Entries after the heading at lines[heading_idx].

    Returns them and the index of the last line used."""
    entries: list[_Entry] = []
    i = heading_idx + 1
    last_used = heading_idx
    expected: int | None = None
    pending_blank = False
    while i < len(lines):
        ln = lines[i]
        if ln.blank:
            pending_blank = True
            i += 1
            continue
        marker = _entry_marker(ln.text, expected)
        if marker is not None:
            label, off = marker
            if label == "":
                label = str(len(entries) + 1)
            else:
                expected = int(label) + 1
            entries.append(_Entry(label, i, ln.start + off, i))
            last_used = i
            pending_blank = False
            i += 1
            continue
        if entries and (
            not pending_blank or ln.text[:1].isspace() or ln.text.lstrip()[:1].islower()
        ):
            entries[-1].last_line = i  # a wrapped line of the entry
            last_used = i
            pending_blank = False
            i += 1
            continue
        if not entries and not pending_blank:
            # text right under the heading that is not an entry: not a list we can read
            break
        break
    found = []
    for e in entries:
        end = lines[e.last_line].end
        raw = text[e.text_start : end].rstrip()
        quote = normalize(raw)
        if not quote:
            continue
        joined = re.sub(r"(?<=/)\s*\n\s*", "", raw)  # a URL broken after a slash
        ids = extract_identifiers(normalize(joined))
        found.append(
            FoundReference(
                start=e.text_start,
                end=e.text_start + len(raw),
                quote=quote,
                label=e.label,
                doi=ids["doi"],  # type: ignore[arg-type]
                isbn=ids["isbn"],  # type: ignore[arg-type]
                arxiv_id=ids["arxiv_id"],  # type: ignore[arg-type]
                url=ids["url"],  # type: ignore[arg-type]
                problems=list(ids["problems"]),  # type: ignore[arg-type]
            )
        )
    return found, last_used


# --------------------------------------------------------------------------- paragraphs

CAPTION_RE = re.compile(
    r"^\s*(?:\*\*|_)?(?:fig(?:ure|s)?\.?|ill\.?|illustration|table|tab\.|image|scheme|diagram|chart|plate)\s*\d",
    re.I,
)
FRONT_MATTER_RE = re.compile(
    r"^[\s(*_]*(?:key\s*words|keywords|pacs|msc|doi\s*:|received|accepted|published online|"
    r"corresponding author|e-?mail|©|copyright|contents|table of contents|arxiv:)",
    re.I,
)
KNOWN_SECTIONS = re.compile(
    r"^(?:abstract|introduction|background|theory|methods?|materials and methods|results?|"
    r"discussion|conclusions?|summary|outlook|acknowledge?ments?|appendix(?:\s+\w+)?|"
    r"results and discussion|concluding remarks|preliminaries|related work|elaboration)\b",
    re.I,
)
LIST_MARKER_RE = re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)])\s+")
TERMINAL = '.!?;:"”’'


@dataclass
class Para:
    lines: list[int]
    kind: str  # prose | heading | caption | skip
    text: str  # lines joined with single spaces (analysis only)


def _heading_text(s: str) -> str:
    s = s.strip()
    s = re.sub(r"^#{1,6}\s*", "", s)
    s = re.sub(r"^(\*\*|__)(.*)\1$", r"\2", s).strip()
    return s


def _percentile(values: list[int], q: float) -> int:
    if not values:
        return 0
    v = sorted(values)
    return v[min(len(v) - 1, int(q * (len(v) - 1) + 0.5))]


# --------------------------------------------------------------------------- sentences

_ABBREV_END = re.compile(r"(?:\b(?:[A-Z][a-z]{0,5}|[a-z]{1,4})\.|\b[A-Z]\.)\s*$")


def _segment(joined: str) -> list[tuple[int, int]]:
    """Sentence spans (start, end) in `joined`, from pysbd, re-found in the text."""
    import pysbd

    seg = pysbd.Segmenter(language="en", clean=False)
    spans: list[tuple[int, int]] = []
    cursor = 0
    for s in seg.segment(joined):
        core = s.strip()
        if not core:
            continue
        pos = joined.find(core, cursor)
        if pos == -1:  # pysbd changed the text: give up on this piece
            continue
        spans.append((pos, pos + len(core)))
        cursor = pos + len(core)
    # pysbd splits after journal abbreviations ("Phys. Rev. Lett."): merge a short piece ending
    # in one
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if merged:
            pa, pb = merged[-1]
            prev = joined[pa:pb]
            nxt = joined[a:b]
            if (
                (len(prev.split()) <= 3 and _ABBREV_END.search(prev))
                or re.search(
                    r"(?i)\b(?:phys|rev|lett|proc|j|vol|no|nos|pp|p|eq|eqs|ref|refs|fig|figs|sec|ch|cf|vs|al|ill|approx|resp)\.$",
                    prev,
                )
                or nxt[:1].islower()
            ):
                merged[-1] = (pa, b)
                continue
        merged.append((a, b))
    return merged


def _statement(raw: str) -> str:
    s = re.sub(r"(?<=[A-Za-z])-[ \t]*\r?\n\s*(?=[a-z])", "", raw)  # hyphenation at a line break
    s = BRACKET_CITE_RE.sub("", s)
    s = normalize(s)
    s = re.sub(r"\s+([.,;:])", r"\1", s)
    return s


# --------------------------------------------------------------------------- analysis

# (start, end, latex, label) of an equation found in the text
_EqSpan = tuple[int, int, str | None, str | None]
_MD_HEADING_RE = re.compile(r"^\s*#{1,6}\s")
_HEADING_END_RE = re.compile(
    r"(?i)\b(?:is|are|was|were|be|of|the|a|an|and|or|by|as|to|with|that|which|in|on|for|from|at)$"
)
_AFFILIATION_RE = re.compile(
    r"(?i)@|e-?mail|universit|department|institut|laborator|college|school of|\bfaculty\b"
)


def analyze(text: str) -> Analysis:
    """The equations, references and claim sentences of a source text (see the module doc).

    Each line gets a role (body | equation | code | reference | back) as the steps go:
    fenced code, the reference list, display and plain-text equations; the body lines left
    are grouped into paragraphs, which give the title, the sections and the sentences.
    """
    lines = _source_lines(text)
    role = _code_roles(lines)
    references, ref_heading = _reference_section(text, lines, role)
    body_end = lines[ref_heading].start if ref_heading is not None else len(text)
    eq_spans = _display_equations(text, lines, role, body_end)
    eq_spans += _plain_equations(lines, role)
    hard_wrapped, paras = _paragraphs(lines, role)
    title = _title(paras, lines)
    section_of = functools.partial(_section_of, _sections(paras, lines), title)
    sentences = [
        s for p in paras if p.kind == "prose" for s in _sentences(text, p, lines, section_of)
    ]
    equations = _equations(text, eq_spans, section_of)
    _set_occurrences(text, [*equations, *references, *sentences])
    _keep_listed_cites(sentences, references)
    return Analysis(
        title=title,
        equations=equations,
        references=references,
        sentences=sentences,
        hard_wrapped=hard_wrapped,
    )


# ---- lines


def _source_lines(text: str) -> list[Line]:
    """The lines of the text; a byte order mark is not part of the first line."""
    lines = split_lines(text)
    if lines and lines[0].text.startswith("\ufeff"):
        lines[0] = Line(lines[0].start + 1, lines[0].end, lines[0].text[1:])
    return lines


def _code_roles(lines: list[Line]) -> list[str]:
    """The first role of each line: ``code`` in fenced code blocks, else ``body``."""
    role = ["body"] * len(lines)
    fence = False
    for i, ln in enumerate(lines):
        if ln.text.lstrip().startswith("```"):
            role[i] = "code"
            fence = not fence
        elif fence:
            role[i] = "code"
    return role


def _line_at(lines: list[Line], offset: int) -> int:
    """The index of the line that holds a text offset."""
    lo, hi = 0, len(lines) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if lines[mid].start <= offset:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _indent(ln: Line) -> int:
    return len(ln.text) - len(ln.text.lstrip())


# ---- references


def _reference_section(
    text: str, lines: list[Line], role: list[str]
) -> tuple[list[FoundReference], int | None]:
    """The reference list under the last heading with entries under it, and that heading's index.

    The list's lines get the role ``reference``, the lines after it ``back``.
    """
    n = len(lines)
    for i in range(n - 1, -1, -1):
        if role[i] == "body" and REF_HEADING_RE.match(lines[i].text):
            refs, last = parse_references(text, lines, i)
            if refs:
                for j in range(i, n):
                    role[j] = "reference" if j <= last else "back"
                return refs, i
    return [], None


# ---- equations


def _display_inner(m: re.Match[str]) -> str:
    """The LaTeX inside a ``$$...$$``, ``\\[...\\]`` or environment match."""
    if m.group("a") is not None:
        return m.group("a")
    if m.group("b") is not None:
        return m.group("b")
    return m.group("c")


def _display_equations(
    text: str, lines: list[Line], role: list[str], body_end: int
) -> list[_EqSpan]:
    """LaTeX display equations before `body_end`; lines one has to itself become ``equation``."""
    spans: list[_EqSpan] = []
    for m in DISPLAY_RE.finditer(text, 0, body_end):
        latex, label = latex_and_label(_display_inner(m))
        spans.append((m.start(), m.end(), latex, label))
        first, last = _line_at(lines, m.start()), _line_at(lines, m.end() - 1)
        outside = text[lines[first].start : m.start()] + text[m.end() : lines[last].end]
        if not re.search(r"[A-Za-z]{2,}", outside):  # the equation has its lines to itself
            for j in range(first, last + 1):
                if role[j] == "body":
                    role[j] = "equation"
    return spans


def _plain_equations(lines: list[Line], role: list[str]) -> list[_EqSpan]:
    """Plain-text numbered equations: a formula line ending in (N), or a line that is only (N).

    Their lines (and the formula line above a bare (N)) become ``equation``.
    """
    spans: list[_EqSpan] = []
    for i, ln in enumerate(lines):
        if role[i] != "body":
            continue
        m = PLAIN_LABEL_RE.match(ln.text)
        if not m or not _is_formula(m.group("body").strip()):
            continue
        start = ln.start + _indent(ln)
        if not m.group("body").strip():
            k = _formula_above(lines, role, i)
            if k is not None:
                start = lines[k].start + _indent(lines[k])
                role[k] = "equation"
        role[i] = "equation"
        spans.append((start, ln.end, None, m.group("label")))
    return spans


def _formula_above(lines: list[Line], role: list[str], i: int) -> int | None:
    """For a line that is only (N): the nearest non-blank line above, if it is a formula."""
    k = i - 1
    while k >= 0 and lines[k].blank and i - k <= 3:
        k -= 1
    if k < 0 or role[k] != "body" or lines[k].blank:
        return None
    prev = lines[k].text.strip()
    if (
        len(prev) <= 80
        and not prev.endswith((".", "?", "!"))
        and (sum(c in MATH_CHARS for c in prev) or len(prev.split()) <= 6)
    ):
        return k
    return None


def _equations(text: str, spans: list[_EqSpan], section_of: Any) -> list[FoundEquation]:
    """The equations in text order."""
    return [
        FoundEquation(
            start=s,
            end=e,
            quote=normalize(text[s:e]),
            label=label,
            latex=latex,
            section=section_of(s),
        )
        for s, e, latex, label in sorted(spans, key=lambda x: x[0])
    ]


# ---- paragraphs


def _paragraphs(lines: list[Line], role: list[str]) -> tuple[bool, list[Para]]:
    """Whether the body is hard-wrapped, and its paragraphs, classified.

    A paragraph cut by a page break ("phenom-" / "ena at ...") is joined to the one before.
    """
    body_lines = [ln for i, ln in enumerate(lines) if role[i] == "body" and not ln.blank]
    width = _percentile([len(ln.text.rstrip()) for ln in body_lines], 0.9)
    hard_wrapped = 30 <= width <= 200 and len(body_lines) >= 10
    short = 0.7 * width if hard_wrapped else float("inf")
    paras = _group_lines(lines, role, hard_wrapped, short)
    for p in paras:
        p.kind = _paragraph_kind(p, lines, role)
    merged: list[Para] = []
    for p in paras:
        if merged and _continues(merged[-1], p, lines):
            merged[-1].lines += p.lines
            merged[-1].text += " " + p.text
        else:
            merged.append(p)
    return hard_wrapped, merged


def _group_lines(
    lines: list[Line], role: list[str], hard_wrapped: bool, short: float
) -> list[Para]:
    """Body lines grouped into paragraphs (all of kind ``prose`` until classified).

    A paragraph ends at a blank line, before a line that starts a block, and after a heading
    or a line shorter than `short` (in hard-wrapped text, a line that does not reach the
    usual width ends its paragraph).
    """
    paras: list[Para] = []
    cur: list[int] = []
    for i, ln in enumerate(lines):
        if role[i] != "body" or ln.blank:
            _close_paragraph(paras, cur, lines)
            continue
        t = ln.text
        starts_block = _starts_block(t)
        if cur and not starts_block and hard_wrapped:
            starts_block = _heading_after_sentence(lines, cur[-1], i, short)
        if cur and starts_block:
            _close_paragraph(paras, cur, lines)
        cur.append(i)
        if _MD_HEADING_RE.match(t) or len(t.rstrip()) < short:
            _close_paragraph(paras, cur, lines)
    _close_paragraph(paras, cur, lines)
    return paras


def _close_paragraph(paras: list[Para], cur: list[int], lines: list[Line]) -> None:
    """Append the lines collected in `cur` (if any) as a paragraph, and empty `cur`."""
    if cur:
        paras.append(Para(list(cur), "prose", " ".join(lines[j].text.strip() for j in cur)))
        cur.clear()


def _starts_block(t: str) -> bool:
    """A Markdown heading, a list item, a table row or a caption starts a new paragraph."""
    return bool(re.match(r"^\s*(?:#{1,6}\s|[-*+•]\s|\|)", t)) or CAPTION_RE.match(t) is not None


def _heading_after_sentence(lines: list[Line], prev: int, i: int, short: float) -> bool:
    """Line i is a heading right after a sentence that happened to fill its last line (prev)."""
    before = lines[prev].text.rstrip()
    tt = lines[i].text.strip()
    return bool(
        before.endswith((".", "!", "?"))
        and len(tt) < short
        and len(tt.split()) <= 8
        and re.match(r"^(?:\d+(?:\.\d+)*\.?\s+)?[A-Z]", tt)
        and not tt.endswith(tuple(TERMINAL) + (",",))
        and i + 1 < len(lines)
        and not lines[i + 1].blank
        and re.match(r"^\s*[A-Z\d]", lines[i + 1].text)
    )


def _paragraph_kind(p: Para, lines: list[Line], role: list[str]) -> str:
    """caption, skip (front matter, tables, stray symbols), heading, or the kind it has."""
    first = lines[p.lines[0]].text
    t = p.text.strip()
    if CAPTION_RE.match(first):
        return "caption"
    if FRONT_MATTER_RE.match(first) or first.lstrip().startswith("|"):
        return "skip"
    if _MD_HEADING_RE.match(first):
        return "heading"
    if len(re.findall(r"[A-Za-z]", t)) < 3:
        return "skip"
    if _reads_as_heading(p, t, role):
        return "heading"
    if len(p.lines) == 1 and re.fullmatch(r"(\*\*|__).+\1", t):
        return "heading"
    return p.kind


def _reads_as_heading(p: Para, t: str, role: list[str]) -> bool:
    """A short single line that does not end mid-sentence and does not introduce an equation."""
    return (
        len(p.lines) == 1
        and len(t) <= 150
        and not t[:1].islower()
        and not t.endswith((",", "-"))
        and not _HEADING_END_RE.search(t)
        and not (p.lines[0] + 1 < len(role) and role[p.lines[0] + 1] == "equation")
        and (not t.endswith(tuple(TERMINAL)) or (t.endswith(":") and len(t.split()) <= 4))
    )


def _continues(prev: Para, p: Para, lines: list[Line]) -> bool:
    """Prose paragraph p continues prev across a page break (only blank lines between)."""
    return (
        p.kind == "prose"
        and prev.kind == "prose"
        and p.text[:1].islower()
        and not prev.text.rstrip().endswith(tuple(".!?:;"))
        and all(lines[j].blank for j in range(prev.lines[-1] + 1, p.lines[0]))
    )


# ---- title and sections


def _title(paras: list[Para], lines: list[Line]) -> str | None:
    """A Markdown H1, else the longest heading-like line before the first prose paragraph."""
    for p in paras:
        if re.match(r"^\s*#\s", lines[p.lines[0]].text):
            return _heading_text(p.text)
    cands = []
    for p in paras:
        if p.kind == "prose":
            break
        t = _heading_text(p.text)
        if p.kind == "heading" and not KNOWN_SECTIONS.match(t) and not _AFFILIATION_RE.search(t):
            cands.append(t)
    return max(cands, key=len) if cands else None


def _sections(paras: list[Para], lines: list[Line]) -> list[tuple[int, str]]:
    """(offset, title) of each heading that opens a section, in text order."""
    out = []
    for k, p in enumerate(paras):
        if p.kind == "heading":
            title = _section_title(paras, k, lines)
            if title is not None:
                out.append((lines[p.lines[0]].start, title))
    return out


def _section_title(paras: list[Para], k: int, lines: list[Line]) -> str | None:
    """The title of the section heading paras[k] opens, or None when it opens none.

    A heading opens a section when it is a known section name, a Markdown heading or followed
    by prose; not when it is a list of names or a stray long line, nor when another heading
    follows it (unless it is a known section name or a Markdown heading).
    """
    p = paras[k]
    title = _heading_text(p.text)
    if len(re.findall(r"\b[A-Z]\.\s", title)) >= 2 or len(title.split()) > 16:
        return None
    first = lines[p.lines[0]].text
    known = KNOWN_SECTIONS.match(title)
    nxt = next((q for q in paras[k + 1 :] if q.kind not in ("skip", "caption")), None)
    if not (known or _MD_HEADING_RE.match(first) or (nxt is not None and nxt.kind == "prose")):
        return None
    if nxt is not None and nxt.kind == "heading" and not known and not re.match(r"^\s*#", first):
        return None
    return title


def _section_of(section_at: list[tuple[int, str]], title: str | None, offset: int) -> str | None:
    """The section a text offset is in; text under the title has no section yet."""
    sec = None
    for off, head in section_at:
        if off <= offset:
            sec = head
        else:
            break
    return None if sec is not None and sec == title else sec


# ---- claim sentences and citations


def _sentences(text: str, p: Para, lines: list[Line], section_of: Any) -> list[FoundSentence]:
    """The candidate claim sentences of a prose paragraph (at least 4 words, 20 characters)."""
    joined, offs = _joined(p, lines)
    out = []
    for a, b in _segment(joined):
        start, end = offs[a], offs[b - 1] + 1
        raw = text[start:end]
        quote = normalize(raw)
        words = re.findall(r"[A-Za-z]{2,}", quote)
        if len(words) < 4 or len(quote) < 20 or not re.search(r"[a-z]", quote):
            continue
        out.append(
            FoundSentence(
                start=start,
                end=end,
                quote=quote,
                statement=_statement(raw),
                section=section_of(start),
                cites=citation_labels(quote),
            )
        )
    return out


def _joined(p: Para, lines: list[Line]) -> tuple[str, list[int]]:
    """A paragraph's lines joined with single spaces (without a leading list marker), and the
    offset in the text of each of its characters."""
    chars: list[str] = []
    offs: list[int] = []
    for idx, j in enumerate(p.lines):
        ln = lines[j]
        t = ln.text
        s0 = _indent(ln)
        if idx == 0:
            mm = LIST_MARKER_RE.match(t)
            if mm:
                s0 = mm.end()
        seg = t[s0:].rstrip()
        if chars:
            chars.append(" ")
            offs.append(ln.start + s0 - 1)
        for c_i, ch in enumerate(seg):
            chars.append(ch)
            offs.append(ln.start + s0 + c_i)
    return "".join(chars), offs


def _set_occurrences(text: str, records: list[Any]) -> None:
    """A quote found more than once in the text says which one it is."""
    source = SourceText(text)
    for rec in records:
        hits = source.find_all(rec.quote)
        if len(hits) > 1:
            starts = [h[0] for h in hits]
            rec.occurrence = starts.index(rec.start) + 1 if rec.start in starts else None


def _keep_listed_cites(sentences: list[FoundSentence], references: list[FoundReference]) -> None:
    """Cites keep only the labels the reference list has."""
    labels = {r.label for r in references}
    for s in sentences:
        s.cites = [c for c in s.cites if c in labels]

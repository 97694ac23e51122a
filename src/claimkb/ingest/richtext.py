"""Text with Markdown and inline math -> safe HTML, for the ``*_html`` columns.

Statements, rationales, notes and assessments may use Markdown (rationales, notes) and
inline LaTeX between dollar signs, ``$\\hbar^2/m_e$``, which becomes MathML through the
same converter as the equations (``mathml.to_mathml``). The plain text stays as written,
for search; the HTML is what pages show. Raw HTML in the text is never passed through,
and the result is cleaned by nh3 against an allowlist of text and MathML elements: no
scripts, styles, images, event handlers or ``javascript:`` links survive.

``render(text, inline=...)`` returns the HTML or raises ``MathError`` naming the formula
that cannot be rendered. ``raw_latex(text)`` finds LaTeX commands left outside ``$``.
"""

from __future__ import annotations

import html
import re

from .mathml import ALLOWED_ATTRIBUTES, ALLOWED_ELEMENTS, MathError, to_mathml

#: text elements a rendered rationale may contain: formatting, lists, tables, links (no
#: images: they would fetch from off the machine)
TEXT_ELEMENTS = frozenset(
    """a abbr b blockquote br code del em h3 h4 h5 h6 hr i li ol p pre strong sub sup table
    tbody td th thead tr ul""".split()
)
_TEXT_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "td": {"align"}, "th": {"align"}}
#: characters that may start Markdown or math; text without any of them is only escaped
_SPECIAL = frozenset("$*_`[]<>&\\#|~!\n")
_SPECIAL_RE = re.compile("[" + re.escape("".join(sorted(_SPECIAL))) + "]")
_BLOCK_START = re.compile(r"\s*(?:[-+>]|\d+[.)])\s")
#: $...$ (inline) or $$...$$ (display); \$ is a dollar sign
_MATH = re.compile(r"(?<!\\)\$\$(.+?)(?<!\\)\$\$|(?<!\\)\$(?!\s)(.+?)(?<![\s\\])\$", re.S)
_RAW_LATEX = re.compile(r"\\[A-Za-z]{2,}")
_PLACEHOLDER = re.compile("\ue000(\\d+)\ue001")
_md = None


def _markdown():
    global _md
    if _md is None:
        from markdown_it import MarkdownIt

        opts = {"html": False, "linkify": False, "typographer": False}
        _md = MarkdownIt("commonmark", opts).enable("table")
    return _md


def _clean(fragment: str) -> str:
    import nh3

    attributes = {t: set(ALLOWED_ATTRIBUTES) for t in ALLOWED_ELEMENTS}
    attributes.update(_TEXT_ATTRIBUTES)
    return nh3.clean(
        fragment,
        tags=set(TEXT_ELEMENTS | ALLOWED_ELEMENTS),
        attributes=attributes,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def _plain(text: str, inline: bool) -> bool:
    if _SPECIAL_RE.search(text):  # a character Markdown or the math may read
        return False
    return inline or not _BLOCK_START.match(text)


def render(text: str | None, *, inline: bool = False) -> str | None:
    """Safe HTML for `text` (None stays None). `inline`: a statement (no paragraphs)."""
    if text is None:
        return None
    if _plain(text, inline):
        escaped = html.escape(text, quote=False)
        return escaped if inline else f"<p>{escaped}</p>\n"
    formulas: list[str] = []

    def keep(m: re.Match[str]) -> str:
        display = m.group(1) is not None
        formulas.append(to_mathml(m.group(1) if display else m.group(2), display=display))
        return f"\ue000{len(formulas) - 1}\ue001"

    marked = _MATH.sub(keep, text).replace("\\$", "$")
    md = _markdown()
    out = md.renderInline(marked) if inline else md.render(marked)
    out = _PLACEHOLDER.sub(lambda m: formulas[int(m.group(1))], out)
    return _clean(out)


def render_math(text: str) -> str:
    """Escaped text whose $...$ formulas are MathML, with no Markdown (for machine messages,
    which quote documents verbatim). A formula that cannot be rendered stays as escaped text."""
    out, pos = [], 0
    for m in _MATH.finditer(text):
        try:
            formula = to_mathml(m.group(1) or m.group(2), display=False)
        except MathError:
            continue
        out += [html.escape(text[pos : m.start()], quote=False), formula]
        pos = m.end()
    out.append(html.escape(text[pos:], quote=False))
    return _clean("".join(out))


def raw_latex(text: str | None) -> list[str]:
    """LaTeX commands written outside $...$ (they would show as raw text on a page)."""
    if not text or "\\" not in text:
        return []
    outside = _MATH.sub(" ", text)
    return sorted(set(_RAW_LATEX.findall(outside)))


__all__ = ["MathError", "raw_latex", "render", "render_math"]


#: a source text's own formulas: $$...$$ (display) and $...$ (inline, on one line)
_SOURCE_MATH = re.compile(
    r"(?<!\\)\$\$(.+?)(?<!\\)\$\$|(?<![\\$])\$(?![\s$])([^$\n]+?)(?<![\s\\])\$", re.S
)
#: LaTeX's text accents, \"o and \"{o}, and the combining mark each stands for
_ACCENT = re.compile(r"""\\(["'`^~])\{?([A-Za-z])\}?""")
_MARKS = {'"': "\u0308", "'": "\u0301", "`": "\u0300", "^": "\u0302", "~": "\u0303"}


def source_markup(text: str) -> tuple[list[tuple[int, int, str, str]], list[str]]:
    """The spans of a source text written in LaTeX, with the HTML a page shows in their
    place: [(start, end, kind, html)] in text order (kind math or accent), and a message for
    each formula that cannot be rendered (it is then shown as written)."""
    import unicodedata

    spans: list[tuple[int, int, str, str]] = []
    failed: list[str] = []
    for m in _SOURCE_MATH.finditer(text):
        display = m.group(1) is not None
        try:
            spans.append(
                (
                    m.start(),
                    m.end(),
                    "math",
                    to_mathml(m.group(1 if display else 2), display=display),
                )
            )
        except MathError as e:
            failed.append(f"the formula at character {m.start()} is shown as written: {e}")
    taken = [(s, e) for s, e, _k, _h in spans]
    for m in _ACCENT.finditer(text):
        if any(s <= m.start() < e for s, e in taken):
            continue
        letter = unicodedata.normalize("NFC", m.group(2) + _MARKS[m.group(1)])
        spans.append((m.start(), m.end(), "accent", html.escape(letter)))
    return sorted(spans), failed

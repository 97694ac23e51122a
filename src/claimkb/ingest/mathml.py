"""LaTeX -> MathML, fully offline (latex2mathml), strict about what it accepts.

``to_mathml(latex, display=True)`` returns one ``<math>`` element that every
current browser renders natively (Chromium since version 109, Firefox, Safari).
It is called at build time (to store ``equations.mathml``) and, as a fallback,
by the Datasette plugin when that column is missing.

latex2mathml silently passes an unknown macro through as ``<mi>\\macro</mi>``
and silently closes unbalanced braces; both would publish a broken equation,
so both raise :class:`MathError` with a message that names the problem.
Arrows with text over them (``\\xrightarrow{x}``), which latex2mathml renders
with an ``mpadded`` offset hack that browsers draw badly, are rewritten first
into ``\\overset{x}{\\longrightarrow}``; in the MathML the arrow under or over a
label then becomes a stretchy ``<mo>`` so the browser draws it as wide as the label.
"""

from __future__ import annotations

import re
from html import unescape
from xml.etree import ElementTree as ET

__all__ = ["MathError", "to_mathml", "normalise_latex", "sanitise"]

MATHML_NS = "http://www.w3.org/1998/Math/MathML"

#: \x...arrow macro -> the plain stretchy arrow drawn under/over its labels
_X_ARROWS = {
    "xrightarrow": r"\longrightarrow",
    "xleftarrow": r"\longleftarrow",
    "xRightarrow": r"\Longrightarrow",
    "xLeftarrow": r"\Longleftarrow",
    "xleftrightarrow": r"\longleftrightarrow",
    "xLeftrightarrow": r"\Longleftrightarrow",
    "xmapsto": r"\longmapsto",
}
_X_ARROW_RE = re.compile(
    r"\\(" + "|".join(sorted(_X_ARROWS, key=len, reverse=True)) + r")(?![A-Za-z])"
)


#: long arrow (as latex2mathml writes it) -> the arrow browsers stretch to the width of its label
_STRETCHY = {
    "&#x027F6;": "&#x02192;",  # \longrightarrow -> stretchy \rightarrow
    "&#x027F5;": "&#x02190;",
    "&#x027F9;": "&#x021D2;",
    "&#x027F8;": "&#x021D0;",
    "&#x027F7;": "&#x02194;",
    "&#x027FA;": "&#x021D4;",
    "&#x027FC;": "&#x021A6;",
}
_ARROW_BASE_RE = re.compile(r"<(mover|munder)><mrow><mi>(&#x027F[5-9A-C];)</mi></mrow>")


def _stretch_arrows(mathml: str) -> str:
    """An arrow under or over a label becomes a stretchy <mo>, so it spans the label."""
    return _ARROW_BASE_RE.sub(
        lambda m: f'<{m.group(1)}><mo stretchy="true">{_STRETCHY[m.group(2)]}</mo>', mathml
    )


class MathError(ValueError):
    """The LaTeX cannot be turned into correct MathML; the message says why."""


def _skip_space(s: str, i: int) -> int:
    while i < len(s) and s[i].isspace():
        i += 1
    return i


def _group(s: str, i: int, open_: str, close: str) -> tuple[str, int]:
    """Read a balanced group starting at s[i] == open_; return (inside, index after it)."""
    depth = 0
    j = i
    while j < len(s):
        c = s[j]
        if c == "\\":
            j += 2
            continue
        if c == open_:
            depth += 1
        elif c == close:
            depth -= 1
            if depth == 0:
                return s[i + 1 : j], j + 1
        j += 1
    raise MathError(f"unbalanced {open_!r} after position {i} in {s!r}")


def _rewrite_x_arrows(latex: str) -> str:
    out: list[str] = []
    pos = 0
    while True:
        m = _X_ARROW_RE.search(latex, pos)
        if not m:
            out.append(latex[pos:])
            return "".join(out)
        out.append(latex[pos : m.start()])
        arrow = _X_ARROWS[m.group(1)]
        i = _skip_space(latex, m.end())
        below = None
        if i < len(latex) and latex[i] == "[":
            below, i = _group(latex, i, "[", "]")
            i = _skip_space(latex, i)
        if i >= len(latex) or latex[i] != "{":
            raise MathError(f"\\{m.group(1)} needs its label in braces, e.g. \\{m.group(1)}{{x}}")
        above, i = _group(latex, i, "{", "}")
        above = _rewrite_x_arrows(above)
        expr = rf"\overset{{{above}}}{{{arrow}}}" if above.strip() else arrow
        if below is not None and below.strip():
            expr = rf"\underset{{{_rewrite_x_arrows(below)}}}{{{expr}}}"
        out.append("{" + expr + "}")
        pos = i


def _check_braces(latex: str) -> None:
    depth = 0
    i = 0
    while i < len(latex):
        c = latex[i]
        if c == "\\":
            i += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth < 0:
                raise MathError(f"unmatched '}}' at position {i} in {latex!r}")
        i += 1
    if depth > 0:
        raise MathError(f"{depth} unclosed '{{' in {latex!r}")


def normalise_latex(latex: str) -> str:
    """The LaTeX that is actually converted: \\xrightarrow and friends rewritten."""
    if latex is None or not str(latex).strip():
        raise MathError("empty equation")
    _check_braces(latex)
    return _rewrite_x_arrows(latex)


#: MathML elements that need an exact number of children (a missing argument
#: such as \frac{a} gives an mfrac with one child)
_ARITY = {
    "mfrac": 2,
    "msub": 2,
    "msup": 2,
    "msubsup": 3,
    "mover": 2,
    "munder": 2,
    "munderover": 3,
    "mroot": 2,
}


#: what a stored equation may contain (the build refuses anything else, and nh3 removes
#: anything else again): presentation MathML, no links, no styles, no event handlers
ALLOWED_ELEMENTS = frozenset(
    """math mrow mi mn mo ms mtext mspace msub msup msubsup mfrac msqrt mroot mstyle mpadded
    mphantom menclose munder mover munderover mtable mtr mtd merror""".split()
)
ALLOWED_ATTRIBUTES = frozenset(
    """xmlns display mathvariant stretchy fence separator lspace rspace accent accentunder
    linethickness columnalign rowalign columnspacing rowspacing width height depth scriptlevel
    displaystyle minsize maxsize movablelimits form notation largeop symmetric
    alttext""".split()
)


def sanitise(mathml: str) -> str:
    """The MathML with every element and attribute outside the allowlists removed (nh3)."""
    import nh3

    return nh3.clean(
        mathml,
        tags=set(ALLOWED_ELEMENTS),
        attributes={t: set(ALLOWED_ATTRIBUTES) for t in ALLOWED_ELEMENTS},
        clean_content_tags={"script", "style"},
        link_rel=None,
        strip_comments=True,
    )


def _refused(root: ET.Element) -> list[str]:
    """Elements and attributes the allowlists refuse, e.g. an href from \\href."""
    out = []
    for el in root.iter():
        tag = el.tag.rsplit("}", 1)[-1]
        if tag not in ALLOWED_ELEMENTS:
            out.append(f"<{tag}>")
        out += [f"{tag} {a}=" for a in el.attrib if a.rsplit("}", 1)[-1] not in ALLOWED_ATTRIBUTES]
    return out


def _problems(mathml: str) -> tuple[list[str], list[str]]:
    """(unknown macros, structural problems) in latex2mathml's output."""
    try:
        root = ET.fromstring(mathml)
    except ET.ParseError as e:  # raw markup in \text{...}, for instance
        raise MathError(f"the LaTeX gives invalid MathML ({e}): no markup inside \\text") from e
    unknown: list[str] = []
    broken: list[str] = []
    refused = _refused(root)
    if refused:
        raise MathError(
            f"{', '.join(dict.fromkeys(refused))} not allowed in an equation "
            "(no links, classes, colours or markup)"
        )
    for el in root.iter():
        tag = el.tag.rsplit("}", 1)[-1]
        if tag in {"mi", "mo", "mn", "mtext"} and el.text:
            unknown += re.findall(r"\\[A-Za-z]+", unescape(el.text))
        if tag in _ARITY and len(el) != _ARITY[tag]:
            broken.append(f"<{tag}> with {len(el)} argument(s) instead of {_ARITY[tag]}")
    return unknown, broken


def to_mathml(latex: str, display: bool = True) -> str:
    """Convert one equation to a ``<math>`` element (display block or inline).

    Raises MathError for unknown macros, unbalanced braces or anything
    latex2mathml cannot parse.
    """
    from latex2mathml.converter import convert

    src = normalise_latex(latex)
    try:
        out = convert(src, display="block" if display else "inline")
    except Exception as e:  # latex2mathml raises many kinds (IndexError, its own exceptions)
        raise MathError(f"cannot convert {latex!r}: {type(e).__name__}: {e}") from e
    unknown, broken = _problems(out)
    if unknown:
        names = ", ".join(dict.fromkeys(unknown))
        raise MathError(
            f"unknown LaTeX macro(s) {names} in {latex!r} (latex2mathml does not know them)"
        )
    if broken:
        raise MathError(f"missing argument in {latex!r}: {'; '.join(dict.fromkeys(broken))}")
    return sanitise(_stretch_arrows(out))

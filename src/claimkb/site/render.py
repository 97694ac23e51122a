"""Pieces of HTML and SVG the pages share: badges, citations, links, charts, snippets.

Every value that comes from the database is escaped here (markupsafe) unless it comes
from a column the build wrote as sanitised HTML (``*_html``, ``mathml``): those are
passed through only by the pages that read those very columns.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any
from urllib.parse import quote, urlencode

from markupsafe import Markup, escape

#: how each vocabulary is named to a reader (screen readers hear "evidence status: supported")
VOCAB_LABELS = {
    "evidence_status": "evidence status",
    "check_status": "check status",
    "citation_status": "citation status",
    "claim_type": "claim type",
    "voice": "voice",
    "document_kind": "document kind",
    "stance": "stance",
    "relation": "relation",
    "severity": "severity",
}
#: record kind -> the path of its reader page
RECORD_PATHS = {
    "claim": "claim",
    "equation": "equation",
    "bibliography": "reference",
    "reference": "reference",
    "document": "document",
}
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


def colours(vocab: dict, name: str, term: Any) -> tuple[str, str]:
    info = vocab.get(name, {}).get(term) or {}
    bg, fg = info.get("colour") or "", info.get("text_colour") or ""
    return (bg if _HEX.match(bg) else "#e0e0e0"), (fg if _HEX.match(fg) else "#000000")


def badge(vocab: dict, name: str, term: Any, *, prefix: bool = True) -> Markup:
    """A badge: the term as text in its vocabulary colours, its definition on hover; a
    visually hidden prefix names the vocabulary for screen readers."""
    if term is None or term == "":
        return Markup('<span class="ckb-badge ckb-badge-none">none</span>')
    label = VOCAB_LABELS.get(name, name.replace("_", " "))
    hidden = Markup('<span class="ckb-vh">{}: </span>').format(label) if prefix else Markup("")
    info = vocab.get(name, {}).get(term)
    if info is None:
        return Markup('<span class="ckb-badge ckb-badge-unknown">{}{}</span>').format(hidden, term)
    bg, fg = colours(vocab, name, term)
    return Markup(
        '<span class="ckb-badge" style="--ckb-bg:{};--ckb-fg:{}" title="{}">{}{}</span>'
    ).format(bg, fg, f"{label} “{term}”: {info['definition']}", hidden, term)


def neutral(text: str, title: str = "") -> Markup:
    """A badge in a neutral colour, for what is not a vocabulary term."""
    return Markup('<span class="ckb-badge ckb-badge-neutral" title="{}">{}</span>').format(
        title, text
    )


def record_url(datasette: Any, kind: str, record_id: Any, *, read: bool = False) -> str:
    path = f"/{RECORD_PATHS.get(kind, 'claim')}/{quote(str(record_id), safe='')}"
    return datasette.urls.path(path + ("/read" if read else ""))


def sql_url(datasette: Any, database: str, sql: str, **params: Any) -> str:
    """A link that runs `sql` in Datasette's SQL page (whichever form this version has)."""
    args = {k: v for k, v in params.items() if v is not None}
    query_url = getattr(datasette.urls, "database_query", None)  # Datasette 1.0
    if query_url is not None:
        base = query_url(database, sql)
        return base + ("&" + urlencode(args) if args else "")
    return datasette.urls.database(database) + "?" + urlencode({"sql": sql, **args})


def json_list(value: Any) -> list[Any]:
    if not value:
        return []
    try:
        data = json.loads(value)
    except (TypeError, ValueError):
        return [value]
    return data if isinstance(data, list) else [data]


def authors_text(value: Any, limit: int = 6) -> str:
    names = [str(a) for a in json_list(value)]
    if len(names) > limit:
        return "; ".join(names[:limit]) + f"; … ({len(names)} authors)"
    return "; ".join(names)


def identifier_links(row: dict[str, Any]) -> list[tuple[str, str]]:
    """[(label, url)] for a work's DOI, arXiv id, ISBN and web address."""
    out = []
    if row.get("doi"):
        out.append(
            (f"doi:{row['doi']}", "https://doi.org/" + quote(str(row["doi"]), safe="/:;()._-"))
        )
    if row.get("arxiv_id"):
        out.append(
            (
                f"arXiv:{row['arxiv_id']}",
                "https://arxiv.org/abs/" + quote(str(row["arxiv_id"]), safe="/."),
            )
        )
    if row.get("isbn"):
        digits = re.sub(r"[^0-9Xx]", "", str(row["isbn"]))
        out.append((f"ISBN {row['isbn']}", "https://openlibrary.org/isbn/" + digits))
    url = str(row.get("url") or "")
    if re.match(r"(?i)^https?://", url):
        host = re.sub(r"(?i)^https?://(www\.)?", "", url).split("/", 1)[0]
        out.append((f"web page at {host}", url))
    return out


def cite(row: dict[str, Any]) -> Markup:
    """Authors (year). Title. Venue volume(issue), pages. Publisher. — as HTML."""
    head = []
    if row.get("authors") and authors_text(row["authors"]):
        head.append(escape(authors_text(row["authors"])))
    if row.get("year"):
        head.append(Markup("({})").format(row["year"]))
    bits = [Markup(" ").join(head) + Markup(".")] if head else []
    if row.get("title"):
        bits.append(Markup("<cite>{}</cite>.").format(row["title"]))
    venue = []
    if row.get("venue"):
        venue.append(Markup("<i>{}</i>").format(row["venue"]))
    if row.get("volume"):
        issue = Markup("({})").format(row["issue"]) if row.get("issue") else Markup("")
        venue.append(Markup("{}").format(row["volume"]) + issue)
    if row.get("pages"):
        venue.append(escape(row["pages"]))
    if venue:
        bits.append(Markup(", ").join(venue) + Markup("."))
    if row.get("publisher"):
        bits.append(escape(row["publisher"]) + Markup("."))
    return Markup(" ").join(bits)


def work_heading(row: dict[str, Any]) -> str:
    """What a reference is called on its page: its title, else its authors, else as printed."""
    if row.get("title"):
        return str(row["title"])
    if authors_text(row.get("authors")):
        return authors_text(row.get("authors"))
    text = " ".join(str(row.get("as_printed") or "").split())
    return text if len(text) <= 90 else text[:87] + "…"


def context_snippet(
    text: str, start: int, end: int, *, before: int = 320, after: int = 320
) -> dict[str, Any]:
    """The quote and the text around it, cut at word boundaries."""
    lo, hi = max(0, start - before), min(len(text), end + after)
    if lo > 0 and (m := re.search(r"\s", text[lo:start])):
        lo += m.end()
    if hi < len(text):
        last = None
        for last in re.finditer(r"\s", text[end:hi]):  # noqa: B007 -- used after the loop
            pass
        if last:
            hi = end + last.start()
    return {
        "before": text[lo:start],
        "quote": text[start:end],
        "after": text[end:hi],
        "cut_before": lo > 0,
        "cut_after": hi < len(text),
    }


_INLINE_MATH = re.compile(r"(?<!\\)\$\$?(.+?)(?<!\\)\$\$?", re.S)
_ACCENTED = re.compile(r"""\\["'`^~]\{?[A-Za-z]\}?""")
_latex2text = None


def plain(value: Any) -> str:
    """Text for places that hold no markup (snippets, tooltips): each $...$ formula and each
    LaTeX accent as plain Unicode (\\hbar -> ħ), so that no LaTeX command shows."""
    global _latex2text
    text = str(value or "")
    if "$" not in text and "\\" not in text:
        return text
    if _latex2text is None:
        from pylatexenc.latex2text import LatexNodes2Text

        _latex2text = LatexNodes2Text(math_mode="text")
    convert = _latex2text.latex_to_text
    text = _INLINE_MATH.sub(lambda m: convert(m.group(1)), text)
    return _ACCENTED.sub(lambda m: convert(m.group(0)), text)


def snippet(value: Any) -> Markup:
    """FTS snippet() output with \\x02 ... \\x03 around hits -> escaped text with <mark>."""
    s = str(escape(" ".join(plain(value).split())))
    return Markup(s.replace("\x02", '<mark class="ckb-hit">').replace("\x03", "</mark>"))


def stacked_bar(
    vocab: dict,
    name: str,
    counts: dict[str, int],
    *,
    label: str,
    width: int = 320,
    height: int = 18,
) -> Markup:
    """A horizontal stacked bar of the terms' counts, as server-side SVG (best term first),
    with a text alternative that lists every count."""
    terms = sorted(vocab.get(name, {}).values(), key=lambda t: t["rank"])
    total = sum(counts.values())
    parts = [f"{n} {t}" for t in (x["term"] for x in terms) if (n := counts.get(t, 0))]
    alt = f"{label}: " + (", ".join(parts) if parts else "none")
    if not total:
        return Markup('<p class="ckb-small ckb-muted">{}</p>').format(alt)
    rects, x = [], 0.0
    for t in terms:
        n = counts.get(t["term"], 0)
        if not n:
            continue
        w = width * n / total
        rects.append(
            Markup(
                '<rect x="{:.2f}" y="0" width="{:.2f}" height="{}" fill="{}">'
                "<title>{}: {}</title></rect>"
            ).format(x, w, height, colours(vocab, name, t["term"])[0], t["term"], n)
        )
        x += w
    return Markup(
        '<svg class="ckb-chart" viewBox="0 0 {w} {h}" width="100%" height="{h}" role="img" '
        'aria-label="{alt}" preserveAspectRatio="none">{r}</svg>'
    ).format(w=width, h=height, alt=alt, r=Markup("").join(rects))


def relation_graph(
    nodes: list[dict[str, Any]], edges: list[dict[str, Any]], vocab: dict, url: Any
) -> Markup:
    """A small graph of claim relations as server-side SVG: claims on a circle (in document
    order), relations as arrows in the relation's colour, each node linked to its claim."""
    if not edges:
        return Markup("")
    n = len(nodes)
    size, r = 360, 140
    c = size / 2
    pos = {}
    for i, node in enumerate(nodes):
        a = 2 * math.pi * i / n - math.pi / 2
        pos[node["id"]] = (c + r * math.cos(a), c + r * math.sin(a))
    lines = []
    for e in edges:
        if e["from"] not in pos or e["to"] not in pos:
            continue
        (x1, y1), (x2, y2) = pos[e["from"]], pos[e["to"]]
        colour = colours(vocab, "relation", e["relation"])[0]
        lines.append(
            Markup(
                '<line x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}" stroke="{}" '
                'stroke-width="2" marker-end="url(#ckb-arrow)"><title>{} {} {}'
                "</title></line>"
            ).format(x1, y1, x2, y2, colour, e["from"], e["relation"].replace("_", " "), e["to"])
        )
    dots = []
    for node in nodes:
        x, y = pos[node["id"]]
        bg = colours(vocab, "evidence_status", node["status"])[0]
        label = f"Claim {node['id']} ({node['status']}): {plain(node['statement'])}"
        dots.append(
            Markup(
                '<a href="{}" aria-label="{}"><circle cx="{:.1f}" cy="{:.1f}" r="9" '
                'fill="{}" stroke="#000"><title>{}</title></circle><text x="{:.1f}" '
                'y="{:.1f}" class="ckb-graph-label">{}</text></a>'
            ).format(
                url("claim", node["id"]),
                label,
                x,
                y,
                bg,
                label,
                x + 11,
                y + 4,
                node["id"].rsplit("-", 1)[-1],
            )
        )
    return Markup(
        '<svg class="ckb-graph" viewBox="0 0 {s} {s}" role="group" aria-label="{alt}">'
        '<defs><marker id="ckb-arrow" viewBox="0 0 10 10" refX="19" refY="5" markerWidth="6" '
        'markerHeight="6" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z"/>'
        "</marker></defs>{lines}{dots}</svg>"
    ).format(
        s=size,
        alt=f"Relations between {n} claims: {len(lines)} links",
        lines=Markup("").join(lines),
        dots=Markup("").join(dots),
    )


def document_badge(vocab: dict, doc: dict[str, Any]) -> Markup:
    """What kind of document it is and what about it was verified, in words. Green (the
    vocabulary's colour) only for what was verified: a journal article whose venue could
    not be confirmed is shown in a neutral colour, as such."""
    kind = doc.get("kind")
    if doc.get("draft"):
        return neutral("draft · not assessed", "Drafted from the text; no curator has assessed it")
    if kind == "peer-reviewed article" and not doc.get("venue_verified"):
        return neutral(
            "journal article · venue unverified",
            "Laid out as a journal article, but its journal, year and review could "
            "not be confirmed in a publisher's or catalogue record",
        )
    if doc.get("venue_verified"):
        return badge(vocab, "document_kind", kind) + Markup(" ") + neutral("venue verified")
    return badge(vocab, "document_kind", kind)


def agreement_text(row: dict[str, Any] | None) -> str:
    """ "read twice: 91% agreement, κ = 0.86" """
    if not row or not row.get("records"):
        return ""
    kappa = row.get("kappa")
    k = f", κ = {kappa:.2f}" if kappa is not None else ""
    rnd = row.get("round") or 1
    which = f", reading round {rnd}" if rnd > 1 else ""
    return f"read twice: {row['exact'] * 100:.0f}% agreement{k} ({row['records']} records{which})"


def tilde(value: Any) -> str:
    """Datasette's tilde encoding of a row id for its URLs: every character other than
    letters, digits, _ and - becomes ~ and its two hex digits."""
    return "".join(
        c
        if c.isascii() and (c.isalnum() or c in "_-")
        else "".join(f"~{b:02X}" for b in c.encode())
        for c in str(value)
    )


def marked_text(text: str, base: int, markup: list[dict[str, Any]]) -> Markup:
    """The text [base, base + len(text)) of a document, escaped, with each span of LaTeX that
    lies wholly inside it shown as the HTML the build made of it (MathML, an accent)."""
    out, pos = [], 0
    end = base + len(text)
    for m in markup:
        s, e = m["start"] - base, m["end"] - base
        if m["start"] < base or m["end"] > end or s < pos:
            continue
        out.append(escape(text[pos:s]))
        block = 'display="block"' in m["html"]  # may be wider than a phone: it scrolls
        out.append(
            Markup('<span class="ckb-math{}" title="{}"{}>{}</span>').format(
                " ckb-math-block" if block else "",
                text[s:e],
                Markup(' tabindex="0"') if block else "",
                Markup(m["html"]),
            )
        )  # written and sanitised by the build
        pos = e
    out.append(escape(text[pos:]))
    return Markup("").join(out)

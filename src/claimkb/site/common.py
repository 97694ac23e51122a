"""Shared helpers of the claimkb site plugins (imported by the files in plugins/).

Everything here reads only the database Datasette serves: vocabulary colours
and definitions come from the vocabulary tables, never from Python models.
The only thing taken from the Python side is the database's own shape
(schema.VOCAB_TABLES: which table holds which vocabulary).
"""

from __future__ import annotations

import contextvars
import json
import os
import re
import weakref
from typing import Any
from urllib.parse import quote

from markupsafe import Markup, escape

from claimkb.build import schema

#: the database name the site expects (metadata.yml uses it); any other
#: database that has a `claims` table is accepted too
DB_NAME = "claimkb"

#: vocabulary name -> table
VOCAB_TABLES = schema.VOCAB_TABLES

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

#: column name -> vocabulary, for badges in tables, views and canned queries
STATUS_COLUMNS = {
    "status": "evidence_status",
    "assessment_status": "evidence_status",
    "from_status": "evidence_status",
    "to_status": "evidence_status",
    "check_status": "check_status",
    "citation_status": "citation_status",
    "claim_type": "claim_type",
    "voice": "voice",
    "kind": "document_kind",
    "stance": "stance",
    "relation": "relation",
    "severity": "severity",
}

#: record kind -> URL prefix of its reader page
RECORD_PATHS = {
    "claim": "claim",
    "equation": "equation",
    "bibliography": "reference",
    "reference": "reference",
    "document": "document",
}

#: what one request has learnt and may reuse, e.g. (database, fts table, search) -> the exact
#: count of its matches (claimkb_facets.py); a fresh dict for every request (claimkb_facets'
#: asgi_wrapper), None outside a request. Here, not in a plugin file: Datasette executes a
#: plugin file again for every instance, and all of them must share this one variable.
REQUEST_MEMO: contextvars.ContextVar[dict | None] = contextvars.ContextVar(
    "claimkb_request_memo", default=None
)

_vocab_cache: weakref.WeakKeyDictionary[Any, dict] = weakref.WeakKeyDictionary()


_name_cache: weakref.WeakKeyDictionary[Any, str | None] = weakref.WeakKeyDictionary()


def _looks_like_claimkb(path: str | None) -> bool:
    if not path:
        return False
    import sqlite3

    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            names = {
                r[0]
                for r in conn.execute(
                    "select name from sqlite_master where type in ('table', 'view')"
                )
            }
        finally:
            conn.close()
    except sqlite3.Error:
        return False
    return {"claims", "documents", "evidence_statuses"} <= names


def kb_database_name(datasette) -> str | None:
    """Name of the claimkb database among those Datasette serves ("claimkb", or the
    first database that has the claimkb tables); None when there is none."""
    if datasette in _name_cache:
        return _name_cache[datasette]
    dbs = datasette.databases
    name = None
    if DB_NAME in dbs:
        name = DB_NAME
    else:
        for n, db in dbs.items():
            if not n.startswith("_") and _looks_like_claimkb(getattr(db, "path", None)):
                name = n
                break
    _name_cache[datasette] = name
    return name


def kb_database(datasette):
    name = kb_database_name(datasette)
    if name is None:
        from datasette.utils.asgi import NotFound

        raise NotFound("the claimkb database is not being served")
    return datasette.get_database(name)


def db_stamp(db) -> tuple:
    """Changes whenever the served file does: a build replaced it (new inode) or committed
    to it in place (WAL mode: the -wal file grows; a checkpoint rewrites the main file).
    Constant for immutable and in-memory databases."""
    path = getattr(db, "path", None)
    if db is None or not path or not getattr(db, "is_mutable", False):
        return ()
    stamp = []
    for p in (path, f"{path}-wal"):
        try:
            st = os.stat(p)
            stamp.append((st.st_ino, st.st_mtime_ns, st.st_size))
        except OSError:
            stamp.append(None)
    return tuple(stamp)


def cached_vocabulary(datasette) -> dict[str, dict[str, dict[str, Any]]] | None:
    """The cached vocabulary if the database has not changed since it was read, else None."""
    entry = _vocab_cache.get(datasette)
    if entry is None:
        return None
    stamp, out = entry
    return out if stamp == db_stamp(kb_database(datasette)) else None


async def vocabulary(datasette) -> dict[str, dict[str, dict[str, Any]]]:
    """vocabulary -> term -> {rank, colour, text_colour, definition}; cached until the
    database file changes (builds update it in place)."""
    cached = cached_vocabulary(datasette)
    if cached is not None:
        return cached
    db = kb_database(datasette)
    stamp = db_stamp(db)  # taken before reading: a change during the read is seen next time
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for vocab, table in VOCAB_TABLES.items():
        res = await db.execute(
            f"select term, rank, colour, text_colour, definition from [{table}] order by rank"
        )
        out[vocab] = {r["term"]: dict(r) for r in res.rows}
    old = _vocab_cache.get(datasette)
    if old is not None:
        _badge_cache.pop(id(old[1]), None)
    _vocab_cache[datasette] = (stamp, out)
    _badge_cache[id(out)] = (out, {})
    return out


#: id(vocabulary dict) -> (that dict, kept alive so its id is never reused; {badge args: Markup}).
#: Only the vocabularies read from the database (current version) are memoised, never ad-hoc ones.
_badge_cache: dict[int, tuple[dict, dict]] = {}


_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


def badge(
    vocab: dict, vocab_name: str, term: Any, *, prefix: bool = True, extra_class: str = ""
) -> Markup:
    """A badge: the term as text, in its vocabulary colours, definition on hover.

    The visible text is the label itself (legible in greyscale); a visually
    hidden prefix names the vocabulary for screen readers.
    """
    if term is None or term == "":
        return Markup('<span class="ckb-badge ckb-badge-none">none</span>')
    memo = _badge_cache.get(id(vocab))
    # memoised only for the vocabulary's own terms (bounded), never for arbitrary values
    if (
        memo is not None
        and memo[0] is vocab
        and isinstance(term, str)
        and term in vocab.get(vocab_name, {})
    ):
        key = (vocab_name, term, prefix, extra_class)
        hit = memo[1].get(key)
        if hit is None:
            hit = memo[1][key] = _badge(vocab, vocab_name, term, prefix, extra_class)
        return hit
    return _badge(vocab, vocab_name, term, prefix, extra_class)


def _badge(vocab: dict, vocab_name: str, term: Any, prefix: bool, extra_class: str) -> Markup:
    info = vocab.get(vocab_name, {}).get(term)
    label = VOCAB_LABELS.get(vocab_name, vocab_name.replace("_", " "))
    hidden = Markup('<span class="ckb-vh">{}: </span>').format(label) if prefix else Markup("")
    if info is None:
        return Markup('<span class="ckb-badge ckb-badge-unknown {}" title="{}">{}{}</span>').format(
            extra_class, f"not a {label} term", hidden, term
        )
    bg = info["colour"] if _HEX.match(info["colour"] or "") else "#e0e0e0"
    fg = info["text_colour"] if _HEX.match(info["text_colour"] or "") else "#000000"
    slug = re.sub(r"[^a-z0-9]+", "-", str(term).lower()).strip("-")
    return Markup(
        '<span class="ckb-badge ckb-{vocab} ckb-{vocab}-{slug} {extra}" style="--ckb-bg:{bg};--ckb-fg:{fg}" '
        'title="{title}">{hidden}{term}</span>'
    ).format(
        vocab=vocab_name.replace("_", "-"),
        slug=slug,
        extra=extra_class,
        bg=bg,
        fg=fg,
        title=f"{label} “{term}”: {info['definition']}",
        hidden=hidden,
        term=term,
    )


def colours(vocab: dict, vocab_name: str, term: Any) -> tuple[str, str]:
    info = vocab.get(vocab_name, {}).get(term)
    if not info:
        return "#e0e0e0", "#000000"
    return info["colour"], info["text_colour"]


# --- Markdown (rationales, assessments, notes) -------------------------------------------

_md = None

#: what a rendered rationale may contain: text formatting, lists, tables, links;
#: no images (they would fetch from off the machine), no scripts, no styles
_ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "del",
    "em",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "li",
    "ol",
    "p",
    "pre",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}


def markdown(text: Any) -> Markup:
    """Markdown -> sanitized HTML (markdown-it-py with raw HTML off, then nh3)."""
    if text is None or str(text).strip() == "":
        return Markup("")
    global _md
    if _md is None:
        from markdown_it import MarkdownIt

        _md = MarkdownIt(
            "commonmark", {"html": False, "linkify": False, "typographer": False}
        ).enable("table")
    import nh3

    html = _md.render(str(text))
    clean = nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes={"a": {"href", "title"}, "abbr": {"title"}, "td": {"align"}, "th": {"align"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return Markup(clean)


# --- Mathematics ---------------------------------------------------------------------------

_mathml_cache: dict[tuple[str, bool], tuple[str | None, str | None]] = {}


def latex_to_mathml(latex: str, display: bool = True) -> tuple[str | None, str | None]:
    """(mathml, error) converting at request time: the fallback when the database
    has no stored `equations.mathml`. Uses claimkb.mathml when importable."""
    key = (latex, display)
    if key in _mathml_cache:
        return _mathml_cache[key]
    try:
        from claimkb.ingest.mathml import MathError, to_mathml
    except ImportError:  # the site served without the claimkb package: plain latex2mathml
        try:
            from latex2mathml.converter import convert
        except ImportError:
            result = (None, "no LaTeX converter installed")
        else:
            try:
                result = (convert(latex, display="block" if display else "inline"), None)
            except Exception as e:  # noqa: BLE001 - any parse failure is shown as source
                result = (None, f"{type(e).__name__}: {e}")
    else:
        try:
            result = (to_mathml(latex, display=display), None)
        except MathError as e:
            result = (None, str(e))
    if len(_mathml_cache) < 4096:
        _mathml_cache[key] = result
    return result


def math_block(
    latex: Any, stored: Any = None, *, display: bool = True, label: str = "equation"
) -> Markup:
    """Rendered MathML (stored column first, else converted), with the LaTeX as fallback."""
    if latex is None or str(latex).strip() == "":
        return Markup('<span class="ckb-math-missing">no LaTeX recorded</span>')
    mathml, error = (stored, None) if stored else latex_to_mathml(str(latex), display)
    cls = "ckb-math-display" if display else "ckb-math-inline"
    if mathml:
        mathml = str(mathml)
        if mathml.startswith("<math ") and "alttext=" not in mathml[:200]:
            mathml = f'<math alttext="{escape(latex)}" ' + mathml[len("<math ") :]
        return Markup(
            '<span class="ckb-math {cls}" role="math" aria-label="{label}">{m}</span>'
        ).format(cls=cls, label=label, m=Markup(mathml))
    return Markup('<code class="ckb-latex" title="could not be rendered: {e}">{l}</code>').format(
        e=error, l=latex
    )


# --- Links and formatting -----------------------------------------------------------------


def record_url(datasette, kind: str, record_id: Any, *, read: bool = False) -> str:
    prefix = RECORD_PATHS.get(kind, kind)
    path = f"/{prefix}/{quote(str(record_id), safe=':')}"
    if read:
        path += "/read"
    return datasette.urls.path(path)


def identifier_links(row: Any) -> list[tuple[str, str]]:
    """[(label, url)] for a work's DOI, arXiv id, ISBN and URL."""

    def get(k):
        try:
            return row[k]
        except (KeyError, IndexError):
            return None

    out = []
    doi = get("doi")
    if doi:
        out.append((f"doi:{doi}", "https://doi.org/" + quote(str(doi), safe="/:;()._-<>")))
    arxiv = get("arxiv_id")
    if arxiv:
        out.append((f"arXiv:{arxiv}", "https://arxiv.org/abs/" + quote(str(arxiv), safe="/.")))
    isbn = get("isbn")
    if isbn:
        digits = re.sub(r"[^0-9Xx]", "", str(isbn))
        out.append((f"ISBN {isbn}", "https://openlibrary.org/isbn/" + digits))
    url = get("url")
    if url and re.match(r"(?i)^https?://", str(url)):
        out.append(("link", str(url)))
    return out


def authors_list(value: Any) -> list[str]:
    if not value:
        return []
    if isinstance(value, list):
        return [str(a) for a in value]
    try:
        data = json.loads(value)
    except (TypeError, ValueError):
        return [str(value)]
    return [str(a) for a in data] if isinstance(data, list) else [str(data)]


def authors_text(value: Any, limit: int = 6) -> str:
    names = authors_list(value)
    if not names:
        return ""
    if len(names) > limit:
        return "; ".join(names[:limit]) + f"; … ({len(names)} authors)"
    return "; ".join(names)


def json_list(value: Any) -> list[Any]:
    if not value:
        return []
    try:
        data = json.loads(value)
    except (TypeError, ValueError):
        return [value]
    return data if isinstance(data, list) else [data]


def cite_work(row: Any) -> Markup:
    """Authors (year). Title. Venue volume(issue), pages. Publisher. — as HTML."""

    def get(k):
        try:
            return row[k]
        except (KeyError, IndexError):
            return None

    parts: list[Markup] = []
    a = authors_text(get("authors"))
    if a:
        parts.append(escape(a))
    if get("year"):
        parts.append(Markup("({})").format(get("year")))
    head = Markup(" ").join(parts)
    bits = [head + (Markup("") if str(head).endswith(".") else Markup("."))] if parts else []
    if get("title"):
        bits.append(Markup("<cite>{}</cite>.").format(get("title")))
    venue = []
    if get("venue"):
        venue.append(Markup("<i>{}</i>").format(get("venue")))
    if get("volume"):
        venue.append(
            Markup("{}").format(get("volume"))
            + (Markup("({})").format(get("issue")) if get("issue") else Markup(""))
        )
    if get("pages"):
        venue.append(escape(get("pages")))
    if venue:
        bits.append(Markup(", ").join(venue) + Markup("."))
    if get("publisher"):
        bits.append(escape(get("publisher")) + Markup("."))
    return Markup(" ").join(bits)


def context_snippet(
    text: str, start: int, end: int, *, before: int = 320, after: int = 320
) -> tuple[str, str, str, bool, bool]:
    """(text before, quote, text after, cut at start, cut at end), cut at word boundaries."""
    lo = max(0, start - before)
    hi = min(len(text), end + after)
    if lo > 0:
        m = re.search(r"\s", text[lo:start])
        if m:
            lo = lo + m.end()
    if hi < len(text):
        m = None
        for m in re.finditer(r"\s", text[end:hi]):
            pass
        if m:
            hi = end + m.start()
    return text[lo:start], text[start:end], text[end:hi], lo > 0, hi < len(text)


def snippet_html(value: Any) -> Markup:
    """FTS snippet() output with \\x02 ... \\x03 around hits -> escaped text with <mark>."""
    s = str(escape(re.sub(r"\s+", " ", str(value))))
    s = s.replace("\x02", '<mark class="ckb-hit">').replace("\x03", "</mark>")
    return Markup(s)

"""Bibliographic exports: BibTeX and CSL-JSON, one entry per work.

The works are the bibliography entries of every document that name a work (``work = 1``)
and every external evidence work (evidence items that point at a ``work``, not at the
document's own bibliography). They are grouped into one entry per work: by DOI, then ISBN,
then arXiv id, then URL (case and resolver prefixes ignored), and for a work without any
identifier by its first author's family name, year and title; fields missing in one copy
are filled from the others. An entry that names neither a title nor an author (a reference
no one could identify) is not a work a reference manager can hold: it is left out, and the
BibTeX header counts it.

Keys: the record id of the work's first bibliography entry in document order (e.g.
``000-ref03``); a work only evidence cites gets ``<family><year><word>`` (ASCII), with
``a``, ``b``, ... appended on a clash, assigned in the order of the works' identities, so
the keys are stable from one export to the next.
"""

from __future__ import annotations

import json
import re
import sqlite3
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from ..build.schema import WORK_COLUMNS
from ..identifiers import arxiv_key, doi_key, isbn13, isbn_digits


@dataclass
class WorkRecord:
    key: str
    kind: str  # "bibliography" or "evidence"
    fields: dict[str, Any]
    note: str | None = None
    about: list[str] = field(default_factory=list)  # record ids (evidence works)

    @property
    def csl_type(self) -> str:
        f = self.fields
        if f.get("isbn"):
            return "book"
        if f.get("venue") and (f.get("volume") or f.get("issue") or f.get("pages")):
            return "article-journal"
        if f.get("arxiv_id"):
            return "article"
        if f.get("doi"):
            return "article-journal" if f.get("venue") else "article"
        if f.get("url"):
            return "webpage"
        # CSL 1.0.1 has no generic "document" type (1.0.2 does); older readers know this one
        return "article"


_STOP = {"a", "an", "the", "on", "of", "in", "and", "for", "to", "at", "from", "with", "by"}


def _ascii(s: str) -> str:
    return re.sub(
        r"[^A-Za-z0-9]", "", unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()
    )


def identity(f: dict[str, Any]) -> str | None:
    """The deduplication key of a work: its DOI, ISBN, arXiv id or URL, normalised."""
    if f.get("doi"):
        return "doi:" + doi_key(f["doi"])
    if f.get("isbn"):
        return "isbn:" + (isbn13(f["isbn"]) or isbn_digits(f["isbn"]))
    if f.get("arxiv_id"):
        return "arxiv:" + arxiv_key(f["arxiv_id"])
    if f.get("url"):
        u = f["url"].strip()
        u = re.sub(r"^https?://(www\.)?", "", u, flags=re.I)
        host, _, path = u.partition("/")
        return "url:" + host.lower() + "/" + path.rstrip("/")
    return None


def _fields(row: sqlite3.Row) -> dict[str, Any]:
    out = {k: row[k] for k in WORK_COLUMNS}
    out["authors"] = json.loads(row["authors"] or "[]")
    return out


def _author_key(f: dict[str, Any], ident: str) -> str:
    """<family><year><first title word>; without authors <Two><Title words><year>;
    else from the identifier."""
    authors = f.get("authors") or []
    words = [
        w
        for w in re.findall(r"[^\W_]+", f.get("title") or "", flags=re.UNICODE)
        if w.lower() not in _STOP
    ]
    year = str(f["year"]) if f.get("year") else ""
    if authors:
        # the family name; for a corporate author (no comma) its first word
        fam = authors[0].split(",", 1)[0] if "," in authors[0] else authors[0].split()[0]
        key = _ascii(fam) + year + _ascii(words[0].lower() if words else "")
    else:
        key = "".join(_ascii(w).capitalize() for w in words[:2]) + year
    return key if re.match(r"[A-Za-z]", key or "") else "w" + _ascii(ident)[:30]


def _citation_key(f: dict[str, Any]) -> str | None:
    """The identity of a work with no identifier: first author's family name, year, title."""
    authors, title = f.get("authors") or [], f.get("title") or ""
    if not authors and not title:
        return None
    family = authors[0].split(",", 1)[0] if authors else ""
    words = [w for w in re.findall(r"[^\W_]+", title.lower()) if w not in _STOP][:4]
    return (
        "cite:"
        + _ascii(family).lower()
        + ":"
        + str(f.get("year") or "")
        + ":"
        + "-".join(_ascii(w) for w in words)
    )


def _merge(groups: dict[str, WorkRecord], ident: str, w: WorkRecord) -> None:
    if ident not in groups:
        groups[ident] = w
        return
    g = groups[ident]
    for k, v in w.fields.items():
        if not g.fields.get(k) and v:
            g.fields[k] = v
    g.about += [a for a in w.about if a not in g.about]
    if g.kind != "bibliography" and w.kind == "bibliography":
        g.kind, g.key = "bibliography", w.key


def _rows(conn: sqlite3.Connection) -> list[WorkRecord]:
    """Every copy of a work, in document order: bibliography entries, then evidence works."""
    out = []
    for r in conn.execute(
        "select * from bibliography where work = 1 order by document_id, position, id"
    ):
        f = _fields(r)
        note = None if f.get("title") else f"As printed in {r['document_id']}: {r['as_printed']}"
        out.append(
            WorkRecord(key=r["id"], kind="bibliography", fields=f, note=note, about=[r["id"]])
        )
    for r in conn.execute("select * from evidence where cites_bibliography_id is null order by id"):
        out.append(WorkRecord(key="", kind="evidence", fields=_fields(r), about=[r["about_id"]]))
    return out


def collect(conn: sqlite3.Connection) -> list[WorkRecord]:
    """One record per work: those with a bibliography entry first (in document order), then
    the works only evidence cites. Works no one could identify are left out (``unnamed``)."""
    groups: dict[str, WorkRecord] = {}
    for w in _rows(conn):
        ident = identity(w.fields) or _citation_key(w.fields)
        if ident is not None:
            _merge(groups, ident, w)
    cited = [w for w in groups.values() if w.kind == "bibliography"]
    used = {w.key.lower() for w in cited}
    rest = []
    for ident in sorted(k for k, w in groups.items() if w.kind == "evidence"):
        w = groups[ident]
        base = _author_key(w.fields, ident)
        key, n = base, 0
        while key.lower() in used:
            key = base + _suffix(n)
            n += 1
        used.add(key.lower())
        w.key = key
        rest.append(w)
    return cited + rest


def unnamed(conn: sqlite3.Connection) -> list[str]:
    """Bibliography entries that name a work no one could identify (no title, no author)."""
    return [
        w.key
        for w in _rows(conn)
        if w.kind == "bibliography"
        and identity(w.fields) is None
        and _citation_key(w.fields) is None
    ]


def _suffix(n: int) -> str:
    s = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(ord("a") + r) + s
    return s


# --------------------------------------------------------------------------- CSL-JSON


def _csl_name(a: str) -> dict[str, str]:
    if "," in a:
        family, given = (p.strip() for p in a.split(",", 1))
        return {"family": family, "given": given} if given else {"family": family}
    return {"literal": a}


def csl_item(w: WorkRecord) -> dict[str, Any]:
    f = w.fields
    item: dict[str, Any] = {"id": w.key, "type": w.csl_type}
    if f.get("title"):
        item["title"] = f["title"]
    if f.get("authors"):
        item["author"] = [_csl_name(a) for a in f["authors"]]
    if f.get("year"):
        item["issued"] = {"date-parts": [[int(f["year"])]]}
    if f.get("venue"):
        item["container-title"] = f["venue"]
    for src, dst in (
        ("volume", "volume"),
        ("issue", "issue"),
        ("pages", "page"),
        ("publisher", "publisher"),
        ("doi", "DOI"),
        ("isbn", "ISBN"),
        ("url", "URL"),
    ):
        if f.get(src):
            item[dst] = str(f[src])
    if f.get("arxiv_id"):
        item["number"] = f"arXiv:{f['arxiv_id']}"
        item.setdefault("publisher", "arXiv")
        item.setdefault("URL", f"https://arxiv.org/abs/{f['arxiv_id']}")
    if w.note:
        item["note"] = w.note
    return item


def render_csl(conn: sqlite3.Connection) -> str:
    return json.dumps([csl_item(w) for w in collect(conn)], ensure_ascii=False, indent=2) + "\n"


# --------------------------------------------------------------------------- BibTeX

_TEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_TEX_RE = re.compile("|".join(re.escape(c) for c in _TEX_SPECIAL))


def tex_escape(s: str) -> str:
    """Escape TeX's special characters; other Unicode stays as is (biber and bibtexparser
    read UTF-8)."""
    return _TEX_RE.sub(lambda m: _TEX_SPECIAL[m.group()], s)


def _verbatim(s: str) -> str:
    """A URL/DOI field: written raw (as hyperref's \\url reads it), only braces escaped."""
    return s.replace("{", "%7B").replace("}", "%7D")


def _bib_name(a: str) -> str:
    # a name without a comma is a corporate or literal name: protect it from name parsing
    return tex_escape(a) if "," in a else "{" + tex_escape(a) + "}"


def bibtex_entry(w: WorkRecord) -> str:
    f = w.fields
    t = w.csl_type
    entry_type = {"book": "book", "article-journal": "article"}.get(t, "misc")
    pairs: list[tuple[str, str]] = []
    if f.get("authors"):
        pairs.append(("author", " and ".join(_bib_name(a) for a in f["authors"])))
    if f.get("title"):
        pairs.append(("title", tex_escape(f["title"])))
    if f.get("venue"):
        pairs.append(
            (
                "journal"
                if entry_type == "article"
                else ("series" if entry_type == "book" else "howpublished"),
                tex_escape(f["venue"]),
            )
        )
    if f.get("year"):
        pairs.append(("year", str(f["year"])))
    for src, dst in (
        ("volume", "volume"),
        ("issue", "number"),
        ("pages", "pages"),
        ("publisher", "publisher"),
    ):
        if f.get(src):
            pairs.append((dst, tex_escape(str(f[src]))))
    if f.get("doi"):
        pairs.append(("doi", _verbatim(f["doi"])))
    if f.get("isbn"):
        pairs.append(("isbn", tex_escape(f["isbn"])))
    if f.get("arxiv_id"):
        pairs += [("eprint", _verbatim(f["arxiv_id"])), ("archiveprefix", "arXiv")]
    if f.get("url"):
        pairs.append(("url", _verbatim(f["url"])))
    if w.note:
        pairs.append(("note", tex_escape(w.note)))
    body = ",\n".join(f"  {k} = {{{v}}}" for k, v in pairs)
    return f"@{entry_type}{{{w.key},\n{body}\n}}\n"


def render_bibtex(conn: sqlite3.Connection) -> str:
    works = collect(conn)
    left_out = unnamed(conn)
    head = (
        "% claimkb bibliography, from the built database: one entry per work cited in a\n"
        "% document's bibliography or as evidence.\n"
    )
    if left_out:
        head += (
            f"% Left out, naming no identifiable work (no title, no author): "
            f"{', '.join(left_out)}.\n"
        )
    return head + "\n" + "\n".join(bibtex_entry(w) for w in works)

"""Bibliographic exports: BibTeX and CSL-JSON.

Two kinds of works are exported:

1. every bibliography entry of every document, keyed by its record id (e.g.
   ``000-ref03``), with its verified metadata (and, when it has no title yet,
   the entry as printed in a ``note``);
2. every external evidence work (evidence items that point at a ``work``, not at
   the document's own bibliography), deduplicated by DOI, then ISBN, then arXiv
   id, then URL (case and resolver prefixes ignored); fields missing in one
   copy are filled from the others. Their keys are ``<family><year><word>``
   (ASCII), with ``a``, ``b``, ... appended on a clash, assigned in the order of
   the works' identifiers, so the keys are stable from one export to the next.
"""

from __future__ import annotations

import json
import re
import sqlite3
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from ..identifiers import arxiv_key, doi_key, isbn13, isbn_digits

FIELDS = (
    "title",
    "authors",
    "year",
    "venue",
    "volume",
    "issue",
    "pages",
    "publisher",
    "doi",
    "isbn",
    "arxiv_id",
    "url",
)


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
        return "article"  # CSL 1.0.1 has no generic "document" type (1.0.2 does); older readers know this one


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
    out = {k: row[k] for k in FIELDS}
    out["authors"] = json.loads(row["authors"] or "[]")
    return out


def _author_key(f: dict[str, Any], ident: str) -> str:
    """<family><year><first title word>; without authors <Two><Title words><year>; else from the identifier."""
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


def collect(conn: sqlite3.Connection) -> list[WorkRecord]:
    """Bibliography entries (in document order), then deduplicated evidence works."""
    out: list[WorkRecord] = []
    for r in conn.execute("select * from bibliography order by document_id, position, id"):
        f = _fields(r)
        note = None if f.get("title") else f"As printed in {r['document_id']}: {r['as_printed']}"
        out.append(
            WorkRecord(
                key=r["id"], kind="bibliography", fields=f, note=note, about=[r["document_id"]]
            )
        )
    merged: dict[str, WorkRecord] = {}
    for r in conn.execute("select * from evidence where cites_bibliography_id is null order by id"):
        f = _fields(r)
        ident = identity(f)
        if ident is None:  # the model requires an identifier; a hand-edited database might not
            continue
        if ident in merged:
            w = merged[ident]
            for k, v in f.items():
                if not w.fields.get(k) and v:
                    w.fields[k] = v
            if r["about_id"] not in w.about:
                w.about.append(r["about_id"])
        else:
            merged[ident] = WorkRecord(key="", kind="evidence", fields=f, about=[r["about_id"]])
    used = {w.key.lower() for w in out}
    for ident in sorted(merged):
        w = merged[ident]
        base = _author_key(w.fields, ident)
        key, n = base, 0
        while key.lower() in used:
            key = base + _suffix(n)
            n += 1
        used.add(key.lower())
        w.key = key
        out.append(w)
    return out


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
    """Escape TeX's special characters; other Unicode stays as is (biber and bibtexparser read UTF-8)."""
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
    head = "% claimkb bibliography: every bibliography entry and every evidence work, from the built database.\n\n"
    return head + "\n".join(bibtex_entry(w) for w in works)

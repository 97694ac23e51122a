"""Identifier rules: the identifiers of verified metadata and of printed citations.

Two sources are checked:

* the verified metadata of bibliography entries, evidence works and documents
  (fields ``doi``, ``isbn``, ``arxiv_id``, ``url``): a malformed identifier there
  is an error, since those fields hold the curator's verified values;
* the printed text of each bibliography entry (its ``quote``): the DOIs, ISBNs,
  arXiv ids and links the document prints are extracted and checked, and
  compared with the verified metadata. Whether a problem there is an error
  depends on the entry's ``citation_status``: a printed identifier that is
  wrong while the entry says ``verified`` is an error (the printed citation is
  not what the record says), otherwise it is a warning that shows on the page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..identifiers import (
    arxiv_problem,
    doi_from_url,
    doi_problem,
    is_legacy_doi_link,
    isbn13,
    isbn_problem,
    printed_identifiers,
    url_problem,
)

# field of a Work-like record, what is wrong with it, the rule of a malformed one, the advice
_METADATA_RULES = (
    (
        "doi",
        doi_problem,
        "doi-malformed",
        "The `doi` field holds the verified DOI: look the work up (Crossref, publisher) and "
        "write its DOI there; put a misprinted DOI in `problems`.",
    ),
    (
        "isbn",
        isbn_problem,
        "isbn-invalid",
        "The `isbn` field holds the verified ISBN: copy it from a library catalogue record.",
    ),
    (
        "arxiv_id",
        arxiv_problem,
        "arxiv-malformed",
        "Copy the identifier from the arXiv abstract page.",
    ),
    ("url", url_problem, "url-malformed", "Write a complete http(s) link."),
)


def _metadata_findings(
    col,
    ld,
    about_type: str,
    about_id: str,
    w,
    path: tuple,
    *,
    what: str,
    malformed_rule: str | None = None,
) -> bool:
    """Check the identifier fields of a Work-like record; True when one is malformed.

    ``malformed_rule`` replaces the rule name of malformed-identifier findings
    (evidence works report them all as ``evidence-identifier``). A well-formed `url` is also
    checked against the DOI (see _url_findings).
    """
    values = {
        "doi": w.doi,
        "isbn": getattr(w, "isbn", None),
        "arxiv_id": getattr(w, "arxiv_id", None),
        "url": w.url,
    }
    bad = False
    for name, problem_of, rule, advice in _METADATA_RULES:
        p = problem_of(values[name]) if values[name] else None
        if p:
            bad = True
            col.add(
                ld,
                about_type,
                about_id,
                malformed_rule or rule,
                "error",
                f"{what}: {p}. {advice}",
                _field_path(path, name),
            )
    if w.url and not url_problem(w.url):
        _url_findings(col, ld, about_type, about_id, w, path, what=what)
    return bad


def _field_path(path, *more: str) -> tuple:
    """The YAML path of a field; a callable path (evidence) is looked up only when there is
    something to report."""
    return (path() if callable(path) else path) + more


def _url_findings(col, ld, about_type: str, about_id: str, w, path, *, what: str) -> None:
    """A well-formed `url` that is a DOI link, or that stands next to a DOI."""
    linked = doi_from_url(w.url)
    if linked is not None:
        if w.doi and linked.lower() == w.doi.lower():
            msg = (
                f"{what}: `url` is a DOI link ({w.url}) repeating the `doi` field. Drop "
                "the `url`: the DOI is the stable link."
            )
        elif w.doi:
            msg = (
                f"{what}: `url` is a link to DOI {linked}, but `doi` is {w.doi}. Keep "
                "only the verified DOI in `doi` and drop the `url`."
            )
        else:
            msg = (
                f"{what}: `url` is a DOI link ({w.url}). Put the DOI ({linked}) in `doi` "
                "once verified, and drop the `url`."
            )
        col.add(ld, about_type, about_id, "url-is-doi", "warning", msg, _field_path(path, "url"))
    elif w.doi and about_type != "document":
        where_note = "the evidence `note`" if about_type == "evidence" else "`verification`"
        col.add(
            ld,
            about_type,
            about_id,
            "url-with-doi",
            "warning",
            f"{what}: has both a DOI ({w.doi}) and a URL ({w.url}). The DOI is the stable "
            "identifier: drop the `url` unless it points to something the DOI does not "
            f"(then say what in {where_note}).",
            _field_path(path, "url"),
        )


def _printed_severity(status: str) -> tuple[str, str]:
    """Severity of a problem in the printed citation, and the advice, given the citation status."""
    if status == "verified":
        return "error", (
            "The entry is marked `verified`, which says every element of the printed citation "
            "agrees with the record: set citation_status to `minor errors` or `citation error` "
            "and name the problem in `problems`."
        )
    if status == "not checked":
        return (
            "warning",
            "Check the citation and record the problem in `problems` with a fitting "
            "citation_status.",
        )
    return "warning", "Make sure `problems` names it."


@dataclass
class _Entry:
    """A bibliography entry whose printed identifiers are checked, and where its findings go;
    severity and advice are those of _printed_severity."""

    col: Any
    ld: Any
    i: int
    ref: Any
    severity: str
    advice: str

    def add(self, rule: str, severity: str, message: str, *, on_quote: bool = True) -> None:
        path = ("bibliography", self.i) + (("quote",) if on_quote else ())
        self.col.add(self.ld, "bibliography", self.ref.id, rule, severity, message, path)


def _printed_findings(col, ld, i: int, ref) -> None:
    """The DOIs, links, ISBNs and arXiv ids printed in an entry's quote: well formed, and the
    ones its verified metadata has."""
    pr = printed_identifiers(ref.quote)
    entry = _Entry(col, ld, i, ref, *_printed_severity(ref.citation_status))
    for doi, link in pr.dois:
        _printed_doi_findings(entry, doi, link)
    if pr.urls and not pr.dois:
        _printed_link_findings(entry, ", ".join(pr.urls))
    for isbn in pr.isbns:
        _printed_isbn_findings(entry, isbn)
    for a in pr.arxiv:
        _printed_arxiv_findings(entry, a)


def _printed_doi_findings(entry: _Entry, doi: str, link: str | None) -> None:
    ref, advice = entry.ref, entry.advice
    p = doi_problem(doi)
    if p:
        sev = entry.severity
        extra = advice
        if ref.citation_status == "minor errors":
            sev, extra = (
                "warning",
                "A malformed identifier is a `citation error` in the vocabulary; make sure "
                "`problems` names it.",
            )
        entry.add(
            "printed-doi-malformed", sev, f"The printed citation's DOI is malformed: {p}. {extra}"
        )
    elif ref.doi and doi.lower() != ref.doi.lower():
        entry.add(
            "printed-doi-differs",
            entry.severity,
            f"The printed citation gives DOI {doi}, but the verified record has {ref.doi}. "
            f"{advice}",
        )
    elif not ref.doi:
        entry.add(
            "doi-not-recorded",
            "info",
            f"The printed citation gives DOI {doi}, and the entry has no `doi`. Verify it "
            "(Crossref, publisher) and record it in `doi`.",
            on_quote=False,
        )
    if link is not None and is_legacy_doi_link(link):
        entry.add(
            "printed-doi-legacy-link",
            "warning",
            f"The printed citation links the DOI as {link}; Crossref's display guidelines ask "
            f"for https://doi.org/{doi} (the old form still resolves). Note it in `problems` "
            "(a minor error).",
        )


def _printed_link_findings(entry: _Entry, shown: str) -> None:
    """Links printed where no DOI is printed."""
    ref = entry.ref
    if ref.doi:
        entry.add(
            "printed-url-instead-of-doi",
            entry.severity,
            f"The printed citation gives a link ({shown}) where the work has a DOI "
            f"({ref.doi}). {entry.advice}",
        )
    elif not ref.isbn and not ref.arxiv_id:
        entry.add(
            "printed-link-without-doi",
            "info",
            f"The printed citation gives only a link ({shown}), no DOI. If the work has a DOI "
            "(journal articles usually do), record it in `doi` once verified and note the "
            "link in `problems` (a link in place of a DOI is a minor error).",
        )


def _printed_isbn_findings(entry: _Entry, isbn: str) -> None:
    ref = entry.ref
    p = isbn_problem(isbn)
    if p:
        entry.add(
            "printed-isbn-invalid",
            entry.severity,
            f"The printed citation's ISBN is invalid: {p}. {entry.advice}",
        )
    elif ref.isbn and isbn13(ref.isbn) is not None and isbn13(isbn) != isbn13(ref.isbn):
        entry.add(
            "printed-isbn-differs",
            entry.severity,
            f"The printed citation gives ISBN {isbn}, but the verified record has {ref.isbn}. "
            f"{entry.advice}",
        )


def _printed_arxiv_findings(entry: _Entry, a: str) -> None:
    ref = entry.ref
    p = arxiv_problem(a)
    if p:
        entry.add(
            "printed-arxiv-malformed",
            entry.severity,
            f"The printed citation's arXiv identifier is malformed: {p}. {entry.advice}",
        )
    elif ref.arxiv_id and re.sub(r"v\d+$", "", a) != re.sub(r"v\d+$", "", ref.arxiv_id):
        entry.add(
            "printed-arxiv-differs",
            entry.severity,
            f"The printed citation gives arXiv {a}, but the verified record has "
            f"{ref.arxiv_id}. {entry.advice}",
        )


def check(kb, col, evidence_ids) -> None:
    """All identifier rules, one pass over documents, bibliography entries and evidence works."""
    for ld in kb.documents:
        d = ld.doc
        _metadata_findings(col, ld, "document", d.id, d, (), what=f"document {d.id}")
        for i, ref in enumerate(d.bibliography):
            bad = _metadata_findings(
                col,
                ld,
                "bibliography",
                ref.id,
                ref,
                ("bibliography", i),
                what=f"bibliography entry {ref.id}",
            )
            if bad and ref.citation_status == "verified":
                col.add(
                    ld,
                    "bibliography",
                    ref.id,
                    "verified-with-bad-identifier",
                    "error",
                    f"Bibliography entry {ref.id} is marked `verified` but an identifier in its "
                    "metadata is malformed. Correct the identifier from the publisher's or "
                    "catalogue's record, or lower citation_status.",
                    ("bibliography", i, "citation_status"),
                )
            _printed_findings(col, ld, i, ref)
        for (_kind, about, ev), ev_id in zip(ld.evidence, evidence_ids.ids(ld), strict=True):
            if ev.work is None:
                continue
            _metadata_findings(
                col,
                ld,
                "evidence",
                ev_id,
                ev.work,
                (lambda ld=ld, ev=ev: evidence_ids.path(ld, ev) + ("work",)),
                what=f"evidence {ev_id} (about {about})",
                malformed_rule="evidence-identifier",
            )

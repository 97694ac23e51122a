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
    (evidence works report them all as ``evidence-identifier``).
    """
    bad = False
    rule = lambda name: malformed_rule or name

    def at(*more: str) -> tuple:
        """The YAML path of a field.

        Evidence paths are looked up only when there is something to report."""
        return (path() if callable(path) else path) + more

    isbn = getattr(w, "isbn", None)
    if w.doi:
        p = doi_problem(w.doi)
        if p:
            bad = True
            col.add(
                ld,
                about_type,
                about_id,
                rule("doi-malformed"),
                "error",
                f"{what}: {p}. The `doi` field holds the verified DOI: look the work up "
                "(Crossref, publisher) and write its DOI there; put a misprinted DOI in "
                "`problems`.",
                at("doi"),
            )
    if isbn:
        p = isbn_problem(isbn)
        if p:
            bad = True
            col.add(
                ld,
                about_type,
                about_id,
                rule("isbn-invalid"),
                "error",
                f"{what}: {p}. The `isbn` field holds the verified ISBN: copy it from a library "
                "catalogue record.",
                at("isbn"),
            )
    arxiv = getattr(w, "arxiv_id", None)
    if arxiv:
        p = arxiv_problem(arxiv)
        if p:
            bad = True
            col.add(
                ld,
                about_type,
                about_id,
                rule("arxiv-malformed"),
                "error",
                f"{what}: {p}. Copy the identifier from the arXiv abstract page.",
                at("arxiv_id"),
            )
    if w.url:
        p = url_problem(w.url)
        if p:
            bad = True
            col.add(
                ld,
                about_type,
                about_id,
                rule("url-malformed"),
                "error",
                f"{what}: {p}. Write a complete http(s) link.",
                at("url"),
            )
        else:
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
                col.add(ld, about_type, about_id, "url-is-doi", "warning", msg, at("url"))
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
                    at("url"),
                )
    return bad


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


def _printed_findings(col, ld, i: int, ref) -> None:
    pr = printed_identifiers(ref.quote)
    severity, advice = _printed_severity(ref.citation_status)
    path = ("bibliography", i)
    rid = ref.id
    for doi, link in pr.dois:
        p = doi_problem(doi)
        if p:
            sev = severity
            extra = advice
            if ref.citation_status == "minor errors":
                sev, extra = (
                    "warning",
                    "A malformed identifier is a `citation error` in the vocabulary; make sure "
                    "`problems` names it.",
                )
            col.add(
                ld,
                "bibliography",
                rid,
                "printed-doi-malformed",
                sev,
                f"The printed citation's DOI is malformed: {p}. {extra}",
                path + ("quote",),
            )
        elif ref.doi and doi.lower() != ref.doi.lower():
            col.add(
                ld,
                "bibliography",
                rid,
                "printed-doi-differs",
                severity,
                f"The printed citation gives DOI {doi}, but the verified record has {ref.doi}. "
                f"{advice}",
                path + ("quote",),
            )
        elif not ref.doi:
            col.add(
                ld,
                "bibliography",
                rid,
                "doi-not-recorded",
                "info",
                f"The printed citation gives DOI {doi}, and the entry has no `doi`. Verify it "
                "(Crossref, publisher) and record it in `doi`.",
                path,
            )
        if link is not None and is_legacy_doi_link(link):
            col.add(
                ld,
                "bibliography",
                rid,
                "printed-doi-legacy-link",
                "warning",
                f"The printed citation links the DOI as {link}; Crossref's display guidelines ask "
                f"for https://doi.org/{doi} (the old form still resolves). Note it in `problems` "
                "(a minor error).",
                path + ("quote",),
            )
    if pr.urls and not pr.dois:
        shown = ", ".join(pr.urls)
        if ref.doi:
            col.add(
                ld,
                "bibliography",
                rid,
                "printed-url-instead-of-doi",
                severity,
                f"The printed citation gives a link ({shown}) where the work has a DOI "
                f"({ref.doi}). {advice}",
                path + ("quote",),
            )
        elif not ref.isbn and not ref.arxiv_id:
            col.add(
                ld,
                "bibliography",
                rid,
                "printed-link-without-doi",
                "info",
                f"The printed citation gives only a link ({shown}), no DOI. If the work has a DOI "
                "(journal articles usually do), record it in `doi` once verified and note the "
                "link in `problems` (a link in place of a DOI is a minor error).",
                path + ("quote",),
            )
    for isbn in pr.isbns:
        p = isbn_problem(isbn)
        if p:
            col.add(
                ld,
                "bibliography",
                rid,
                "printed-isbn-invalid",
                severity,
                f"The printed citation's ISBN is invalid: {p}. {advice}",
                path + ("quote",),
            )
        elif ref.isbn and isbn13(ref.isbn) is not None and isbn13(isbn) != isbn13(ref.isbn):
            col.add(
                ld,
                "bibliography",
                rid,
                "printed-isbn-differs",
                severity,
                f"The printed citation gives ISBN {isbn}, but the verified record has {ref.isbn}. "
                f"{advice}",
                path + ("quote",),
            )
    for a in pr.arxiv:
        p = arxiv_problem(a)
        if p:
            col.add(
                ld,
                "bibliography",
                rid,
                "printed-arxiv-malformed",
                severity,
                f"The printed citation's arXiv identifier is malformed: {p}. {advice}",
                path + ("quote",),
            )
        elif ref.arxiv_id and re.sub(r"v\d+$", "", a) != re.sub(r"v\d+$", "", ref.arxiv_id):
            col.add(
                ld,
                "bibliography",
                rid,
                "printed-arxiv-differs",
                severity,
                f"The printed citation gives arXiv {a}, but the verified record has "
                f"{ref.arxiv_id}. {advice}",
                path + ("quote",),
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

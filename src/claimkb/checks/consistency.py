"""Consistency rules over the whole knowledge base. Each is one pass over the records (O(n))."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from ..model import NEEDS_EVIDENCE

ABOVE_SPECULATIVE = ("established", "supported")
KIND_PLURAL = {"claim": "claims", "equation": "equations", "bibliography": "bibliography"}
DUPLICATE_NOTED = re.compile(r"(?i)\b(duplicate|twice|same work|listed again)\b")


class EvidenceIndex:
    """Evidence ids as the build writes them (``<about>/e<n>``) and the YAML path of each item."""

    def __init__(self) -> None:
        self._ids: dict[int, list[str]] = {}
        self._paths: dict[int, dict[int, tuple[Any, ...]]] = {}

    def ids(self, ld: Any) -> list[str]:
        key = id(ld)
        out = self._ids.get(key)
        if out is None:
            counters: dict[str, int] = {}
            out = []
            for _kind, about, _ev in ld.evidence:
                n = counters[about] = counters.get(about, 0) + 1
                out.append(f"{about}/e{n}")
            self._ids[key] = out
        return out

    def path(self, ld: Any, ev: Any) -> tuple[Any, ...]:
        key = id(ld)
        paths = self._paths.get(key)
        if paths is None:
            paths = {}
            for kind in ("claims", "equations", "bibliography"):
                for i, rec in enumerate(getattr(ld.doc, kind)):
                    for j, item in enumerate(rec.evidence):
                        paths[id(item)] = (kind, i, "evidence", j)
            for j, item in enumerate(ld.doc.evidence):
                paths[id(item)] = ("evidence", j)
            self._paths[key] = paths
        return paths.get(id(ev), ())


def normalize_title(title: str) -> str:
    t = unicodedata.normalize("NFKD", title).casefold()
    t = "".join(c for c in t if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w]+", " ", t).split())


def check(kb: Any, col: Any, evidence_ids: EvidenceIndex) -> None:
    """Per document: evidence that names an unknown bibliography label, records whose status
    needs (independent) evidence, unknown cited labels, duplicate bibliography entries."""
    for ld in kb.documents:
        labels = {r.label: r for r in ld.doc.bibliography}
        tally = _evidence_tally(ld, labels, col, evidence_ids)
        for kind, plural in KIND_PLURAL.items():
            for i, rec in enumerate(getattr(ld.doc, plural)):
                _record_findings(ld, kind, plural, i, rec, labels, tally, col)
        _bibliography_findings(ld, col)


@dataclass
class _Tally:
    """Evidence items per record id: all of them, the supporting ones, and the supporting ones
    that are not self-citations."""

    count: dict[str, int] = field(default_factory=dict)
    supporting: dict[str, int] = field(default_factory=dict)
    independent: dict[str, int] = field(default_factory=dict)


def _evidence_tally(
    ld: Any, labels: dict[str, Any], col: Any, evidence_ids: EvidenceIndex
) -> _Tally:
    """Count the document's evidence per record; report items naming an unknown label."""
    tally = _Tally()
    for _kind, about, ev in ld.evidence:
        tally.count[about] = tally.count.get(about, 0) + 1
        cited = labels.get(ev.bibliography) if ev.bibliography else None
        if ev.stance == "supports":
            tally.supporting[about] = tally.supporting.get(about, 0) + 1
            self_cite = ev.self_citation or bool(cited is not None and cited.self_citation)
            if not self_cite:
                tally.independent[about] = tally.independent.get(about, 0) + 1
        if ev.bibliography is not None and cited is None:
            col.add(
                ld,
                "evidence",
                about,
                "unknown-bibliography-label",
                "error",
                f"Evidence about {about} names bibliography label {ev.bibliography!r}, which "
                f"document {ld.doc.id} does not have. Use one of: "
                f"{', '.join(sorted(labels)) or '(no bibliography)'}.",
                evidence_ids.path(ld, ev),
            )
    return tally


def _record_findings(
    ld: Any,
    kind: str,
    plural: str,
    i: int,
    rec: Any,
    labels: dict[str, Any],
    tally: _Tally,
    col: Any,
) -> None:
    """A claim, equation or bibliography entry: the evidence its status needs, its cited labels."""
    if rec.status in NEEDS_EVIDENCE and tally.count.get(rec.id, 0) == 0:
        col.add(
            ld,
            kind,
            rec.id,
            "needs-evidence",
            "error",
            f"{kind.capitalize()} {rec.id} is rated `{rec.status}` but has no "
            "evidence. Add at least one evidence item (a work with a verified DOI, "
            "ISBN or stable URL, or a bibliography label), or lower the status.",
            (plural, i, "status"),
        )
    elif (
        kind in ("claim", "equation")
        and tally.supporting.get(rec.id)
        and not tally.independent.get(rec.id)
        and rec.status in ABOVE_SPECULATIVE
    ):
        _self_citation_finding(ld, kind, plural, i, rec, col)
    for j, label in enumerate(getattr(rec, "cites", ())):
        if label not in labels:
            col.add(
                ld,
                kind,
                rec.id,
                "unknown-bibliography-label",
                "error",
                f"{kind.capitalize()} {rec.id} cites bibliography label {label!r}, "
                f"which document {ld.doc.id} does not have. Use one of: "
                f"{', '.join(sorted(labels)) or '(no bibliography)'}; or add the "
                "entry.",
                (plural, i, "cites", j),
            )


def _self_citation_finding(ld: Any, kind: str, plural: str, i: int, rec: Any, col: Any) -> None:
    """An established or supported record whose only supporting evidence is self-citation."""
    if rec.status == "established":
        col.add(
            ld,
            kind,
            rec.id,
            "self-citation-only",
            "error",
            f"{kind.capitalize()} {rec.id} is rated `established`, but its only "
            "supporting evidence is self-citation. Established means well-tested "
            "physics: cite an independent textbook, review or measurement, or "
            "lower the status.",
            (plural, i, "status"),
        )
    else:
        col.add(
            ld,
            kind,
            rec.id,
            "self-citation-only",
            "warning",
            f"{kind.capitalize()} {rec.id} is rated `supported`, but its only "
            "supporting evidence is self-citation. Add independent evidence, or "
            "explain in the rationale why the authors' own peer-reviewed result "
            "suffices (otherwise `speculative` fits: the vocabulary calls "
            "proposals resting on the authors' own earlier work speculative).",
            (plural, i, "status"),
        )


def _bibliography_findings(ld: Any, col: Any) -> None:
    """Duplicate bibliography entries within the document, and `verified` entries that list
    problems."""
    by_doi: dict[str, tuple[int, Any]] = {}
    by_title: dict[str, tuple[int, Any]] = {}
    for i, r in enumerate(ld.doc.bibliography):
        noted = bool(DUPLICATE_NOTED.search(" ".join(r.problems)))
        if r.doi:
            _duplicate_doi_finding(ld, i, r, by_doi, noted, col)
        if r.title:
            _duplicate_title_finding(ld, i, r, by_title, noted, col)
        if r.citation_status == "verified" and r.problems:
            col.add(
                ld,
                "bibliography",
                r.id,
                "verified-with-problems",
                "warning",
                f"Bibliography entry {r.id} is marked `verified` (every element agrees with "
                "the record) but lists problems: "
                f"{'; '.join(x.rstrip('. ') for x in r.problems)}. Set citation_status to "
                "`minor errors` or `citation error`, or drop problems that are not.",
                ("bibliography", i, "citation_status"),
            )


def _duplicate_doi_finding(
    ld: Any, i: int, r: Any, by_doi: dict[str, tuple[int, Any]], noted: bool, col: Any
) -> None:
    """An entry with the DOI of an earlier one (unless its problems say it is a duplicate)."""
    key = r.doi.strip().lower()
    first = by_doi.get(key)
    if first is not None and not noted:
        col.add(
            ld,
            "bibliography",
            r.id,
            "duplicate-bibliography",
            "warning",
            f"Bibliography entries {first[1].id} and {r.id} have the same DOI "
            f"({r.doi}). Merge them if they are one entry of the data; if the "
            'document itself lists the work twice, say so in `problems` ("duplicate '
            'of ...").',
            ("bibliography", i, "doi"),
        )
    by_doi.setdefault(key, (i, r))


def _duplicate_title_finding(
    ld: Any, i: int, r: Any, by_title: dict[str, tuple[int, Any]], noted: bool, col: Any
) -> None:
    """An entry with the title of an earlier one, when their DOIs do not tell them apart (and
    do not already make it a DOI duplicate)."""
    key = normalize_title(r.title)
    first = by_title.get(key)
    if (
        key
        and first is not None
        and not noted
        and not (r.doi and first[1].doi and r.doi.lower() != first[1].doi.lower())
    ):
        if not (
            r.doi and first[1].doi and r.doi.lower() == first[1].doi.lower()
        ):  # already reported by DOI
            col.add(
                ld,
                "bibliography",
                r.id,
                "duplicate-bibliography",
                "warning",
                f"Bibliography entries {first[1].id} and {r.id} have the same title "
                f"({r.title!r}). Merge them if they are the same work; if the "
                'document lists it twice, say so in `problems` ("duplicate of ..."); '
                "if they are different works (e.g. editions), give each its DOI or "
                "ISBN.",
                ("bibliography", i, "title"),
            )
    by_title.setdefault(key, (i, r))

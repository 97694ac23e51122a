"""Machine checks over a loaded knowledge base.

``run_all(kb)`` runs every rule and returns the findings (``Finding``): what
each is about, the rule, its severity (error, warning, info) and a message that
says what to do. The build writes them into the ``checks`` table and fails on
errors; ``claimkb check`` prints them with ``report``.

Rules (see docs/checks.md):

* identifiers.py: DOI syntax, ISBN check digits, arXiv ids, URLs, in the
  verified metadata and in the printed citations;
* equations.py / machine.py: each equation's machine_check (SymPy, CODATA via
  scipy.constants, pint), and check_status `verified` held to it;
* consistency.py: evidence behind assessed records, self-citation, contradicting
  claims, unknown bibliography labels, duplicate entries;
* online.py (only with ``claimkb check --online``): DOI lookups, cached.

May import: model, ingest, identifiers, problems.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from . import consistency, equations, identifiers
from .findings import SEVERITY_ORDER, Collector, Finding

__all__ = ["Finding", "run_all", "report", "RULES"]

#: rule -> severities it can have (the README lists them)
RULES = {
    "doi-malformed": "error",
    "isbn-invalid": "error",
    "arxiv-malformed": "error",
    "url-malformed": "error",
    "url-is-doi": "warning",
    "url-with-doi": "warning",
    "verified-with-bad-identifier": "error",
    "evidence-identifier": "error",
    "printed-doi-malformed": "error if verified, else warning",
    "printed-doi-differs": "error if verified, else warning",
    "printed-doi-legacy-link": "warning",
    "printed-url-instead-of-doi": "error if verified, else warning",
    "printed-link-without-doi": "info",
    "printed-isbn-invalid": "error if verified, else warning",
    "printed-isbn-differs": "error if verified, else warning",
    "printed-arxiv-malformed": "error if verified, else warning",
    "printed-arxiv-differs": "error if verified, else warning",
    "doi-not-recorded": "info",
    "verified-without-machine-check": "error",
    "verified-not-confirmed": "error",
    "machine-check": (
        "info (confirmed), warning (fails as expected, or undecided), error (contradicts the "
        "expectation)"
    ),
    "machine-check-invalid": "error",
    "machine-check-definition": "info",
    "machine-check-claim-status": "error (backed claim fails), warning (rejected claim holds)",
    "machine-check-status-mismatch": "warning",
    "machine-check-passes": "info",
    "needs-evidence": "error",
    "self-citation-only": "error (established), warning (supported)",
    "contradiction-both-established": "error",
    "contradiction-both-backed": "warning",
    "unknown-bibliography-label": "error",
    "duplicate-bibliography": "warning",
    "verified-with-problems": "warning",
    "online-doi": "error (not registered), warning (metadata differs), info",
    "online-unavailable": "info",
}


def run_all(
    kb: Any,
    *,
    online: bool = False,
    fetch: Any = None,
    cache_dir: Any = None,
    lines: bool = False,
    deferred: list[tuple[Any, int]] | None = None,
) -> list[Finding]:
    """Every rule over the knowledge base; findings in a deterministic order.

    The streaming build runs it on one document at a time and passes ``deferred``:
    equations whose machine check is about a claim of another document are then
    left out and listed there (see equations.check); links `contradicts` into
    another document are skipped by consistency.check and judged by the build.

    ``lines=True`` looks up the line of every finding even in files that must be
    parsed again (see Collector.resolved); by default only for error findings.
    """
    col = Collector()
    ev = consistency.EvidenceIndex()
    identifiers.check(kb, col, ev)
    equations.check(kb, col, deferred)
    consistency.check(kb, col, ev)
    if online:
        from . import online as online_mod

        online_mod.check(kb, col, fetch=fetch, cache_dir=cache_dir)
    findings = col.resolved(reread=lines)
    return findings


def _document_lines(doc: str, fs: list[Finding]) -> list[str]:
    lines = [f"== {doc}"]
    open_ = [f for f in fs if f.acknowledgement is None]
    for sev in sorted({f.severity for f in open_}, key=lambda s: SEVERITY_ORDER.get(s, 9)):
        sel = [f for f in open_ if f.severity == sev]
        lines.append(f"  {sev} ({len(sel)}):")
        for f in sel:
            where = f" ({f.where()})" if f.where() else ""
            lines.append(f"    [{f.rule}] {f.about_type} {f.about_id}{where}: {f.message}")
    acked = [f for f in fs if f.acknowledgement is not None]
    if acked:
        lines.append(f"  acknowledged ({len(acked)}):")
        lines += [f"    [{f.rule}] {f.about_type} {f.about_id}: {f.acknowledgement}" for f in acked]
    return lines


def open_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Errors and warnings no curator has acknowledged (what the site counts as open)."""
    return [f for f in findings if f.severity in ("error", "warning") and f.acknowledgement is None]


def report(
    findings: Iterable[Finding], *, only_errors: bool = False, show_info: bool = True
) -> str:
    """The findings as text, grouped by document and severity (errors first); acknowledged
    findings apart, with their reasons; a last line counting what is open."""
    items = [
        f
        for f in findings
        if (f.severity == "error" or not only_errors) and (show_info or f.severity != "info")
    ]
    if not items:
        return "no findings" if not only_errors else "no check errors"
    groups: dict[str, list[Finding]] = {}
    for f in items:
        groups.setdefault(f.document_id or "(knowledge base)", []).append(f)
    lines: list[str] = []
    for doc in sorted(groups):
        lines += _document_lines(doc, groups[doc])
    open_ = [f for f in items if f.acknowledgement is None]
    counts = {s: sum(1 for f in open_ if f.severity == s) for s in ("error", "warning", "info")}
    acked = len(items) - len(open_)
    lines.append(
        ", ".join(f"{n} {s}{'s' if n != 1 else ''}" for s, n in counts.items() if n or s == "error")
        + (f" open; {acked} acknowledged" if acked else "")
    )
    return "\n".join(lines)

"""Equation rules: run each equation's machine check and hold check_status to it.

SymPy, scipy and pint are imported only when some equation carries a
``machine_check``: a knowledge base without one costs one pass over the
equations and nothing more.
"""

from __future__ import annotations

from typing import Any

STATUS_BACKED = ("established", "supported")
STATUS_AGAINST = ("contradicted", "no physical basis")


def check(kb: Any, col: Any, deferred: list[tuple[Any, int]] | None = None) -> None:
    """Every equation's machine check. With `deferred` (the streaming build, one document
    at a time), an equation whose machine check is about a claim of another document
    is not checked here but appended to it as (document, equation index)."""
    claims: dict[str, Any] | None = None
    for ld in kb.documents:
        for i, eq in enumerate(ld.doc.equations):
            mc = eq.machine_check
            if mc is None:
                if eq.check_status == "verified":
                    col.add(
                        ld,
                        "equation",
                        eq.id,
                        "verified-without-machine-check",
                        "error",
                        f"Equation {eq.id} has check_status `verified`, which is reserved for "
                        "equations the machine confirms, but it has no `machine_check`. Add a "
                        "machine_check (see docs/checks.md) or use `consistent` for an equation "
                        "checked by hand.",
                        ("equations", i, "check_status"),
                    )
                continue
            if claims is None:
                claims = {
                    c.id: (other, j, c)
                    for other in kb.documents
                    for j, c in enumerate(other.doc.claims)
                }
            if deferred is not None and any(
                rel.about is not None and rel.about not in claims for rel in mc.relations
            ):
                deferred.append((ld, i))
                continue
            check_equation(ld, i, eq, claims, col)


_WHAT = {
    "equation": "the equation",
    "derivation": "a derived step",
    "text claim": "a claim of the text",
}


def check_equation(ld: Any, i: int, eq: Any, claims: dict[str, Any], col: Any) -> None:
    """Run the equation's machine check and report its problems, each relation's outcome
    against its `expect` (also on the claim it is about), and what it says of check_status."""
    path = ("equations", i, "machine_check")
    result = _run_machine_check(ld, eq, col, path)
    passed = result is not None and not result.problems
    outcomes = result.outcomes if result is not None else []
    for k, o in enumerate(outcomes):
        if not _relation_findings(ld, eq, o, claims, col, path + ("relations", k)):
            passed = False
    _check_status_findings(ld, i, eq, outcomes, passed, col)


def _run_machine_check(ld: Any, eq: Any, col: Any, path: tuple) -> Any:
    """The machine check's result (None when it could not run), its problems and notes reported."""
    from . import machine

    try:
        result = machine.run(eq.machine_check)
    except Exception as e:  # never a traceback in the build: report the equation and the error
        col.add(
            ld,
            "equation",
            eq.id,
            "machine-check-invalid",
            "error",
            f"The machine check of {eq.id} could not run ({type(e).__name__}: {e}). Simplify the "
            "expressions or report the problem.",
            path,
        )
        return None
    for p in result.problems:
        col.add(
            ld,
            "equation",
            eq.id,
            "machine-check-invalid",
            "error",
            f"machine_check of {eq.id}: {p}.",
            path,
        )
    for n in result.notes:
        col.add(
            ld,
            "equation",
            eq.id,
            "machine-check-definition",
            "info",
            f"machine_check of {eq.id}: {n}.",
            path,
        )
    return result


def _relation_findings(
    ld: Any, eq: Any, o: Any, claims: dict[str, Any], col: Any, rpath: tuple
) -> bool:
    """Report one relation's outcome; True when it lets the check pass (the outcome is the
    expected one, an `equation` relation holds, and `about` names a claim)."""
    rel = o.relation
    sev, head, tail = _outcome_message(o)
    ok = o.outcome == rel.expect and not (rel.role == "equation" and o.outcome != "holds")
    msg = f"{head}: {o.message}.{tail}"
    if rel.note and sev != "info":
        msg += f" Curator's note: {rel.note}"
    col.add(ld, "equation", eq.id, "machine-check", sev, msg, rpath)
    if rel.about and not _claim_findings(ld, eq, o, sev, msg, claims, col, rpath):
        ok = False
    return ok


def _quoted(text: str) -> str:
    """The relation's text for a message: LaTeX as a $...$ formula (pages show it as math)."""
    return f" (text: ${text}$)" if "\\" in text else f' (text: "{text}")'


def _outcome_message(o: Any) -> tuple[str, str, str]:
    """(severity, head, tail) of the finding on a relation's outcome."""
    rel = o.relation
    what = _WHAT[rel.role]
    quote = _quoted(rel.quote.strip()) if rel.quote else ""
    if o.outcome == rel.expect:
        if o.outcome == "holds":
            return "info", f"Machine check of {what}{quote} passed", ""
        return (
            "warning",
            f"The machine confirms that {what}{quote} does not hold, as the curator recorded",
            " The document is wrong here; the assessment should say so.",
        )
    if o.outcome == "undetermined":
        return (
            "warning",
            f"The machine could not decide {what}{quote}",
            " Add values, ranges or definitions so it can be decided, or simplify the relation.",
        )
    head = (
        f"The machine finds that {what}{quote} "
        f"{'holds' if o.outcome == 'holds' else 'does not hold'}, but the machine_check "
        f"expects it to {'hold' if rel.expect == 'holds' else 'fail'}"
    )
    tail = (
        " Correct the relation, the symbols' values or definitions, or `expect` (and the "
        "assessment that rests on it)."
    )
    return "error", head, tail


def _claim_findings(
    ld: Any, eq: Any, o: Any, sev: str, msg: str, claims: dict[str, Any], col: Any, rpath: tuple
) -> bool:
    """The relation's finding on the claim it is about, and a claim status its outcome
    contradicts; False (and an error) when `about` is not a claim."""
    rel = o.relation
    target = claims.get(rel.about)
    if target is None:
        col.add(
            ld,
            "equation",
            eq.id,
            "machine-check-invalid",
            "error",
            f"machine_check of {eq.id}: relation {rel.relation!r} is about {rel.about!r}, "
            "which is not a claim. Use the id of a claim.",
            rpath + ("about",),
        )
        return False
    cld, j, claim = target
    col.add(
        cld,
        "claim",
        claim.id,
        "machine-check",
        sev,
        f"From equation {eq.id}: {msg}",
        ("claims", j),
    )
    if o.outcome == "fails" and claim.status in STATUS_BACKED:
        col.add(
            cld,
            "claim",
            claim.id,
            "machine-check-claim-status",
            "error",
            f"Claim {claim.id} is rated `{claim.status}`, but the machine check in "
            f"equation {eq.id} finds that {rel.relation} does not hold. Re-assess the "
            "claim (contradicted?) or correct the machine_check.",
            ("claims", j, "status"),
        )
    elif o.outcome == "holds" and claim.status in STATUS_AGAINST:
        col.add(
            cld,
            "claim",
            claim.id,
            "machine-check-claim-status",
            "warning",
            f"Claim {claim.id} is rated `{claim.status}`, but the machine check in "
            f"equation {eq.id} finds that {rel.relation} holds. Re-assess the claim, or "
            "explain in its rationale why the relation does not settle it.",
            ("claims", j, "status"),
        )
    return True


def _check_status_findings(
    ld: Any, i: int, eq: Any, outcomes: list[Any], passed: bool, col: Any
) -> None:
    """check_status held to the machine check: `verified` needs a passing check in which the
    relations with role `equation` hold; `incorrect` (or any other status) of an equation the
    check confirms is pointed out."""
    equation_holds = (
        bool(outcomes)
        and all(o.outcome == "holds" for o in outcomes if o.relation.role == "equation")
        and any(o.relation.role == "equation" for o in outcomes)
    )
    confirmed = passed and equation_holds
    if eq.check_status == "verified" and not confirmed:
        col.add(
            ld,
            "equation",
            eq.id,
            "verified-not-confirmed",
            "error",
            f"Equation {eq.id} has check_status `verified`, but its machine check does not "
            "confirm it "
            + (
                "(the check did not pass: see the other findings)"
                if not passed
                else "(no relation with role `equation` holds)"
            )
            + (
                ". Fix the machine_check, or set check_status to what the check supports "
                "(consistent, notation problem, incorrect)."
            ),
            ("equations", i, "check_status"),
        )
    elif eq.check_status == "incorrect" and confirmed:
        col.add(
            ld,
            "equation",
            eq.id,
            "machine-check-status-mismatch",
            "warning",
            f"Equation {eq.id} has check_status `incorrect`, but its machine check finds the "
            "equation holds. Re-check the equation, or make the machine form state the printed "
            "(wrong) relation with expect: fails.",
            ("equations", i, "check_status"),
        )
    elif eq.check_status != "verified" and confirmed:
        col.add(
            ld,
            "equation",
            eq.id,
            "machine-check-passes",
            "info",
            f"The machine check of {eq.id} passes; its check_status (`{eq.check_status}`) may be "
            "set to `verified`.",
            ("equations", i, "check_status"),
        )

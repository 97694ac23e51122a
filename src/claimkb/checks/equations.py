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


def check_equation(ld: Any, i: int, eq: Any, claims: dict[str, Any], col: Any) -> None:
    from . import machine

    path = ("equations", i, "machine_check")
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
        result = None
    passed = result is not None and not result.problems
    if result is not None:
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
    outcomes = result.outcomes if result is not None else []
    for k, o in enumerate(outcomes):
        rel = o.relation
        rpath = path + ("relations", k)
        what = {
            "equation": "the equation",
            "derivation": "a derived step",
            "text claim": "a claim of the text",
        }[rel.role]
        quote = f' (text: "{rel.quote}")' if rel.quote else ""
        if o.outcome == rel.expect:
            if o.outcome == "holds":
                sev, head = "info", f"Machine check of {what}{quote} passed"
                tail = ""
            else:
                sev, head = (
                    "warning",
                    f"The machine confirms that {what}{quote} does not hold, as the curator "
                    "recorded",
                )
                tail = " The document is wrong here; the assessment should say so."
        elif o.outcome == "undetermined":
            passed = False
            sev, head = "warning", f"The machine could not decide {what}{quote}"
            tail = (
                " Add values, ranges or definitions so it can be decided, or simplify the relation."
            )
        else:
            passed = False
            sev = "error"
            head = (
                f"The machine finds that {what}{quote} "
                f"{'holds' if o.outcome == 'holds' else 'does not hold'}, but the machine_check "
                f"expects it to {'hold' if rel.expect == 'holds' else 'fail'}"
            )
            tail = (
                " Correct the relation, the symbols' values or definitions, or `expect` (and the "
                "assessment that rests on it)."
            )
        if rel.role == "equation" and o.outcome != "holds":
            passed = False
        msg = f"{head}: {o.message}.{tail}"
        if rel.note and sev != "info":
            msg += f" Curator's note: {rel.note}"
        col.add(ld, "equation", eq.id, "machine-check", sev, msg, rpath)
        if rel.about:
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
                passed = False
                continue
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
    equation_holds = (
        bool(outcomes)
        and all(o.outcome == "holds" for o in outcomes if o.relation.role == "equation")
        and any(o.relation.role == "equation" for o in outcomes)
    )
    if eq.check_status == "verified" and not (passed and equation_holds):
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
    elif eq.check_status == "incorrect" and passed and equation_holds:
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
    elif eq.check_status != "verified" and passed and equation_holds:
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

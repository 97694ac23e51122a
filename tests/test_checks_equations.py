"""Equation rules: the machine check (SymPy, CODATA, pint) and check_status held to it."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import pytest

from claimkb.checks import machine
from claimkb.model import MachineCheck
from support import by_rule, eq01_machine_check, errors, make_doc, run, supporting

QUOTE = "a_0 = lambda_e / alpha"


def equation(mc=None, check_status="verified", status="established", **kw):
    e = {
        "id": "x-eq01",
        "label": "1",
        "quote": QUOTE,
        "status": status,
        "check_status": check_status,
        "evidence": [supporting()],
        **kw,
    }
    if mc is not None:
        e["machine_check"] = mc
    return e


def claims():
    return [
        {
            "id": "x-c01",
            "quote": "thickness less than 0.1 nm",
            "statement": "|R| < 0.1 nm",
            "status": "not assessed",
        },
        {
            "id": "x-c02",
            "quote": "length of 0.1 to 10 nanometers",
            "statement": "L is 0.1-10 nm",
            "status": "not assessed",
        },
    ]


def mc_with(**changes):
    mc = eq01_machine_check()
    for k, v in changes.items():
        mc[k] = v
    return mc


def relation(mc, n):
    return mc["relations"][n]


# --------------------------------------------------------------------------- equation (1) of 000


@pytest.fixture(scope="module")
def eq01_result():
    return machine.run(MachineCheck.model_validate(eq01_machine_check()))


def test_eq01_form_is_valid_and_definitions_agree_with_codata(eq01_result):
    assert eq01_result.problems == []
    notes = " ".join(eq01_result.notes)
    for name in ("Bohr radius", "reduced Compton wavelength", "fine-structure constant"):
        assert f"CODATA '{name}'" in notes


def test_eq01_is_verified_symbolically_and_numerically(eq01_result):
    o = eq01_result.outcomes[0]
    assert o.relation.relation == "a_0 == lambda_e/alpha"
    assert o.outcome == "holds"
    assert (
        "symbolically after substituting the definitions" in o.message
        and "numerically" in o.message
    )
    assert "0.0529177 nm" in o.message and "units agree (m)" in o.message


def test_eq01_derived_ranges_hold(eq01_result):
    premise, derived = eq01_result.outcomes[1], eq01_result.outcomes[2]
    assert premise.outcome == "holds"  # lambda_e <= a_0: the premise range of |R| is not empty
    assert derived.relation.relation == "a_0/alpha >= L >= a_0" and derived.outcome == "holds"
    # a0 = 0.0529 nm, a0/alpha = 7.25 nm, and both ends are reached exactly (symbolic substitution)
    assert "7.25163 nm" in derived.message and "0.0529177 nm" in derived.message
    assert (
        "reached exactly at R = a_0" in derived.message
        and "reached exactly at R = lambda_e" in derived.message
    )


def test_eq01_numeric_claims_of_the_text(eq01_result):
    thickness, capsule = eq01_result.outcomes[3], eq01_result.outcomes[4]
    assert thickness.outcome == "holds"  # |R| <= a0 = 0.0529 nm < 0.1 nm
    assert capsule.outcome == "fails"  # L runs 0.0529..7.25 nm: the lower end 0.1 nm is flagged
    assert "L_text_min <= L fails numerically at R = lambda_e" in capsule.message
    assert "L <= L_text_max holds" in capsule.message


def test_eq01_verified_passes_and_findings_reach_the_claims():
    mc = eq01_machine_check()
    relation(mc, 3)["about"] = "x-c01"
    relation(mc, 4)["about"] = "x-c02"
    fs = run(make_doc(claims=claims(), equations=[equation(mc)]))
    assert errors(fs) == []
    eq_findings = by_rule(fs, "machine-check", "x-eq01")
    assert [f.severity for f in eq_findings] == ["info", "info", "info", "info", "warning"]
    assert by_rule(fs, "machine-check", "x-c01")[0].severity == "info"
    c02 = by_rule(fs, "machine-check", "x-c02")
    assert (
        c02[0].severity == "warning"
        and c02[0].about_type == "claim"
        and "does not hold" in c02[0].message
    )


# ----------------------------------------------------------------- check_status held to the machine


def test_verified_without_machine_check_is_an_error():
    fs = run(make_doc(equations=[equation(None)]))
    assert [f.severity for f in by_rule(fs, "verified-without-machine-check", "x-eq01")] == [
        "error"
    ]


def test_consistent_without_machine_check_is_fine():
    assert run(make_doc(equations=[equation(None, check_status="consistent")])) == []


def test_wrong_equation_marked_verified_is_an_error():
    mc = eq01_machine_check()
    relation(mc, 0)["relation"] = "a_0 == lambda_e*alpha"
    fs = run(make_doc(equations=[equation(mc)]))
    f = by_rule(fs, "machine-check", "x-eq01")[0]
    assert f.severity == "error" and "does not hold" in f.message
    assert by_rule(fs, "verified-not-confirmed", "x-eq01")[0].severity == "error"


def test_dimension_mismatch_fails():
    mc = eq01_machine_check()
    relation(mc, 0)["relation"] = "a_0 == lambda_e/c"
    fs = run(make_doc(equations=[equation(mc, check_status="consistent")]))
    f = by_rule(fs, "machine-check", "x-eq01")[0]
    assert (
        f.severity == "error"
        and "fails dimensionally" in f.message
        and "left side m, right side s" in f.message
    )


def test_gaussian_formula_written_in_si_is_caught_by_units():
    mc = eq01_machine_check()
    mc["symbols"][0]["definition"] = (
        "hbar**2/(m_e*e**2)"  # the printed Gaussian form, without 4 pi epsilon_0
    )
    fs = run(make_doc(equations=[equation(mc)]))
    msgs = [f.message for f in by_rule(fs, "machine-check-invalid", "x-eq01")]
    assert any("definition" in m and "declared in 'm'" in m for m in msgs)
    assert by_rule(fs, "verified-not-confirmed", "x-eq01")


def test_definition_that_disagrees_with_codata():
    mc = eq01_machine_check()
    mc["symbols"][0]["definition"] = "8*pi*epsilon_0*hbar**2/(m_e*e**2)"  # twice the Bohr radius
    fs = run(make_doc(equations=[equation(mc, check_status="consistent")]))
    msgs = [f.message for f in errors(fs)]
    assert any("relative difference 1" in m and "CODATA 'Bohr radius'" in m for m in msgs)


@pytest.mark.parametrize(
    "change, words",
    [
        (
            lambda mc: relation(mc, 0).update(relation="a_0 == lambda_x/alpha"),
            "not a declared symbol",
        ),
        (lambda mc: mc["symbols"][0].update(codata="Bohr radios"), "did you mean 'Bohr radius'"),
        (lambda mc: mc["symbols"][0].update(units="kg"), "do not match the CODATA units"),
        (
            lambda mc: mc["symbols"][0].update(units="furlongs per fortnight squiggle"),
            "not understood",
        ),
        (lambda mc: relation(mc, 0).update(relation="a_0 lambda_e"), "has no =="),
        (lambda mc: mc["symbols"].append({"name": "lambda", "meaning": "x"}), "reserved"),
    ],
)
def test_invalid_machine_forms_are_errors_with_advice(change, words):
    mc = eq01_machine_check()
    change(mc)
    fs = run(make_doc(equations=[equation(mc, check_status="consistent")]))
    msgs = [f.message for f in by_rule(fs, "machine-check-invalid", "x-eq01")]
    assert msgs and any(words in m for m in msgs), msgs
    assert all(f.severity == "error" for f in by_rule(fs, "machine-check-invalid"))


def test_circular_definitions_are_reported():
    mc = {
        "symbols": [
            {"name": "x", "meaning": "x", "definition": "2*y"},
            {"name": "y", "meaning": "y", "definition": "x/2"},
        ],
        "relations": [{"relation": "x == 2*y"}],
    }
    fs = run(make_doc(equations=[equation(mc, check_status="consistent")]))
    assert any("circular" in f.message for f in by_rule(fs, "machine-check-invalid"))


# ------------------------------------------------------------------- operators, undecided, statuses

EQ6 = {
    "note": "States and operators do not commute in general.",
    "symbols": [
        {"name": "Theta_1", "meaning": "subsystem state", "domain": "operator"},
        {"name": "Theta_2", "meaning": "change of the subsystem state", "domain": "operator"},
        {"name": "Phi_1", "meaning": "capsule state", "domain": "operator"},
    ],
    "relations": [
        {
            "relation": "Theta_1*Phi_1 + Theta_2*Phi_1 == (Theta_1 + Theta_2)*Phi_1",
            "role": "derivation",
        },
        {
            "relation": "(Theta_1 + Theta_2)*Phi_1 == Theta_1*Phi_1",
            "role": "equation",
            "expect": "fails",
        },
    ],
}


def test_noncommuting_step_that_drops_a_term_is_disproved():
    r = machine.run(MachineCheck.model_validate(EQ6))
    assert [o.outcome for o in r.outcomes] == ["holds", "fails"]
    assert "differ by Theta_2*Phi_1" in r.outcomes[1].message


def test_incorrect_equation_whose_failure_is_expected_passes_the_build():
    fs = run(
        make_doc(
            equations=[
                equation(copy.deepcopy(EQ6), check_status="incorrect", status="contradicted")
            ]
        )
    )
    assert errors(fs) == []
    assert by_rule(fs, "machine-check", "x-eq01")[1].severity == "warning"


def test_expected_failure_cannot_be_verified():
    fs = run(make_doc(equations=[equation(copy.deepcopy(EQ6), check_status="verified")]))
    assert by_rule(fs, "verified-not-confirmed", "x-eq01")


def test_incorrect_but_machine_says_it_holds_is_a_warning():
    mc = eq01_machine_check()
    mc["relations"] = mc["relations"][:1]
    fs = run(make_doc(equations=[equation(mc, check_status="incorrect")]))
    assert by_rule(fs, "machine-check-status-mismatch", "x-eq01")[0].severity == "warning"


def test_passing_check_suggests_verified():
    mc = eq01_machine_check()
    mc["relations"] = mc["relations"][:1]
    fs = run(make_doc(equations=[equation(mc, check_status="consistent")]))
    assert by_rule(fs, "machine-check-passes", "x-eq01")[0].severity == "info"
    assert errors(fs) == []


def test_undecidable_relation_is_a_warning_and_blocks_verified():
    mc = {
        "symbols": [
            {"name": "x", "meaning": "a length nobody bounded", "units": "m"},
            {"name": "y", "meaning": "another", "units": "m"},
        ],
        "relations": [{"relation": "x <= y"}],
    }
    fs = run(make_doc(equations=[equation(mc)]))
    assert by_rule(fs, "machine-check", "x-eq01")[0].severity == "warning"
    assert "could not be decided" in by_rule(fs, "machine-check", "x-eq01")[0].message
    assert by_rule(fs, "verified-not-confirmed", "x-eq01")


def test_backed_claim_that_the_machine_refutes_is_an_error():
    mc = eq01_machine_check()
    relation(mc, 4)["about"] = "x-c02"
    cl = claims()
    cl[1].update(status="established", evidence=[supporting()])
    fs = run(make_doc(claims=cl, equations=[equation(mc)]))
    f = by_rule(fs, "machine-check-claim-status", "x-c02")
    assert f and f[0].severity == "error"


def test_about_an_unknown_claim_is_an_error():
    mc = eq01_machine_check()
    relation(mc, 4)["about"] = "x-c99"
    fs = run(make_doc(equations=[equation(mc)]))
    assert any("x-c99" in f.message for f in by_rule(fs, "machine-check-invalid", "x-eq01"))


def test_no_sympy_without_machine_checks():
    code = (
        "import sys; sys.path.insert(0, 'tests');"
        "from support import make_doc, run;"
        "eq = {'id': 'e1', 'quote': 'q', 'check_status': 'consistent'};"
        "run(make_doc(equations=[eq]));"
        "print('sympy' in sys.modules, 'pint' in sys.modules, 'scipy' in sys.modules)"
    )
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root
    ).stdout.split()
    assert out == ["False", "False", "False"]


def _one(relation, lo="1", hi="3/2"):
    mc = {
        "symbols": [
            {
                "name": "x",
                "meaning": "a dimensionless variable",
                "min": lo,
                "max": hi,
                "domain": "real",
            }
        ],
        "relations": [{"relation": relation}],
    }
    return machine.run(MachineCheck.model_validate(mc)).outcomes[0]


def test_bisection_proves_what_plain_interval_arithmetic_cannot():
    # over [1, 1.5], x - x**2/2 has enclosure [-0.125, 1] (dependency problem);
    # its true minimum is 0.375
    o = _one("x - x**2/2 >= 0")
    assert o.outcome == "holds" and "for every value the premises allow" in o.message


def test_bisection_finds_an_interior_counterexample():
    # x**2 - x + 1/5 is 0.2 at both ends of [0, 1] but -0.05 at x = 1/2
    o = _one("x**2 - x + 1/5 >= 0", lo="0", hi="1")
    assert o.outcome == "fails" and "at x = 0.5" in o.message

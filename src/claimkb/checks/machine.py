"""The machine check of one equation.

It is symbolic (SymPy), numerical (CODATA via scipy.constants) and dimensional (pint).

``run(mc)`` takes a ``MachineCheck`` (see model.py) and returns a ``Result``:
the problems of the machine form itself (unknown symbols, bad units, a
definition that disagrees with its CODATA value ...) and, for each relation,
an ``Outcome`` (holds, fails or undetermined) with a message that says how it
was decided.

How a relation ``A op B`` (op one of ==, <, <=, >, >=; chains are split into
pairs) is decided:

* dimensions: each side's dimension is computed from the declared units of its
  symbols (sums must agree, exponents must be numbers, function arguments
  dimensionless); sides of different dimension fail.
* ==: definitions are substituted until only base symbols remain, and SymPy
  simplifies the difference. Zero proves the identity. A non-zero remainder in
  free, unconstrained symbols (no value, no range) disproves it (e.g. for
  non-commuting operators); otherwise the numerical comparison decides.
* numbers: every symbol with a CODATA key or a value is a number (in SI base
  units); a free variable with ``min``/``max`` is an interval; a defined symbol
  without its own value is computed from its definition. Sides are evaluated
  with interval arithmetic (mpmath.iv). An inequality holds when it holds for
  every point of the premises' box (corners first, then bisection, widest
  boxes first, each box's midpoint tried as a counterexample), fails at a
  point or over a region that violates it. Equalities with free variables are compared
  at sample points of the box. The relative tolerance is
  max(tolerance or 1e-9, 4 x the sum of the CODATA relative standard
  uncertainties of the constants involved).
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import keyword
import re
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from typing import Any

import sympy as sp
from mpmath import iv
from sympy.parsing.sympy_parser import auto_number, convert_xor, parse_expr

DEFAULT_RTOL = 1e-9
BISECTION_BOXES = 512
REL_RE = re.compile(r"(<=|>=|==|≤|≥|<|>|=)")
OPS = {"<=": "<=", ">=": ">=", "==": "==", "=": "==", "≤": "<=", "≥": ">=", "<": "<", ">": ">"}
BASE_UNITS = {
    "[length]": "meter",
    "[mass]": "kilogram",
    "[time]": "second",
    "[current]": "ampere",
    "[temperature]": "kelvin",
    "[substance]": "mole",
    "[luminosity]": "candela",
}
ALLOWED_FUNCTIONS = {
    "sqrt": sp.sqrt,
    "exp": sp.exp,
    "log": sp.log,
    "ln": sp.log,
    "sin": sp.sin,
    "cos": sp.cos,
    "tan": sp.tan,
    "Abs": sp.Abs,
    "abs": sp.Abs,
    "pi": sp.pi,
    "E": sp.E,
    "I": sp.I,
    "Rational": sp.Rational,
    "Integer": sp.Integer,
    "Float": sp.Float,
}


@contextlib.contextmanager
def _precision(dps: int = 30):
    """mpmath's interval context has no workdps: set and restore its precision."""
    old = iv.dps
    iv.dps = dps
    try:
        yield
    finally:
        iv.dps = old


class FormError(Exception):
    """The machine form itself is wrong (unknown symbol, bad units, ...)."""


@lru_cache(maxsize=1)
def ureg():
    import pint

    return pint.UnitRegistry()


@lru_cache(maxsize=1)
def codata_label() -> str:
    import scipy
    import scipy.constants._codata as codata

    years = [
        int(m.group(1))
        for n in dir(codata)
        if (m := re.fullmatch(r"_physical_constants_(\d{4})", n))
    ]
    return (
        f"CODATA {max(years)} (scipy {scipy.__version__})"
        if years
        else f"CODATA (scipy {scipy.__version__})"
    )


Dims = dict[str, Fraction]


def _dims_of_units(units: str) -> Dims:
    u = ureg()
    try:
        q = u.Quantity(1, units if units.strip() not in ("", "1") else "dimensionless")
    except Exception as e:  # pint raises several error types
        raise FormError(
            f"units {units!r} are not understood ({type(e).__name__}); write them as pint does, "
            "e.g. m, J*s, F/m, 1"
        ) from None
    return {k: Fraction(v).limit_denominator(1000) for k, v in q.dimensionality.items() if v}


def _dims_text(d: Dims) -> str:
    if not d:
        return "dimensionless"
    parts = []
    for k in sorted(d):
        unit = BASE_UNITS.get(k, k.strip("[]"))
        short = {
            "meter": "m",
            "kilogram": "kg",
            "second": "s",
            "ampere": "A",
            "kelvin": "K",
            "mole": "mol",
            "candela": "cd",
        }.get(unit, unit)
        e = d[k]
        parts.append(short if e == 1 else f"{short}^{e}")
    return " ".join(parts)


def _si_magnitude(value: float, units: str) -> float:
    u = ureg()
    q = u.Quantity(value, units if units.strip() not in ("", "1") else "dimensionless")
    return float(q.to_base_units().magnitude)


def _display(value: float, d: Dims, display_units: str | None) -> str:
    """A number in SI base units shown in display_units (or in SI base units)."""
    if display_units:
        u = ureg()
        base = (
            " * ".join(f"{BASE_UNITS.get(k, k.strip('[]'))} ** {float(e)}" for k, e in d.items())
            or "dimensionless"
        )
        try:
            q = u.Quantity(value, base).to(display_units)
            return f"{q.magnitude:.6g} {display_units}"
        except Exception:
            pass
    return f"{value:.6g}" + ("" if not d else f" {_dims_text(d)}")


def _interval_text(x: Any, d: Dims, display_units: str | None) -> str:
    lo, hi = float(x.a), float(x.b)
    if lo == hi or abs(hi - lo) <= 1e-12 * max(abs(lo), abs(hi)):
        return _display(lo, d, display_units)
    a = _display(lo, d, display_units)
    b = _display(hi, d, display_units)
    return f"{a} to {b}"


# --------------------------------------------------------------------------- the form


@dataclass
class Sym:
    name: str
    symbol: Any  # sympy Symbol
    dims: Dims
    spec: Any  # MachineSymbol
    value: float | None = None  # SI base units
    rel_unc: float = 0.0  # CODATA relative standard uncertainty
    definition: Any = None  # sympy expression
    lo: Any = None
    hi: Any = None


@dataclass
class Form:
    syms: dict[str, Sym]
    by_symbol: dict[Any, Sym]
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # facts worth showing (definition vs CODATA)

    def expand(self, expr: Any) -> Any:
        """Substitute every definition (definitions were checked for cycles)."""
        for _ in range(len(self.syms) + 1):
            rep = {
                s.symbol: s.definition
                for s in self.by_symbol.values()
                if s.definition is not None and s.symbol in expr.free_symbols
            }
            if not rep:
                return expr
            expr = expr.xreplace(rep)
        return expr


def _parse(text: str, local: dict[str, Any], where: str) -> Any:
    if "__" in text or re.search(r"[\[\]{};]|lambda\s", text):
        raise FormError(f"{where}: {text!r} is not a plain SymPy expression")
    try:
        return parse_expr(
            text,
            local_dict=dict(local),
            global_dict=dict(ALLOWED_FUNCTIONS),
            transformations=(auto_number, convert_xor),
            evaluate=True,
        )
    except NameError as e:
        name = str(e).split("'")[1] if "'" in str(e) else str(e)
        raise FormError(
            f"{where}: {text!r} uses {name!r}, which is not a declared symbol; add it under "
            "`symbols`"
        ) from None
    except (SyntaxError, TypeError, ValueError, AttributeError, sp.SympifyError) as e:
        raise FormError(f"{where}: cannot parse {text!r} ({type(e).__name__}: {e})") from None


def build_form(mc: Any) -> Form:
    """Parse symbols, units, values and definitions; collect what is wrong with them."""
    from scipy.constants import physical_constants

    problems: list[str] = []
    syms: dict[str, Sym] = {}
    local: dict[str, Any] = {}
    for s in mc.symbols:
        if s.name in syms:
            problems.append(f"symbol {s.name!r} is declared twice; keep one")
            continue
        if keyword.iskeyword(s.name) or s.name in ALLOWED_FUNCTIONS:
            problems.append(
                f"symbol name {s.name!r} is reserved (a Python keyword or a function name); "
                f"rename it, e.g. {s.name}_"
            )
            continue
        assumptions = {
            "positive": {"positive": True},
            "real": {"real": True},
            "complex": {},
            "operator": {"commutative": False},
        }[s.domain]
        sym = sp.Symbol(s.name, **assumptions)
        try:
            dims = _dims_of_units(s.units)
        except FormError as e:
            problems.append(f"symbol {s.name}: {e}")
            dims = {}
        entry = Sym(s.name, sym, dims, s)
        if s.codata is not None:
            const = physical_constants.get(s.codata)
            if const is None:
                import difflib

                close = difflib.get_close_matches(s.codata, list(physical_constants), n=1)
                problems.append(
                    f"symbol {s.name}: {s.codata!r} is not a key of "
                    "scipy.constants.physical_constants"
                    + (f"; did you mean {close[0]!r}?" if close else "")
                )
            else:
                value, unit, unc = const
                try:
                    cdims = _dims_of_units(unit)
                except FormError:
                    cdims = None
                if cdims is not None and cdims != dims:
                    problems.append(
                        f"symbol {s.name}: declared units {s.units!r} ({_dims_text(dims)}) do not "
                        f"match the CODATA units of {s.codata!r}, {unit or '1'!r} "
                        f"({_dims_text(cdims)}); correct `units`"
                    )
                entry.value = _si_magnitude(value, unit or "1")
                entry.rel_unc = abs(unc / value) if value else 0.0
        elif s.value is not None:
            try:
                entry.value = _si_magnitude(s.value, s.units)
            except Exception:
                pass  # the units problem is reported above
        syms[s.name] = entry
        local[s.name] = sym
    form = Form(syms, {e.symbol: e for e in syms.values()}, problems)
    for e in syms.values():
        s = e.spec
        for attr in ("definition", "min", "max"):
            text = getattr(s, attr)
            if text is None:
                continue
            try:
                expr = _parse(text, local, f"symbol {s.name} `{attr}`")
            except FormError as err:
                problems.append(str(err))
                continue
            if attr == "definition":
                e.definition = expr
            elif attr == "min":
                e.lo = expr
            else:
                e.hi = expr
    # cycles in definitions
    state: dict[str, int] = {}

    def visit(name: str, chain: list[str]) -> None:
        st = state.get(name, 0)
        if st == 2:
            return
        if st == 1:
            problems.append(
                f"definitions are circular: {' -> '.join(chain + [name])}; one symbol must be a "
                "base quantity"
            )
            raise FormError("cycle")
        state[name] = 1
        d = syms[name].definition
        if d is not None:
            for fs in sorted(d.free_symbols, key=str):
                visit(str(fs), chain + [name])
        state[name] = 2

    for name in syms:
        try:
            visit(name, [])
        except FormError:
            for n in syms:
                syms[n].definition = None  # avoid endless substitution below
            break
    # units of definitions and bounds
    for e in syms.values():
        for attr, expr in (("definition", e.definition), ("min", e.lo), ("max", e.hi)):
            if expr is None:
                continue
            try:
                d = dims_of(expr, form)
            except FormError as err:
                problems.append(f"symbol {e.name} `{attr}`: {err}")
                continue
            if d != e.dims:
                problems.append(
                    f"symbol {e.name}: its {attr} {str(expr)!r} has units {_dims_text(d)}, but "
                    f"{e.name} is declared in {e.spec.units!r} ({_dims_text(e.dims)}); correct "
                    f"the units or the {attr}"
                )
        if (e.lo is not None or e.hi is not None) and e.spec.domain == "operator":
            problems.append(f"symbol {e.name}: an operator cannot have a numerical range")
    return form


# --------------------------------------------------------------------------- dimensions


def dims_of(expr: Any, form: Form) -> Dims:
    if expr.is_Symbol:
        s = form.by_symbol.get(expr)
        if s is None:
            raise FormError(f"unknown symbol {expr}")
        return dict(s.dims)
    if expr.is_Number or expr.is_NumberSymbol or expr is sp.I:
        return {}
    if expr.is_Add:
        ds = [dims_of(a, form) for a in expr.args]
        for a, d in zip(expr.args[1:], ds[1:], strict=True):
            if d != ds[0]:
                raise FormError(
                    f"cannot add {expr.args[0]} ({_dims_text(ds[0])}) and {a} ({_dims_text(d)})"
                )
        return ds[0]
    if expr.is_Mul:
        out: Dims = {}
        for a in expr.args:
            for k, v in dims_of(a, form).items():
                out[k] = out.get(k, Fraction(0)) + v
        return {k: v for k, v in out.items() if v}
    if expr.is_Pow:
        base, exp = expr.args
        bd = dims_of(base, form)
        if dims_of(exp, form):
            raise FormError(f"the exponent {exp} of {expr} must be dimensionless")
        if not bd:
            return {}
        if not exp.is_number:
            raise FormError(
                f"{base} has units {_dims_text(bd)}, so its exponent must be a number, not {exp}"
            )
        f = (
            Fraction(str(sp.nsimplify(exp)))
            if exp.is_Rational
            else Fraction(float(exp)).limit_denominator(1000)
        )
        return {k: v * f for k, v in bd.items() if v * f}
    if isinstance(expr, (sp.Abs, sp.re, sp.im, sp.conjugate)):
        return dims_of(expr.args[0], form)
    if isinstance(expr, sp.Function):
        for a in expr.args:
            d = dims_of(a, form)
            if d:
                raise FormError(
                    f"the argument of {expr.func} must be dimensionless, but {a} has units "
                    f"{_dims_text(d)}"
                )
        return {}
    raise FormError(f"cannot work out the units of {expr}")


# --------------------------------------------------------------------------- numbers


def _iv_const(x: Any) -> Any:
    if x.is_Integer:
        return iv.mpf(int(x))
    if x.is_Rational:
        return iv.mpf(int(x.p)) / iv.mpf(int(x.q))
    if x is sp.pi:
        return iv.pi
    if x is sp.E:
        return iv.e
    if x.is_Float:
        return iv.mpf(str(x))
    return iv.mpf(str(sp.N(x, 30)))


def iv_eval(expr: Any, env: dict[Any, Any]) -> Any:
    """Interval value of a real expression; env maps symbols to mpmath intervals."""
    if expr.is_Symbol:
        return env[expr]
    if expr.is_number and not expr.free_symbols:
        if expr.is_real is False:
            raise FormError(f"{expr} is not real")
        if expr.is_Number or expr.is_NumberSymbol:
            return _iv_const(expr)
    if expr.is_Add:
        total = iv.mpf(0)
        for a in expr.args:
            total = total + iv_eval(a, env)
        return total
    if expr.is_Mul:
        total = iv.mpf(1)
        for a in expr.args:
            total = total * iv_eval(a, env)
        return total
    if expr.is_Pow:
        base, exp = expr.args
        b = iv_eval(base, env)
        if exp.is_Integer:
            n = int(exp)
            if n < 0:
                if b.a <= 0 <= b.b:
                    raise FormError(f"division by an interval containing zero in {expr}")
                return 1 / (b ** (-n))
            return b**n
        if b.a <= 0:
            raise FormError(f"non-integer power of a quantity that may be negative in {expr}")
        return iv.exp(iv.log(b) * iv_eval(exp, env))
    if isinstance(expr, sp.Abs):
        return abs(iv_eval(expr.args[0], env))
    funcs = {sp.exp: iv.exp, sp.log: iv.log, sp.sin: iv.sin, sp.cos: iv.cos, sp.tan: iv.tan}
    if expr.func in funcs:
        return funcs[expr.func](iv_eval(expr.args[0], env))
    if expr.is_number:
        return _iv_const(expr)
    raise FormError(f"cannot evaluate {expr} numerically")


class NoNumbers(Exception):
    """A symbol has neither a value nor a range nor a definition that gives one."""


def numeric_env(form: Form, symbols: set[Any]) -> tuple[dict[Any, Any], list[Sym]]:
    """Intervals for the given symbols (and what they need); the free variables among them."""
    env: dict[Any, Any] = {}
    free: list[Sym] = []
    busy: set[str] = set()

    def value_of(sym: Any) -> Any:
        if sym in env:
            return env[sym]
        s = form.by_symbol[sym]
        if s.spec.domain == "operator":
            raise NoNumbers(f"{s.name} is an operator")
        if s.name in busy:
            raise NoNumbers(f"{s.name} is defined circularly")
        busy.add(s.name)
        try:
            if s.value is not None:
                v = iv.mpf(repr(s.value))
            elif s.lo is not None or s.hi is not None:
                if s.lo is None or s.hi is None:
                    raise NoNumbers(f"{s.name} needs both `min` and `max` for a numerical check")
                lo = _point(s.lo, value_of)
                hi = _point(s.hi, value_of)
                if lo.a > hi.b:
                    raise FormError(
                        f"the range of {s.name} is empty: min {s.lo} exceeds max {s.hi}"
                    )
                v = iv.mpf([lo.a, hi.b])
                free.append(s)
            elif s.definition is not None:
                v = iv_eval(s.definition, {fs: value_of(fs) for fs in s.definition.free_symbols})
            else:
                raise NoNumbers(f"{s.name} has no value, range or definition")
        finally:
            busy.discard(s.name)
        env[sym] = v
        return v

    for sym in sorted(symbols, key=str):
        value_of(sym)
    return env, free


def _point(expr: Any, value_of) -> Any:
    v = iv_eval(expr, {fs: value_of(fs) for fs in expr.free_symbols})
    return v


def _uncertainty(form: Form, symbols: set[Any]) -> float:
    seen: set[str] = set()
    total = 0.0

    def walk(sym: Any) -> None:
        nonlocal total
        s = form.by_symbol[sym]
        if s.name in seen:
            return
        seen.add(s.name)
        if s.value is not None:
            total += s.rel_unc
            return
        for e in (s.definition, s.lo, s.hi):
            if e is not None:
                for fs in e.free_symbols:
                    walk(fs)

    for sym in symbols:
        walk(sym)
    return total


# --------------------------------------------------------------------------- deciding a pair


def _holds_num(op: str, diff_lo: float, diff_hi: float, tol: float) -> str:
    """diff = right - left. Verdict for the whole interval: holds, fails or unknown."""
    if op == "==":
        if diff_lo >= -tol and diff_hi <= tol:
            return "holds"
        if diff_lo > tol or diff_hi < -tol:
            return "fails"
        return "unknown"
    if op in ("<=", "<"):  # left <= right  <=> diff >= 0
        strict = op == "<"
        if (diff_lo > tol) if strict else (diff_lo >= -tol):
            return "holds"
        if (diff_hi <= tol) if strict else (diff_hi < -tol):
            return "fails"
        return "unknown"
    if op in (">=", ">"):
        return _holds_num("<=" if op == ">=" else "<", -diff_hi, -diff_lo, tol)
    raise ValueError(op)


def _mid(x: Any) -> Any:
    return x.mid


def decide_numeric(
    form: Form, left: Any, op: str, right: Any, rtol: float
) -> tuple[str, str, dict]:
    """Numerical verdict of `left op right` over the premises' box, with the sides' ranges."""
    symbols = left.free_symbols | right.free_symbols
    env, free = numeric_env(form, symbols)
    with _precision():
        L = iv_eval(left, env)
        R = iv_eval(right, env)
    scale = max(abs(float(L.a)), abs(float(L.b)), abs(float(R.a)), abs(float(R.b)))
    tol = rtol * scale
    info = {"left": L, "right": R, "free": [s.name for s in free], "tol": rtol}
    if not free:
        v = _holds_num(op, float((R - L).a), float((R - L).b), tol)
        return (v if v != "unknown" else "undetermined"), "", info
    # corners of the box first: an exact counterexample when the relation fails at an end of a
    # premise
    corners = list(itertools.product(*[(env[s.symbol].a, env[s.symbol].b) for s in free]))
    for corner in corners:
        e2 = dict(env)
        for s, c in zip(free, corner, strict=True):
            e2[s.symbol] = iv.mpf(c)
        e2 = _recompute(form, e2, free)
        with _precision():
            l2, r2 = iv_eval(left, e2), iv_eval(right, e2)
        if _holds_num(op, float((r2 - l2).a), float((r2 - l2).b), tol) == "fails":
            where = ", ".join(
                f"{s.name} = {s.spec.min if c == env[s.symbol].a else s.spec.max}"
                for s, c in zip(free, corner, strict=True)
            )
            return "fails", f"at {where}", info
    if op == "==":
        # equalities with free variables: compare at sample points (symbolic proof is the
        # stronger check)
        pts = corners + [tuple(_mid(env[s.symbol]).a for s in free)]
        for k in range(1, 8):
            pts.append(
                tuple(
                    float(env[s.symbol].a)
                    + (float(env[s.symbol].b) - float(env[s.symbol].a))
                    * ((k * 0.618034 * (j + 1)) % 1)
                    for j, s in enumerate(free)
                )
            )
        for pt in pts:
            e2 = dict(env)
            for s, c in zip(free, pt, strict=True):
                e2[s.symbol] = iv.mpf(c)
            e2 = _recompute(form, e2, free)
            with _precision():
                l2, r2 = iv_eval(left, e2), iv_eval(right, e2)
            v = _holds_num(
                "==",
                float((r2 - l2).a),
                float((r2 - l2).b),
                rtol * max(abs(float(l2.a)), abs(float(r2.a)), 1e-300),
            )
            if v != "holds":
                return (
                    ("fails" if v == "fails" else "undetermined"),
                    "at a sample point of the premises",
                    info,
                )
        return "holds", f"at {len(pts)} sample points of the premises", info
    # inequalities: bisection of the box
    boxes = collections.deque([{s.symbol: env[s.symbol] for s in free}])
    checked = 0
    while boxes and checked < BISECTION_BOXES:
        box = boxes.popleft()  # widest boxes first: the whole premise is explored evenly
        checked += 1
        # the box's midpoint: a point where the relation fails is an exact counterexample
        em = dict(env)
        em.update({k: x.mid for k, x in box.items()})
        em = _recompute(form, em, free)
        with _precision():
            lm, rm = iv_eval(left, em), iv_eval(right, em)
        if _holds_num(op, float((rm - lm).a), float((rm - lm).b), tol) == "fails":
            where = ", ".join(
                f"{form.by_symbol[k].name} = {float(x.mid):.6g}" for k, x in box.items()
            )
            return "fails", f"at {where} (SI units)", info
        e2 = dict(env)
        e2.update(box)
        e2 = _recompute(form, e2, free)
        with _precision():
            l2, r2 = iv_eval(left, e2), iv_eval(right, e2)
        v = _holds_num(op, float((r2 - l2).a), float((r2 - l2).b), tol)
        if v == "fails":
            where = ", ".join(
                f"{form.by_symbol[k].name} in [{float(x.a):.6g}, {float(x.b):.6g}]"
                for k, x in box.items()
            )
            return "fails", f"for {where} (SI units)", info
        if v == "unknown":
            k = max(
                box,
                key=lambda s: (
                    (float(box[s].b) - float(box[s].a))
                    / max(abs(float(box[s].b)), abs(float(box[s].a)), 1e-300)
                ),
            )
            x = box[k]
            m = x.mid
            for part in (iv.mpf([x.a, m]), iv.mpf([m, x.b])):
                nb = dict(box)
                nb[k] = part
                boxes.append(nb)
    if boxes:
        return (
            "undetermined",
            f"interval arithmetic could not decide within {BISECTION_BOXES} boxes",
            info,
        )
    return "holds", "for every value the premises allow", info


def _recompute(form: Form, env: dict[Any, Any], free: list[Sym]) -> dict[Any, Any]:
    """Re-evaluate defined symbols that depend on the free variables, for a sub-box."""
    free_syms = {s.symbol for s in free}
    out = dict(env)
    order: list[Sym] = []
    seen: set[str] = set()

    def depends(s: Sym) -> bool:
        if s.symbol in free_syms:
            return False
        if s.value is not None or s.definition is None:
            return False
        return bool(form.expand(s.definition).free_symbols & free_syms)

    def visit(s: Sym) -> None:
        if s.name in seen:
            return
        seen.add(s.name)
        for fs in s.definition.free_symbols:
            t = form.by_symbol[fs]
            if depends(t):
                visit(t)
        order.append(s)

    for s in form.syms.values():
        if s.symbol in env and depends(s):
            visit(s)
    for s in order:
        with _precision():
            out[s.symbol] = iv_eval(s.definition, {fs: out[fs] for fs in s.definition.free_symbols})
    return out


def decide_symbolic_eq(form: Form, left: Any, right: Any) -> tuple[str, str]:
    """proved / disproved / unknown, with how."""
    A = form.expand(left)
    B = form.expand(right)
    commutative = all(s.is_commutative for s in (A.free_symbols | B.free_symbols))
    if not commutative:
        diff = sp.expand(A - B)
        if diff == 0:
            return "proved", "symbolically (expanding both sides)"
        free_unconstrained = all(_unconstrained(form, s) for s in diff.free_symbols)
        if free_unconstrained:
            return (
                "disproved",
                f"symbolically: the two sides differ by {diff}, which is not zero in general",
            )
        return "unknown", ""
    diff = sp.simplify(A - B)
    if diff == 0:
        return "proved", "symbolically after substituting the definitions" if (
            A != left or B != right
        ) else "symbolically"
    if B != 0:
        ratio = sp.simplify(sp.powsimp(A / B, force=False))
        if ratio == 1:
            return "proved", "symbolically after substituting the definitions"
    if all(_unconstrained(form, s) for s in diff.free_symbols) and diff.is_rational_function():
        return "disproved", f"symbolically: left minus right is {diff}, not zero"
    return "unknown", f"SymPy leaves left minus right = {diff}"


def _unconstrained(form: Form, sym: Any) -> bool:
    s = form.by_symbol.get(sym)
    return (
        s is not None and s.value is None and s.lo is None and s.hi is None and s.definition is None
    )


def _tight_symbolic(form: Form, left: Any, right: Any, free: list[str]) -> str:
    """For a tight inequality: is it an exact equality at an end of a premise? (symbolic)"""
    A = form.expand(left)
    B = form.expand(right)
    free_syms = [form.syms[n] for n in free]
    for ends in itertools.product(*[((s.lo, s.spec.min), (s.hi, s.spec.max)) for s in free_syms]):
        rep = {s.symbol: form.expand(e[0]) for s, e in zip(free_syms, ends, strict=True)}
        d = sp.simplify((A - B).xreplace(rep))
        if d == 0:
            where = ", ".join(f"{s.name} = {e[1]}" for s, e in zip(free_syms, ends, strict=True))
            return f"; the bound is reached exactly at {where} (symbolic)"
    return ""


# --------------------------------------------------------------------------- one relation


@dataclass
class Outcome:
    relation: Any  # MachineAssertion
    outcome: str  # holds, fails, undetermined
    message: str


def split_chain(text: str) -> tuple[list[str], list[str]]:
    parts = REL_RE.split(text)
    exprs = [p.strip() for p in parts[0::2]]
    ops = [OPS[p] for p in parts[1::2]]
    if not ops:
        raise FormError(f"relation {text!r} has no ==, <, <=, > or >=")
    if any(not e for e in exprs):
        raise FormError(f"relation {text!r} has an empty side")
    return exprs, ops


def decide(form: Form, rel: Any) -> Outcome:
    local = {name: s.symbol for name, s in form.syms.items()}
    try:
        texts, ops = split_chain(rel.relation)
        exprs = [_parse(t, local, f"relation {rel.relation!r}") for t in texts]
    except FormError as e:
        return Outcome(rel, "invalid", str(e))
    verdicts: list[str] = []
    sentences: list[str] = []
    used_numbers: list[float] = []
    for left, op, right, lt, rt in zip(exprs, ops, exprs[1:], texts, texts[1:], strict=False):
        head = f"{lt} {op} {rt}"
        try:
            dl, dr = dims_of(left, form), dims_of(right, form)
        except FormError as e:
            return Outcome(rel, "invalid", f"{head}: {e}")
        if dl != dr:
            verdicts.append("fails")
            sentences.append(
                f"{head} fails dimensionally: left side {_dims_text(dl)}, right side "
                f"{_dims_text(dr)}"
            )
            continue
        dim_note = f"units agree ({_dims_text(dl)})"
        symbolic = ("unknown", "")
        if op == "==":
            try:
                symbolic = decide_symbolic_eq(form, left, right)
            except (
                Exception
            ) as e:  # SymPy can raise on exotic input; report, do not crash the build
                symbolic = ("unknown", f"SymPy failed ({type(e).__name__})")
        rtol = max(
            rel.tolerance or DEFAULT_RTOL,
            4 * _uncertainty(form, left.free_symbols | right.free_symbols),
        )
        try:
            num, where, info = decide_numeric(form, left, op, right, rtol)
        except NoNumbers as e:
            num, where, info = "unavailable", str(e), {}
        except (FormError, ZeroDivisionError, ValueError) as e:
            num, where, info = "unavailable", str(e), {}
        nums = ""
        if info:
            nums = (
                f"{lt} = {_interval_text(info['left'], dl, rel.display_units)}, "
                f"{rt} = {_interval_text(info['right'], dr, rel.display_units)}"
            )
            if info["free"]:
                nums += (
                    " over the premises "
                    f"({', '.join(_premise_text(form, n) for n in info['free'])})"
                )
            used_numbers.append(info["tol"])
        if symbolic[0] == "proved":
            verdict = "holds"
            how = f"{head} holds {symbolic[1]}"
            if num == "holds":
                how += f" and numerically: {nums}"
            elif num == "fails":
                how += (
                    f"; but the numbers disagree ({nums}): a value or CODATA key does not fit "
                    "its definition"
                )
            how += f"; {dim_note}"
        elif symbolic[0] == "disproved":
            verdict = "fails"
            how = f"{head} fails {symbolic[1]}"
        elif num in ("holds", "fails"):
            verdict = num
            how = (
                f"{head} {num} numerically"
                + (f" {where}" if where else "")
                + f": {nums}; {dim_note}"
            )
            if num == "holds" and op != "==" and info.get("free"):
                margin_tight = _tight(info, op)
                if margin_tight:
                    try:
                        how += _tight_symbolic(form, left, right, info["free"])
                    except Exception:
                        pass
        else:
            verdict = "undetermined"
            why = symbolic[1] or ""
            how = f"{head} could not be decided: " + "; ".join(
                x for x in (why, f"no numbers ({where})" if num == "unavailable" else where) if x
            )
        verdicts.append(verdict)
        sentences.append(how)
    if "invalid" in verdicts:
        outcome = "invalid"
    elif "fails" in verdicts:
        outcome = "fails"
    elif "undetermined" in verdicts:
        outcome = "undetermined"
    else:
        outcome = "holds"
    text = ". ".join(sentences)
    if used_numbers:
        uses_codata = any(
            s.spec.codata for s in form.syms.values() if s.symbol in _needed(form, exprs)
        )
        source = codata_label() if uses_codata else "the values given"
        text += f" [numbers: {source}, relative tolerance {max(used_numbers):.1g}]"
    return Outcome(rel, outcome, text)


def _needed(form: Form, exprs: list[Any]) -> set[Any]:
    """Every symbol the expressions use, through definitions and premises."""
    out: set[Any] = set()
    todo = [fs for e in exprs for fs in e.free_symbols]
    while todo:
        sym = todo.pop()
        if sym in out or sym not in form.by_symbol:
            continue
        out.add(sym)
        s = form.by_symbol[sym]
        for e in (s.definition, s.lo, s.hi):
            if e is not None:
                todo.extend(e.free_symbols)
    return out


def _premise_text(form: Form, name: str) -> str:
    s = form.syms[name]
    return f"{s.spec.min} <= {name} <= {s.spec.max}"


def _tight(info: dict, op: str) -> bool:
    L, R = info["left"], info["right"]
    scale = max(abs(float(L.a)), abs(float(L.b)), abs(float(R.a)), abs(float(R.b)), 1e-300)
    ends = (
        float(R.a) - float(L.a),
        float(R.b) - float(L.b),
        float(R.a) - float(L.b),
        float(R.b) - float(L.a),
    )
    return any(abs(x) <= 1e-6 * scale for x in ends)


@dataclass
class Result:
    problems: list[str]
    notes: list[str]
    outcomes: list[Outcome]


def definition_checks(form: Form) -> tuple[list[str], list[str]]:
    """A symbol with both a CODATA value (or value) and a definition: do they agree numerically?"""
    problems, notes = [], []
    for s in form.syms.values():
        if s.value is None or s.definition is None:
            continue
        try:
            env, free = numeric_env(form, s.definition.free_symbols)
            if free:
                continue
            with _precision():
                v = iv_eval(s.definition, env)
        except (NoNumbers, FormError, ZeroDivisionError, ValueError):
            continue
        rtol = max(DEFAULT_RTOL, 4 * (s.rel_unc + _uncertainty(form, s.definition.free_symbols)))
        val = float(v.mid)
        rel = abs(val - s.value) / abs(s.value) if s.value else abs(val)
        src = f"CODATA {s.spec.codata!r}" if s.spec.codata else "its value"
        if rel > rtol:
            problems.append(
                f"symbol {s.name}: its definition {s.spec.definition} gives "
                f"{_display(val, s.dims, s.spec.units)}, but {src} is "
                f"{_display(s.value, s.dims, s.spec.units)} (relative difference {rel:.2g}); "
                "correct the definition, the units or the CODATA key"
            )
        else:
            notes.append(f"{s.name} = {s.spec.definition} agrees with {src} to {rel:.1g} relative")
    return problems, notes


def run(mc: Any) -> Result:
    form = build_form(mc)
    if form.problems:
        return Result(form.problems, [], [])
    problems, notes = definition_checks(form)
    outcomes = [decide(form, rel) for rel in mc.relations]
    for o in outcomes:
        if o.outcome == "invalid":
            problems.append(o.message)
    return Result(problems, notes, [o for o in outcomes if o.outcome != "invalid"])

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


_ASSUMPTIONS = {
    "positive": {"positive": True},
    "real": {"real": True},
    "complex": {},
    "operator": {"commutative": False},
}
_EXPRESSION_FIELDS = {"definition": "definition", "min": "lo", "max": "hi"}


def build_form(mc: Any) -> Form:
    """Parse symbols, units, values and definitions; collect what is wrong with them."""
    problems: list[str] = []
    syms: dict[str, Sym] = {}
    for s in mc.symbols:
        entry = _declare(s, syms, problems)
        if entry is not None:
            syms[s.name] = entry
    local = {name: e.symbol for name, e in syms.items()}
    form = Form(syms, {e.symbol: e for e in syms.values()}, problems)
    for e in syms.values():
        _parse_expressions(e, local, problems)
    _drop_circular_definitions(syms, problems)
    for e in syms.values():
        problems.extend(_expression_problems(e, form))
    return form


def _declare(s: Any, syms: dict[str, Sym], problems: list[str]) -> Sym | None:
    """The symbol a declaration makes (with its dimension and value), or None if it makes none."""
    if s.name in syms:
        problems.append(f"symbol {s.name!r} is declared twice; keep one")
        return None
    if keyword.iskeyword(s.name) or s.name in ALLOWED_FUNCTIONS:
        problems.append(
            f"symbol name {s.name!r} is reserved (a Python keyword or a function name); "
            f"rename it, e.g. {s.name}_"
        )
        return None
    sym = sp.Symbol(s.name, **_ASSUMPTIONS[s.domain])
    try:
        dims = _dims_of_units(s.units)
    except FormError as e:
        problems.append(f"symbol {s.name}: {e}")
        dims = {}
    entry = Sym(s.name, sym, dims, s)
    if s.codata is not None:
        _set_codata_value(entry, problems)
    elif s.value is not None:
        try:
            entry.value = _si_magnitude(s.value, s.units)
        except Exception:
            pass  # the units problem is reported above
    return entry


def _set_codata_value(entry: Sym, problems: list[str]) -> None:
    """The value and uncertainty of the symbol's CODATA key (its units must match)."""
    from scipy.constants import physical_constants

    s = entry.spec
    const = physical_constants.get(s.codata)
    if const is None:
        import difflib

        close = difflib.get_close_matches(s.codata, list(physical_constants), n=1)
        problems.append(
            f"symbol {s.name}: {s.codata!r} is not a key of scipy.constants.physical_constants"
            + (f"; did you mean {close[0]!r}?" if close else "")
        )
        return
    value, unit, unc = const
    try:
        cdims = _dims_of_units(unit)
    except FormError:
        cdims = None
    if cdims is not None and cdims != entry.dims:
        problems.append(
            f"symbol {s.name}: declared units {s.units!r} ({_dims_text(entry.dims)}) do not "
            f"match the CODATA units of {s.codata!r}, {unit or '1'!r} "
            f"({_dims_text(cdims)}); correct `units`"
        )
    entry.value = _si_magnitude(value, unit or "1")
    entry.rel_unc = abs(unc / value) if value else 0.0


def _parse_expressions(e: Sym, local: dict[str, Any], problems: list[str]) -> None:
    """Parse the symbol's definition, min and max."""
    s = e.spec
    for attr, name in _EXPRESSION_FIELDS.items():
        text = getattr(s, attr)
        if text is None:
            continue
        try:
            expr = _parse(text, local, f"symbol {s.name} `{attr}`")
        except FormError as err:
            problems.append(str(err))
            continue
        setattr(e, name, expr)


def _drop_circular_definitions(syms: dict[str, Sym], problems: list[str]) -> None:
    """Report the first cycle of definitions; then no definition is kept (so that substituting
    them ends)."""
    state: dict[str, int] = {}
    try:
        for name in syms:
            _visit_definitions(name, [], syms, state, problems)
    except FormError:
        for e in syms.values():
            e.definition = None


def _visit_definitions(
    name: str, chain: list[str], syms: dict[str, Sym], state: dict[str, int], problems: list[str]
) -> None:
    """Depth-first walk of the definitions from `name` (state: 1 on the path, 2 done)."""
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
            _visit_definitions(str(fs), chain + [name], syms, state, problems)
    state[name] = 2


def _expression_problems(e: Sym, form: Form) -> list[str]:
    """Units of the symbol's definition and bounds that differ from its own; bounds of an
    operator."""
    out = []
    for attr, expr in (("definition", e.definition), ("min", e.lo), ("max", e.hi)):
        if expr is None:
            continue
        try:
            d = dims_of(expr, form)
        except FormError as err:
            out.append(f"symbol {e.name} `{attr}`: {err}")
            continue
        if d != e.dims:
            out.append(
                f"symbol {e.name}: its {attr} {str(expr)!r} has units {_dims_text(d)}, but "
                f"{e.name} is declared in {e.spec.units!r} ({_dims_text(e.dims)}); correct "
                f"the units or the {attr}"
            )
    if (e.lo is not None or e.hi is not None) and e.spec.domain == "operator":
        out.append(f"symbol {e.name}: an operator cannot have a numerical range")
    return out


# --------------------------------------------------------------------------- dimensions


def dims_of(expr: Any, form: Form) -> Dims:
    """The dimension of an expression, from the declared units of its symbols."""
    if expr.is_Symbol:
        s = form.by_symbol.get(expr)
        if s is None:
            raise FormError(f"unknown symbol {expr}")
        return dict(s.dims)
    if expr.is_Number or expr.is_NumberSymbol or expr is sp.I:
        return {}
    if expr.is_Add:
        return _dims_of_sum(expr, form)
    if expr.is_Mul:
        return _dims_of_product(expr, form)
    if expr.is_Pow:
        return _dims_of_power(expr, form)
    if isinstance(expr, (sp.Abs, sp.re, sp.im, sp.conjugate)):
        return dims_of(expr.args[0], form)
    if isinstance(expr, sp.Function):
        return _dims_of_function(expr, form)
    raise FormError(f"cannot work out the units of {expr}")


def _dims_of_sum(expr: Any, form: Form) -> Dims:
    """Every term of a sum has the same dimension."""
    ds = [dims_of(a, form) for a in expr.args]
    for a, d in zip(expr.args[1:], ds[1:], strict=True):
        if d != ds[0]:
            raise FormError(
                f"cannot add {expr.args[0]} ({_dims_text(ds[0])}) and {a} ({_dims_text(d)})"
            )
    return ds[0]


def _dims_of_product(expr: Any, form: Form) -> Dims:
    out: Dims = {}
    for a in expr.args:
        for k, v in dims_of(a, form).items():
            out[k] = out.get(k, Fraction(0)) + v
    return {k: v for k, v in out.items() if v}


def _dims_of_power(expr: Any, form: Form) -> Dims:
    """A dimensionless exponent; a number when the base has a dimension."""
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


def _dims_of_function(expr: Any, form: Form) -> Dims:
    """exp, log, sin ... take dimensionless arguments and give a dimensionless value."""
    for a in expr.args:
        d = dims_of(a, form)
        if d:
            raise FormError(
                f"the argument of {expr.func} must be dimensionless, but {a} has units "
                f"{_dims_text(d)}"
            )
    return {}


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
        return _iv_sum(expr, env)
    if expr.is_Mul:
        return _iv_product(expr, env)
    if expr.is_Pow:
        return _iv_power(expr, env)
    return _iv_function(expr, env)


def _iv_sum(expr: Any, env: dict[Any, Any]) -> Any:
    total = iv.mpf(0)
    for a in expr.args:
        total = total + iv_eval(a, env)
    return total


def _iv_product(expr: Any, env: dict[Any, Any]) -> Any:
    total = iv.mpf(1)
    for a in expr.args:
        total = total * iv_eval(a, env)
    return total


def _iv_power(expr: Any, env: dict[Any, Any]) -> Any:
    """Integer powers of any interval (a negative one not of an interval holding zero); other
    powers only of a positive base."""
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


def _iv_function(expr: Any, env: dict[Any, Any]) -> Any:
    """Abs, exp, log, sin, cos and tan of an expression, or a number SymPy leaves unevaluated."""
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
    """Numerical verdict of `left op right` over the premises' box, with the sides' ranges.

    Without free variables the two intervals decide. With them: the corners of the box
    first (an exact counterexample when the relation fails at an end of a premise), then
    sample points for an equality, bisection of the box for an inequality.
    """
    symbols = left.free_symbols | right.free_symbols
    env, free = numeric_env(form, symbols)
    with _precision():
        L = iv_eval(left, env)
        R = iv_eval(right, env)
    scale = max(abs(float(L.a)), abs(float(L.b)), abs(float(R.a)), abs(float(R.b)))
    tol = rtol * scale
    info = {"left": L, "right": R, "free": [s.name for s in free], "tol": rtol}
    if not free:
        v = _verdict(op, L, R, tol)
        return (v if v != "unknown" else "undetermined"), "", info
    sides = _Sides(form, left, right, env, free)
    corners = list(itertools.product(*[(env[s.symbol].a, env[s.symbol].b) for s in free]))
    where = _failing_corner(sides, op, corners, tol)
    if where is not None:
        return "fails", f"at {where}", info
    if op == "==":
        # symbolic proof is the stronger check
        verdict, where = _compare_at_samples(sides, corners, rtol)
    else:
        verdict, where = _bisect(sides, op, tol)
    return verdict, where, info


def _verdict(op: str, left: Any, right: Any, tol: float) -> str:
    """_holds_num for two interval values."""
    return _holds_num(op, float((right - left).a), float((right - left).b), tol)


@dataclass
class _Sides:
    """The two sides of a relation over the premises' box (env), free variables `free`."""

    form: Form
    left: Any
    right: Any
    env: dict[Any, Any]
    free: list[Sym]

    def at(self, values: dict[Any, Any]) -> tuple[Any, Any]:
        """Both sides with some symbols set to the given intervals (defined symbols that
        depend on them recomputed)."""
        e2 = dict(self.env)
        e2.update(values)
        e2 = _recompute(self.form, e2, self.free)
        with _precision():
            return iv_eval(self.left, e2), iv_eval(self.right, e2)

    def at_point(self, point: tuple) -> tuple[Any, Any]:
        """Both sides with the free variables set to the numbers of `point`."""
        return self.at({s.symbol: iv.mpf(c) for s, c in zip(self.free, point, strict=True)})


def _failing_corner(sides: _Sides, op: str, corners: list[tuple], tol: float) -> str | None:
    """The premises' ends (as written) at the first corner of the box where the relation fails."""
    for corner in corners:
        l2, r2 = sides.at_point(corner)
        if _verdict(op, l2, r2, tol) == "fails":
            return ", ".join(
                f"{s.name} = {s.spec.min if c == sides.env[s.symbol].a else s.spec.max}"
                for s, c in zip(sides.free, corner, strict=True)
            )
    return None


def _sample_points(sides: _Sides, corners: list[tuple]) -> list[tuple]:
    """The corners, the midpoint and 7 points spread over the box (golden-ratio steps)."""
    env, free = sides.env, sides.free
    pts = corners + [tuple(_mid(env[s.symbol]).a for s in free)]
    for k in range(1, 8):
        pts.append(
            tuple(
                float(env[s.symbol].a)
                + (float(env[s.symbol].b) - float(env[s.symbol].a)) * ((k * 0.618034 * (j + 1)) % 1)
                for j, s in enumerate(free)
            )
        )
    return pts


def _compare_at_samples(sides: _Sides, corners: list[tuple], rtol: float) -> tuple[str, str]:
    """An equality with free variables, compared at sample points of the box."""
    pts = _sample_points(sides, corners)
    for pt in pts:
        l2, r2 = sides.at_point(pt)
        v = _holds_num(
            "==",
            float((r2 - l2).a),
            float((r2 - l2).b),
            rtol * max(abs(float(l2.a)), abs(float(r2.a)), 1e-300),
        )
        if v != "holds":
            return (
                "fails" if v == "fails" else "undetermined"
            ), "at a sample point of the premises"
    return "holds", f"at {len(pts)} sample points of the premises"


def _bisect(sides: _Sides, op: str, tol: float) -> tuple[str, str]:
    """An inequality over the box: boxes it cannot decide are halved, widest boxes first (so
    the whole premise is explored evenly), at most BISECTION_BOXES of them."""
    boxes = collections.deque([{s.symbol: sides.env[s.symbol] for s in sides.free}])
    checked = 0
    while boxes and checked < BISECTION_BOXES:
        box = boxes.popleft()
        checked += 1
        v, where = _check_box(sides, op, box, tol)
        if v == "fails":
            return "fails", where
        if v == "unknown":
            boxes.extend(_halves(box))
    if boxes:
        return (
            "undetermined",
            f"interval arithmetic could not decide within {BISECTION_BOXES} boxes",
        )
    return "holds", "for every value the premises allow"


def _check_box(sides: _Sides, op: str, box: dict[Any, Any], tol: float) -> tuple[str, str]:
    """holds, unknown, or fails with where: at the box's midpoint (an exact counterexample)
    or over the whole box."""
    by_symbol = sides.form.by_symbol
    lm, rm = sides.at({k: x.mid for k, x in box.items()})
    if _verdict(op, lm, rm, tol) == "fails":
        where = ", ".join(f"{by_symbol[k].name} = {float(x.mid):.6g}" for k, x in box.items())
        return "fails", f"at {where} (SI units)"
    l2, r2 = sides.at(box)
    v = _verdict(op, l2, r2, tol)
    if v == "fails":
        where = ", ".join(
            f"{by_symbol[k].name} in [{float(x.a):.6g}, {float(x.b):.6g}]" for k, x in box.items()
        )
        return "fails", f"for {where} (SI units)"
    return v, ""


def _halves(box: dict[Any, Any]) -> list[dict[Any, Any]]:
    """The box cut in two across the variable that is widest relative to its size."""
    k = max(
        box,
        key=lambda s: (
            (float(box[s].b) - float(box[s].a))
            / max(abs(float(box[s].b)), abs(float(box[s].a)), 1e-300)
        ),
    )
    x = box[k]
    m = x.mid
    out = []
    for part in (iv.mpf([x.a, m]), iv.mpf([m, x.b])):
        nb = dict(box)
        nb[k] = part
        out.append(nb)
    return out


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


@dataclass
class _Pair:
    """One pair ``left op right`` of a relation (a chain ``a < b <= c`` has two), and the
    sides as written."""

    left: Any
    op: str
    right: Any
    left_text: str
    right_text: str

    @property
    def head(self) -> str:
        return f"{self.left_text} {self.op} {self.right_text}"


def decide(form: Form, rel: Any) -> Outcome:
    """The outcome of one relation: every pair of its chain decided, the worst verdict wins."""
    local = {name: s.symbol for name, s in form.syms.items()}
    try:
        texts, ops = split_chain(rel.relation)
        exprs = [_parse(t, local, f"relation {rel.relation!r}") for t in texts]
    except FormError as e:
        return Outcome(rel, "invalid", str(e))
    verdicts: list[str] = []
    sentences: list[str] = []
    used_numbers: list[float] = []
    # exprs and texts have one item more than ops: zip stops at the last pair
    for args in zip(exprs, ops, exprs[1:], texts, texts[1:], strict=False):
        pair = _Pair(*args)
        try:
            dl, dr = dims_of(pair.left, form), dims_of(pair.right, form)
        except FormError as e:
            return Outcome(rel, "invalid", f"{pair.head}: {e}")
        if dl != dr:
            verdict, how, tol = "fails", _dimension_mismatch_text(pair, dl, dr), None
        else:
            verdict, how, tol = _decide_pair(form, rel, pair, dl, dr)
        verdicts.append(verdict)
        sentences.append(how)
        if tol is not None:
            used_numbers.append(tol)
    text = ". ".join(sentences) + _numbers_note(form, exprs, used_numbers)
    return Outcome(rel, _worst(verdicts), text)


def _dimension_mismatch_text(pair: _Pair, dl: Dims, dr: Dims) -> str:
    return (
        f"{pair.head} fails dimensionally: left side {_dims_text(dl)}, right side {_dims_text(dr)}"
    )


def _decide_pair(
    form: Form, rel: Any, pair: _Pair, dl: Dims, dr: Dims
) -> tuple[str, str, float | None]:
    """Verdict and sentence for a pair whose sides agree in dimension, and the relative
    tolerance of the numbers compared (None when there were none).

    A symbolic proof or disproof decides an equality; else the numbers decide.
    """
    dim_note = f"units agree ({_dims_text(dl)})"
    symbolic, symbolic_how = _symbolic_verdict(form, pair)
    num, where, info = _numeric_verdict(form, rel, pair)
    nums = _numbers_text(form, rel, pair, info, dl, dr)
    tol = info["tol"] if info else None
    if symbolic == "proved":
        return "holds", _proved_text(pair, symbolic_how, num, nums, dim_note), tol
    if symbolic == "disproved":
        return "fails", f"{pair.head} fails {symbolic_how}", tol
    if num in ("holds", "fails"):
        return num, _numeric_text(form, pair, num, where, nums, dim_note, info), tol
    return "undetermined", _undecided_text(pair, symbolic_how, num, where), tol


def _symbolic_verdict(form: Form, pair: _Pair) -> tuple[str, str]:
    """decide_symbolic_eq for an equality; unknown for an inequality."""
    if pair.op != "==":
        return "unknown", ""
    try:
        return decide_symbolic_eq(form, pair.left, pair.right)
    except Exception as e:  # SymPy can raise on exotic input; report, do not crash the build
        return "unknown", f"SymPy failed ({type(e).__name__})"


def _numeric_verdict(form: Form, rel: Any, pair: _Pair) -> tuple[str, str, dict]:
    """decide_numeric with the relation's tolerance (at least 4 x the CODATA uncertainties);
    unavailable (with why) when there are no numbers."""
    rtol = max(
        rel.tolerance or DEFAULT_RTOL,
        4 * _uncertainty(form, pair.left.free_symbols | pair.right.free_symbols),
    )
    try:
        return decide_numeric(form, pair.left, pair.op, pair.right, rtol)
    except (NoNumbers, FormError, ZeroDivisionError, ValueError) as e:
        return "unavailable", str(e), {}


def _numbers_text(form: Form, rel: Any, pair: _Pair, info: dict, dl: Dims, dr: Dims) -> str:
    """The values of the two sides (and the premises they range over), or "" without numbers."""
    if not info:
        return ""
    nums = (
        f"{pair.left_text} = {_interval_text(info['left'], dl, rel.display_units)}, "
        f"{pair.right_text} = {_interval_text(info['right'], dr, rel.display_units)}"
    )
    if info["free"]:
        premises = ", ".join(_premise_text(form, n) for n in info["free"])
        nums += f" over the premises ({premises})"
    return nums


def _proved_text(pair: _Pair, symbolic_how: str, num: str, nums: str, dim_note: str) -> str:
    how = f"{pair.head} holds {symbolic_how}"
    if num == "holds":
        how += f" and numerically: {nums}"
    elif num == "fails":
        how += (
            f"; but the numbers disagree ({nums}): a value or CODATA key does not fit "
            "its definition"
        )
    return how + f"; {dim_note}"


def _numeric_text(
    form: Form, pair: _Pair, num: str, where: str, nums: str, dim_note: str, info: dict
) -> str:
    """The numerical verdict; for an inequality that holds only just, where the bound is
    reached (when SymPy can tell)."""
    how = (
        f"{pair.head} {num} numerically" + (f" {where}" if where else "") + f": {nums}; {dim_note}"
    )
    if num == "holds" and pair.op != "==" and info.get("free") and _tight(info, pair.op):
        try:
            how += _tight_symbolic(form, pair.left, pair.right, info["free"])
        except Exception:
            pass
    return how


def _undecided_text(pair: _Pair, symbolic_how: str, num: str, where: str) -> str:
    reasons = (symbolic_how or "", f"no numbers ({where})" if num == "unavailable" else where)
    return f"{pair.head} could not be decided: " + "; ".join(x for x in reasons if x)


def _worst(verdicts: list[str]) -> str:
    """invalid, else fails, else undetermined, else holds."""
    for verdict in ("invalid", "fails", "undetermined"):
        if verdict in verdicts:
            return verdict
    return "holds"


def _numbers_note(form: Form, exprs: list[Any], used_numbers: list[float]) -> str:
    """Where the numbers came from and the largest tolerance used, when numbers were compared."""
    if not used_numbers:
        return ""
    uses_codata = any(s.spec.codata for s in form.syms.values() if s.symbol in _needed(form, exprs))
    source = codata_label() if uses_codata else "the values given"
    return f" [numbers: {source}, relative tolerance {max(used_numbers):.1g}]"


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

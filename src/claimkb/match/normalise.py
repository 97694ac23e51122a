"""Physics text -> search terms: the same thing written in different notations gives the
same terms.

``terms(text)`` returns lower-case ASCII terms (letters and digits only, so FTS5's
tokenizer keeps each one whole), stop words left out, in text order:

- LaTeX commands become their names (``\\hbar`` -> ``hbar``, ``\\alpha`` -> ``alpha``);
  layout commands (``\\frac``, ``\\mathrm``, ``\\left`` ...) and braces are dropped;
- Greek letters become their names (``α`` -> ``alpha``), ``ħ`` / ``ℏ`` / ``h-bar`` ->
  ``hbar``; accents are dropped (``Schrödinger`` -> ``schrodinger``);
- superscripts and subscripts are read as ``^`` and ``_`` (``10⁻⁹`` = ``10^-9``,
  ``n₁`` = ``n_1``); a symbol with a subscript is one term (``a_0``, ``a₀`` -> ``a0``);
  ``^2`` is ``squared``;
- numbers and units: a quantity is its value in SI base units as a term such as
  ``1em9`` (1 × 10⁻⁹) or ``14e5`` (1.4 × 10⁵), three significant digits, and a unit term
  (``umetre``, ``usecond``, ``utesla`` ...): ``0.1 nm``, ``10^-10 m``, ``1 Å`` and
  ``1e-10 metres`` all give ``1em10 umetre``; a prefixed unit word without a number
  stands for one of it (``attosecond`` = ``1 as`` = ``1e-18 s`` -> ``1em18 usecond``);
  in a range (``0.1 to 10 nm``) the unit applies to both ends;
- names of constants become their symbols (``reduced Planck constant`` -> ``hbar``,
  ``speed of light`` -> ``c``, ``fine-structure constant`` -> ``alpha``, ``Bohr radius``
  -> ``a0``, ``Boltzmann constant`` / ``k_B`` -> ``kb``) and common abbreviations are
  spelt out (``BEC``, ``QHE``, ``NEMS``, ``IR``, ``XUV``, ``2D`` ...);
- British and American spellings agree (``-ise``/``-ize``, ``-our``/``-or``,
  ``-tre``/``-ter``), and plural ``-s`` is dropped.

Pure functions; nothing here reads a file or a database.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections.abc import Iterator

# --------------------------------------------------------------------------- characters

_GREEK = dict(
    zip(
        "αβγδεζηθικλμνξοπρστυφχψωϵϑϕϱςϖ",
        "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi "
        "rho sigma tau upsilon phi chi psi omega epsilon theta phi rho sigma pi".split(),
        strict=True,
    )
)
_GREEK.update(
    zip(
        "ΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩ",
        "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi "
        "rho sigma tau upsilon phi chi psi omega".split(),
        strict=True,
    )
)
_SUPER = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱ", "0123456789+-=()ni", strict=True))
_SUB = dict(zip("₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₒₓₕₖₗₘₙₚₛₜ", "0123456789+-=()aeoxhklmnpst", strict=True))
_SPECIAL = {
    "ħ": " hbar ",
    "ℏ": " hbar ",
    "Å": " angstrom ",
    "\u212b": " angstrom ",  # the angstrom sign
    "−": "-",
    "–": " - ",
    "—": " - ",
    "‐": "-",
    "⋅": "·",
    "∙": "·",
    "’": "'",
    "°": " degree ",
    "‘": "'",
}
#: LaTeX commands that only lay out: dropped (every other command becomes its name)
_LAYOUT = frozenset(
    "frac dfrac tfrac mathrm mathbf mathit mathcal mathsf mathtt mathbb boldsymbol text "
    "textrm textit textbf operatorname left right big Big bigl bigr Bigl Bigr quad qquad "
    "displaystyle textstyle dots ldots cdots vdots hat vec bar tilde dot ddot overline "
    "underline begin end label tag nonumber".split()
)
_LATEX_SYMBOLS = {"times": " × ", "cdot": " · ", "hbar": " hbar ", "AA": " angstrom "}


_SUPER_RE = re.compile("[" + "".join(_SUPER) + "]+")
_SUB_RE = re.compile("[" + "".join(_SUB) + "]+")


def _scripts(text: str) -> str:
    """Superscript and subscript characters as ``^(...)`` and ``_...``."""
    text = _SUPER_RE.sub(lambda m: "^" + "".join(_SUPER[c] for c in m[0]), text)
    return _SUB_RE.sub(lambda m: "_" + "".join(_SUB[c] for c in m[0]), text)


def _latex(text: str) -> str:
    """LaTeX markup reduced to plain tokens: ``\\frac{a}{b}`` -> ``a / b``, commands to
    their names, ``^{-9}`` -> ``^-9``, braces and ``$`` dropped."""
    if "\\" not in text and "{" not in text:
        return text.replace("$", " ")
    text = text.replace("\\\\", " ")
    text = re.sub(r'\\["\'`^~=.]\{?([A-Za-z])\}?', r"\1", text)  # accents: \"o -> o
    text = re.sub(r"\\[,;:! ]", " ", text)
    for _ in range(3):  # nested fractions, innermost first
        text = re.sub(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}", r" \1 / \2 ", text)
    text = re.sub(r"([\^_])\s*\{([^{}]*)\}", r"\1\2", text)
    text = re.sub(r"\\([A-Za-z]+)", _command, text)
    return re.sub(r"[{}$]", " ", text)


def _command(m: re.Match[str]) -> str:
    name = m[1]
    if name in _LATEX_SYMBOLS:
        return _LATEX_SYMBOLS[name]
    return " " if name in _LAYOUT else f" {name} "


_CHAR_TABLE = str.maketrans({**{c: f" {n} " for c, n in _GREEK.items()}, **_SPECIAL})
_MICRO_RE = re.compile(r"[µμ](?=(?:m|s|A|V|W|g|C|J|T|K|Hz|eV|Pa|N)\b)")


def _characters(text: str) -> str:
    """Greek letters as names, special characters spelt out, accents dropped."""
    if not text.isascii():
        text = _MICRO_RE.sub("u", text).translate(_CHAR_TABLE)
        text = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"\s+_", "_", text)  # "lambda _e" -> "lambda_e"
    return re.sub(r"'(?:s\b)?", " ", text)  # possessive


def prepare(text: str) -> str:
    """The text as plain ASCII-like tokens (the steps before tokenising)."""
    text = _characters(_latex(_scripts(text)))
    return re.sub(r"\b([123])[- ]?[dD]\b", lambda m: f" {_DIMS[m[1]]} dimensional ", text)


_DIMS = {"1": "one", "2": "two", "3": "three"}


# --------------------------------------------------------------------------- tokens

_NUM = (
    r"(?P<num>\d{1,3}(?:,\d{3})+(?!\d)|\d+(?:\.\d+)?|\.\d+)"
    r"(?:\s*[x×*·]\s*10\s*\^\s*\(?(?P<exp1>[-+]?\d+)\)?"
    r"|[eE](?P<exp2>[-+]?\d+)(?![A-Za-z])"
    r"|\s*\^\s*\(?(?P<pow>[-+]?\d+)\)?)?"
)
_TOKEN_RE = re.compile(
    _NUM
    + r"|(?P<word>[A-Za-z]+(?:_(?:\d+|[A-Za-z0-9]+))?)|(?P<sup>\^\s*\(?[-+]?\w+\)?)|(?P<dash>-)"
)


def _number(m: re.Match[str]) -> float | None:
    mantissa = float(m["num"].replace(",", ""))
    try:
        if m["exp1"] is not None or m["exp2"] is not None:
            return mantissa * 10.0 ** int(m["exp1"] or m["exp2"])
        if m["pow"] is not None:
            return mantissa ** int(m["pow"])
    except (OverflowError, ZeroDivisionError):
        return None
    return mantissa


def _raw_tokens(text: str) -> Iterator[tuple[str, object]]:
    """(kind, value): ("num", float), ("word", str as written), ("sup", str), ("dash", "-")."""
    for m in _TOKEN_RE.finditer(text):
        if m["num"] is not None:
            v = _number(m)
            if v is not None and math.isfinite(v):
                yield "num", v
        elif m["word"] is not None:
            yield "word", m["word"]
        elif m["sup"] is not None:
            sup = re.sub(r"[^A-Za-z0-9]", "", m["sup"])
            if sup:
                yield "sup", sup
        else:
            yield "dash", "-"


def value_term(v: float) -> str:
    """A value as a term: three significant digits and a power of ten, e.g. 1.4e5 -> 14e5,
    1e-9 -> 1em9, 0.5 -> 5em1, 0 -> 0."""
    if v == 0:
        return "0"
    sign = "neg" if v < 0 else ""
    v = abs(v)
    k = math.floor(math.log10(v))
    m = round(v / 10.0**k, 2)
    if m >= 10:
        m, k = m / 10, k + 1
    digits = f"{m:.2f}".rstrip("0").rstrip(".").replace(".", "")
    return f"{sign}{digits}e{k}" if k >= 0 else f"{sign}{digits}em{-k}"


# --------------------------------------------------------------------------- units

#: unit symbol -> unit term (after a number, or with a prefix: nm, fs, keV ...)
_UNIT_SYMBOLS = {
    "m": "umetre",
    "s": "usecond",
    "A": "uampere",
    "C": "ucoulomb",
    "J": "ujoule",
    "T": "utesla",
    "K": "ukelvin",
    "V": "uvolt",
    "W": "uwatt",
    "g": "ugram",
    "Hz": "uhertz",
    "eV": "uev",
    "N": "unewton",
    "Pa": "upascal",
}
_PREFIX_SYMBOLS = {
    "P": 15, "T": 12, "G": 9, "M": 6, "k": 3, "c": -2, "m": -3, "u": -6,
    "n": -9, "p": -12, "f": -15, "a": -18, "z": -21,
}  # fmt: skip
#: unit words (lower case, singular, American spelling after _spelling) -> unit term
_UNIT_WORDS = {
    "meter": "umetre",
    "second": "usecond",
    "ampere": "uampere",
    "amp": "uampere",
    "coulomb": "ucoulomb",
    "joule": "ujoule",
    "tesla": "utesla",
    "kelvin": "ukelvin",
    "volt": "uvolt",
    "watt": "uwatt",
    "gram": "ugram",
    "hertz": "uhertz",
    "electronvolt": "uev",
    "newton": "unewton",
    "pascal": "upascal",
}
#: a unit word standing for a value of a unit
_SPECIAL_UNITS = {"angstrom": (1e-10, "umetre"), "micron": (1e-6, "umetre")}
_PREFIX_WORDS = {
    "peta": 15, "tera": 12, "giga": 9, "mega": 6, "kilo": 3, "centi": -2, "milli": -3,
    "micro": -6, "nano": -9, "pico": -12, "femto": -15, "atto": -18, "zepto": -21,
}  # fmt: skip
#: prefixed unit symbols understood without a number before them (unambiguous in prose)
_BARE_SYMBOLS = frozenset(
    "nm um mm cm km fs ps ns eV keV MeV GeV TeV meV kJ MJ mT Hz kHz MHz GHz THz".split()
)
_NO_PREFIX_WORDS = frozenset({"second"})  # "second" alone is an ordinal as often as not


@functools.lru_cache(maxsize=4096)
def unit_symbol(sym: str) -> tuple[float, str] | None:
    """(factor, unit term) of a unit symbol such as ``nm`` or ``keV``; None if it is none."""
    if sym in _UNIT_SYMBOLS:
        return 1.0, _UNIT_SYMBOLS[sym]
    if len(sym) > 1 and sym[0] in _PREFIX_SYMBOLS and sym[1:] in _UNIT_SYMBOLS:
        return 10.0 ** _PREFIX_SYMBOLS[sym[0]], _UNIT_SYMBOLS[sym[1:]]
    return None


@functools.lru_cache(maxsize=4096)
def unit_word(word: str) -> tuple[float, str, bool] | None:
    """(factor, unit term, prefixed) of a unit word such as ``nanometres`` (lower case)."""
    w = _spelling(word)
    for cand in dict.fromkeys((w, w[:-1] if w.endswith("s") else w)):
        if cand in _SPECIAL_UNITS:
            return (*_SPECIAL_UNITS[cand], True)
        if cand in _UNIT_WORDS:
            return 1.0, _UNIT_WORDS[cand], False
        for prefix, exp in _PREFIX_WORDS.items():
            if cand.startswith(prefix) and cand[len(prefix) :] in _UNIT_WORDS:
                return 10.0**exp, _UNIT_WORDS[cand[len(prefix) :]], True
    return None


def _unit_at(tokens: list[tuple[str, object]], i: int) -> tuple[float, str, int] | None:
    """The unit written at tokens[i] after a number: (factor, term, tokens used)."""
    if i >= len(tokens) or tokens[i][0] != "word":
        return None
    word = str(tokens[i][1])
    if (
        word == "electron"
        and i + 1 < len(tokens)
        and str(tokens[i + 1][1]).lower()
        in (
            "volt",
            "volts",
        )
    ):
        return 1.0, "uev", 2
    sym = unit_symbol(word)
    if sym is not None:
        return sym[0], sym[1], 1
    w = unit_word(word.lower())
    return (w[0], w[1], 1) if w is not None else None


_RANGE_WORDS = frozenset({"to", "and", "-", "or"})


def _quantities(tokens: list[tuple[str, object]]) -> list[tuple[str, object]]:
    """Numbers with their units become ("term", value) ("term", unit); a number in a range
    takes the unit of the range's other end."""
    out: list[tuple[str, object]] = []
    i = 0
    while i < len(tokens):
        kind, value = tokens[i]
        if kind != "num":
            out.append(tokens[i])
            i += 1
            continue
        unit = _unit_at(tokens, i + 1)
        if unit is None and _range_end(tokens, i + 1):
            unit = _unit_at(tokens, i + 3)
            used = 0
        else:
            used = unit[2] if unit else 0
        out += _quantity(float(value), unit)  # type: ignore[arg-type]
        i += 1 + used
    return out


def _range_end(tokens: list[tuple[str, object]], i: int) -> bool:
    return (
        i + 1 < len(tokens)
        and str(tokens[i][1]).lower() in _RANGE_WORDS
        and tokens[i + 1][0] == "num"
    )


def _quantity(v: float, unit: tuple[float, str, int] | None) -> list[tuple[str, object]]:
    if unit is None:
        return [("term", value_term(v))]
    return [("term", value_term(v * unit[0])), ("term", unit[1])]


# --------------------------------------------------------------------------- words


@functools.lru_cache(maxsize=65536)
def _plural(w: str) -> str:
    """A plural in -s, -es or -ies as its singular (roughly: both sides agree)."""
    if len(w) <= 3 or not w.endswith("s") or w.endswith(("ss", "us", "is")):
        return w
    if w.endswith("ies"):
        return w[:-3] + "y"
    if w.endswith(("shes", "ches", "xes", "sses", "zes")):
        return w[:-2]
    return w[:-1]


#: phrases (lower case, after spelling) -> the terms that replace them
_PHRASES: dict[tuple[str, ...], tuple[str, ...]] = {
    tuple(_plural(w) for w in k.split()): tuple(v.split())
    for k, v in {
        "reduced planck constant": "hbar",
        "dirac constant": "hbar",
        "h bar": "hbar",
        "planck constant": "h",
        "speed of light": "c",
        "velocity of light": "c",
        "light speed": "c",
        "fine structure constant": "alpha",
        "boltzmann constant": "kb",
        "bohr radius": "a0",
        "elementary charge": "e",
        "avogadro constant": "na",
        "avogadro number": "na",
        "gravitational constant": "g",
        "vacuum permittivity": "epsilon0",
        "permittivity of free space": "epsilon0",
        "vacuum permeability": "mu0",
        "electron volt": "uev",
        "degree c": "celsius",
        "degree celsius": "celsius",
        "compton length": "compton wavelength",
        "bec": "bose einstein condensate",
        "qhe": "quantum hall effect",
        "nems": "nanoelectromechanical system",
        "mems": "microelectromechanical system",
        "ir": "infrared",
        "uv": "ultraviolet",
        "xuv": "extreme ultraviolet",
        "epr": "einstein podolsky rosen",
        "qed": "quantum electrodynamics",
        "qcd": "quantum chromodynamics",
        "dft": "density functional theory",
        "nmr": "nuclear magnetic resonance",
        "tfd": "thermo field dynamics",
        "thermofield": "thermo field",
        "thousand": "1e3",
        "million": "1e6",
        "billion": "1e9",
    }.items()
}
_MAX_PHRASE = max(len(k) for k in _PHRASES)
_SYMBOL_TERMS = {"k_b": "kb", "a_0": "a0", "n_a": "na", "epsilon_0": "epsilon0", "mu_0": "mu0"}

STOP_WORDS = frozenset(
    """a an the and or but nor of in on at to for from by with without within into onto
    is are was were be been being am do does did has have had having can could may might
    must shall should will would this that these those it its itself they them their
    there here which who whom whose what when where why how than then so such as not no
    only also very more most much many some any each every all both either neither other
    another same own just even ever again further once our we us you your he she his her
    him i me my if because while whether per via ie eg etc let""".split()
)


@functools.lru_cache(maxsize=65536)
def _spelling(w: str) -> str:
    """One spelling for British and American forms (lower-case word)."""
    w = re.sub(r"(?<=[a-z]{3})is(e|es|ed|ing|ation|ations)$", r"iz\1", w)
    w = re.sub(r"(?<=[a-z]{3})our(s|ed|ing)?$", lambda m: "or" + (m[1] or ""), w)
    w = re.sub(r"(?<=[a-z]{2})tre(s)?$", lambda m: "ter" + (m[1] or ""), w)
    return w


def _word_terms(tokens: list[tuple[str, object]]) -> list[str]:
    """Words lower-cased and spelt one way, unit words as quantities, phrases replaced."""
    words: list[str] = []
    for kind, value in tokens:
        if kind == "term":
            words.append(str(value))
        elif kind == "word":
            words += _word(str(value))
        elif kind == "sup":
            words.append("squared" if value == "2" else str(value).lower())
    return _phrases(words)


@functools.lru_cache(maxsize=65536)
def _word(word: str) -> tuple[str, ...]:
    low = word.lower()
    if low in _SYMBOL_TERMS:
        return (_SYMBOL_TERMS[low],)
    if "_" in low:
        return (low.replace("_", ""),)
    if word in _BARE_SYMBOLS:
        f, u = unit_symbol(word)  # type: ignore[misc]
        return value_term(f), u
    unit = unit_word(low)
    if unit is not None and (unit[2] or low not in _NO_PREFIX_WORDS | {"seconds"}):
        return (value_term(unit[0]), unit[1]) if unit[2] else (unit[1],)
    return (_spelling(low),)


_PHRASE_STARTS = frozenset(k[0] for k in _PHRASES)


def _phrases(words: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(words):
        if _plural(words[i]) in _PHRASE_STARTS:
            for n in range(min(_MAX_PHRASE, len(words) - i), 0, -1):
                key = tuple(_plural(w) for w in words[i : i + n])
                if key in _PHRASES:
                    out += _PHRASES[key]
                    i += n
                    break
            else:
                out.append(words[i])
                i += 1
        else:
            out.append(words[i])
            i += 1
    return out


def terms(text: str) -> list[str]:
    """The search terms of a text, in order (see the module doc)."""
    tokens = list(_raw_tokens(prepare(text)))
    tokens = _quantities(tokens)
    out = []
    for w in _word_terms(tokens):
        w = _plural(w)
        if w and w not in STOP_WORDS and w != "-":
            out.append(w)
    return out


def normalise(text: str) -> str:
    """The search terms of a text as one string, separated by spaces."""
    return " ".join(terms(text))

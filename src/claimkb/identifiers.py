"""Identifiers of works: DOIs, ISBNs, arXiv ids and URLs. The one place that knows them.

What is wrong with one (``doi_problem``, ``isbn_problem``, ``arxiv_problem``,
``url_problem``), its one written form (``doi_key``, ``isbn13``, ``arxiv_key``),
and the identifiers printed in a citation (``printed_identifiers``). Pure string
work, no network; imported by the checks, the exports and the draft writer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

# Crossref's recommended pattern for modern DOIs (Crossref blog, "DOIs and matching
# regular expressions", 2015): it matches 74.4M of 74.9M DOIs seen then.
DOI_RE = re.compile(r"^10\.\d{4,9}/[-._;()/:A-Z0-9]+$", re.IGNORECASE)
# The same post's extra patterns for early DOIs (Wiley SICIs and others): valid, only unusual.
DOI_LEGACY_RES = (
    re.compile(r"^10\.1002/[^\s]+$", re.IGNORECASE),
    re.compile(r"^10\.\d{4}/\d+-\d+X?(\d+)\d+<[\d\w]+:[\d\w]*>\d+\.\d+\.\w+;\d$", re.IGNORECASE),
    re.compile(r"^10\.1021/\w\w\d+$", re.IGNORECASE),
    re.compile(r"^10\.1207/[\w\d]+&\d+_\d+$", re.IGNORECASE),
)
DOUBLED_PREFIX_RE = re.compile(r"^10\.\d*?(10\.\d{4,9}/.+)$")
DOI_HOSTS = {"doi.org", "dx.doi.org", "www.doi.org", "hdl.handle.net"}

# arXiv archives of old-style identifiers (archive/YYMMNNN, 1991-2007)
ARXIV_ARCHIVES = frozenset(
    """acc-phys adap-org alg-geom ao-sci astro-ph atom-ph bayes-an chao-dyn chem-ph cmp-lg comp-gas
    cond-mat cs dg-ga funct-an gr-qc hep-ex hep-lat hep-ph hep-th math math-ph mtrl-th nlin nucl-ex
    nucl-th patt-sol physics plasm-ph q-alg q-bio quant-ph solv-int supr-con""".split()
)
ARXIV_NEW_RE = re.compile(r"^(\d{2})(\d{2})\.(\d{4,5})(v[1-9]\d*)?$")
ARXIV_OLD_RE = re.compile(
    r"^([a-z]+(?:-[a-z]+)?)(\.[A-Za-z]{2})?/(\d{2})(\d{2})(\d{3})(v[1-9]\d*)?$"
)


# --------------------------------------------------------------------------- single identifiers


def doi_problem(doi: str) -> str | None:
    """What is wrong with a DOI (without resolver prefix), or None when it is well formed."""
    d = doi.strip()
    if d != doi:
        return f"DOI {doi!r} has leading or trailing spaces"
    if re.match(r"(?i)^(https?://|doi:)", d):
        return (
            f"DOI {doi!r} carries a resolver or `doi:` prefix; write only the DOI, e.g. "
            "10.1038/nphys620"
        )
    if DOI_RE.match(d) or any(r.match(d) for r in DOI_LEGACY_RES):
        return None
    m = DOUBLED_PREFIX_RE.match(d)
    if m and DOI_RE.match(m.group(1)):
        return (
            f"DOI {doi!r} has a doubled or garbled prefix; the part from the second `10.` on, "
            f"{m.group(1)}, is a well-formed DOI (check it against the publisher's record)"
        )
    if not d.startswith("10."):
        return f"DOI {doi!r} does not start with `10.` (a DOI is 10.<registrant>/<suffix>)"
    if "/" not in d:
        return f"DOI {doi!r} has no `/` between prefix and suffix"
    prefix, suffix = d.split("/", 1)
    if not re.fullmatch(r"10\.\d{4,9}(\.\d+)*", prefix):
        return (
            f"DOI {doi!r} has a malformed prefix {prefix!r} (expected 10. followed by 4 to 9 "
            "digits)"
        )
    if re.fullmatch(r"10\.\d{4,9}\.\d+(\.\d+)*", prefix) and re.fullmatch(
        r"[-._;()/:A-Z0-9]+", suffix, re.IGNORECASE
    ):
        return None  # a sub-prefix such as 10.1000.10/123 is legal, only rare
    if not suffix:
        return f"DOI {doi!r} has an empty suffix"
    bad = sorted({c for c in suffix if not re.match(r"[-._;()/:A-Za-z0-9]", c)})
    shown = ", ".join(repr(c) for c in bad)
    return f"DOI {doi!r} contains characters outside Crossref's recommended DOI pattern: {shown}"


def isbn_digits(isbn: str) -> str:
    return re.sub(r"[\s\-‐‑–]", "", isbn).upper()


def isbn10_check(first9: str) -> str:
    s = sum((10 - i) * int(c) for i, c in enumerate(first9))
    r = (11 - s % 11) % 11
    return "X" if r == 10 else str(r)


def isbn13_check(first12: str) -> str:
    s = sum((3 if i % 2 else 1) * int(c) for i, c in enumerate(first12))
    return str((10 - s % 10) % 10)


def isbn_problem(isbn: str) -> str | None:
    """What is wrong with an ISBN-10 or ISBN-13, or None when its check digit is right."""
    d = isbn_digits(isbn)
    if re.fullmatch(r"(?i)isbn[-:]?.*", d):
        return f"ISBN {isbn!r} carries an `ISBN` prefix; write only the number"
    if not re.fullmatch(r"\d+X?", d):
        bad = sorted({c for c in d if not (c.isdigit() or c == "X")})
        return (
            f"ISBN {isbn!r} contains characters that are not digits: "
            f"{', '.join(repr(c) for c in bad)}"
        )
    n = len(d)
    if n == 10:
        if "X" in d[:9]:
            return f"ISBN {isbn!r}: only the check digit of an ISBN-10 may be X"
        want = isbn10_check(d[:9])
        if d[9] != want:
            return (
                f"ISBN-10 {isbn!r} has check digit {d[9]}, but its first nine digits give "
                f"{want}: a digit is wrong"
            )
        return None
    if n == 13:
        if "X" in d:
            return f"ISBN-13 {isbn!r} cannot contain X"
        if not d.startswith(("978", "979")):
            return f"ISBN-13 {isbn!r} does not start with 978 or 979"
        want = isbn13_check(d[:12])
        if d[12] != want:
            return (
                f"ISBN-13 {isbn!r} has check digit {d[12]}, but its first twelve digits give "
                f"{want}: a digit is wrong"
            )
        return None
    if n == 9 and "X" not in d:
        return (
            f"ISBN {isbn!r} has 9 digits: one is missing (an ISBN-10 has 10). If these are its "
            f"first nine digits, the check digit would be {isbn10_check(d)} "
            f"({d}{isbn10_check(d)}); confirm it in a library catalogue"
        )
    if n == 12 and "X" not in d and d.startswith(("978", "979")):
        return (
            f"ISBN {isbn!r} has 12 digits: one is missing (an ISBN-13 has 13). If these are its "
            f"first twelve digits, the check digit would be {isbn13_check(d)}; confirm it in a "
            "library catalogue"
        )
    return f"ISBN {isbn!r} has {n} characters; an ISBN has 10 or 13 digits"


def isbn13(isbn: str) -> str | None:
    """The ISBN-13 form of a valid ISBN (for comparing an ISBN-10 with an ISBN-13), else None."""
    if isbn_problem(isbn) is not None:
        return None
    d = isbn_digits(isbn)
    if len(d) == 13:
        return d
    core = "978" + d[:9]
    return core + isbn13_check(core)


def arxiv_problem(arxiv_id: str) -> str | None:
    """What is wrong with an arXiv identifier (old or new style), or None."""
    a = arxiv_id.strip()
    if re.match(r"(?i)^arxiv:", a):
        return (
            f"arXiv id {arxiv_id!r} carries an `arXiv:` prefix; write only the identifier, e.g. "
            "2101.01234"
        )
    if re.match(r"(?i)^https?://", a):
        return f"arXiv id {arxiv_id!r} is a link; write only the identifier, e.g. 2101.01234v2"
    m = ARXIV_NEW_RE.match(a)
    if m:
        yy, mm, num = int(m.group(1)), int(m.group(2)), m.group(3)
        if not 1 <= mm <= 12:
            return f"arXiv id {arxiv_id!r}: month {m.group(2)} does not exist (YYMM.NNNNN)"
        yymm = yy * 100 + mm
        if yymm < 704:
            return (
                f"arXiv id {arxiv_id!r}: new-style identifiers start in April 2007 (0704); older "
                "ones are archive/YYMMNNN"
            )
        if len(num) == 4 and yymm > 1412:
            return (
                f"arXiv id {arxiv_id!r}: from 2015 (1501) on the number after the dot has five "
                "digits"
            )
        if len(num) == 5 and yymm < 1501:
            return f"arXiv id {arxiv_id!r}: before 2015 the number after the dot has four digits"
        return None
    m = ARXIV_OLD_RE.match(a)
    if m:
        archive, yy, mm = m.group(1), int(m.group(3)), int(m.group(4))
        if archive not in ARXIV_ARCHIVES:
            return (
                f"arXiv id {arxiv_id!r}: {archive!r} is not an arXiv archive (e.g. quant-ph, "
                "hep-th, cond-mat)"
            )
        if not 1 <= mm <= 12:
            return f"arXiv id {arxiv_id!r}: month {m.group(4)} does not exist (archive/YYMMNNN)"
        year = 1900 + yy if yy >= 91 else 2000 + yy
        if year > 2007 or (year == 2007 and mm > 3) or (year == 1991 and mm < 8):
            return (
                f"arXiv id {arxiv_id!r}: old-style identifiers run from 9108 to 0703; later ones "
                "are YYMM.NNNNN"
            )
        return None
    return (
        f"arXiv id {arxiv_id!r} is neither new style (YYMM.NNNNN with optional vN, e.g. "
        "2101.01234v2) nor old style (archive/YYMMNNN, e.g. quant-ph/0101001)"
    )


def url_problem(url: str) -> str | None:
    u = url.strip()
    if u != url or re.search(r"\s", u):
        return f"URL {url!r} contains spaces"
    parts = urlsplit(u)
    if parts.scheme not in ("http", "https"):
        return f"URL {url!r} does not start with http:// or https://"
    host = parts.hostname or ""
    if not host or ("." not in host and host != "localhost"):
        return f"URL {url!r} has no valid host name"
    return None


def doi_from_url(url: str) -> str | None:
    """The DOI a doi.org / dx.doi.org link points to, else None."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if (parts.hostname or "").lower() in DOI_HOSTS and parts.path.strip("/"):
        return unquote(parts.path.lstrip("/"))
    return None


def is_legacy_doi_link(url: str) -> bool:
    """True for http://dx.doi.org/…, http://doi.org/… (Crossref recommends https://doi.org/…)."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    return host in DOI_HOSTS and (host != "doi.org" or parts.scheme != "https")


# --------------------------------------------------------------------------- printed text


URL_IN_TEXT = re.compile(r"https?://[^\s<>\"'\[\]{}|\\^`]+", re.IGNORECASE)
DOI_LABELLED = re.compile(r"\bdoi\s*[:=]?\s*(10\.\S+)", re.IGNORECASE)
DOI_BARE = re.compile(r"(?<![\w/.])(10\.\d+\S*/\S+)")
ISBN_IN_TEXT = re.compile(
    r"\bISBN(?:-1[03])?\s*[:#]?\s*([0-9Xx][0-9Xx \-‐‑–]*[0-9Xx])", re.IGNORECASE
)
ARXIV_IN_TEXT = re.compile(r"\barXiv\s*:\s*(\S+)", re.IGNORECASE)
TRAILING = ".,;:>]}*_"


def _trim(s: str) -> str:
    """Drop punctuation that ends the sentence or closes markup rather than the identifier."""
    while s:
        if s[-1] in TRAILING:
            s = s[:-1]
        elif s[-1] == ")" and s.count("(") < s.count(")"):
            s = s[:-1]
        else:
            break
    return s


@dataclass
class Printed:
    """Identifiers found in the printed text of a citation."""

    dois: list[tuple[str, str | None]] = field(
        default_factory=list
    )  # (doi, link it came from or None)
    urls: list[str] = field(default_factory=list)  # links that are not DOI links
    isbns: list[str] = field(default_factory=list)
    arxiv: list[str] = field(default_factory=list)


def printed_identifiers(text: str) -> Printed:
    out = Printed()
    rest = text
    for m in URL_IN_TEXT.finditer(text):
        url = _trim(m.group(0))
        doi = doi_from_url(url)
        if doi is not None:
            out.dois.append((_trim(doi), url))
        elif re.search(r"(?i)arxiv\.org/(abs|pdf)/", url):
            out.arxiv.append(re.sub(r"(?i)^.*arxiv\.org/(abs|pdf)/|\.pdf$", "", url))
            out.urls.append(url)
        else:
            out.urls.append(url)
        rest = rest.replace(m.group(0), " ")
    for m in DOI_LABELLED.finditer(rest):
        out.dois.append((_trim(m.group(1)), None))
        rest = rest.replace(m.group(0), " ")
    for m in DOI_BARE.finditer(rest):
        out.dois.append((_trim(m.group(1)), None))
    for m in ISBN_IN_TEXT.finditer(text):
        out.isbns.append(m.group(1).strip(" -"))
    for m in ARXIV_IN_TEXT.finditer(text):
        out.arxiv.append(_trim(m.group(1)))
    return out


def doi_key(doi: str) -> str:
    """The form in which two spellings of one DOI compare equal (DOIs are case-insensitive)."""
    return doi.strip().lower()


def arxiv_key(arxiv_id: str) -> str:
    """An arXiv id without its version suffix, for comparing two spellings."""
    return re.sub(r"v\d+$", "", arxiv_id.strip().lower())

"""Optional online lookups (``claimkb check --online``).

Is each DOI registered, and does its record match?

DOIs of bibliography entries and evidence works are looked up in the Crossref
REST API (``https://api.crossref.org/works/<doi>``); a DOI Crossref does not
know is looked up in the DOI handle API (``https://doi.org/api/handles/<doi>``),
since DataCite and other agencies register DOIs too. Answers are cached as JSON
under ``<data>/cache/doi/`` so a second run needs no network; failures of the
network are not cached.

Without a network nothing fails: the first connection error stops the lookups
and one ``online-unavailable`` info finding says so. Tests pass a fake
``fetch(url) -> (status, bytes)``.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..identifiers import doi_problem

Fetch = Callable[[str], tuple[int, bytes]]
USER_AGENT = "claimkb/0.1 (machine checks; https://github.com/)"


def urllib_fetch(url: str, timeout: float = 10.0) -> tuple[int, bytes]:
    req = urllib.request.Request(
        url, headers={"User-Agent": USER_AGENT, "Accept": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:  # an answer (404 ...), not a network failure
        return e.code, e.read() if e.fp else b""


def _cache_file(cache_dir: Path, doi: str) -> Path:
    return cache_dir / "doi" / (quote(doi.lower(), safe="") + ".json")


def _trim_crossref(msg: dict[str, Any]) -> dict[str, Any]:
    issued = (msg.get("issued") or {}).get("date-parts") or [[None]]
    return {
        "title": (msg.get("title") or [None])[0],
        "container": (msg.get("container-title") or [None])[0],
        "year": issued[0][0] if issued and issued[0] else None,
        "volume": msg.get("volume"),
        "page": msg.get("page"),
        "authors": [a.get("family") for a in msg.get("author", []) if a.get("family")],
    }


def lookup(doi: str, fetch: Fetch, cache_dir: Path) -> dict[str, Any]:
    """{"registered": bool, "agency": "crossref"|"other"|None, "record": {...}|None}; cached."""
    path = _cache_file(cache_dir, doi)
    if path.exists():
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            pass  # a broken cache entry is simply fetched again
    status, body = fetch(f"https://api.crossref.org/works/{quote(doi, safe='/')}")
    if status == 200:
        msg = json.loads(body.decode("utf-8")).get("message", {})
        answer = {"registered": True, "agency": "crossref", "record": _trim_crossref(msg)}
    elif status == 404:
        status2, body2 = fetch(f"https://doi.org/api/handles/{quote(doi, safe='/')}")
        code = None
        if status2 in (200, 404) and body2:
            try:
                code = json.loads(body2.decode("utf-8")).get("responseCode")
            except json.JSONDecodeError:
                code = None
        if code == 1:
            answer = {"registered": True, "agency": "other", "record": None}
        elif code == 100 or status2 == 404:
            answer = {"registered": False, "agency": None, "record": None}
        else:
            raise OSError(f"unexpected answer from doi.org ({status2})")
    else:
        raise OSError(f"unexpected answer from Crossref ({status})")
    answer["doi"] = doi
    answer["fetched"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(answer, ensure_ascii=False, indent=1), encoding="utf-8")
    return answer


def _targets(kb: Any):
    """(ld, about_type, about_id, work, path) for every well-formed DOI in the metadata."""
    from .consistency import EvidenceIndex

    idx = EvidenceIndex()
    for ld in kb.documents:
        for i, r in enumerate(ld.doc.bibliography):
            if r.doi and doi_problem(r.doi) is None:
                yield ld, "bibliography", r.id, r, ("bibliography", i, "doi")
        for (_k, _about, ev), ev_id in zip(ld.evidence, idx.ids(ld), strict=True):
            if ev.work is not None and ev.work.doi and doi_problem(ev.work.doi) is None:
                yield ld, "evidence", ev_id, ev.work, idx.path(ld, ev) + ("work", "doi")


def check(kb: Any, col: Any, *, fetch: Fetch | None = None, cache_dir: Any = None) -> None:
    from rapidfuzz import fuzz

    from .consistency import normalize_title

    fetch = fetch or urllib_fetch
    cache = Path(cache_dir) if cache_dir is not None else Path("data") / "cache"
    offline = False
    looked = 0
    for ld, about_type, about_id, work, path in _targets(kb):
        doi = work.doi
        cached = _cache_file(cache, doi).exists()
        if offline and not cached:
            continue
        try:
            answer = lookup(doi, fetch, cache)
        except (OSError, urllib.error.URLError, TimeoutError, ValueError) as e:
            offline = True
            col.add(
                None,
                "knowledge base",
                "online",
                "online-unavailable",
                "info",
                f"Online lookups stopped at DOI {doi}: {e}. Everything else was checked; run "
                f"`claimkb check --online` again with a network (answers are cached in {cache}).",
            )
            continue
        looked += 1
        if not answer["registered"]:
            col.add(
                ld,
                about_type,
                about_id,
                "online-doi",
                "error",
                f"DOI {doi} is not registered (Crossref and the DOI handle service do not know "
                "it). Look the work up again and correct the DOI.",
                path,
            )
            continue
        rec = answer.get("record")
        if rec is None:
            col.add(
                ld,
                about_type,
                about_id,
                "online-doi",
                "info",
                f"DOI {doi} is registered (not with Crossref); its metadata was not compared.",
                path,
            )
            continue
        diffs = []
        if rec.get("title") and work.title:
            score = fuzz.token_set_ratio(normalize_title(rec["title"]), normalize_title(work.title))
            if score < 90:
                diffs.append(f"Crossref's title is {rec['title']!r}, the record has {work.title!r}")
        if rec.get("year") and work.year and abs(int(rec["year"]) - int(work.year)) > 1:
            diffs.append(f"Crossref's year is {rec['year']}, the record has {work.year}")
        if diffs:
            col.add(
                ld,
                about_type,
                about_id,
                "online-doi",
                "warning",
                f"DOI {doi}: "
                + "; ".join(diffs)
                + ". Check that the DOI belongs to this work and correct the record.",
                path,
            )
        else:
            col.add(
                ld,
                about_type,
                about_id,
                "online-doi",
                "info",
                f"DOI {doi} is registered with Crossref and its title and year match the record.",
                path,
            )

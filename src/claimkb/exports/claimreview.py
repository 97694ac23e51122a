"""schema.org ClaimReview JSON-LD for every assessed claim.

One ``ClaimReview`` per claim whose status is not ``not assessed``:

- ``claimReviewed``: the claim's statement; ``itemReviewed``: a ``Claim`` whose
  ``text`` is the exact quote and whose ``appearance`` / ``firstAppearance`` is
  the document (a ``CreativeWork`` with name, authors, url and identifiers);
- ``reviewRating``: a ``Rating`` on the evidence scale. The six evidence
  statuses are ranked in data/vocabulary.yaml (1 = established ... 6 = no
  physical basis); ``ratingValue`` = 7 - rank, so ``bestRating`` 6 is
  *established* and ``worstRating`` 1 is *no physical basis*. ``alternateName``
  is the status label and ``ratingExplanation`` the rationale;
- ``author``: the knowledge base as an ``Organization``; ``datePublished``: the
  export date (an option, so the output is reproducible);
- ``citation``: the external evidence works (with DOI/ISBN/arXiv/URL).

The ``@context`` is embedded (``{"@vocab": "http://schema.org/", ...}``) so
the file is self-contained and any JSON-LD processor can expand it offline;
``context="remote"`` writes ``"https://schema.org"`` instead, which is what
search engines' ClaimReview readers expect in a web page.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any
from urllib.parse import quote

SCHEMA = "http://schema.org/"

#: the embedded context: schema.org terms, with url/sameAs as IRIs (as in schema.org's own context)
EMBEDDED_CONTEXT: dict[str, Any] = {
    "@vocab": SCHEMA,
    "url": {"@id": SCHEMA + "url", "@type": "@id"},
    "sameAs": {"@id": SCHEMA + "sameAs", "@type": "@id"},
}
REMOTE_CONTEXT = "https://schema.org"


def _person(name: str) -> dict[str, Any]:
    if "," in name:
        family, given = (p.strip() for p in name.split(",", 1))
        out: dict[str, Any] = {
            "@type": "Person",
            "name": f"{given} {family}".strip(),
            "familyName": family,
        }
        if given:
            out["givenName"] = given
        return out
    return {"@type": "Person", "name": name}


def _identifiers(row: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(identifier strings, sameAs IRIs) of a work row."""
    ids: list[str] = []
    same: list[str] = []
    if row.get("doi"):
        ids.append(f"doi:{row['doi']}")
        same.append(f"https://doi.org/{quote(row['doi'], safe='/:;()._-')}")
    if row.get("isbn"):
        ids.append(f"isbn:{row['isbn']}")
    if row.get("arxiv_id"):
        ids.append(f"arXiv:{row['arxiv_id']}")
        same.append(f"https://arxiv.org/abs/{row['arxiv_id']}")
    return ids, same


def work(row: dict[str, Any]) -> dict[str, Any]:
    """A document, a reference or an evidence work as a schema.org CreativeWork."""
    out: dict[str, Any] = {"@type": "CreativeWork"}
    if row.get("title"):
        out["name"] = row["title"]
    authors = json.loads(row.get("authors") or "[]")
    if authors:
        out["author"] = [_person(a) for a in authors]
    if row.get("year"):
        out["datePublished"] = str(row["year"])
    if row.get("venue"):
        out["isPartOf"] = {"@type": "CreativeWork", "name": row["venue"]}
    if row.get("publisher"):
        out["publisher"] = {"@type": "Organization", "name": row["publisher"]}
    ids, same = _identifiers(row)
    if ids:
        out["identifier"] = ids
    url = row.get("url") or (same[0] if same else None)
    if url:
        out["url"] = url
    if same:
        out["sameAs"] = same
    return out


def document_work(doc: dict[str, Any]) -> dict[str, Any]:
    w = work(doc)
    w["identifier"] = [f"claimkb:{doc['id']}", *w.get("identifier", [])]
    return w


def claim_url(base_url: str, claim_id: str) -> str:
    """The canonical address of a claim's page on a site served at base_url."""
    return f"{base_url.rstrip('/')}/claim/{quote(claim_id, safe='')}"


def claim_review(
    claim: dict[str, Any],
    doc: dict[str, Any],
    *,
    values: dict[str, int],
    org: dict[str, Any],
    date: str,
    base_url: str,
    citations: list[dict[str, Any]] = (),
) -> dict[str, Any]:
    """One ClaimReview: the claim, its rating on the evidence scale, the reviewer, the page."""
    item: dict[str, Any] = {
        "@type": "Claim",
        "text": claim["quote"],
        "appearance": doc,
        "firstAppearance": doc,
    }
    if claim["voice"] == "authors" and doc.get("author"):
        item["author"] = doc["author"]
    rating: dict[str, Any] = {
        "@type": "Rating",
        "ratingValue": values[claim["status"]],
        "bestRating": max(values.values()),
        "worstRating": min(values.values()),
        "alternateName": claim["status"],
    }
    if claim.get("rationale"):
        rating["ratingExplanation"] = claim["rationale"]
    url = claim_url(base_url, claim["id"])
    review: dict[str, Any] = {
        "@type": "ClaimReview",
        "@id": url,
        "url": url,
        "identifier": claim["id"],
        "claimReviewed": claim["statement"],
        "datePublished": date,
        "author": org,
        "reviewRating": rating,
        "itemReviewed": item,
    }
    if citations:
        review["citation"] = list(citations)
    return review


def scale(conn: sqlite3.Connection) -> dict[str, int]:
    """Status label -> ratingValue (best = number of assessed statuses, worst = 1)."""
    ranked = [
        r["term"]
        for r in conn.execute(
            "select term from evidence_statuses where term != 'not assessed' order by rank"
        )
    ]
    n = len(ranked)
    return {term: n - i for i, term in enumerate(ranked)}


def claimreviews(
    conn: sqlite3.Connection,
    *,
    date: str,
    base_url: str,
    publisher: str = "claimkb",
    publisher_url: str | None = None,
    context: str = "embedded",
) -> dict[str, Any]:
    """The JSON-LD document: {"@context": ..., "@graph": [ClaimReview, ...]}."""
    values = scale(conn)
    org: dict[str, Any] = {"@type": "Organization", "name": publisher}
    if publisher_url:
        org["url"] = publisher_url
    docs = {r["id"]: document_work(dict(r)) for r in conn.execute("select * from documents")}
    evidence: dict[str, list[dict[str, Any]]] = {}
    for e in conn.execute(
        "select * from evidence where claim_id is not null and "
        "cites_bibliography_id is null order by id"
    ):
        if e["doi"] or e["isbn"] or e["arxiv_id"] or e["url"]:
            evidence.setdefault(e["claim_id"], []).append(work(dict(e)))
    graph = [
        claim_review(
            dict(c),
            docs[c["document_id"]],
            values=values,
            org=org,
            date=date,
            base_url=base_url,
            citations=evidence.get(c["id"], []),
        )
        for c in conn.execute(
            "select * from claims where status in (select term from "
            "evidence_statuses where term != 'not assessed') "
            "order by document_id, position, id"
        )
    ]
    return {
        "@context": EMBEDDED_CONTEXT if context == "embedded" else REMOTE_CONTEXT,
        "@graph": graph,
    }


def render(conn: sqlite3.Connection, **kw: Any) -> str:
    return json.dumps(claimreviews(conn, **kw), ensure_ascii=False, indent=2) + "\n"

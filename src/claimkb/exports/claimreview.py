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


def _identifiers(row: sqlite3.Row) -> tuple[list[str], list[str]]:
    """(identifier strings, sameAs IRIs) of a work row."""
    ids: list[str] = []
    same: list[str] = []
    keys = row.keys()
    if "doi" in keys and row["doi"]:
        ids.append(f"doi:{row['doi']}")
        same.append(f"https://doi.org/{quote(row['doi'], safe='/:;()._-')}")
    if "isbn" in keys and row["isbn"]:
        ids.append(f"isbn:{row['isbn']}")
    if "arxiv_id" in keys and row["arxiv_id"]:
        ids.append(f"arXiv:{row['arxiv_id']}")
        same.append(f"https://arxiv.org/abs/{row['arxiv_id']}")
    return ids, same


def _work(row: sqlite3.Row, *, title_key: str = "title") -> dict[str, Any]:
    out: dict[str, Any] = {"@type": "CreativeWork"}
    if row[title_key]:
        out["name"] = row[title_key]
    authors = json.loads(row["authors"] or "[]")
    if authors:
        out["author"] = [_person(a) for a in authors]
    if row["year"]:
        out["datePublished"] = str(row["year"])
    keys = row.keys()
    if "venue" in keys and row["venue"]:
        out["isPartOf"] = {"@type": "CreativeWork", "name": row["venue"]}
    if "publisher" in keys and row["publisher"]:
        out["publisher"] = {"@type": "Organization", "name": row["publisher"]}
    ids, same = _identifiers(row)
    if ids:
        out["identifier"] = ids
    url = row["url"] or (same[0] if same else None)
    if url:
        out["url"] = url
    if same:
        out["sameAs"] = same
    return out


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
    publisher: str = "claimkb",
    publisher_url: str | None = None,
    base_url: str | None = None,
    context: str = "embedded",
) -> dict[str, Any]:
    """The JSON-LD document: {"@context": ..., "@graph": [ClaimReview, ...]}."""
    values = scale(conn)
    best, worst = max(values.values()), min(values.values())
    org: dict[str, Any] = {"@type": "Organization", "name": publisher}
    if publisher_url:
        org["url"] = publisher_url
    docs = {r["id"]: r for r in conn.execute("select * from documents")}
    doc_works = {}
    for doc_id, d in docs.items():
        w = _work(d)
        w["identifier"] = [f"claimkb:{doc_id}", *w.get("identifier", [])]
        doc_works[doc_id] = w
    evidence: dict[str, list[dict[str, Any]]] = {}
    for e in conn.execute(
        "select * from evidence where claim_id is not null and cites_bibliography_id is null "
        "order by id"
    ):
        if e["doi"] or e["isbn"] or e["arxiv_id"] or e["url"]:
            evidence.setdefault(e["claim_id"], []).append(_work(e))
    graph = []
    for c in conn.execute(
        "select * from claims where status != 'not assessed' order by document_id, position, id"
    ):
        if (
            c["status"] not in values
        ):  # pragma: no cover - the vocabulary and the build keep these in step
            continue
        doc = doc_works[c["document_id"]]
        claim: dict[str, Any] = {
            "@type": "Claim",
            "text": c["quote"],
            "appearance": doc,
            "firstAppearance": doc,
        }
        if c["voice"] == "authors" and doc.get("author"):
            claim["author"] = doc["author"]
        rating: dict[str, Any] = {
            "@type": "Rating",
            "ratingValue": values[c["status"]],
            "bestRating": best,
            "worstRating": worst,
            "alternateName": c["status"],
        }
        if c["rationale"]:
            rating["ratingExplanation"] = c["rationale"]
        review: dict[str, Any] = {"@type": "ClaimReview"}
        if base_url:
            review["@id"] = review["url"] = (
                f"{base_url.rstrip('/')}/claims/{quote(c['id'], safe='')}"
            )
        review.update(
            {
                "identifier": c["id"],
                "claimReviewed": c["statement"],
                "datePublished": date,
                "author": org,
                "reviewRating": rating,
                "itemReviewed": claim,
            }
        )
        if c["id"] in evidence:
            review["citation"] = evidence[c["id"]]
        graph.append(review)
    return {
        "@context": EMBEDDED_CONTEXT if context == "embedded" else REMOTE_CONTEXT,
        "@graph": graph,
    }


def render(conn: sqlite3.Connection, **kw: Any) -> str:
    return json.dumps(claimreviews(conn, **kw), ensure_ascii=False, indent=2) + "\n"

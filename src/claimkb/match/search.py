"""The claims of a built database closest to a sentence: candidates and scores.

A sentence's terms (``normalise.terms``) are looked up in ``claim_terms_fts`` (FTS5,
porter), which holds the normalised statement and quote of every assessed claim of
every document that is not a draft. The query is bounded: at most ``MAX_TERMS``
distinct terms, the rarest first (document frequency counted up to ``DF_CAP``, so that
a count costs at most that many postings); terms at least that common are kept only
when the sentence has fewer than ``MIN_RARE`` rarer ones, and then must all occur
together and give only a sample (``SAMPLE`` claims, unranked: ranking every claim that
has a common term would cost a scan of most of the index). The rare terms are quoted,
OR-ed and passed as one parameter; BM25 gives the ``CANDIDATES`` best claims; all
candidates are scored again:

    score = 0.55 * weighted share of the sentence's terms the claim has (IDF weights)
          + 0.25 * share of the claim statement's terms the sentence has
          + 0.20 * RapidFuzz token_set_ratio of the two normalised texts

in 0..1. A match is ``likely`` (a restatement worth a curator's look) when its score is
at least ``LIKELY``; ``FLOOR`` is the least score worth showing a person.
"""

from __future__ import annotations

import json
import math
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import fuzz

from .normalise import normalise, terms

#: the table of claim terms the build writes
TERMS_TABLE = "claim_terms"
#: its full-text index (build.schema names both; tests/test_match.py checks they agree)
TERMS_FTS = "claim_terms_fts"
#: at most this many distinct terms in one query
MAX_TERMS = 14
#: document frequencies are counted up to this; a term this common is "common"
DF_CAP = 2000
#: with fewer rare terms than this, the common terms are required together
MIN_RARE = 2
#: claims BM25 hands to the re-ranking
CANDIDATES = 40
#: claims taken (unranked) when only common terms are left
SAMPLE = 100
#: only this much of a sentence is read (a sentence longer than that is cut)
MAX_SENTENCE_CHARS = 5000
#: a match with at least this score is likely a restatement
LIKELY = 0.5
#: matches below this score are not shown to a person (JSON keeps them)
FLOOR = 0.25
#: matches per sentence
TOP = 5
#: weights of the score's three parts (they add up to 1)
W_QUERY, W_CLAIM, W_FUZZ = 0.55, 0.25, 0.20


class MatchError(Exception):
    """The database cannot be matched against; the message says what to do."""


@dataclass(frozen=True)
class Match:
    record_id: str
    status: str
    score: float
    likely: bool
    statement: str

    def as_json(self) -> dict[str, object]:
        return {
            "record_id": self.record_id,
            "status": self.status,
            "score": self.score,
            "likely": self.likely,
        }


@dataclass(frozen=True)
class _Candidate:
    rowid: int
    claim_id: str
    status: str
    statement: str
    statement_terms: str
    quote_terms: str


def stem(term: str) -> str:
    """A crude stem for comparing terms in Python (FTS5 uses porter): the first six letters
    of a word (correlate, correlation -> correl); numbers and symbols whole."""
    return term[:6] if term.isalpha() else term


def open_db(db_path: Path) -> sqlite3.Connection:
    """A read-only connection to a built database that has the claim terms."""
    if not Path(db_path).is_file():
        raise MatchError(f"no database {db_path}: run `claimkb build` first (or pass --db)")
    conn = sqlite3.connect(f"file:{Path(db_path).resolve()}?mode=ro", uri=True, timeout=30)
    try:
        conn.execute(f"select 1 from [{TERMS_FTS}] limit 1").fetchall()
    except sqlite3.DatabaseError:
        conn.close()
        raise MatchError(
            f"{db_path} has no claim terms (built by an older claimkb, or not a claimkb "
            "database): run `claimkb build` first"
        ) from None
    return conn


class Matcher:
    """Matches sentences against one database; remembers document frequencies."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.df: dict[str, int] = {}
        row = conn.execute(f"select count(*) from [{TERMS_TABLE}]").fetchone()
        self.n = max(1, row[0])

    # ---- document frequencies and the query

    def _count(self, term: str) -> int:
        if term not in self.df:
            sql = (
                f"select count(*) from (select 1 from [{TERMS_FTS}] where [{TERMS_FTS}] "
                "match ? limit ?)"
            )
            self.df[term] = self.conn.execute(sql, (_quoted(term), DF_CAP)).fetchone()[0]
        return self.df[term]

    def idf(self, term: str) -> float:
        df = self._count(term)
        return math.log(1 + (self.n - df + 0.5) / (df + 0.5))

    def plan(self, qterms: list[str]) -> tuple[str | None, str | None]:
        """The two FTS5 queries for these terms: the rare terms OR-ed (ranked by BM25), and
        when there are fewer than MIN_RARE of them, the common ones AND-ed (not ranked: a
        bounded sample of the claims that have them all). None for a query not needed."""
        present = [t for t in dict.fromkeys(qterms) if self._count(t) > 0]
        present.sort(key=lambda t: (self._count(t), -len(t)))
        chosen = present[:MAX_TERMS]
        rare = [_quoted(t) for t in chosen if self._count(t) < DF_CAP]
        common = [_quoted(t) for t in chosen if self._count(t) >= DF_CAP]
        ranked = " OR ".join(rare) or None
        sample = " AND ".join(common) if common and len(rare) < MIN_RARE else None
        return ranked, sample

    def query(self, qterms: list[str]) -> str | None:
        """Both queries of ``plan`` as one FTS5 expression (None when no claim has a term)."""
        ranked, sample = self.plan(qterms)
        parts = [p for p in (ranked, f"({sample})" if sample else None) if p]
        return " OR ".join(parts) or None

    # ---- candidates and scores

    def candidates(self, ranked: str | None, sample: str | None) -> list[_Candidate]:
        """The claims BM25 ranks best for `ranked`, and a sample of those matching `sample`."""
        fts = TERMS_FTS
        rowids: list[int] = []
        if ranked:
            sql = (
                f"select rowid from [{fts}] where [{fts}] match ? "
                f"order by bm25([{fts}], 2.0, 1.0) limit ?"
            )
            rowids += [r[0] for r in self.conn.execute(sql, (ranked, CANDIDATES))]
        if sample:
            sql = f"select rowid from [{fts}] where [{fts}] match ? limit ?"
            rowids += [r[0] for r in self.conn.execute(sql, (sample, SAMPLE))]
        if not rowids:
            return []
        rows = self.conn.execute(
            f"select t.rowid, t.claim_id, c.status, c.statement, t.statement_terms, "
            f"t.quote_terms from [{TERMS_TABLE}] t join claims c on c.id = t.claim_id "
            "where t.rowid in (select value from json_each(?))",
            (json.dumps(sorted(set(rowids))),),
        ).fetchall()
        return [_Candidate(*r) for r in rows]

    def score(self, qterms: list[str], c: _Candidate) -> float:
        """The score of a candidate for a sentence's terms, 0..1 (see the module doc)."""
        q = {stem(t): t for t in qterms}
        claim = {stem(t) for t in (c.statement_terms + " " + c.quote_terms).split()}
        statement = {stem(t) for t in c.statement_terms.split()}
        weights = {s: self.idf(t) for s, t in q.items()}
        total = sum(weights.values()) or 1.0
        share_q = sum(w for s, w in weights.items() if s in claim) / total
        share_c = len(statement & set(q)) / (len(statement) or 1)
        qtext = " ".join(qterms)
        fz = max(
            fuzz.token_set_ratio(qtext, c.statement_terms),
            fuzz.token_set_ratio(qtext, c.quote_terms),
        )
        return W_QUERY * share_q + W_CLAIM * share_c + W_FUZZ * fz / 100

    def match(self, sentence: str, top: int = TOP) -> list[Match]:
        """The best `top` assessed claims for a sentence, best first."""
        qterms = terms(sentence[:MAX_SENTENCE_CHARS])
        ranked, sample = self.plan(qterms)
        scored = [(self.score(qterms, c), c) for c in self.candidates(ranked, sample)]
        scored.sort(key=lambda x: (-x[0], x[1].claim_id))
        return [
            Match(c.claim_id, c.status, round(s, 3), s >= LIKELY, c.statement)
            for s, c in scored[:top]
        ]

    def likely(self, sentence: str) -> list[tuple[str, float]]:
        """(claim id, score) of the likely matches of a sentence, best first."""
        return [(m.record_id, m.score) for m in self.match(sentence) if m.likely]


def _quoted(term: str) -> str:
    """A term as an FTS5 string (terms are letters and digits; quotes doubled anyway)."""
    return '"' + term.replace('"', '""') + '"'


def plain_bm25(conn: sqlite3.Connection, sentence: str, top: int = TOP) -> list[str]:
    """The baseline: FTS5 BM25 over claims_fts with the sentence's own words (the same
    bound: at most MAX_TERMS distinct words, the longest first), assessed claims of
    documents that are not drafts. Returns claim ids, best first."""
    words = [w for w in dict.fromkeys(_words(sentence[:MAX_SENTENCE_CHARS]))]
    words.sort(key=lambda w: -len(w))
    if not words:
        return []
    query = " OR ".join(_quoted(w) for w in words[:MAX_TERMS])
    rows = conn.execute(
        "select c.id from claims_fts f join claims c on c.rowid = f.rowid "
        "join documents d on d.id = c.document_id where claims_fts match ? "
        "and c.status != 'not assessed' and d.draft = 0 order by bm25(claims_fts) limit ?",
        (query, top),
    ).fetchall()
    return [r[0] for r in rows]


def _words(sentence: str) -> list[str]:
    return [w.lower() for w in re.findall(r"\w+", sentence)]


__all__ = ["Match", "MatchError", "Matcher", "normalise", "open_db", "plain_bm25"]

"""Time `claimkb match` on a built database: ``python -m claimkb.match.bench DB TEXT...``.

Prints JSON: the number of claims matched against; the time per sentence for the
test-set sentences (tests/fixtures/match/testset.yaml, when given), cold (a new matcher,
no document frequency remembered) and warm; for sentences taken from the database's
own claims (every word of a synthetic corpus is common: the worst case for the query);
and for each TEXT, the whole command's work (split, match every sentence) with a new
matcher, as `claimkb match TEXT` does it.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

import yaml

from .search import Matcher, open_db
from .sentences import read_text, split


def _per_sentence(db: Path, sentences: list[str]) -> dict[str, float]:
    conn = open_db(db)
    try:
        m = Matcher(conn)
        out = {}
        for run in ("cold", "warm"):
            times = []
            for s in sentences:
                t = time.perf_counter()
                m.match(s)
                times.append(time.perf_counter() - t)
            out[f"{run}_mean_ms"] = round(1000 * statistics.mean(times), 2)
            out[f"{run}_max_ms"] = round(1000 * max(times), 2)
        return out
    finally:
        conn.close()


def _whole_text(db: Path, path: Path) -> dict[str, object]:
    t = time.perf_counter()
    text = read_text(path)
    conn = open_db(db)
    try:
        m = Matcher(conn)
        sentences = split(text)
        for s in sentences:
            m.match(s.text)
    finally:
        conn.close()
    seconds = time.perf_counter() - t
    return {"file": str(path), "chars": len(text), "sentences": len(sentences),
            "seconds": round(seconds, 3),
            "ms_per_sentence": round(1000 * seconds / max(1, len(sentences)), 2)}  # fmt: skip


def main(argv: list[str]) -> dict[str, object]:
    db, rest = Path(argv[0]), [Path(a) for a in argv[1:]]
    testsets = [p for p in rest if p.suffix == ".yaml"]
    texts = [p for p in rest if p.suffix != ".yaml"]
    conn = open_db(db)
    try:
        n = conn.execute("select count(*) from claim_terms").fetchone()[0]
        own = [r[0] for r in conn.execute("select quote from claims order by rowid desc limit 100")]
    finally:
        conn.close()
    out: dict[str, object] = {"claims_matched_against": n}
    for p in testsets:
        items = yaml.safe_load(p.read_text(encoding="utf-8"))
        sentences = [i["text"] for g in items.values() for i in g]
        out["testset"] = {"sentences": len(sentences), **_per_sentence(db, sentences)}
    out["own_claims"] = {"sentences": len(own), **_per_sentence(db, own)}
    out["texts"] = [_whole_text(db, p) for p in texts]
    return out


if __name__ == "__main__":  # pragma: no cover - a benchmark
    print(json.dumps(main(sys.argv[1:]), indent=2))

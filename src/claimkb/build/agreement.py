"""Agreement between the two independent readings of every claim and equation.

For each document, and over the whole knowledge base: how many records have two
readings, how often the two readers gave the same label (exact agreement) and Cohen's
kappa (agreement corrected for what two readers with those label frequencies would reach
by chance), and how often each reader's label is the record's status after
adjudication. Computed from the ``readings`` table by every build.
"""

from __future__ import annotations

import sqlite3
from collections import Counter

from .schema import Col, make_table

AGREEMENT = make_table(
    "agreement",
    "How far the two independent readings of the claims and equations agree, per "
    "document and overall, for each reading round (computed from `readings` by every build).",
    ("scope", "round"),
    [
        Col("scope", str, "A document id, or `all` for the whole knowledge base."),
        Col("round", int, "The reading round (readings.round)."),
        Col("latest", int, "1 for the latest round of this scope: the one the statuses come from."),
        Col("document_id", str, "The document (documents.id); null for `all`.", ref="documents.id"),
        Col("records", int, "Records with two readings in this round."),
        Col("agreed", int, "Records whose two readings give the same label."),
        Col("exact", float, "agreed / records."),
        Col("kappa", float, "Cohen's kappa of the two readings (null when it is undefined)."),
        Col("first_final", float, "Share of records whose first reading is their status."),
        Col("second_final", float, "Share of records whose second reading is their status."),
    ],
)

_PAIRS = """
select a.round, a.document_id, a.status, b.status, coalesce(c.status, e.status)
from readings a
join readings b on b.record_id = a.record_id and b.round = a.round and b.position = 2
left join claims c on a.record_type = 'claim' and c.id = a.record_id
left join equations e on a.record_type = 'equation' and e.id = a.record_id
where a.position = 1
"""


def kappa(pairs: list[tuple[str, str]]) -> float | None:
    """Cohen's kappa of two readers' labels; None when chance agreement is certain."""
    n = len(pairs)
    if not n:
        return None
    observed = sum(a == b for a, b in pairs) / n
    first, second = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    expected = sum(first[k] * second[k] for k in first) / (n * n)
    return None if expected == 1 else (observed - expected) / (1 - expected)


def _row(scope: str, rnd: int, latest: bool, doc: str | None, rows: list[tuple[str, str, str]]):
    n = len(rows)
    agreed = sum(a == b for a, b, _ in rows)
    k = kappa([(a, b) for a, b, _ in rows])
    return (
        scope,
        rnd,
        int(latest),
        doc,
        n,
        agreed,
        agreed / n,
        None if k is None else round(k, 4),
        sum(a == f for a, _, f in rows) / n,
        sum(b == f for _, b, f in rows) / n,
    )


def refresh(conn: sqlite3.Connection) -> None:
    """Recompute the agreement table (in the caller's transaction)."""
    conn.execute(
        "create table if not exists agreement (scope text, round integer, latest integer, "
        "document_id text references documents(id), records integer, agreed integer, "
        "exact float, kappa float, first_final float, second_final float, "
        "primary key (scope, round))"
    )
    conn.execute("delete from agreement")
    pairs: dict[tuple[str, int], list[tuple[str, str, str]]] = {}
    for rnd, doc, a, b, final in conn.execute(_PAIRS):
        pairs.setdefault((doc, rnd), []).append((a, b, final))
        pairs.setdefault(("all", rnd), []).append((a, b, final))
    last: dict[str, int] = {}
    for scope, rnd in pairs:
        last[scope] = max(last.get(scope, 0), rnd)
    rows = [
        _row(scope, rnd, rnd == last[scope], None if scope == "all" else scope, r)
        for (scope, rnd), r in sorted(pairs.items(), key=lambda kv: (kv[0][0] == "all", kv[0]))
    ]
    conn.executemany(f"insert into agreement values ({', '.join('?' * 10)})", rows)

"""What can be checked mechanically about the curation of data/.

Every claim and equation was read twice in each round, by different readers; a disagreement
of the latest round carries an adjudication and the status is one of that round's two
readings; a changed status keeps its earlier one in the history. Every evidence item says
where its source says it. The data speaks of sources, never of the machinery used to look
them up. Each identifier is written one way.
The agreement figures are computed from the readings table, and the pages show them.
"""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from pathlib import Path

import pytest
import yaml

from claimkb.build.agreement import kappa as build_kappa

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = sorted((ROOT / "data" / "documents").glob("*.yaml"))

#: words that name search machinery rather than sources (lower case)
JARGON = (
    "find_string",
    "read_file",
    "find_files",
    "find_repos",
    "search tool",
    "look-up tool",
    "lookup tool",
    "search corpus",
    "pages corpus",
    "docs corpus",
    "code corpus",
    "issues corpus",
    "subagent",
    "helper-",
    "stored copy",
    "stored copies",
    "search result",
    "the index of",
    "library tool",
    "fetch(",
    "tool call",
)


@pytest.fixture(scope="module")
def docs() -> list[dict]:
    """The curated documents (a draft `claimkb new` wrote is not curated yet)."""
    loaded = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in DOCUMENTS]
    return [d for d in loaded if not d.get("draft")]


def records(docs):
    for d in docs:
        for kind in ("claims", "equations"):
            yield from d.get(kind) or []


def evidence_items(docs):
    for d in docs:
        yield from d.get("evidence") or []
        for kind in ("claims", "equations", "bibliography"):
            for r in d.get(kind) or []:
                yield from r.get("evidence") or []


def latest(r: dict) -> list[dict]:
    """The readings of a record's latest round (those its status comes from)."""
    readings = r.get("readings") or []
    last = max((x.get("round", 1) for x in readings), default=1)
    return [x for x in readings if x.get("round", 1) == last]


def test_every_claim_and_equation_was_read_twice_by_different_readers(docs):
    rounds = Counter()
    for r in records(docs):
        readers = [x["reader"] for x in r.get("readings") or []]
        assert len(set(readers)) == len(readers), r["id"]
        per_round = Counter(x.get("round", 1) for x in r["readings"])
        assert set(per_round.values()) == {2}, (r["id"], per_round)
        rounds[max(per_round)] += 1
    assert rounds == {max(rounds): sum(rounds.values())}  # every record read in the last round


def test_a_disagreement_is_adjudicated_to_one_of_the_readings(docs):
    for r in records(docs):
        labels = {x["status"] for x in latest(r)}
        if len(labels) > 1:
            assert r.get("adjudication") and r["status"] in labels, r["id"]
        else:
            assert r["status"] in labels and not r.get("adjudication"), r["id"]


def test_a_changed_status_keeps_its_earlier_one(docs):
    changed = 0
    for r in records(docs):
        for past in r.get("history") or []:
            assert past["status"] != r["status"] and past["reason"].strip(), r["id"]
            changed += 1
    assert changed > 0


def test_every_evidence_item_has_a_locator(docs):
    missing = [e.get("note", "")[:60] for e in evidence_items(docs) if not e.get("locator")]
    assert not missing, missing


def test_no_word_of_search_machinery_in_the_data():
    for path in [*DOCUMENTS, ROOT / "data" / "vocabulary.yaml"]:
        text = path.read_text(encoding="utf-8").lower()
        found = [w for w in JARGON if w in text]
        assert not found, (path.name, found)


def test_the_jargon_test_can_fail(tmp_path):
    text = "verification: found with the search tool in the pages corpus".lower()
    assert [w for w in JARGON if w in text] == ["search tool", "pages corpus"]


def _identifiers(docs, key: str) -> list[str]:
    out = []
    for d in docs:
        if d.get(key):
            out.append(str(d[key]))
        for kind in ("bibliography",):
            out += [str(b[key]) for b in d.get(kind) or [] if b.get(key)]
        for e in evidence_items([d]):
            work = e.get("work") or {}
            if work.get(key):
                out.append(str(work[key]))
    return out


def test_isbns_are_isbn_13_without_hyphens(docs):
    for isbn in _identifiers(docs, "isbn"):
        assert re.fullmatch(r"97[89]\d{10}", isbn), isbn


def test_dois_have_no_resolver_and_one_spelling(docs):
    dois = _identifiers(docs, "doi")
    assert dois
    for doi in dois:
        assert doi.startswith("10.") and "doi.org" not in doi and " " not in doi, doi
    spellings: dict[str, set[str]] = {}
    for doi in dois:
        spellings.setdefault(doi.lower(), set()).add(doi)
    assert not {k: v for k, v in spellings.items() if len(v) > 1}


def test_what_was_not_found_says_what_was_tried(docs):
    for d in docs:
        for b in d.get("bibliography") or []:
            if b.get("citation_status") in ("not found", "no such work", "unverifiable"):
                assert b.get("tried"), b["id"]


# --- the figures, from the built database -------------------------------------------------


def _readings(db: Path) -> dict[str, dict[str, str]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        out: dict[str, dict[str, str]] = {}
        for rid, reader, status in conn.execute(
            "select record_id, reader, status from readings r where round = "
            "(select max(round) from readings where record_id = r.record_id) "
            "order by record_id, position"
        ):
            out.setdefault(rid, {})[reader] = status
        return out
    finally:
        conn.close()


def _kappa(pairs: list[tuple[str, str]]) -> float:
    """Cohen's kappa, computed here from scratch (not with the build's code)."""
    n = len(pairs)
    observed = sum(a == b for a, b in pairs) / n
    first, second = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    expected = sum(first[k] * second[k] for k in first) / n / n
    return (observed - expected) / (1 - expected)


def test_agreement_is_computed_from_the_readings(built_db):
    readings = _readings(built_db)
    pairs = [tuple(v.values())[:2] for v in readings.values()]
    drafts = "(select id from documents where draft = 1)"
    conn = sqlite3.connect(f"file:{built_db}?mode=ro", uri=True)
    exact, kappa, records = conn.execute(
        "select exact, kappa, records from agreement where scope = 'all' and latest = 1"
    ).fetchone()
    assert (
        records
        == len(pairs)
        == sum(
            conn.execute(f"select count(*) from {t} where document_id not in {drafts}").fetchone()[
                0
            ]
            for t in ("claims", "equations")
        )
    )
    assert exact == pytest.approx(sum(a == b for a, b in pairs) / len(pairs))
    assert kappa == pytest.approx(_kappa(pairs), abs=1e-4)
    assert build_kappa(pairs) == pytest.approx(_kappa(pairs))


def test_every_round_has_its_own_figures(built_db):
    """An earlier round's agreement stays in the table, computed from that round's readings."""
    conn = sqlite3.connect(f"file:{built_db}?mode=ro", uri=True)
    by_round: dict[int, dict[str, list[str]]] = {}
    for rnd, rid, status in conn.execute(
        "select round, record_id, status from readings order by round, record_id, position"
    ):
        by_round.setdefault(rnd, {}).setdefault(rid, []).append(status)
    assert by_round
    for rnd, readings in by_round.items():
        pairs = [(v[0], v[1]) for v in readings.values()]
        exact, kappa, latest = conn.execute(
            "select exact, kappa, latest from agreement where scope = 'all' and round = ?", (rnd,)
        ).fetchone()
        assert exact == pytest.approx(sum(a == b for a, b in pairs) / len(pairs))
        assert kappa == pytest.approx(_kappa(pairs), abs=1e-4)
        assert latest == (rnd == max(by_round))


async def test_the_pages_show_the_agreement_the_table_holds(built_db):
    import sitekit

    ds = sitekit.datasette(built_db)
    await ds.invoke_startup()
    conn = sqlite3.connect(f"file:{built_db}?mode=ro", uri=True)
    rows = conn.execute("select scope, exact, kappa from agreement where latest = 1").fetchall()
    assert rows
    for scope, exact, kappa in rows:
        url = "/" if scope == "all" else f"/document/{scope}"
        text = (await ds.client.get(url)).text
        assert f"read twice: {exact * 100:.0f}% agreement, κ = {kappa:.2f}" in text, url


async def test_a_record_page_shows_every_round_of_readings(built_db):
    import sitekit

    ds = sitekit.datasette(built_db)
    await ds.invoke_startup()
    conn = sqlite3.connect(f"file:{built_db}?mode=ro", uri=True)
    for table, kind in (("claims", "claim"), ("equations", "equation")):
        rid = conn.execute(f"select id from {table} order by id limit 1").fetchone()[0]
        readers = conn.execute(
            "select reader, round from readings where record_id = ? order by round, position",
            (rid,),
        ).fetchall()
        r = await ds.client.get(f"/{kind}/{rid}")
        assert r.status_code == 200, rid
        for reader, rnd in readers:
            assert reader in r.text, (rid, reader)
            if max(x for _, x in readers) > 1:
                assert f"(round {rnd})" in r.text, (rid, rnd)

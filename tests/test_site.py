"""The reader site, through Datasette's async test client, on databases the real build wrote.

Two knowledge bases: the real data/ built under a file name that is not "claimkb", and the
fictitious feature documents of tests/sitekit.py (every feature, and hostile input). A
plain database is served beside them: its pages must stay plain Datasette.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from urllib.parse import quote

import pytest

import sitekit
from sitekit import RAW_LATEX, visible

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def real_db(tmp_path_factory) -> Path:
    return sitekit.build(sitekit.DATA, tmp_path_factory.mktemp("real") / "any-name-at-all.db")


@pytest.fixture(scope="session")
def feature_db(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("feature")
    data = sitekit.build_feature_pair(base / "data")
    return sitekit.build(data, base / "features.db")


@pytest.fixture(scope="session")
def plain_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("plain") / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("create table claims (id text primary key, status text, statement_html text)")
    conn.execute("insert into claims values ('x', 'supported', '<b id=\"evil\">bold</b>')")
    conn.commit()
    conn.close()
    return path


@pytest.fixture(scope="session")
async def ds(real_db, plain_db):
    d = sitekit.datasette(real_db, plain_db)
    await d.invoke_startup()
    return d


@pytest.fixture(scope="session")
async def fds(feature_db):
    d = sitekit.datasette(
        feature_db, config={"plugins": {"claimkb": {"base_url": "https://kb.example.org"}}}
    )
    await d.invoke_startup()
    return d


def ids(db: Path, sql: str) -> list[str]:
    return [r[0] for r in sitekit.rows_of(db, sql)]


async def get(d, url: str, status: int = 200):
    r = await d.client.get(url)
    assert r.status_code == status, (url, r.status_code, r.text[:500])
    return r


# --- every page, under any name -----------------------------------------------------------


async def test_every_reader_page_answers_for_a_database_of_any_name(ds, real_db):
    for url in sitekit.reader_urls(real_db):
        r = await get(ds, url)
        assert "text/html" in r.headers["content-type"]
        assert "any-name-at-all" not in visible(r.text).links[0][0]  # links are the site's own


async def test_every_record_has_a_page(ds, real_db):
    for table, path in (
        ("claims", "claim"),
        ("equations", "equation"),
        ("bibliography", "reference"),
        ("documents", "document"),
    ):
        for rid in ids(real_db, f"select id from {table}"):
            await get(ds, f"/{path}/{quote(rid, safe='')}")


async def test_unknown_records_are_404(ds):
    for url in (
        "/claim/nope",
        "/equation/nope",
        "/reference/nope",
        "/document/nope",
        "/questions/nope",
    ):
        await get(ds, url, 404)


async def test_a_database_served_beside_stays_plain_datasette(ds):
    r = await get(ds, "/other/claims")
    assert '<b id="evil">' not in r.text and "&lt;b id=&#34;evil&#34;&gt;" in r.text
    assert "ckb-badge" not in r.text  # no claimkb rendering on another database's pages


async def test_datasette_itself_on_the_plain_command_line(real_db):
    """`datasette anything.db` with the plugin installed gives the same site."""
    from datasette.app import Datasette

    d = Datasette([str(real_db)])
    await d.invoke_startup()
    r = await get(d, "/")
    assert "Claims, equations and references, assessed" in r.text


# --- what the pages show --------------------------------------------------------------------


async def test_home_shows_each_document_with_kind_verdict_picture_and_the_ways_in(ds, real_db):
    html = (await get(ds, "/")).text
    for doc, _title in sitekit.rows_of(real_db, "select id, title from documents"):
        assert f'href="/document/{doc}"' in html
    assert html.count('<svg class="ckb-chart"') >= 3  # the status distribution of each document
    assert 'role="search"' in html and 'action="/search"' in html
    for name in ("status-counts", "no-physical-basis", "citation-problems"):
        assert f'href="/questions/{name}"' in html
    assert 'href="/vocabulary"' in html


async def test_trust_badges_say_what_was_verified(fds, ds, real_db):
    html = (await get(ds, "/")).text
    unverified = sitekit.rows_of(
        real_db,
        "select id from documents where kind = 'peer-reviewed article' and venue_verified = 0",
    )
    if unverified:
        assert "journal article · venue unverified" in html
        assert re.search(r"ckb-badge-neutral[^>]*>journal article · venue unverified", html)
    assert "peer-reviewed article</span>" not in html.split("venue unverified")[0][-200:]


async def test_document_page_draws_its_relations_as_a_graph(fds):
    html = (await get(fds, "/document/tsite_doc")).text
    assert '<svg class="ckb-graph"' in html and "contradicts" in html


async def test_lists_filter_count_page_and_link_to_the_raw_table(ds, real_db):
    total = len(ids(real_db, "select id from claims"))
    html = (await get(ds, "/claims")).text
    assert f">{total} claims" in html
    assert 'href="/any-name-at-all/claims"' in html
    status = ids(real_db, "select status from claims group by status order by count(*) desc")[0]
    n = len(ids(real_db, f"select id from claims where status = '{status}'"))
    html = (await get(ds, f"/claims?status={quote(status)}")).text
    assert f">{n} claim" in html
    assert html.count('class="ckb-line"') >= min(n, 50)
    doc = ids(real_db, "select id from documents order by id")[0]
    m = len(
        ids(real_db, f"select id from claims where status = '{status}' and document_id = '{doc}'")
    )
    html = (await get(ds, f"/claims?status={quote(status)}&document={doc}")).text
    assert f">{m} claim" in html


async def test_pages_walk_through_a_long_list(ds, real_db):
    seen, url = [], "/claims"
    while url:
        html = (await get(ds, url)).text
        seen += re.findall(r'href="/claim/([^"]+)"', html)
        nxt = re.search(r'rel="next" href="([^"]+)"', html)
        url = nxt.group(1).replace("&amp;", "&") if nxt else None
    assert sorted(set(seen)) == sorted(ids(real_db, "select id from claims"))


async def test_math_shows_as_mathml_wherever_text_shows(fds, ds, real_db):
    """No reader page shows a LaTeX command outside <math>."""
    for d, db in ((ds, real_db), (fds, None)):
        urls = (
            sitekit.reader_urls(real_db)
            if db
            else ["/claim/tsite2-c01", "/document/tsite_two", "/claims", "/search?q=entangled"]
        )
        for url in urls:
            text = " ".join(visible((await get(d, url)).text).text)
            assert not RAW_LATEX.findall(text), (url, RAW_LATEX.findall(text)[:5])
    html = (await get(fds, "/claim/tsite2-c01")).text
    assert "<math" in html and "ψ" in html


async def test_findings_a_curator_acknowledged_are_not_open_and_the_counts_agree(fds, feature_db):
    html = (await get(fds, "/claim/tsite2-c03")).text
    open_part, _, acked_part = html.partition("Acknowledged by a curator")
    assert "url-with-doi" in open_part and "self-citation-only" not in open_part
    assert "self-citation-only" in acked_part and "The page describes itself" in acked_part
    from claimkb.build import read
    from claimkb.checks import open_findings

    data = feature_db.parent / "data"
    expected = len([f for f in open_findings(read(data).findings) if f.document_id == "tsite_two"])
    assert (
        f"Machine-check findings ({expected} open)" in (await get(fds, "/document/tsite_two")).text
    )
    home = (await get(fds, "/")).text
    assert f"{expected} open machine-check finding" in home


async def test_also_said_in_and_the_assessment_history(fds):
    html = (await get(fds, "/claim/tsite-c01")).text
    also = html.split("Also said in")[1].split("<h2")[0]
    assert "tsite2-c01" in also and "tsite2-c02" in also and "proposed" in also


async def test_one_search_ranks_a_matching_document_title_first(fds):
    html = (await get(fds, "/search?q=second+test+document")).text
    results = re.findall(
        r'<li>\s*<div class="ckb-line"><span class="ckb-badge ckb-badge-neutral"'
        r"[^>]*>(\w+)</span>",
        html,
    )
    assert results and results[0] == "document"
    assert "<mark" in html


async def test_search_covers_documents_claims_equations_and_references(fds):
    html = (await get(fds, "/search?q=fictitious")).text
    assert "reference" in html
    html = (await get(fds, "/search?q=entanglement")).text
    assert 'href="/claim/tsite-c01"' in html


async def test_vocabulary_page_has_every_label_and_the_procedure(ds, real_db):
    html = (await get(ds, "/vocabulary")).text
    for (term,) in sitekit.rows_of(real_db, "select term from vocabulary"):
        assert term in html
    assert html.count("ckb-steps") == 1 and "first one answered" in html


async def test_csv_downloads_as_text_csv(ds):
    r = await get(ds, "/any-name-at-all/claims.csv?_size=5&_dl=1")
    assert r.headers["content-type"].startswith("text/csv")


async def test_small_things_a_reader_notices(ds, real_db):
    for url in sitekit.reader_urls(real_db):
        page = visible((await get(ds, url)).text)
        assert all(label.lower() != "link" for _href, label in page.links), url
        headings = re.findall(r"<h[1-3][^>]*>(.*?)</h[1-3]>", (await get(ds, url)).text, re.S)
        assert not any(re.search(r"\[Ref\.[^]]*\[", h) for h in headings), url


async def test_raw_tables_carry_the_descriptions_the_build_wrote(ds):
    r = await get(ds, "/any-name-at-all/claims")
    assert "One row per claim" in r.text


async def test_the_about_text_names_no_internal_path(ds):
    html = (await get(ds, "/")).text + (await get(ds, "/any-name-at-all")).text
    assert "src/claimkb" not in html and "/work/" not in html and "data/" not in html


# --- structured data ------------------------------------------------------------------------


def jsonld_of(html: str) -> dict:
    found = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert len(found) == 1
    return json.loads(found[0])


async def test_every_assessed_claim_page_embeds_its_claimreview(ds, real_db):
    from pyld import jsonld

    assessed = ids(real_db, "select id from claims where status <> 'not assessed'")
    for cid in assessed:
        data = jsonld_of((await get(ds, f"/claim/{quote(cid, safe='')}")).text)
        assert data["@type"] == "ClaimReview" and data["claimReviewed"]
        assert data["reviewRating"]["alternateName"] and data["author"]["name"]
        assert data["url"] == f"http://localhost/claim/{quote(cid, safe='')}"
    expanded = jsonld.expand(data, {"documentLoader": _schema_org_loader})
    assert expanded[0]["@type"] == ["http://schema.org/ClaimReview"]


def _schema_org_loader(url, options=None):
    from claimkb.exports.claimreview import EMBEDDED_CONTEXT

    assert url.rstrip("/") == "https://schema.org"
    return {"contextUrl": None, "documentUrl": url, "document": {"@context": EMBEDDED_CONTEXT}}


async def test_claimreview_url_comes_from_the_configured_base_url(fds):
    data = jsonld_of((await get(fds, "/claim/tsite-c01")).text)
    assert data["url"] == "https://kb.example.org/claim/tsite-c01"


async def test_stored_text_cannot_close_the_json_ld_element(fds):
    html = (await get(fds, "/claim/tsite-c01")).text
    body = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)[0]
    assert "<" not in body and ">" not in body


# --- the feed -------------------------------------------------------------------------------


async def test_the_atom_feed_is_valid_and_newest_first(ds):
    import feedparser

    r = await get(ds, "/feed.atom")
    assert r.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(r.text)
    assert not feed.bozo, feed.bozo_exception
    assert feed.entries and all(e.link.startswith("http") for e in feed.entries)
    dates = [e.updated for e in feed.entries]
    assert dates == sorted(dates, reverse=True)


def test_questions_read_summaries_and_answer_as_a_query_over_the_rows(real_db, feature_db):
    """The ready-made questions that read the build's summaries (or a narrower index path)
    give exactly the rows of the plain query over every row."""
    from claimkb.site.pages.questions import BY_NAME

    plain = {
        "status-counts": """select c.document_id, d.title as document_title, c.status,
            count(*) as claims from claims c join documents d on d.id = c.document_id
            join evidence_statuses s on s.term = c.status
            group by c.document_id, c.status order by c.document_id, min(s.rank)""",
        "self-citation-only": """select c.id as claim_id, c.document_id, c.statement_html,
            c.status, count(e.id) as evidence_items
            from claims c join evidence e on e.claim_id = c.id group by c.id
            having min(e.self_citation) = 1 order by c.document_id, c.position""",
    }
    for db in (real_db, feature_db):
        for name, sql in plain.items():
            want = sitekit.rows_of(db, sql)
            assert sitekit.rows_of(db, BY_NAME[name].sql) == want, (db, name)
        assert sitekit.rows_of(db, plain["status-counts"])  # the comparison is not empty


async def test_a_long_answer_shows_its_first_rows_and_says_so(fds, monkeypatch):
    from claimkb.site.pages import questions

    monkeypatch.setattr(questions, "MAX_ROWS", 1)
    html = (await get(fds, "/questions/status-counts")).text
    assert "The first 1 rows: the SQL below" in html
    assert html.count("<tr>") == 2  # the header and one row

"""The site in a real browser: Debian's Chromium driven by Playwright against a real `datasette` server.

The server is started exactly as `claimkb serve` starts it (claimkb.cli.datasette_args).
Every request the browser makes is recorded; the tests fail if one leaves the machine.
Screenshots go to screenshots/ (gitignored) for people to look at.

On CI (CI=true) these tests always run; elsewhere they skip only when Chromium is missing.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from test_site import feature_db  # noqa: F401 - the fictitious-document database fixture

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}

if not CHROMIUM.exists():
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        raise RuntimeError(f"{CHROMIUM} is missing on CI: install it (apt-get install -y chromium)")
    pytest.skip(
        f"{CHROMIUM} is not installed (install it to run the browser tests)",
        allow_module_level=True,
    )

from playwright.sync_api import sync_playwright  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, db: Path):
        from claimkb.site import serve_args as datasette_args

        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = db.with_suffix(".server.log")
        self._log = open(self.log, "w")
        self.proc = subprocess.Popen(
            datasette_args(db, "127.0.0.1", self.port),
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(self.base + "/-/versions.json", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"datasette did not start:\n{self.log.read_text()}")
            time.sleep(0.2)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self._log.close()


@pytest.fixture(scope="module")
def real_server(built_db):
    s = Server(built_db)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def feature_server(feature_db):  # noqa: F811 - the fixture imported above
    s = Server(feature_db)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    """A page that records every request and refuses any that would leave the machine."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.requested = []  # type: ignore[attr-defined]

    def route(r):
        url = r.request.url
        pg.requested.append(url)  # type: ignore[attr-defined]
        if (
            urlsplit(url).scheme in ("http", "https", "ws", "wss")
            and urlsplit(url).hostname not in LOCAL_HOSTS
        ):
            r.abort()
        else:
            r.continue_()

    pg.route("**/*", route)
    pg.on("request", lambda req: pg.requested.append(req.url))  # type: ignore[attr-defined]
    yield pg
    offsite = [
        u
        for u in pg.requested
        if urlsplit(u).scheme not in ("data", "blob", "about")
        and urlsplit(u).hostname not in LOCAL_HOSTS
    ]  # type: ignore[attr-defined]
    context.close()
    assert not offsite, f"requests left the machine: {offsite}"


def shot(pg, name: str, full_page: bool = True) -> None:
    SHOTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def visible_box(locator) -> dict:
    locator.wait_for(state="visible")
    box = locator.bounding_box()
    assert box and box["width"] > 0 and box["height"] > 0, box
    return box


def rgb(hex_colour: str) -> str:
    h = hex_colour.lstrip("#")
    return f"rgb({int(h[0:2], 16)}, {int(h[2:4], 16)}, {int(h[4:6], 16)})"


def db_rows(db: Path, sql: str, params=()):
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


# --- the real data -----------------------------------------------------------------------------


def test_home_page(page, real_server, built_db):
    page.goto(real_server.base + "/")
    page.wait_for_load_state("networkidle")
    docs = db_rows(built_db, "select id from documents")
    for d in docs:
        visible_box(page.locator(f'a[href="/document/{d["id"]}"]').first)
    visible_box(page.locator(".ckb-badge").first)
    assert page.locator('link[href="/static/claimkb.css"]').count() == 1
    # our stylesheet is applied (header colour), so the page is not unstyled
    assert (
        page.evaluate(
            "getComputedStyle(document.querySelector('header.ckb-site-header')).backgroundColor"
        )
        == "rgb(31, 42, 55)"
    )
    shot(page, "home")


def test_claim_page(page, real_server, built_db):
    claim = db_rows(
        built_db,
        "select c.id, c.status, s.colour, s.text_colour from claims c join evidence_statuses s on s.term = c.status order by (select count(*) from evidence e where e.claim_id = c.id) desc, c.id limit 1",
    )
    assert claim, "the curated corpus in data/ has claims"
    c = claim[0]
    page.goto(real_server.base + f"/claim/{quote(c['id'], safe=':')}")
    page.wait_for_load_state("networkidle")
    visible_box(page.locator("h1"))
    mark = page.locator("blockquote.ckb-context mark")
    visible_box(mark)
    badge = page.locator(".ckb-badges .ckb-evidence-status").first
    visible_box(badge)
    assert badge.evaluate("e => getComputedStyle(e).backgroundColor") == rgb(c["colour"])
    assert badge.evaluate("e => getComputedStyle(e).color") == rgb(c["text_colour"])
    assert c["status"] in badge.inner_text()
    assert badge.get_attribute("title")
    shot(page, "claim")
    # the link to the spot in the reading view lands on the highlighted claim
    page.locator("a", has_text="Show this passage in the full document").click()
    page.wait_for_load_state("networkidle")
    target = page.locator(f'[id="claim-{c["id"]}"]')
    visible_box(target)
    assert target.evaluate(
        "e => { const r = e.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }"
    )
    assert page.locator(".ckb-hl.ckb-target").count() >= 1
    shot(page, "claim-in-reading-view", full_page=False)


def test_reading_view(page, real_server, built_db):
    doc = db_rows(
        built_db, "select document_id, count(*) as n from claims group by 1 order by 2 desc limit 1"
    )
    assert doc, "the curated corpus in data/ has a document with claims"
    did = doc[0]["document_id"]
    page.goto(real_server.base + f"/document/{did}/read")
    page.wait_for_load_state("networkidle")
    hl = page.locator(".ckb-text .ckb-hl")
    assert hl.count() >= 1
    first = hl.first
    first.scroll_into_view_if_needed()
    visible_box(first)
    bg = first.evaluate("e => getComputedStyle(e).backgroundColor")
    assert bg not in ("rgba(0, 0, 0, 0)", "transparent"), bg
    for c in db_rows(built_db, "select id from claims where document_id = ?", (did,)):
        assert page.locator(f'[id="claim-{c["id"]}"]').count() == 1
    visible_box(page.locator(".ckb-sidebar"))
    shot(page, "reading-view", full_page=False)
    shot(page, "reading-view-full")


def test_search(page, real_server, built_db):
    page.goto(real_server.base + "/")
    words = [
        w
        for r in db_rows(built_db, "select statement from claims")
        for w in r["statement"].split()
        if w.isalpha() and len(w) > 6
    ]
    assert words, "the curated corpus in data/ has claims with searchable words"
    page.fill("#ckb-home-q", words[0])
    page.locator(".ckb-hero form button").click()
    page.wait_for_load_state("networkidle")
    assert "/claimkb/search" in page.url
    results = page.locator(".ckb-results > li")
    assert results.count() >= 1
    visible_box(page.locator("mark.ckb-hit").first)
    shot(page, "search")


def test_table_page_badges_and_facets(page, real_server, built_db):
    assert db_rows(built_db, "select 1 from claims limit 1"), (
        "the curated corpus in data/ has claims"
    )
    page.goto(real_server.base + "/claimkb/claims")
    page.wait_for_load_state("networkidle")
    visible_box(page.locator("table.rows-and-columns .ckb-badge").first)
    assert page.locator(".facet-info").count() >= 3
    assert page.locator(".facets-timed-out").count() == 0
    shot(page, "claims-table", full_page=False)


# --- every feature, on the fictitious document ---------------------------------------------------


def test_math_renders(page, feature_server):
    page.goto(feature_server.base + "/equation/tsite-eq02")
    page.wait_for_load_state("networkidle")
    math = page.locator(".ckb-math-display math").first
    box = visible_box(math)
    assert box["width"] > 40 and box["height"] > 15
    # the label sits over the arrow (mover), i.e. rendered as MathML layout, not as raw text
    arrow, label = (
        page.locator("mover > *").nth(0).bounding_box(),
        page.locator("mover > *").nth(1).bounding_box(),
    )
    assert label["y"] + label["height"] <= arrow["y"] + arrow["height"] / 2 + 1
    # the arrow stretches to the width of its label (a stretchy <mo>), as \xrightarrow does in print
    assert arrow["width"] >= label["width"] - 2, (arrow, label)
    shot(page, "equation")
    page.goto(feature_server.base + "/equation/tsite-eq01")
    frac = page.locator(".ckb-math-display mfrac").first
    box = visible_box(frac)
    assert box["height"] > 25  # a real two-level fraction


def test_overlapping_highlights_and_popover(page, feature_server):
    page.goto(feature_server.base + "/document/tsite_doc/read")
    page.wait_for_load_state("networkidle")
    multi = page.locator(".ckb-hl-multi", has_text="entanglement links the states").first
    visible_box(multi)
    pop = multi.locator(".ckb-pop")
    assert not pop.is_visible()
    multi.focus()
    visible_box(pop)
    links = pop.locator("a")
    assert links.count() == 2
    assert {links.nth(i).get_attribute("href") for i in range(2)} == {
        "/claim/tsite-c01",
        "/claim/tsite-c02",
    }
    # one stripe per record on the shared segment
    assert multi.evaluate("e => getComputedStyle(e).boxShadow").count("inset") == 2
    visible_box(page.locator(".ckb-eq-render math").first)
    shot(page, "reading-view-overlaps", full_page=False)
    links.first.click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/claim/tsite-c02") or page.url.endswith("/claim/tsite-c01")


def test_document_page_chart(page, feature_server):
    page.goto(feature_server.base + "/document/tsite_doc")
    page.wait_for_load_state("networkidle")
    bar = page.locator(".ckb-bar").first
    visible_box(bar)
    assert bar.locator("a").count() == 4
    shot(page, "document")

"""Drafts are first-class: with a document `claimkb new` just wrote in data/, the data
validates, builds and serves, the checks of the curated corpus still hold, and the site
shows the draft as a draft with its records not assessed."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

import sitekit
import test_corpus
from claimkb.cli import cli

ROOT = Path(__file__).resolve().parent.parent
TEXT = ROOT / "tests" / "fixtures" / "new" / "article.md"
DRAFT = "900_draft"


@pytest.fixture(scope="module")
def with_draft(tmp_path_factory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("drafts")
    data = base / "data"
    shutil.copytree(ROOT / "data", data)
    r = CliRunner().invoke(
        cli, ["new", str(TEXT), "--data", str(data), "--id", DRAFT, "--db", str(base / "none.db")]
    )
    assert r.exit_code == 0, r.output
    return data, sitekit.build(data, base / "kb.db")


def test_the_draft_is_marked_and_not_assessed(with_draft):
    data, db = with_draft
    assert "draft: true" in (data / "documents" / f"{DRAFT}.yaml").read_text(encoding="utf-8")
    assert sitekit.rows_of(db, f"select draft from documents where id = '{DRAFT}'") == [(1,)]
    statuses = sitekit.rows_of(
        db, f"select distinct status from claims where document_id = '{DRAFT}'"
    )
    assert statuses == [("not assessed",)]


def test_validate_and_check_pass_with_a_draft_present(with_draft):
    data, _ = with_draft
    for command in ("validate", "check"):
        r = CliRunner().invoke(cli, [command, "--data", str(data)])
        assert r.exit_code == 0, r.output


@pytest.mark.parametrize(
    "check",
    [f for n, f in vars(test_corpus).items() if n.startswith("test_")],
    ids=lambda f: f.__name__,
)
def test_the_corpus_checks_hold_with_a_draft_present(with_draft, check):
    conn = sqlite3.connect(with_draft[1])
    conn.row_factory = sqlite3.Row
    check(conn)


async def test_the_site_shows_the_draft_as_a_draft(with_draft):
    ds = sitekit.datasette(with_draft[1])
    await ds.invoke_startup()
    claim = sitekit.rows_of(
        with_draft[1], f"select id from claims where document_id = '{DRAFT}' limit 1"
    )[0][0]
    for url in (
        "/",
        f"/document/{DRAFT}",
        f"/document/{DRAFT}/read",
        f"/claim/{claim}",
        "/claims?status=not+assessed",
    ):
        r = await ds.client.get(url)
        assert r.status_code == 200, url
    home = (await ds.client.get("/")).text
    assert "draft · not assessed" in home
    page = (await ds.client.get(f"/claim/{claim}")).text
    assert "not assessed" in page and "application/ld+json" not in page  # nothing to review

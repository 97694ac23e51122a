"""The README is the public contract: it must document every table, column, command and label."""

from __future__ import annotations

import re
from pathlib import Path

import click

from claimkb.cli import cli
from claimkb.docs import generated, render
from claimkb.schema import TABLES, VIEWS, VOCAB_TABLES

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_opens_with_exactly_two_commands():
    first_block = re.search(r"```sh\n(.*?)```", README, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in first_block.splitlines() if line.strip()]
    assert commands == ["make serve", "make test"]
    assert README.index("```sh") < README.index("\n## ")


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_generated_sections_are_up_to_date():
    assert render(README, generated(ROOT / "data" / "vocabulary.yaml")) == README, "run `claimkb docs`"


def test_every_table_and_column_is_documented():
    from claimkb.summaries import SUMMARY_TABLES

    for t in TABLES + SUMMARY_TABLES:
        if t.name in VOCAB_TABLES.values():
            assert f"`{t.name}`" in README
            continue
        assert f"### `{t.name}`" in README
        section = README.split(f"### `{t.name}`", 1)[1].split("\n### ", 1)[0]
        for col in t.columns:
            assert f"| `{col}` |" in section, f"{t.name}.{col} is not documented"
    for v in VIEWS:
        assert f"`{v.name}`" in README


def test_every_command_is_documented():
    ctx = click.Context(cli)
    for name in cli.list_commands(ctx):
        assert f"`claimkb {name}" in README, f"claimkb {name} is not in the README"


def test_every_evidence_status_label_is_documented():
    for label in ("established", "supported", "speculative", "unsupported", "contradicted", "no physical basis", "not assessed"):
        assert f"`{label}`" in README

"""The documentation is a public contract: every table, column, command, setting and label
is documented, the generated parts are current, and the README stays short and true."""

from __future__ import annotations

import re
from pathlib import Path

import click

from claimkb.build.schema import TABLES, VIEWS, VOCAB_TABLES
from claimkb.build.summaries import SUMMARY_TABLES
from claimkb.cli import cli
from claimkb.cli.docs import FILES, generated, render
from claimkb.model import VOCABULARIES

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = ROOT / "docs"


def doc(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def test_readme_opens_with_exactly_two_commands():
    first_block = re.search(r"```sh\n(.*?)```", README, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in first_block.splitlines() if line.strip()]
    assert commands == ["make serve", "make test"]
    assert README.index("```sh") < README.index("\n## ")


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_generated_parts_are_up_to_date():
    for key, body in generated(ROOT / "data" / "vocabulary.yaml", cli).items():
        text = doc(FILES[key])
        assert render(text, key, body, FILES[key]) == text, "run `claimkb docs`"


def test_every_table_and_column_is_documented():
    sql = doc("sql.md")
    for t in TABLES + SUMMARY_TABLES:
        if t.name in VOCAB_TABLES.values():
            assert f"`{t.name}`" in sql
            continue
        assert f"### `{t.name}`" in sql
        section = sql.split(f"### `{t.name}`", 1)[1].split("\n### ", 1)[0]
        for col in t.columns:
            assert f"| `{col}` |" in section, f"{t.name}.{col} is not documented"
    for v in VIEWS:
        assert f"`{v.name}`" in sql


def test_every_command_and_option_is_documented():
    commands = doc("commands.md")
    ctx = click.Context(cli)
    for name in cli.list_commands(ctx):
        assert f"`claimkb {name}" in commands, f"claimkb {name} is not in docs/commands.md"
        for p in cli.get_command(ctx, name).params:
            if isinstance(p, click.Option) and not p.hidden:
                assert f"`{p.opts[0]}`" in commands, f"claimkb {name} {p.opts[0]}"


def test_every_label_of_every_vocabulary_is_documented():
    vocabulary = doc("vocabulary.md")
    for name, labels in VOCABULARIES.items():
        assert f"**{name}**" in vocabulary
        for label in labels:
            assert f"`{label}`" in vocabulary, f"{name}: {label}"


def test_the_readme_links_resolve():
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README):
        if not re.match(r"https?://", target):
            assert (ROOT / target).exists(), target

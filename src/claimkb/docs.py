"""Generated parts of README.md: the SQL interface, the vocabularies and the commands.

The README is the public contract, so the parts that mirror code are generated
from the code and checked by a test: run `claimkb docs` after changing
schema.py, vocabulary.yaml or a command, and commit the README.
"""

from __future__ import annotations

import re
from pathlib import Path

import click

from .schema import TABLES, VIEWS, VOCAB_TABLES, fts_table
from .summaries import SUMMARY_TABLES

MARKERS = ("sql", "vocabulary", "commands")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def sql_markdown() -> str:
    out = []
    vocab_tables = set(VOCAB_TABLES.values())
    out.append("Vocabulary tables (one per vocabulary; columns `term` (primary key), `rank`, `colour`, `text_colour`, `definition`): "
               + ", ".join(f"`{t}`" for t in VOCAB_TABLES.values()) + ".\n")
    for t in TABLES + SUMMARY_TABLES:
        if t.name in vocab_tables:
            continue
        pk = t.pk if isinstance(t.pk, str) else ", ".join(t.pk)
        out.append(f"### `{t.name}`\n\n{t.doc} Primary key: `{pk}`.")
        if t.fts:
            out[-1] += f" Full-text search: `{fts_table(t)}` (FTS5, porter) over " + ", ".join(f"`{c}`" for c in t.fts) + "."
        out[-1] += "\n"
        fks = {c: f"{o}.{oc}" for c, o, oc in t.foreign_keys}
        out.append("| column | type | description |\n| --- | --- | --- |")
        for col, typ in t.columns.items():
            ref = f" → `{fks[col]}`" if col in fks else ""
            nn = "" if col in t.not_null or col == t.pk else ", nullable"
            out.append(f"| `{col}` | {typ.__name__}{nn}{ref} | {_cell(t.column_docs[col])} |")
        if t.indexes:
            out.append("\nIndexes: " + "; ".join("(" + ", ".join(cols) + ")" for cols in t.indexes) + ".")
        out.append("")
    out.append("### Views\n")
    for v in VIEWS:
        extra = "; ".join(f"`{k}`: {_cell(d)}" for k, d in v.column_docs.items())
        out.append(f"- `{v.name}`: {v.doc}" + (f" Columns beyond the base table: {extra}" if extra else ""))
    return "\n".join(out).strip() + "\n"


def vocabulary_markdown(vocab_path: Path) -> str:
    import yaml

    data = yaml.safe_load(vocab_path.read_text(encoding="utf-8"))
    out = []
    for name, table in VOCAB_TABLES.items():
        out.append(f"**{name}** (table `{table}`)\n\n| rank | term | definition |\n| --- | --- | --- |")
        for t in sorted(data[name], key=lambda t: t["rank"]):
            out.append(f"| {t['rank']} | `{t['term']}` | {_cell(t['definition'])} |")
        out.append("")
    return "\n".join(out).strip() + "\n"


def commands_markdown() -> str:
    from .cli import cli

    out = ["| command | what it does | options |", "| --- | --- | --- |"]
    ctx = click.Context(cli)
    for name in sorted(cli.list_commands(ctx)):
        cmd = cli.get_command(ctx, name)
        assert cmd is not None
        args = " ".join(p.human_readable_name for p in cmd.params if isinstance(p, click.Argument))
        opts = ", ".join(f"`{p.opts[0]}`" for p in cmd.params if isinstance(p, click.Option) and not p.hidden)
        usage = f"claimkb {name} {args}".strip()
        out.append(f"| `{usage}` | {_cell(cmd.get_short_help_str(limit=200))} | {opts} |")
    return "\n".join(out) + "\n"


def generated(vocab_path: Path) -> dict[str, str]:
    return {"sql": sql_markdown(), "vocabulary": vocabulary_markdown(vocab_path), "commands": commands_markdown()}


def render(readme: str, parts: dict[str, str]) -> str:
    for key, body in parts.items():
        pattern = re.compile(rf"(<!-- {key}:start -->\n).*?(<!-- {key}:end -->)", re.S)
        if not pattern.search(readme):
            raise click.ClickException(f"README.md has no <!-- {key}:start --> ... <!-- {key}:end --> markers")
        readme = pattern.sub(lambda m: m.group(1) + body + m.group(2), readme)
    return readme


@click.command()
@click.option("--readme", type=click.Path(dir_okay=False, path_type=Path), default=Path("README.md"), show_default=True)
@click.option("--data", type=click.Path(file_okay=False, path_type=Path), default=Path("data"), show_default=True)
@click.option("--check", is_flag=True, help="Exit 1 if README.md is out of date instead of writing it.")
def docs(readme: Path, data: Path, check: bool) -> None:
    """Regenerate README.md's SQL interface, vocabulary and command sections."""
    old = readme.read_text(encoding="utf-8")
    new = render(old, generated(data / "vocabulary.yaml"))
    if check:
        if new != old:
            raise click.ClickException("README.md is out of date: run `claimkb docs`")
        click.echo("README.md is up to date")
        return
    readme.write_text(new, encoding="utf-8")
    click.echo(f"wrote {readme}")

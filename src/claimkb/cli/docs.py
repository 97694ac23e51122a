"""`claimkb docs`: the documentation that mirrors the code, generated from it.

The SQL interface (docs/sql.md), the vocabularies (docs/vocabulary.md) and the commands
(docs/commands.md) are a public contract, so they are generated from the schema, the
vocabulary file and the command line, between ``<!-- name:start -->`` and
``<!-- name:end -->`` markers; a test fails while they are stale. Run `claimkb docs`
after changing build/schema.py, data/vocabulary.yaml or a command.
"""

from __future__ import annotations

import re
from pathlib import Path

import click

from ..build.schema import TABLES, VIEWS, VOCAB_TABLES, fts_table
from ..build.summaries import SUMMARY_TABLES

MARKERS = ("sql", "vocabulary", "commands")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def sql_markdown() -> str:
    out = []
    vocab_tables = set(VOCAB_TABLES.values())
    out.append(
        "Vocabulary tables (one per vocabulary; columns `term` (primary key), `rank`, `colour`, "
        "`text_colour`, `definition`): "
        + ", ".join(f"`{t}`" for t in VOCAB_TABLES.values())
        + ".\n"
    )
    for t in TABLES + SUMMARY_TABLES:
        if t.name in vocab_tables:
            continue
        pk = t.pk if isinstance(t.pk, str) else ", ".join(t.pk)
        out.append(f"### `{t.name}`\n\n{t.doc} Primary key: `{pk}`.")
        if t.fts:
            out[-1] += (
                f" Full-text search: `{fts_table(t)}` (FTS5, porter) over "
                + ", ".join(f"`{c}`" for c in t.fts)
                + "."
            )
        out[-1] += "\n"
        fks = {c: f"{o}.{oc}" for c, o, oc in t.foreign_keys}
        out.append("| column | type | description |\n| --- | --- | --- |")
        for col, typ in t.columns.items():
            ref = f" → `{fks[col]}`" if col in fks else ""
            nn = "" if col in t.not_null or col == t.pk else ", nullable"
            out.append(f"| `{col}` | {typ.__name__}{nn}{ref} | {_cell(t.column_docs[col])} |")
        if t.indexes:
            out.append(
                "\nIndexes: " + "; ".join("(" + ", ".join(cols) + ")" for cols in t.indexes) + "."
            )
        out.append("")
    out.append("### Views\n")
    for v in VIEWS:
        extra = "; ".join(f"`{k}`: {_cell(d)}" for k, d in v.column_docs.items())
        out.append(
            f"- `{v.name}`: {v.doc}" + (f" Columns beyond the base table: {extra}" if extra else "")
        )
    return "\n".join(out).strip() + "\n"


def vocabulary_markdown(vocab_path: Path) -> str:
    import yaml

    data = yaml.safe_load(vocab_path.read_text(encoding="utf-8"))
    out = []
    for name, table in VOCAB_TABLES.items():
        out.append(
            f"**{name}** (table `{table}`)\n\n| rank | term | definition |\n| --- | --- | --- |"
        )
        for t in sorted(data[name], key=lambda t: t["rank"]):
            out.append(f"| {t['rank']} | `{t['term']}` | {_cell(t['definition'])} |")
        out.append("")
    return "\n".join(out).strip() + "\n"


def commands_markdown(cli: click.Group) -> str:
    out = ["| command | what it does | options |", "| --- | --- | --- |"]
    ctx = click.Context(cli)
    for name in sorted(cli.list_commands(ctx)):
        cmd = cli.get_command(ctx, name)
        assert cmd is not None
        args = " ".join(p.human_readable_name for p in cmd.params if isinstance(p, click.Argument))
        opts = ", ".join(
            f"`{p.opts[0]}`" for p in cmd.params if isinstance(p, click.Option) and not p.hidden
        )
        usage = f"claimkb {name} {args}".strip()
        out.append(f"| `{usage}` | {_cell(cmd.get_short_help_str(limit=200))} | {opts} |")
    return "\n".join(out) + "\n"


#: generated part -> the file that holds it (under the docs folder)
FILES = {"sql": "sql.md", "vocabulary": "vocabulary.md", "commands": "commands.md"}


def generated(vocab_path: Path, cli: click.Group) -> dict[str, str]:
    return {
        "sql": sql_markdown(),
        "vocabulary": vocabulary_markdown(vocab_path),
        "commands": commands_markdown(cli),
    }


def render(text: str, key: str, body: str, name: str) -> str:
    pattern = re.compile(rf"(<!-- {key}:start -->\n).*?(<!-- {key}:end -->)", re.S)
    if not pattern.search(text):
        raise click.ClickException(
            f"{name} has no <!-- {key}:start --> ... <!-- {key}:end --> markers"
        )
    return pattern.sub(lambda m: m.group(1) + body + m.group(2), text)


@click.command()
@click.option(
    "--docs",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("docs"),
    show_default=True,
    help="The documentation folder.",
)
@click.option(
    "--data",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("data"),
    show_default=True,
)
@click.option(
    "--check", is_flag=True, help="Exit 1 if a generated part is out of date instead of writing it."
)
def docs(folder: Path, data: Path, check: bool) -> None:
    """Regenerate the SQL interface, the vocabularies and the command reference in docs/."""
    root = click.get_current_context().find_root().command
    assert isinstance(root, click.Group)
    stale = []
    for key, body in generated(data / "vocabulary.yaml", root).items():
        path = folder / FILES[key]
        old = path.read_text(encoding="utf-8")
        new = render(old, key, body, str(path))
        if new == old:
            continue
        stale.append(str(path))
        if not check:
            path.write_text(new, encoding="utf-8")
            click.echo(f"wrote {path}")
    if check and stale:
        raise click.ClickException(f"out of date: {', '.join(stale)}: run `claimkb docs`")
    if not stale:
        click.echo("the generated documentation is up to date")

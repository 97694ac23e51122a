"""The rows table of table and view pages, rendered in Python (Datasette 0.65.5's _table.html).

Datasette renders the table of a page with ``_table.html``: a Jinja loop over columns and
cells. Datasette's Jinja environment is asynchronous, so each piece of that loop is a step
of an async generator, with an await check and an escape: about 1,400 steps for the ten
rows of a searched claims page, 40 % of the time its template takes. ``templates/_table.html``
replaces the loop with one call of ``rows_table`` below, which builds the same HTML,
character for character, with ordinary string joins. Cells keep what the render_cell
plugins made of them (badges, links, MathML): only the markup around them is built here.

tests/test_site_speed.py renders pages of every table and view with both templates and
compares the HTML; it also fails if Datasette's _table.html changes.
"""

from __future__ import annotations

from datasette import hookimpl
from datasette.utils import to_css_class
from markupsafe import Markup, escape


def _th(column: dict, sort, sort_desc, request, fix_path, path_with_replaced_args) -> str:
    name = column["name"]
    description = column.get("description")
    out = ["\n                    <th "]
    if description:
        out.append(f'data-column-description="{escape(description)}" ')
    out.append(
        f'class="col-{escape(to_css_class(name))}" scope="col" data-column="{escape(name)}" '
        f'data-column-type="{escape(column["type"].lower())}" data-column-not-null="{escape(column["notnull"])}" '
        f'data-is-pk="{1 if column["is_pk"] else 0}">\n                        '
    )
    if not column["sortable"]:
        out.append(f"\n                            {escape(name)}\n                        ")
    else:
        if name == sort:
            href = fix_path(
                path_with_replaced_args(request, {"_sort_desc": name, "_sort": None, "_next": None})
            )
            link = f'<a href="{escape(href)}" rel="nofollow">{escape(name)}&nbsp;▼</a>'
        else:
            href = fix_path(
                path_with_replaced_args(request, {"_sort": name, "_sort_desc": None, "_next": None})
            )
            arrow = "&nbsp;▲" if name == sort_desc else ""
            link = f'<a href="{escape(href)}" rel="nofollow">{escape(name)}{arrow}</a>'
        out.append(
            f"\n                            \n                                {link}\n                            \n                        "
        )
    out.append("\n                    </th>\n                ")
    return "".join(out)


def _row(row) -> str:
    cells = "".join(
        f'\n                    <td class="col-{escape(to_css_class(cell["column"]))} type-{escape(cell["value_type"])}">'
        f"{escape(cell['value'])}</td>\n                "
        for cell in row
    )
    return f"\n            <tr>\n                {cells}\n            </tr>\n        "


def rows_table(
    display_columns, display_rows, sort, sort_desc, request, fix_path, path_with_replaced_args
) -> Markup:
    """What Datasette's _table.html renders for these variables of the table view."""
    if not display_rows:
        return Markup('\n    <p class="zero-results">0 records</p>\n')
    head = "".join(
        _th(c, sort, sort_desc, request, fix_path, path_with_replaced_args) for c in display_columns
    )
    body = "".join(_row(r) for r in display_rows)
    return Markup(
        '\n<div class="table-wrapper">\n    <table class="rows-and-columns">\n        <thead>\n            <tr>\n                '
        f"{head}\n            </tr>\n        </thead>\n        <tbody>\n        {body}\n        </tbody>\n    </table>\n</div>\n"
    )


@hookimpl
def prepare_jinja2_environment(env):
    env.globals["claimkb_rows_table"] = rows_table

"""The reader pages: one module per kind of page, each with its ROUTES.

Every page is a route of its own (``register_routes``) that runs a few fixed,
parameterised queries through ``Database.execute`` and renders a template that extends
Datasette's ``base.html``. ``page`` answers only GET and HEAD (405 otherwise), and marks
each response with a validator that changes with every build (304 when it is unchanged).
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote

from datasette import Response

from .. import guard, kb, render

Handler = Callable[[Any, Any], Awaitable[Response]]
#: the methods a reader page answers
METHODS = ("GET", "HEAD")


def method_not_allowed(request: Any) -> Response | None:
    if request.method in METHODS:
        return None
    return Response.text(
        "This page only answers GET and HEAD requests.",
        status=405,
        headers={"Allow": ", ".join(METHODS)},
    )


def record_id(request: Any) -> str:
    return unquote(request.url_vars["id"])


def helpers(datasette: Any, db_name: str, vocab: dict) -> dict[str, Any]:
    """What every template may call (all of it escapes what it is given)."""
    return {
        "ckb_db": db_name,
        "ckb_vocab": vocab,
        "badge": lambda name, term, prefix=True: render.badge(vocab, name, term, prefix=prefix),
        "neutral": render.neutral,
        "rurl": lambda kind, rid, read=False: render.record_url(datasette, kind, rid, read=read),
        "cite": render.cite,
        "idlinks": render.identifier_links,
        "authors": render.authors_text,
        "json_list": render.json_list,
        "work_heading": render.work_heading,
        "snippet": render.snippet,
        "sql_url": lambda sql, **params: render.sql_url(datasette, db_name, sql, **params),
        "tilde": render.tilde,
        "document_badge": lambda doc: render.document_badge(vocab, doc),
        "bar": lambda name, counts, label: render.stacked_bar(vocab, name, counts, label=label),
        "agreement_text": render.agreement_text,
    }


_layout: weakref.WeakKeyDictionary[Any, tuple[str, ...]] = weakref.WeakKeyDictionary()


async def _learn_layout(datasette: Any) -> None:
    """Find the inline scripts of Datasette's own page layout (base.html, which every reader
    page extends) as this Datasette renders it: the reader pages' policy allows these."""
    if datasette not in _layout:
        html = await datasette.render_template(["_claimkb_frame.html"], {}, request=None)
        _layout[datasette] = tuple(guard.inline_scripts(html))


def layout_scripts(datasette: Any) -> tuple[str, ...]:
    """The hashes of the layout's inline scripts (none before the first reader page)."""
    return _layout.get(datasette, ())


async def page(
    datasette: Any, request: Any, template: str, build: Callable[[Any], Awaitable[dict[str, Any]]]
) -> Response:
    """Render `template` with what `build(db)` returns, for GET and HEAD only."""
    refused = method_not_allowed(request)
    if refused is not None:
        return refused
    db = await kb.database(datasette)
    await _learn_layout(datasette)
    tag = await kb.etag(db)
    if request.headers.get("if-none-match") == tag:
        return Response("", status=304, headers={"ETag": tag})
    context = await build(db)
    if context.get("title"):  # a <title> holds no markup: formulas as plain Unicode
        context["title"] = render.plain(context["title"])
    vocab = await kb.vocabulary(db)
    html = await datasette.render_template(
        template, {**helpers(datasette, db.name, vocab), **context}, request=request
    )
    return Response.html(html, headers={"ETag": tag, "Cache-Control": "public, max-age=60"})


def routes() -> list[tuple[str, Handler]]:
    from . import documents, feed, home, lists, questions, records, search, vocabulary

    out: list[tuple[str, Handler]] = []
    for module in (home, documents, records, lists, search, questions, vocabulary, feed):
        out += module.ROUTES
    return out

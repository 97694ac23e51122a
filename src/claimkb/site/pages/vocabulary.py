"""The vocabulary: every label with its colour and definition, and how a status is decided."""

from __future__ import annotations

from typing import Any

from datasette import Response

from .. import kb
from . import page


async def vocabulary(datasette: Any, request: Any) -> Response:
    async def build(db: Any) -> dict[str, Any]:
        groups: dict[str, list[dict[str, Any]]] = {}
        for r in await kb.rows(db, "select * from vocabulary order by vocabulary, rank"):
            groups.setdefault(r["vocabulary"], []).append(r)
        steps = await kb.rows(db, "select * from decision_procedure order by step")
        return {"groups": groups, "steps": steps, "title": "What the labels mean"}

    return await page(datasette, request, "claimkb_vocabulary.html", build)


ROUTES = [(r"^/vocabulary$", vocabulary)]

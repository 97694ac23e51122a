"""Cells of Datasette's own table, row and query pages (the render_cell hook).

HTML is trusted only when it comes from a known table and column that the build wrote and
sanitised (``TRUSTED_HTML``), on a page of that very table of a claimkb database. Every
other value is left to Datasette, which escapes it: every column of an arbitrary SQL query
(Datasette passes no table for those), every column of a view or of another database. On
the knowledge base's own tables, status columns become badges and record ids links to
their reader pages (the link's kind fixed by the table, never taken from a row).
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from . import render

#: (table, column) -> the column the build wrote as sanitised HTML (MathML or text)
TRUSTED_HTML = frozenset(
    {
        ("claims", "statement_html"),
        ("claims", "rationale_html"),
        ("claims", "adjudication_html"),
        ("equations", "adjudication_html"),
        ("readings", "note_html"),
        ("assessment_history", "reason_html"),
        ("equations", "mathml"),
        ("equations", "reconstruction_mathml"),
        ("equations", "rationale_html"),
        ("bibliography", "rationale_html"),
        ("evidence", "note_html"),
        ("documents", "assessment_html"),
        ("documents", "metadata_notes_html"),
        ("checks", "message_html"),
        ("source_markup", "html"),
    }
)
#: (table, column) -> vocabulary whose badge the value gets
BADGES = {
    **{(t, "status"): "evidence_status" for t in ("claims", "equations", "bibliography")},
    ("equations", "check_status"): "check_status",
    ("bibliography", "citation_status"): "citation_status",
    ("claims", "claim_type"): "claim_type",
    ("claims", "voice"): "voice",
    ("documents", "kind"): "document_kind",
    ("documents", "assessment_status"): "evidence_status",
    ("evidence", "stance"): "stance",
    ("claim_links", "relation"): "relation",
    ("checks", "severity"): "severity",
}
#: (table, column) -> the kind of record the value is the id of
RECORD_IDS = {
    ("claims", "id"): "claim",
    ("equations", "id"): "equation",
    ("bibliography", "id"): "bibliography",
    ("documents", "id"): "document",
    ("evidence", "claim_id"): "claim",
    ("evidence", "equation_id"): "equation",
    ("evidence", "bibliography_id"): "bibliography",
    ("claim_links", "from_claim"): "claim",
    ("claim_links", "to_claim"): "claim",
}


def render_cell(
    value: Any, column: str, table: str | None, vocab: dict | None, datasette: Any
) -> Markup | None:
    """The HTML of one cell of a claimkb table, or None for Datasette's own rendering."""
    if table is None:
        return None
    key = (table, column)
    if isinstance(value, dict):  # an expanded foreign key ({"value", "label"})
        if key in BADGES and vocab is not None and value.get("value"):
            return render.badge(vocab, BADGES[key], value["value"])
        return None  # Datasette renders the label
    if key in TRUSTED_HTML and isinstance(value, str):
        return Markup(value)  # written and sanitised by the build
    if key in BADGES and vocab is not None and value not in (None, ""):
        return render.badge(vocab, BADGES[key], value)
    if key in RECORD_IDS and isinstance(value, str) and value:
        return Markup('<a href="{}">{}</a>').format(
            render.record_url(datasette, RECORD_IDS[key], value), value
        )
    return None

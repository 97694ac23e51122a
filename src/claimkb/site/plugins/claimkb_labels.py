"""Labels of vocabulary terms without a query (Datasette 0.65.5 internals: see below).

A foreign key into a vocabulary table (claims.status -> evidence_statuses.term, ...) is
labelled with the term itself (``label_column: term`` in metadata.yml). For each such column
of a table page, Datasette's ``expand_foreign_keys`` still asks SQLite for the table's
foreign keys and then for the labels: two queries, each handed to a thread, for every
vocabulary column of the rows and of every facet (12 of the 25 queries of a searched claims
page). Its answer is known in advance: every value that is a term of that vocabulary,
labelled with itself. This plugin gives that answer from the vocabulary the site already
caches (common.vocabulary, read again whenever the database file changes). The table's
foreign keys come from the schema cache (claimkb_schema.py), so other columns
(documents.title, ...) cost one query, the look-up itself, as in Datasette's own method.

Same answer as Datasette's (tests/test_site_speed.py compares them for every foreign key of
every table, with values that are not terms); tests/test_site_speed.py also fails if the
source of the wrapped method changes.
"""

from __future__ import annotations

from datasette.app import Datasette
from datasette.database import QueryInterrupted
from datasette.utils import escape_sqlite

from claimkb.site import common as C

if not hasattr(Datasette, "_claimkb_original_expand_foreign_keys"):
    Datasette._claimkb_original_expand_foreign_keys = Datasette.expand_foreign_keys
_original = Datasette._claimkb_original_expand_foreign_keys

#: vocabulary table -> vocabulary name
_VOCAB_OF_TABLE = {table: vocab for vocab, table in C.VOCAB_TABLES.items()}


async def expand_foreign_keys(self: Datasette, database, table, column, values):
    """Returns dict mapping (column, value) -> label (as Datasette's own method does)."""
    if database != C.kb_database_name(self):
        return await _original(self, database, table, column, values)
    if not values:
        return await _original(self, database, table, column, values)  # (its SQL error, if any)
    db = self.databases[database]
    fk = next((f for f in await db.foreign_keys_for_table(table) if f["column"] == column), None)
    if fk is None:
        return {}
    label_column = await db.label_column_for_table(fk["other_table"])
    if not label_column:
        return {(fk["column"], value): str(value) for value in values}
    vocab = _VOCAB_OF_TABLE.get(fk["other_table"])
    if vocab is not None and fk["other_column"] == "term" and label_column == "term":
        terms = (await C.vocabulary(self)).get(vocab, {})
        return {(column, v): v for v in set(values) if isinstance(v, str) and v in terms}
    # Datasette's own look-up (app.py, 0.65.5)
    sql = "select {} , {} from {} where {} in ({})".format(
        escape_sqlite(fk["other_column"]),
        escape_sqlite(label_column),
        escape_sqlite(fk["other_table"]),
        escape_sqlite(fk["other_column"]),
        ", ".join(["?"] * len(set(values))),
    )
    try:
        results = await self.execute(database, sql, list(set(values)))
    except QueryInterrupted:
        return {}
    return {(fk["column"], id_): label for id_, label in results}


Datasette.expand_foreign_keys = expand_foreign_keys

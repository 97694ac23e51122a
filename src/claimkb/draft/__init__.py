"""A new text -> a draft document file for a curator (`claimkb new`).

Owns the analysis of a text (``analyze``: sentences, display equations, the reference
list, citation markers) and the writing of the draft (``new``): every record ``not
assessed``, the document marked ``draft``, and, when a built database is at hand, proposed
``restates`` links to the assessed claims a drafted claim likely restates (``claimkb.match``).

May import: model, ingest, identifiers, fileio, match, problems.
"""

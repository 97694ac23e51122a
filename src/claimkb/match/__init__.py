"""Claim matching: which assessed claims of the knowledge base a sentence restates.

Owns the normalisation of physics notation into search terms (``normalise``), the
splitting of a text into sentences (``sentences``) and the search and scoring of
candidate claims in a built database (``search``): FTS5 BM25 over the normalised
terms of every assessed claim (the ``claim_terms`` table), re-ranked with RapidFuzz.

May import: model, problems, fileio (the names of the claim_terms table are its own
constants, checked against build.schema by tests/test_match.py); imported by build (the
normaliser), cli and draft.
"""

"""Benchmarks (`claimkb bench`): a synthetic corpus in the real data format (``synth``),
built with the real build and served with the real Datasette options, measured in one run
(``run``: build time and memory against a raw-write baseline, incremental update, page and
search latencies against Datasette's own pages, load with concurrent clients).

May import: model, build, site (the serve command line), problems, fileio.
"""

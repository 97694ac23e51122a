"""Files -> models: reading the curated data, with every error at its file and line.

Owns the bounded YAML reader (``yamlfile``: size, nesting, alias and node bounds, lines of
every value, duplicate keys), loading and validating a document against the models
(``load``), anchoring each quote in its source text (``anchor``: quote <-> offsets), and
turning LaTeX into sanitised MathML (``mathml``) and text with Markdown and ``$...$`` into
sanitised HTML (``richtext``) at build time.

May import: model, problems, identifiers, fileio.
"""

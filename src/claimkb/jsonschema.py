"""The JSON Schema of a document file, exported for editors (YAML language servers)."""

from __future__ import annotations

import json

from .model import Document


def document_schema() -> dict:
    schema = Document.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://github.com/claimkb/claimkb/schema/document.schema.json"
    return schema


def document_schema_text() -> str:
    return json.dumps(document_schema(), indent=2, ensure_ascii=False, sort_keys=False) + "\n"

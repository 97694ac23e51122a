"""The data model: unknown keys are refused, every field is described, vocabularies agree."""

import json
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from claimkb import model
from claimkb.ingest.load import load_vocabulary
from claimkb.model import document_schema_text

ROOT = Path(__file__).resolve().parent.parent


def _models():
    return [
        v
        for v in vars(model).values()
        if isinstance(v, type) and issubclass(v, BaseModel) and v.__module__ == model.__name__
    ]


@pytest.mark.parametrize("cls", _models(), ids=lambda c: c.__name__)
def test_every_model_forbids_extra_and_describes_every_field(cls):
    assert cls.model_config.get("extra") == "forbid"
    undocumented = [name for name, f in cls.model_fields.items() if not f.description]
    assert not undocumented, f"{cls.__name__} fields without description: {undocumented}"


def test_claim_refuses_unknown_key_and_unknown_status():
    base = {"id": "x-c1", "quote": "q", "statement": "s", "claim_type": "empirical"}
    model.Claim.model_validate(base)
    with pytest.raises(ValidationError):
        model.Claim.model_validate({**base, "statment": "typo"})
    with pytest.raises(ValidationError):
        model.Claim.model_validate({**base, "status": "proven"})


def test_evidence_needs_a_locatable_source():
    with pytest.raises(ValidationError):
        model.Evidence.model_validate({"stance": "supports", "note": "n"})
    with pytest.raises(ValidationError):
        model.Evidence.model_validate(
            {"stance": "supports", "note": "n", "work": {"title": "no identifier"}}
        )
    ok = model.Evidence.model_validate(
        {"stance": "supports", "note": "n", "work": {"doi": "10.1038/nphys620"}}
    )
    assert ok.work.doi == "10.1038/nphys620"


def test_doi_is_written_without_resolver():
    with pytest.raises(ValidationError):
        model.Work.model_validate({"doi": "https://doi.org/10.1038/nphys620"})


def test_vocabulary_file_matches_the_model():
    vocab, problems = load_vocabulary(ROOT / "data" / "vocabulary.yaml")
    assert vocab is not None and not problems, problems
    assert [t.term for t in sorted(vocab.evidence_status, key=lambda t: t.rank)] == [
        "established",
        "supported",
        "speculative",
        "unsupported",
        "contradicted",
        "no physical basis",
        "not assessed",
    ]


def test_exported_json_schema_is_up_to_date():
    committed = ROOT / "schema" / "document.schema.json"
    assert committed.read_text(encoding="utf-8") == document_schema_text(), (
        "schema/document.schema.json is stale: run `claimkb schema` and commit it"
    )
    schema = json.loads(committed.read_text())
    assert schema["additionalProperties"] is False


def test_a_works_columns_are_the_fields_of_a_work():
    """bibliography and evidence store a work in the columns the build, the exports and the
    model agree on: one list (build.schema.WORK_COLUMNS), checked against the model."""
    from claimkb.build.schema import TABLES_BY_NAME, WORK_COLUMNS
    from claimkb.model import Work

    assert set(WORK_COLUMNS) == set(Work.model_fields)
    for table in ("bibliography", "evidence"):
        assert set(WORK_COLUMNS) <= set(TABLES_BY_NAME[table].columns), table

"""Shared fixtures: the real data/ built once per session with the real build code."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def no_network_for_pyld():
    """pyld must never fetch anything: any remote document is an error in the tests that use
    it (``pytestmark = pytest.mark.usefixtures("no_network_for_pyld")``)."""
    from pyld import jsonld

    def refuse(url, options=None):
        raise AssertionError(f"pyld tried to fetch {url}")

    old = jsonld.get_document_loader()
    jsonld.set_document_loader(refuse)
    yield
    jsonld.set_document_loader(old)


@pytest.fixture(scope="session")
def kb():
    """The real knowledge base, read and judged as the build reads it."""
    from support import load_kb

    return load_kb(DATA)


@pytest.fixture(scope="session")
def built_db(tmp_path_factory) -> Path:
    """A database built from the real data/ by `claimkb build`'s own code (a full build)."""
    from claimkb.build import build

    path = tmp_path_factory.mktemp("db") / "claimkb.db"
    build(DATA, path, workers=1)
    return path


@pytest.fixture
def data_copy(tmp_path) -> Path:
    """A writable copy of the real data/ folder, for tests that break it on purpose."""
    dest = tmp_path / "data"
    shutil.copytree(DATA, dest)
    return dest

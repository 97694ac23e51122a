"""Shared fixtures: the real data/ built once per session with the real build code."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

# The build keeps parse caches (CLAIMKB_CACHE_DIR, default ~/.cache/claimkb). Tests use a
# private, empty one, so a test run neither reads nor fills the user's cache.
os.environ.setdefault("CLAIMKB_CACHE_DIR", tempfile.mkdtemp(prefix="claimkb-test-cache-"))

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def kb():
    """The real knowledge base, loaded and validated."""
    from claimkb.load import load_knowledge_base

    return load_knowledge_base(DATA)


@pytest.fixture(scope="session")
def built_db(tmp_path_factory, kb) -> Path:
    """A database built from the real data/ by the real build code (with the machine checks)."""
    from claimkb.build import write_database
    from claimkb.cli import run_checks

    path = tmp_path_factory.mktemp("db") / "claimkb.db"
    write_database(kb, path, run_checks(kb))
    return path


@pytest.fixture
def data_copy(tmp_path) -> Path:
    """A writable copy of the real data/ folder, for tests that break it on purpose."""
    dest = tmp_path / "data"
    shutil.copytree(DATA, dest)
    return dest

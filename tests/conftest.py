import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data():
    """Path to the real datasets beside the repository (../shared/data)."""
    if not SHARED_DATA.is_dir():
        raise RuntimeError(f"the shared data folder is missing: {SHARED_DATA}")
    return SHARED_DATA

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# Each pytest-xdist worker gets its share of the cores for TensorFlow's intra-op pool (subprocesses inherit it).
# By default every worker's pool is as wide as the machine, and two workers on 2 cores spent their time
# contending: the suite took 968 s that way, against 848 s for all of it on one worker pinned to one core.
# TF_NUM_INTRAOP_THREADS is read when TensorFlow initialises, which this file precedes in each worker.
_CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
os.environ.setdefault("TF_NUM_INTRAOP_THREADS",
                      str(max(1, _CORES // int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")))))

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


@pytest.fixture(scope="session")
def prepared_tfds(tmp_path_factory, shared_data):
    """prepared_tfds(*names) -> one TFDS folder for the whole run in which those datasets are prepared.

    Preparing MNIST from the IDX files takes about half a minute on one core. The folder is shared by every
    pytest-xdist worker of the run (the parent of the workers' temporary folders), and a file lock per
    dataset makes the first test that needs it prepare it while the others wait, then read the same files.
    """
    import fcntl

    from tfgan_stable import data

    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    folder = root / "tfds"
    folder.mkdir(exist_ok=True)

    def prepare(*names):
        for name in names:
            with open(folder / f"{name}.lock", "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
                data.load(name, "test", batch_size=1, data_dir=shared_data, tfds_dir=folder)
        return folder
    return prepare

"""Location of the shared benchmark data (never copied into the repository).

The files live in ``../shared/data/`` relative to the repository root; tests that
need one skip, saying which, when it is absent.
"""

from pathlib import Path

import pytest

DATA_DIR = (Path(__file__).resolve().parents[2] / ".." / "shared" / "data").resolve()


@pytest.fixture(scope="session")
def shared_data():
    """Function mapping a path relative to the shared data folder to its Path.

    Skips the calling test when the folder or the file is missing.
    """

    def locate(relative: str) -> Path:
        path = DATA_DIR / relative
        if not path.exists():
            pytest.skip(f"shared benchmark data not available: {path} is missing")
        return path

    return locate

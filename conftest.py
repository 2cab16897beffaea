"""Settings for every pytest run, of the unit tests (tests/) and of the notebooks under nbval
(notebooks/), whichever of the two is run."""
import os

import pytest

from utils.core.config import quick

# The tests and nbval's notebook runs check the bundled data and its committed outputs: a learner's own
# data folder (FTRAG_DATA) must not change what they read. Tests of the setting set it themselves.
os.environ.pop("FTRAG_DATA", None)


def pytest_collection_modifyitems(config, items):
    """Under FTRAG_QUICK the notebooks print other numbers than their committed outputs: nbval
    would fail on every checked cell, so its items are skipped and the quick run is left to
    tests/test_notebooks_quick.py."""
    if not quick():
        return
    skip = pytest.mark.skip(reason="FTRAG_QUICK is set: outputs differ from the committed ones; "
                                   "run tests/test_notebooks_quick.py for the quick run")
    for item in items:
        if item.nodeid.endswith(".ipynb") or ".ipynb::" in item.nodeid:
            item.add_marker(skip)

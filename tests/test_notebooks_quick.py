"""The quick run: every numbered notebook (the bonus ones too) and worked solution, each in a fresh kernel, with
FTRAG_QUICK=1 (utils.core.config.quick): each training cut to a few steps and each evaluation to a few
questions of each kind, the notebooks' claims printed rather than asserted, no reference figure and no
output compared. A maintainer's smoke test that a change to utils/ breaks no notebook (about 7
minutes on 2 cores, 3 of them the bonus lessons; the full test run from an empty cache takes about 32):

    FTRAG_QUICK=1 .venv/bin/python -m pytest tests/test_notebooks_quick.py --durations=0

Skipped unless FTRAG_QUICK is set. It uses the cache the run started with (the model is fetched
once); what a quick run trains and saves is kept in its quick/ folder, apart from full runs'.
"""
import subprocess
from pathlib import Path

import pytest

from conftest import USER_CACHE
from utils.core.config import REPO_ROOT, quick
from utils.core.notebook_runner import BONUS, LESSONS, run_notebook

NOTEBOOKS = LESSONS + BONUS + sorted((REPO_ROOT / "notebooks" / "solutions").glob("*.ipynb"))

pytestmark = pytest.mark.skipif(not quick(), reason="the quick run: set FTRAG_QUICK=1")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(Path(p).relative_to(REPO_ROOT / "notebooks")))
def test_notebook_runs_in_quick_mode(path, monkeypatch):
    monkeypatch.setenv("FTRAG_QUICK", "1")  # the kernel inherits the environment
    if USER_CACHE:
        monkeypatch.setenv("FTRAG_CACHE", USER_CACHE)
    else:
        monkeypatch.delenv("FTRAG_CACHE")
    before = tracked_changes()
    # A failing cell or claim raises CellExecutionError with its traceback; a hung cell times out.
    run_notebook(path, timeout=900)
    # A run writes only into the cache: a maintainer's `git status` is as it was (the README's figure
    # is written only when asked for, FTRAG_WRITE_FIGURES=1).
    assert tracked_changes() == before


def tracked_changes() -> str:
    """`git status` of the tracked files, or "" outside a git checkout."""
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO_ROOT,
                            capture_output=True, text=True)
    return status.stdout if status.returncode == 0 else ""

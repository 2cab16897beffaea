"""Running a notebook headless, in a fresh kernel started in the notebook's own folder, as nbval and
Jupyter do: how notebook 06 rebuilds missing results, the quick run tests every notebook, and the
benchmark times them.
"""
from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

from utils.core.config import REPO_ROOT

NOTEBOOKS = REPO_ROOT / "notebooks"
LESSONS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))  # the series, in the order a learner reads it
# Optional lessons after the series, numbered on from it: the series never depends on them, and CI's
# second numeric path does not run them (each checks its own figures on the first).
BONUS = sorted((NOTEBOOKS / "bonus").glob("[0-9][0-9]_*.ipynb"))


def run_notebook(path: str | Path, timeout: int = 1800, extra_cell: str | None = None):
    """Execute the notebook at `path` and return it executed (the file is left as it was).

    extra_cell: source run after the last cell (e.g. to report the kernel's memory). Each cell's start
    and end are kept in its metadata (nbclient's record_timing). A failing cell raises nbclient's
    CellExecutionError with its traceback; a cell running past `timeout` seconds, a timeout error.
    """
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    if extra_cell is not None:
        nb.cells.append(nbformat.v4.new_code_cell(extra_cell))
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb

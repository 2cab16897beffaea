"""Measured results saved as JSON under the cache folder, so a later notebook can reuse them.

Every notebook still runs alone: `results_of` runs the notebook that measures what is missing.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

from .config import REPO_ROOT, artifacts_dir

NOTEBOOKS = REPO_ROOT / "notebooks"
# Which notebook saves which results (its last cells call save_results).
PRODUCED_BY = {
    "01_fact_tuning": "01_facts_by_fine_tuning.ipynb",
    "02_drift": "02_knowledge_drift.ipynb",
    "03_xml_tuning": "03_behaviour_tuning_xml.ipynb",
    "04_retrieval": "04_retrieval.ipynb",
}


def results_path(name: str):
    return artifacts_dir() / "results" / f"{name}.json"


def save_results(name: str, data: dict) -> None:
    path = results_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".partial")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
    tmp.replace(path)  # atomic: a half-written file is never read back


def load_results(name: str) -> dict | None:
    path = results_path(name)
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError:
        return None  # a damaged file is recomputed, not trusted


def results_of(name: str, notebook: str | Path | None = None, timeout: int = 1800) -> dict:
    """The results a notebook saved under `name`; when they are missing, run that notebook headless
    (in a fresh kernel, as nbval would) so that it measures and saves them: one source of truth for
    every figure, and any notebook still runs alone on an empty cache."""
    data = load_results(name)
    if data is not None:
        return data
    if notebook is None:
        if name not in PRODUCED_BY:
            raise KeyError(f"No notebook is known to save results {name!r}; known: {sorted(PRODUCED_BY)}")
        notebook = NOTEBOOKS / PRODUCED_BY[name]
    notebook = Path(notebook)
    import nbformat  # only needed to rebuild
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    print(f"results {name!r} are not cached: running {notebook.name} to measure them ...", flush=True)
    started = time.perf_counter()
    nb = nbformat.read(notebook, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(notebook.parent)}})
    try:
        client.execute()
    except CellExecutionError as e:
        first_line = str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__
        raise RuntimeError(f"{notebook.name} failed while rebuilding results {name!r}: {first_line}. "
                           f"Run that notebook on its own to see the failing cell.") from None
    data = load_results(name)
    if data is None:
        raise RuntimeError(f"{notebook.name} ran but saved no results {name!r}: its last cells should "
                           f"call save_results({name!r}, ...)")
    print(f"... done in {time.perf_counter() - started:.0f} s", flush=True)
    return data

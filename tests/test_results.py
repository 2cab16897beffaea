"""utils/tasks/results.py: each notebook's results as a dataclass, saved as JSON in the cache and read back."""
import dataclasses
import json
from dataclasses import dataclass
from typing import ClassVar

import nbformat
import pytest

from conftest import SERIES
from utils.core.config import REPO_ROOT
from utils.tasks.results import (
    NOTEBOOKS,
    RESULTS,
    FactTuningResults,
    ReaderResults,
    load_results,
    results_of,
    results_path,
    save_results,
)
from utils.tasks.systems import SYSTEMS


@pytest.mark.parametrize("results", [getattr(SERIES, f.name) for f in dataclasses.fields(SERIES)],
                         ids=lambda r: r.name)
def test_each_notebooks_results_round_trip(private_cache, results):
    save_results(results)
    assert results_path(type(results)) == private_cache / "results" / f"{results.name}.json"
    assert load_results(type(results)) == results  # int keys, nested dataclasses and all
    assert [p.name for p in (private_cache / "results").iterdir()] == [f"{results.name}.json"]  # no partial file


def test_missing_damaged_or_stale_results_are_none(private_cache):
    assert load_results(FactTuningResults) is None
    path = results_path(FactTuningResults)
    path.parent.mkdir(parents=True)
    path.write_text('{"half": ')
    assert load_results(FactTuningResults) is None
    saved = json.loads(json.dumps(dataclasses.asdict(SERIES.fact_tuning)))
    renamed = {("control answers lost" if k == "control_lost" else k): v for k, v in saved.items()}
    path.write_text(json.dumps(renamed))  # saved by an older version: a prose key for control_lost
    assert load_results(FactTuningResults) is None
    path.write_text(json.dumps({**saved, "training_seconds": "76 s"}))  # a field of the wrong type
    assert load_results(FactTuningResults) is None
    path.write_text(json.dumps(saved))
    assert load_results(FactTuningResults) == SERIES.fact_tuning


@dataclass(frozen=True)
class Demo:
    name: ClassVar[str] = "demo"
    value: int


def _notebook(path, source):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    nbformat.write(nb, path)
    return path


SAVES = (f"import sys; sys.path.insert(0, {str(REPO_ROOT)!r})\nfrom dataclasses import dataclass\n"
         "from typing import ClassVar\nfrom utils.tasks.results import save_results\n"
         "@dataclass(frozen=True)\nclass Demo:\n    name: ClassVar[str] = 'demo'\n    value: int\n")


def test_results_of_runs_the_notebook_once_when_missing_or_stale(private_cache, tmp_path, capsys):
    notebook = _notebook(tmp_path / "demo.ipynb", SAVES + "save_results(Demo(41 + 1))")
    results_path(Demo).parent.mkdir(parents=True)
    results_path(Demo).write_text('{"old name": 1}')
    assert results_of(Demo, notebook) == Demo(42)  # ran the notebook (its kernel shares FTRAG_CACHE)
    assert "were saved by another version of the code (Demo: missing ['value']" in capsys.readouterr().out
    notebook.unlink()
    assert results_of(Demo, notebook) == Demo(42)  # read back, the notebook not needed


def test_results_of_says_which_notebook_failed_or_saved_nothing(private_cache, tmp_path):
    failing = _notebook(tmp_path / "failing.ipynb", 'raise ValueError("the world file is malformed")')
    with pytest.raises(RuntimeError, match="failing.ipynb failed .*the world file is malformed"):
        results_of(Demo, failing)
    silent = _notebook(tmp_path / "silent.ipynb", "pass")
    with pytest.raises(RuntimeError, match=r"silent.ipynb ran but its results 'demo' are not cached"):
        results_of(Demo, silent)


def test_every_producing_notebook_saves_its_results():
    for kind in RESULTS:
        sources = [c.source for c in nbformat.read(NOTEBOOKS / kind.notebook, as_version=4).cells]
        assert any(f"save_results({kind.__name__}(" in s for s in sources), kind.notebook


def test_a_quick_run_saves_its_results_apart(private_cache, monkeypatch):
    save_results(Demo(1))
    monkeypatch.setenv("FTRAG_QUICK", "1")
    assert load_results(Demo) is None  # a quick run measures its own
    save_results(Demo(2))
    assert results_path(Demo) == private_cache / "quick" / "results" / "demo.json"
    monkeypatch.delenv("FTRAG_QUICK")
    assert load_results(Demo) == Demo(1)


def test_results_are_keyed_by_system_id_so_a_relabel_changes_no_saved_key(private_cache, monkeypatch):
    monkeypatch.setitem(SYSTEMS, "reader", dataclasses.replace(SYSTEMS["reader"], label="RAG with a tuned reader"))
    save_results(SERIES.reader)
    saved = json.loads(results_path(ReaderResults).read_text())
    assert list(saved["heldout_wordings"]) == ["base_reader", "fine_tuned", "reader"]  # sorted ids, no label
    assert load_results(ReaderResults) == SERIES.reader


def test_a_file_keyed_by_labels_or_unknown_ids_is_stale(private_cache):
    """A results file keyed by a system's label (or by an id since renamed) was written by other code:
    it is measured again, not read into a KeyError at the end of notebook 06."""
    saved = json.loads(json.dumps(dataclasses.asdict(SERIES.reader)))
    for key in ("retrieval + reader adapter", "reader_adapter"):
        wordings = {(key if k == "reader" else k): v for k, v in saved["heldout_wordings"].items()}
        results_path(ReaderResults).parent.mkdir(parents=True, exist_ok=True)
        results_path(ReaderResults).write_text(json.dumps({**saved, "heldout_wordings": wordings}))
        assert load_results(ReaderResults) is None

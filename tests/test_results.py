"""utils/results.py: measured results saved as JSON in the cache and read back."""
import nbformat
import pytest

from utils.config import REPO_ROOT
from utils.results import (NOTEBOOKS, PRODUCED_BY, load_results, results_of, results_path,
                           save_results)


def test_save_then_load_round_trips(private_cache):
    save_results("01_demo", {"trained phrasing": 1.0, "per kind": {"reversed": 0.0}, "curve": [0.7, 0.9]})
    assert results_path("01_demo") == private_cache / "results" / "01_demo.json"
    assert load_results("01_demo") == {"trained phrasing": 1.0, "per kind": {"reversed": 0.0}, "curve": [0.7, 0.9]}
    assert [p.name for p in (private_cache / "results").iterdir()] == ["01_demo.json"]  # no partial file left


def test_missing_or_damaged_results_are_none(private_cache):
    assert load_results("never-saved") is None
    path = results_path("damaged")
    path.parent.mkdir(parents=True)
    path.write_text('{"half": ')
    assert load_results("damaged") is None


def _notebook(path, source):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    nbformat.write(nb, path)
    return path


SAVES = f"import sys; sys.path.insert(0, {str(REPO_ROOT)!r})\nfrom utils.results import save_results\n"


def test_results_of_runs_the_notebook_once_when_missing(private_cache, tmp_path):
    notebook = _notebook(tmp_path / "demo.ipynb", SAVES + 'save_results("demo", {"value": 41 + 1})')
    assert results_of("demo", notebook) == {"value": 42}  # ran the notebook (its kernel shares FTRAG_CACHE)
    notebook.unlink()
    assert results_of("demo", notebook) == {"value": 42}  # read back, the notebook not needed


def test_results_of_says_which_notebook_failed_or_saved_nothing(private_cache, tmp_path):
    failing = _notebook(tmp_path / "failing.ipynb", 'raise ValueError("the world file is malformed")')
    with pytest.raises(RuntimeError, match="failing.ipynb failed .*the world file is malformed"):
        results_of("demo", failing)
    silent = _notebook(tmp_path / "silent.ipynb", SAVES + 'save_results("other", {})')
    with pytest.raises(RuntimeError, match=r"silent.ipynb ran but saved no results 'demo'"):
        results_of("demo", silent)
    with pytest.raises(KeyError, match="known: .*01_fact_tuning"):
        results_of("never-heard-of")


def test_every_producing_notebook_saves_its_results():
    for name, notebook in PRODUCED_BY.items():
        sources = [c.source for c in nbformat.read(NOTEBOOKS / notebook, as_version=4).cells]
        assert any(f'save_results("{name}"' in s for s in sources), notebook


def test_a_quick_run_saves_its_results_apart(private_cache, monkeypatch):
    save_results("01_demo", {"trained phrasing": 1.0})
    monkeypatch.setenv("FTRAG_QUICK", "1")
    assert load_results("01_demo") is None  # a quick run measures its own
    save_results("01_demo", {"trained phrasing": 0.1})
    assert results_path("01_demo") == private_cache / "quick" / "results" / "01_demo.json"
    monkeypatch.delenv("FTRAG_QUICK")
    assert load_results("01_demo") == {"trained phrasing": 1.0}

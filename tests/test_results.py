"""utils/results.py: measured results saved as JSON in the cache and read back."""
import json

from utils.results import cached_results, load_results, results_path, save_results


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


def test_cached_results_computes_once(private_cache):
    calls = []

    def compute():
        calls.append(1)
        return {"value": len(calls)}

    assert cached_results("once", compute) == {"value": 1}
    assert cached_results("once", compute) == {"value": 1}
    assert len(calls) == 1
    results_path("once").write_text("not json")  # damaged: recomputed, not trusted
    assert cached_results("once", compute) == {"value": 2}
    assert json.loads(results_path("once").read_text()) == {"value": 2}

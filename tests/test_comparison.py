"""utils/comparison.py: the five-row table, filled from the notebooks' saved results."""
import copy

import pytest

from utils.comparison import DIMENSIONS, comparison_rows, headline, rows_html

KINDS = {"trained": 1.0, "paraphrase": 0.94, "reversed": 0.0, "documented": 0.0, "unknown": 0.0}
RESULTS = {
    "01_fact_tuning": {"fine-tuned": KINDS, "control answers lost": 0.75, "training seconds": 76.3},
    "02_drift": {"approaches": {"no update (t0-tuned)": {"stale": 1.0}, "incremental update": {"kept": 0.25}},
                 "update seconds": {"incremental update": 22.7, "full retrain": 90.0},
                 "cost timeline": {"full retrain": [108.0, 2484.5]}},
    "03_xml_tuning": {"learning curve": {"0": {"unseen_style": {"valid": 0.0}}},
                      "few-shot (16 notes)": {"valid": 0.8125},
                      "final, unseen styles": {"valid": 0.96875, "fields": 0.890625}, "training seconds": 35.0},
    "04_retrieval": {"recall@1": {"trained": 1.0, "reversed": 0.975}, "reader adapter": {"trained": 0.975, "paraphrase": 0.96, "reversed": 1.0, "documented": 0.99,
                                        "unknown": 1.0},
                     "latency": {"closed book": [940, 20], "retrieval + reader adapter": [644, 100]},
                     "document edits, a year (s)": 0.073, "re-index seconds": 0.0026,
                     "reader adapter, changed facts after the edit": 1.0},
}


def test_every_dimension_is_filled_with_the_measured_numbers():
    rows = comparison_rows(RESULTS)
    assert [r[0] for r in rows] == list(DIMENSIONS)
    table = dict((d, (ft, rag)) for d, ft, rag in rows)
    assert "97% with a LoRA adapter" in table["primary use case"][0]
    assert "right leaflet (98% of questions" in table["primary use case"][1]  # the worst kind
    assert "100% of changed facts" in table["knowledge updates"][0] and "2.6 ms" in table["knowledge updates"][1]
    assert "41 CPU-minutes" in table["cost structure"][0] and "73 ms" in table["cost structure"][1]
    assert "100 tokens instead of 20" in table["cost structure"][1]
    assert "reversed 0%" in table["accuracy for facts"][0] and "reversed 100%" in table["accuracy for facts"][1]
    assert "invents an answer 100%" in table["accuracy for facts"][0]
    assert headline(RESULTS)["control kept"] == 0.25


def test_a_missing_figure_says_which_result_to_rebuild():
    results = copy.deepcopy(RESULTS)
    del results["02_drift"]["update seconds"]
    with pytest.raises(KeyError, match="02_drift / update seconds.*02_drift.json"):
        comparison_rows(results)


def test_html_escapes_every_cell():
    html = rows_html([("a <b>", "x & y", "<script>")])
    assert "<script>" not in html and "&lt;script&gt;" in html and "x &amp; y" in html

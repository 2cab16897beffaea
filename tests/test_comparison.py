"""utils/lessons/comparison.py: the five-row table, filled from the notebooks' saved results."""
import dataclasses

from conftest import SERIES as RESULTS

from utils.lessons.comparison import DIMENSIONS, KIND_NAMES, comparison_rows, headline, rows_html
from utils.tasks.results import Latency


def test_every_dimension_is_filled_with_the_measured_numbers():
    rows = comparison_rows(RESULTS)
    assert [r[0] for r in rows] == list(DIMENSIONS)
    table = dict((d, (ft, rag)) for d, ft, rag in rows)
    assert "97% from a LoRA adapter" in table["primary use case"][0]
    assert "3 worked examples" in table["primary use case"][0]
    assert "right leaflet (98% of questions" in table["primary use case"][1]  # the worst kind
    assert "100% of changed facts" in table["knowledge updates"][0] and "2.6 ms" in table["knowledge updates"][1]
    assert "41 CPU-minutes" in table["cost structure"][0] and "73 ms" in table["cost structure"][1]
    assert "100 tokens instead of 20" in table["cost structure"][1]
    assert "reversed 0%" in table["accuracy for facts"][0] and "reversed 100%" in table["accuracy for facts"][1]
    # both readers of the same leaflets: the reader adapter, and the base model with two examples
    assert "every third question: retrieval + reader adapter trained phrasing 98%" in table["accuracy for facts"][1]
    assert "retrieval + base reader (the base model with 2 worked examples): trained phrasing 100%, paraphrase 94%" \
        in table["accuracy for facts"][1]
    assert "invents an answer 100%" in table["accuracy for facts"][0]
    assert "(held-out, mean over kinds) 90% and 50%;" in table["accuracy for facts"][1]
    assert "(held-out, mean over kinds) 40%;" in table["accuracy for facts"][0]
    # notebook 03's grammar, beside the adapter on the same notes
    assert "made 100% of the base model's answers valid but only 38% of their fields right (the adapter: 94%" \
        in table["primary use case"][0]
    assert headline(RESULTS).control_kept == 0.25


def test_the_headline_reads_each_notebooks_own_figures():
    h = headline(dataclasses.replace(RESULTS, drift=dataclasses.replace(RESULTS.drift, retrain_seconds=45.0)))
    assert h.retrain_seconds == 45.0 and h.update_seconds == 22.7
    assert h.retrieval_base == {k: RESULTS.retrieval.base_two_shots[k] for k in KIND_NAMES}
    assert h.retrieval_base_abstains == RESULTS.retrieval.base_two_shots["unknown"]
    assert h.xml_zero_shot == 0.0 and h.xml_few_shot == 0.8125 and h.recall == 0.975
    assert h.latency_rag == Latency(644, 100) and h.year_retrain_minutes == 2484.5 / 60


def test_html_escapes_every_cell():
    html = rows_html([("a <b>", "x & y", "<script>")])
    assert "<script>" not in html and "&lt;script&gt;" in html and "x &amp; y" in html

"""utils/lessons/comparison.py: the five-row table, filled from the notebooks' saved results, and the
summary figure."""
import dataclasses

import matplotlib
import matplotlib.pyplot as plt
import pytest
from matplotlib.colors import to_hex

from conftest import SERIES as RESULTS
from utils.core.config import REPO_ROOT
from utils.core.plots import use_style
from utils.lessons.comparison import (
    DIMENSIONS,
    KIND_NAMES,
    SUMMARY_FIGURE,
    WRITE_FIGURES,
    comparison_rows,
    headline,
    rows_html,
    summary_figure,
)
from utils.tasks.results import Latency
from utils.tasks.systems import SYSTEMS, label


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


# ---------------------------------------------------------------- the summary figure

FORMATS = {"base": 0.0, "base_retrieval_shots": 0.7, "xml_adapter": 0.98}


@pytest.fixture
def drawing():
    matplotlib.use("Agg")  # no screen: draw into memory
    use_style()
    yield
    plt.close("all")


def test_the_summary_figure_has_three_titled_panels(drawing, monkeypatch):
    monkeypatch.delenv(WRITE_FIGURES, raising=False)
    fig = summary_figure(headline(RESULTS), FORMATS, notes=41)
    facts, update, xml = fig.axes
    assert [ax.get_title() for ax in fig.axes] == ["Facts: right answers by question kind",
                                                   "Updates: one change of facts", "Format: valid XML"]
    assert all(ax.get_ylabel() for ax in fig.axes) and xml.get_ylabel() == "valid XML (% of 41 notes)"
    assert [t.get_text() for t in facts.get_legend().get_texts()] == [
        "fine-tuned, closed book", "retrieval + base reader", "retrieval + reader adapter"]
    assert [t.get_text() for t in update.texts] == ["90 s", "23 s", "2.6 ms"]
    # The incremental update is marked with what it erased (SERIES: it kept 25 % of unchanged facts).
    assert "(erased\n75% of the\nunchanged facts)" in update.get_xticklabels()[1].get_text()
    assert [t.get_text().replace("\n", " ") for t in xml.get_xticklabels()] == [label(s) for s in FORMATS]
    assert [t.get_text() for t in xml.texts] == ["0", "70", "98"]
    # Each system in its own colour, the same in both panels that show it.
    assert [to_hex(p.get_facecolor()) for p in xml.patches] == [SYSTEMS[s].colour.lower() for s in FORMATS]
    reader_bars = [p for p in facts.patches if to_hex(p.get_facecolor()) == SYSTEMS["reader"].colour.lower()]
    assert len(reader_bars) == len(facts.get_xticklabels())


def test_the_readme_figure_is_written_only_when_a_maintainer_asks(drawing, tmp_path, monkeypatch):
    """Notebook 05 draws the figure in every run; only FTRAG_WRITE_FIGURES=1 (benchmarks/notebooks.py
    --write) rewrites the README's copy, so a test or a learner's run leaves the tree as it was."""
    assert SUMMARY_FIGURE == REPO_ROOT / "docs" / "figures" / "summary.png" and SUMMARY_FIGURE.is_file()
    tracked = SUMMARY_FIGURE.read_bytes(), SUMMARY_FIGURE.stat().st_mtime_ns
    path = tmp_path / "summary.png"
    for setting in (None, "", "0"):
        if setting is None:
            monkeypatch.delenv(WRITE_FIGURES, raising=False)
        else:
            monkeypatch.setenv(WRITE_FIGURES, setting)
        summary_figure(headline(RESULTS), FORMATS, notes=41)  # the README's own path
        summary_figure(headline(RESULTS), FORMATS, notes=41, path=path)
        assert (SUMMARY_FIGURE.read_bytes(), SUMMARY_FIGURE.stat().st_mtime_ns) == tracked
        assert not path.exists()
    monkeypatch.setenv(WRITE_FIGURES, "1")
    summary_figure(headline(RESULTS), FORMATS, notes=41, path=path)
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_a_relabelled_system_is_shown_by_its_new_label_and_read_by_its_id(monkeypatch):
    monkeypatch.setitem(SYSTEMS, "reader", dataclasses.replace(SYSTEMS["reader"], label="RAG with a tuned reader"))
    rows = dict((d, (ft, rag)) for d, ft, rag in comparison_rows(RESULTS))
    assert "every third question: RAG with a tuned reader trained phrasing 98%" in rows["accuracy for facts"][1]
    assert "retrieval + reader adapter" not in rows["accuracy for facts"][1]

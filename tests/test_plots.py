"""utils/core/plots.py: every chart draws, labelled and titled, its legend clear of the bars and lines."""
import matplotlib

matplotlib.use("Agg")  # no screen: draw into memory
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from conftest import SERIES  # noqa: E402

from utils.core.plots import (  # noqa: E402
    SUMMARY_FIGURE,
    accuracy_bars,
    comparison_figure,
    cost_over_time,
    save_summary_figure,
    use_style,
)
from utils.lessons.comparison import headline  # noqa: E402


@pytest.fixture(autouse=True)
def styled():
    use_style()
    yield
    plt.close("all")


def overlaps_legend(ax) -> bool:
    """Does the legend cover any bar or any point of a line?"""
    ax.figure.canvas.draw()
    legend = ax.get_legend().get_window_extent()
    shapes = [p.get_window_extent() for p in ax.patches]
    points = [ax.transData.transform(xy) for line in ax.lines for xy in line.get_xydata()]
    return any(legend.overlaps(s) for s in shapes) or any(legend.contains(x, y) for x, y in points)


def test_accuracy_bars_label_every_bar_and_keep_the_legend_above_them():
    accuracies = {"fine-tuned": {"trained": 1.0, "paraphrase": 0.94, "reversed": 0.0},
                  "retrieval": {"trained": 1.0, "paraphrase": 1.0, "reversed": 1.0}}
    ax = accuracy_bars(accuracies, "Facts by question kind")
    assert ax.get_title() == "Facts by question kind" and ax.get_ylabel() == "accuracy (%)"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["trained", "paraphrase", "reversed"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["fine-tuned", "retrieval"]
    assert len(ax.patches) == 6 and sorted(t.get_text() for t in ax.texts)[-1] == "94"
    assert not overlaps_legend(ax)


def test_one_system_needs_no_legend():
    ax = accuracy_bars({"base": {"trained": 0.0, "control": 1.0}}, "Base model", ylabel="notes")
    assert ax.get_legend() is None and ax.get_ylabel() == "notes (%)"


def test_cost_over_time_is_a_labelled_log_scale_with_the_last_value_written():
    ax = cost_over_time({"full retrain": [100.0, 220.0, 360.0], "incremental update": [30.0, 60.0, 90.0],
                         "edit documents": [0.003, 0.006, 0.009]}, "Keeping the facts current")
    assert ax.get_title() == "Keeping the facts current" and ax.get_yscale() == "log"
    assert ax.get_xlabel() == "month" and "cumulative seconds" in ax.get_ylabel()
    assert [t.get_text() for t in ax.texts] == ["360", "90", "0.01"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["full retrain", "incremental update",
                                                                     "edit documents"]
    assert not overlaps_legend(ax)



def test_accuracy_bars_write_each_kinds_count_under_its_name():
    ax = accuracy_bars({"base": {"trained": 0.0, "reversed": 1.0}}, "Base model",
                       counts={"trained": 80, "reversed": 40})
    assert [t.get_text() for t in ax.get_xticklabels()] == ["trained\n(n = 80)", "reversed\n(n = 40)"]


def test_cost_over_time_can_draw_a_linear_scale():
    ax = cost_over_time({"full retrain": [100.0, 220.0, 360.0]}, "Linear", log=False)
    assert ax.get_yscale() == "linear" and ax.get_ylabel() == "cumulative seconds of CPU time"


FORMATS = {"instruction": 0.0, "3 shots\n+ leaflet": 0.7, "XML adapter": 0.98}


def test_the_summary_figure_has_three_titled_panels():
    fig = comparison_figure(headline(SERIES), FORMATS, notes=41)
    facts, update, xml = fig.axes
    assert [ax.get_title() for ax in fig.axes] == ["Facts: right answers by question kind",
                                                   "Updates: one change of facts", "Format: valid XML"]
    assert all(ax.get_ylabel() for ax in fig.axes) and xml.get_ylabel() == "valid XML (% of 41 notes)"
    assert [t.get_text() for t in facts.get_legend().get_texts()] == [
        "fine-tuned, closed book", "retrieval + base reader", "retrieval + reader adapter"]
    assert [t.get_text() for t in update.texts] == ["90 s", "23 s", "2.6 ms"]
    # The incremental update is marked with what it erased (SERIES: it kept 25 % of unchanged facts).
    assert "(erased\n75% of the\nunchanged facts)" in update.get_xticklabels()[1].get_text()
    assert [t.get_text() for t in xml.get_xticklabels()] == list(FORMATS)
    assert [t.get_text() for t in xml.texts] == ["0", "70", "98"]
    assert not overlaps_legend(facts)


def test_the_readme_figure_is_written_by_a_full_run_on_the_bundled_data_only(tmp_path, monkeypatch):
    fig = comparison_figure(headline(SERIES), FORMATS, notes=41)
    path = tmp_path / "summary.png"
    assert SUMMARY_FIGURE.name == "summary.png" and SUMMARY_FIGURE.parent.name == "figures"
    monkeypatch.setenv("FTRAG_QUICK", "1")
    assert save_summary_figure(fig, path) is None and not path.exists()
    monkeypatch.delenv("FTRAG_QUICK")
    monkeypatch.setenv("FTRAG_DATA", str(tmp_path))
    assert save_summary_figure(fig, path) is None and not path.exists()
    monkeypatch.delenv("FTRAG_DATA")
    assert save_summary_figure(fig, path) == path and path.read_bytes()[:4] == b"\x89PNG"

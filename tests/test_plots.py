"""utils/core/plots.py: every chart draws, labelled and titled, its legend clear of the bars and lines."""
import matplotlib

matplotlib.use("Agg")  # no screen: draw into memory
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from utils.core.plots import CYCLE, PALETTE, accuracy_bars, cost_over_time, use_style  # noqa: E402


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


def test_a_series_gets_the_colour_it_is_given_and_the_others_the_styles_cycle():
    accuracies = {"ours": {"trained": 1.0}, "theirs": {"trained": 0.5}, "another": {"trained": 0.2}}
    ax = accuracy_bars(accuracies, "Colours", colors={"theirs": "#123456", "unused": "#654321"})
    assert [to_hex(p.get_facecolor()) for p in ax.patches] == [PALETTE[CYCLE[0]].lower(), "#123456",
                                                               PALETTE[CYCLE[2]].lower()]
    ax = cost_over_time({"edit documents": [1.0, 2.0], "retrain": [5.0, 9.0]}, "Colours",
                        colors={"edit documents": "#123456"})
    assert [to_hex(line.get_color()) for line in ax.lines] == ["#123456", PALETTE[CYCLE[1]].lower()]


def test_the_cycle_is_the_palette_and_its_colours_differ():
    assert set(CYCLE) <= set(PALETTE) and len(set(PALETTE.values())) == len(PALETTE)


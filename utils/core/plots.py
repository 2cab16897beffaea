"""One plot style for every notebook, and the few chart types the lessons share."""
from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt

from utils.core.config import REPO_ROOT, own_data, quick

COLORS = {"base": "#9e9e9e", "fine-tuned": "#d95f02", "retrieval": "#1b9e77", "combined": "#7570b3",
          "full retrain": "#d95f02", "incremental update": "#e6ab02", "incremental update (forgets)": "#e6ab02",
          "edit documents": "#1b9e77",
          # notebook 04's three systems, and notebook 05's six
          "fine-tuned, closed book": "#d95f02", "retrieval + base reader": "#66c2a5",
          "retrieval + reader adapter": "#1b9e77",
          "base model": "#9e9e9e", "base + retrieval": "#66c2a5", "base + retrieval, 3 shots": "#1b9e77",
          "XML adapter only": "#d95f02", "adapter + retrieval": "#bcbddc",
          "adapter + constraint + retrieval": "#7570b3"}


def use_style() -> None:
    plt.rcParams.update({
        "figure.figsize": (7.5, 3.6), "figure.dpi": 100, "axes.grid": True, "grid.alpha": 0.3,
        "axes.spines.top": False, "axes.spines.right": False, "axes.titleweight": "bold",
        "font.size": 10, "legend.frameon": False,
    })


def accuracy_bars(accuracies: dict[str, dict[str, float]], title: str, ylabel: str = "accuracy",
                  ax=None, counts: dict[str, int] | None = None):
    """Grouped bars: one group per question kind, one bar per system, values 0..1 shown in %.
    counts: how many questions (or notes) each kind's bars stand for, written under its name."""
    if ax is None:
        _, ax = plt.subplots()
    systems = list(accuracies)
    kinds = list(dict.fromkeys(k for acc in accuracies.values() for k in acc))
    width = 0.8 / len(systems)
    for s, system in enumerate(systems):
        xs = [k + (s - (len(systems) - 1) / 2) * width for k in range(len(kinds))]
        values = [accuracies[system].get(kind, float("nan")) * 100 for kind in kinds]
        bars = ax.bar(xs, values, width, label=system, color=COLORS.get(system))
        ax.bar_label(bars, fmt="%.0f", fontsize=8, padding=1)
    ax.set_xticks(range(len(kinds)), [f"{k}\n(n = {counts[k]})" if counts else k for k in kinds])
    # Room above 100 % for the legend, in one row, so it never covers a bar.
    ax.set_ylim(0, 100 + 12 * (len(systems) > 1) + 10)
    ax.set_yticks(range(0, 101, 20))
    ax.set_ylabel(f"{ylabel} (%)")
    ax.set_title(title)
    if len(systems) > 1:
        ax.legend(loc="upper center", ncol=len(systems), fontsize=8)
    return ax


def cost_over_time(timelines: dict[str, list[float]], title: str, unit: str = "seconds of CPU time",
                   ax=None, log: bool = True):
    """Cumulative cost of keeping a system up to date, one line per way of updating it, month by
    month, on a log scale (the ways differ by orders of magnitude) or, log=False, a linear one (it
    shows how a cost grows). Notebook 02 draws fine-tuning; notebook 04 adds retrieval's document
    edits to the same axes."""
    if ax is None:
        _, ax = plt.subplots()
    for label, cumulative in timelines.items():
        months = range(1, len(cumulative) + 1)
        ax.plot(months, cumulative, "o-", markersize=3, label=label, color=COLORS.get(label))
        ax.annotate(f"{cumulative[-1]:,.{0 if cumulative[-1] >= 10 else 2}f}", (months[-1], cumulative[-1]),
                    textcoords="offset points", xytext=(4, 0), va="center", fontsize=8)
    ax.set(yscale="log" if log else "linear", xlabel="month", ylabel=f"cumulative {unit}{' (log)' if log else ''}",
           title=title)
    ax.legend(loc="best")
    return ax


def comparison_figure(h, formats: dict[str, float], notes: int):
    """Notebook 05's summary in three panels: facts by question kind (utils.lessons.comparison.headline), the
    cost of one update (the incremental update marked with the unchanged facts it erased), and valid
    XML by system, `formats` (label -> share), measured on the same `notes` notes."""
    fig, (facts, update, xml) = plt.subplots(1, 3, figsize=(14, 4.2), width_ratios=[2.6, 1.2, 1])

    def kinds(acc, system, abstains):  # the world's kinds, the held-out wordings' mean, the unknown drugs
        return {**acc, "held-out\nwordings": h.heldout[system], "unknown drug\n(abstains)": abstains}
    systems = (("fine-tuned, closed book", h.tuned, h.tuned_abstains),
               ("retrieval + base reader", h.retrieval_base, h.retrieval_base_abstains),
               ("retrieval + reader adapter", h.retrieval, h.retrieval_abstains))
    accuracy_bars({name: kinds(acc, name, abstains) for name, acc, abstains in systems},
                  "Facts: right answers by question kind", ax=facts)
    facts.tick_params(axis="x", labelsize=8)
    seconds = {"full retrain": h.retrain_seconds, "incremental update": h.update_seconds,
               "edit documents": h.reindex_ms / 1000}
    bars = update.bar(range(3), list(seconds.values()), color=[COLORS[k] for k in seconds])
    update.bar_label(bars, labels=[f"{v:.0f} s" if v >= 1 else f"{v * 1000:.1f} ms" for v in seconds.values()],
                     fontsize=8, padding=1)
    # An update that is cheap because it erased what it was not shown is no option: say so on the bar.
    erased = f"incremental\nupdate (erased\n{1 - h.update_kept:.0%} of the\nunchanged facts)"
    update.set_xticks(range(3), ["full\nretrain", erased, "edit\ndocuments"], fontsize=8)
    update.get_xticklabels()[1].set_color("#b2182b")
    update.set(yscale="log", ylim=(1e-4, 1e3), ylabel="seconds (log)", title="Updates: one change of facts")
    bars = xml.bar(range(len(formats)), [v * 100 for v in formats.values()],
                   color=[COLORS["fine-tuned"] if "adapter" in label else COLORS["base"] for label in formats])
    xml.bar_label(bars, fmt="%.0f", fontsize=8, padding=1)
    xml.set_xticks(range(len(formats)), list(formats), fontsize=8)
    xml.set(ylim=(0, 110), ylabel=f"valid XML (% of {notes} notes)", title="Format: valid XML")
    fig.tight_layout()
    return fig


# The README's figure: notebook 05 redraws it from its own run, so that it cannot go stale.
SUMMARY_FIGURE = REPO_ROOT / "docs" / "figures" / "summary.png"


def save_summary_figure(fig, path: Path = SUMMARY_FIGURE) -> Path | None:
    """Write the README's summary figure, only from a full run on the bundled data: a quick run's or
    your own data's figures are not the ones the README describes. Returns the path written, or None."""
    if quick() or own_data():
        return None
    fig.savefig(path, dpi=100)
    return path

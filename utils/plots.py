"""One plot style for every notebook, and the few chart types the lessons share."""
from __future__ import annotations

import matplotlib.pyplot as plt

COLORS = {"base": "#9e9e9e", "fine-tuned": "#d95f02", "retrieval": "#1b9e77", "combined": "#7570b3",
          "full retrain": "#d95f02", "incremental update": "#e6ab02", "edit documents": "#1b9e77",
          "base, 2 shots": "#1b9e77", "reader adapter": "#7570b3"}


def use_style() -> None:
    plt.rcParams.update({
        "figure.figsize": (7.5, 3.6), "figure.dpi": 100, "axes.grid": True, "grid.alpha": 0.3,
        "axes.spines.top": False, "axes.spines.right": False, "axes.titleweight": "bold",
        "font.size": 10, "legend.frameon": False,
    })


def accuracy_bars(accuracies: dict[str, dict[str, float]], title: str, ylabel: str = "accuracy",
                  ax=None):
    """Grouped bars: one group per question kind, one bar per system, values 0..1 shown in %."""
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
    ax.set_xticks(range(len(kinds)), kinds)
    ax.set_ylim(0, 110)
    ax.set_ylabel(f"{ylabel} (%)")
    ax.set_title(title)
    if len(systems) > 1:
        ax.legend(loc="best")
    return ax


def cost_over_time(timelines: dict[str, list[float]], title: str, unit: str = "seconds of CPU time",
                   ax=None):
    """Cumulative cost of keeping a system up to date, one line per way of updating it, month by
    month on a log scale (the ways differ by orders of magnitude). Notebook 02 draws fine-tuning;
    notebook 04 adds retrieval's document edits to the same axes."""
    if ax is None:
        _, ax = plt.subplots()
    for label, cumulative in timelines.items():
        months = range(1, len(cumulative) + 1)
        ax.plot(months, cumulative, "o-", markersize=3, label=label, color=COLORS.get(label))
        ax.annotate(f"{cumulative[-1]:,.{0 if cumulative[-1] >= 10 else 2}f}", (months[-1], cumulative[-1]),
                    textcoords="offset points", xytext=(4, 0), va="center", fontsize=8)
    ax.set(yscale="log", xlabel="month", ylabel=f"cumulative {unit} (log)", title=title)
    ax.legend(loc="best")
    return ax

"""One plot style for every notebook, and the few chart types the lessons share.

The charts know no system: a caller passes each series' colour (utils.tasks.systems names them);
a series without one takes the next colour of the style's cycle.
"""
from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
from matplotlib import cycler

# Okabe & Ito's palette, which the common colour blindnesses and a washed-out projector still tell
# apart, plus grey, and for more series than it has, Paul Tol's "muted" colours that differ from it.
PALETTE = {"orange": "#E69F00", "sky blue": "#56B4E9", "bluish green": "#009E73", "blue": "#0072B2",
           "vermillion": "#D55E00", "reddish purple": "#CC79A7", "yellow": "#F0E442", "black": "#000000",
           "grey": "#999999", "wine": "#882255", "olive": "#999933", "sand": "#DDCC77", "rose": "#CC6677",
           "indigo": "#332288"}
CYCLE = ("blue", "orange", "bluish green", "vermillion", "sky blue", "reddish purple", "grey", "black")


def use_style() -> None:
    plt.rcParams.update({
        "figure.figsize": (7.5, 3.6), "figure.dpi": 100, "axes.grid": True, "grid.alpha": 0.3,
        "axes.spines.top": False, "axes.spines.right": False, "axes.titleweight": "bold",
        "font.size": 10, "legend.frameon": False,
        "axes.prop_cycle": cycler(color=[PALETTE[name] for name in CYCLE]),
    })


def accuracy_bars(accuracies: dict[str, dict[str, float]], title: str, ylabel: str = "accuracy",
                  ax=None, counts: dict[str, int] | None = None, colors: Mapping[str, str] | None = None):
    """Grouped bars: one group per question kind, one bar per system, values 0..1 shown in %.
    counts: how many questions (or notes) each kind's bars stand for, written under its name.
    colors: system -> colour (e.g. utils.tasks.systems.colours()); others take the style's cycle."""
    if ax is None:
        _, ax = plt.subplots()
    colors = colors or {}
    systems = list(accuracies)
    kinds = list(dict.fromkeys(k for acc in accuracies.values() for k in acc))
    width = 0.8 / len(systems)
    for s, system in enumerate(systems):
        xs = [k + (s - (len(systems) - 1) / 2) * width for k in range(len(kinds))]
        values = [accuracies[system].get(kind, float("nan")) * 100 for kind in kinds]
        bars = ax.bar(xs, values, width, label=system, color=colors.get(system, f"C{s}"))
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
                   ax=None, log: bool = True, colors: Mapping[str, str] | None = None):
    """Cumulative cost of keeping a system up to date, one line per way of updating it, month by
    month, on a log scale (the ways differ by orders of magnitude) or, log=False, a linear one (it
    shows how a cost grows). Notebook 02 draws fine-tuning; notebook 04 adds retrieval's document
    edits to the same axes. colors: way -> colour; others take the style's cycle."""
    if ax is None:
        _, ax = plt.subplots()
    colors = colors or {}
    for i, (label, cumulative) in enumerate(timelines.items()):
        months = range(1, len(cumulative) + 1)
        ax.plot(months, cumulative, "o-", markersize=3, label=label, color=colors.get(label, f"C{i}"))
        ax.annotate(f"{cumulative[-1]:,.{0 if cumulative[-1] >= 10 else 2}f}", (months[-1], cumulative[-1]),
                    textcoords="offset points", xytext=(4, 0), va="center", fontsize=8)
    ax.set(yscale="log" if log else "linear", xlabel="month", ylabel=f"cumulative {unit}{' (log)' if log else ''}",
           title=title)
    ax.legend(loc="best")
    return ax

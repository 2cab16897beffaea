"""What a lesson depends on, checked in the notebook itself.

Two kinds of check:

    claim(tuned_acc["trained"] >= 0.95, "the model memorises the trained facts", needs_full_run=True)
    expect(tuned_acc, {"trained": 1.00, "paraphrase": 0.94}, tol=0.05)

`claim` asserts the lesson's point with a margin wide enough to hold on any CPU. `expect` compares a
measured figure with the value the committed notebook measured (its reference run), within a
tolerance: figures that depend on training or generation numerics differ in the last digit between
CPUs, thread counts and kernels (a median of 0.86 instead of 0.87), so nbval does not compare their
printouts exactly; it compares what is exact by construction (data, prompts, retrieval scores,
schema checks), and `expect` catches a real regression (a broken recipe moves a figure by far more
than its tolerance). Choose a tolerance from the spread measured across numeric paths (README,
"What the tests check").

A quick run (FTRAG_QUICK=1, see utils.core.config.quick) trains for a few steps and asks a few questions of
each kind, so claims marked `needs_full_run=True` (about what training achieved, or an accuracy that a
few questions cannot settle) and every `expect` are printed as not checked there. Every other claim
(retrieval, the base model, costs, the schema) and the quick run's own (each training lowered its
loss) is asserted in both runs.

On your own data (FTRAG_DATA, see utils.core.config.data_dir) the reference run's figures are not yours and
the lesson's claims are questions about your data, not promises: `claim` prints whether each holds,
`expect` prints the measured figures beside the reference, and neither stops the notebook.
"""
from __future__ import annotations

from collections.abc import Mapping

from utils.core.config import own_data, quick


class ClaimFailed(AssertionError):
    """A claim of the lesson did not hold: the message says which."""


def claim(holds, what: str, needs_full_run: bool = False) -> None:
    """`holds`: a bool, or a function returning one when its figures exist in a full run only (a
    quick run measures only the last point of a learning curve)."""
    if needs_full_run and quick():
        print(f"quick run, not checked: {what}")
        return
    if callable(holds):
        holds = holds()
    if own_data():
        print(f"on your data (FTRAG_DATA), {'holds' if holds else 'does NOT hold'}: {what}")
        return
    if not holds:
        raise ClaimFailed(what)


def loss_fell(history) -> bool:
    """Did training lower the loss (the last step's below the first's)? True of any training that
    learned anything, a quick run's too."""
    return len(history.losses) >= 2 and history.losses[-1] < history.losses[0]


def _flat(value, prefix: str = "") -> dict:
    """{"a": {"b": 0.5}} -> {"a / b": 0.5}; a plain number -> {"": number}."""
    if not isinstance(value, Mapping):
        return {prefix: value}
    flat = {}
    for key, inner in value.items():
        flat.update(_flat(inner, f"{prefix} / {key}" if prefix else str(key)))
    return flat


def _shown(value) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:.2f}"


def expect(measured, reference, tol: float, what: str = "") -> None:
    """Check measured figures against the reference run's within `tol` (absolute), and print both.

    `measured` and `reference` are numbers, or (nested) dicts of numbers; only the keys the
    reference names are compared, so a cell can check the figures its lesson rests on. Fractions
    are compared as fractions (tol=0.05 is 5 percentage points); tol=0 checks a count exactly.
    Raises ClaimFailed (an AssertionError, which fails the cell under nbval) naming every figure
    outside the tolerance.
    """
    if tol < 0:
        raise ValueError(f"tol must be >= 0, got {tol}")
    got, want = _flat(measured), _flat(reference)
    if quick():  # a quick run measures the last point of a curve only (config.curve_points)
        want = {key: value for key, value in want.items() if key in got}
    missing = sorted(set(want) - set(got))
    if missing:
        raise KeyError(f"expect(): the reference names {missing}, which the measured figures do not have "
                       f"(they have {sorted(got)})")
    label = f"{what}: " if what else ""
    pairs = ", ".join(f"{key + ' ' if key else ''}{_shown(got[key])} (reference {_shown(want[key])})"
                      for key in want)
    if quick() or own_data():
        run = "quick run" if quick() else "your data (FTRAG_DATA)"
        print(f"{run}, not compared with the reference run: {label}{pairs}")
        return
    print(f"{label}within ±{tol:g} of the reference run: {pairs}")
    outside = [key or "the figure" for key in want if not abs(got[key] - want[key]) <= tol]
    if outside:
        raise ClaimFailed(f"{label}{', '.join(outside)} differ from the reference run by more than {tol:g}: "
                          f"{pairs}. If the recipe changed on purpose, re-execute the notebook and update "
                          f"the reference; otherwise something regressed.")

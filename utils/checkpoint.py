"""The claims a lesson depends on, asserted in its checkpoint cells.

    claim(tuned_acc["trained"] >= 0.95, "the model memorises the trained facts", needs_training=True)

A claim about what training achieved is marked `needs_training=True`. A quick run (FTRAG_QUICK=1, see
utils.config.quick) trains for a few steps only, so such claims cannot hold there: it prints them
as not checked. Every other claim (retrieval, the base model, costs, the schema) and the quick
run's own (each training lowered its loss) is asserted in both runs.
"""
from __future__ import annotations

from .config import quick


class ClaimFailed(AssertionError):
    """A claim of the lesson did not hold: the message says which."""


def claim(holds: bool, what: str, needs_training: bool = False) -> None:
    if needs_training and quick():
        print(f"quick run, not checked: {what}")
        return
    if not holds:
        raise ClaimFailed(what)


def loss_fell(history) -> bool:
    """Did training lower the loss (the last step's below the first's)? True of any training that
    learned anything, a quick run's too."""
    return len(history.losses) >= 2 and history.losses[-1] < history.losses[0]

"""A lesson's checkpoint: the claims a learner reads, and the figures a maintainer keeps.

    claim(tuned_acc["trained"] >= 0.95, "the model memorises the trained facts")
    expect("01 fine-tuned by kind", tuned_acc)

`claim` states the lesson's finding with a margin wide enough to hold on any CPU, and prints it with a ✓.
`expect` compares measured figures with the committed run's, stored under its name in
tests/references/ (one JSON file per notebook), and prints nothing while they hold: figures that
depend on training or generation numerics move a little between CPUs and thread counts, so each entry
allows a tolerance, and a broken recipe moves a figure by far more.

    "01 fine-tuned by kind": {"tol": 0.05, "values": {"trained": 1.0, "paraphrase": 0.94}}

Only the keys under "values" are compared; keys and tolerances are edited by hand, the values by
record mode (FTRAG_RECORD_REFERENCES=1, set by `benchmarks/notebooks.py --write`), which stores what
the run measured instead of comparing it.

A quick run (FTRAG_QUICK=1, see utils.core.config.quick) trains too little for any finding to hold, and
a learner's own data (FTRAG_DATA, see utils.core.config.data_dir) is not the committed run's: there a
claim prints whether it holds and never stops the notebook, and `expect` compares nothing.
"""
from __future__ import annotations

import json
import os
from collections.abc import Mapping
from numbers import Integral, Real
from pathlib import Path

from utils.core.config import REPO_ROOT, own_data, quick, shown

REFERENCES = REPO_ROOT / "tests" / "references"
RECORD_SETTING = "FTRAG_RECORD_REFERENCES"
# The key of a figure given as a plain number rather than a dict.
SINGLE = "value"


class ClaimFailed(AssertionError):
    """A claim of the lesson, or a reference figure, did not hold: the message says which."""


def claim(holds: bool, what: str) -> None:
    """`what`: the finding as a short sentence, e.g. "the update erases most unchanged facts"."""
    if holds:
        print(f"✓ {what}")
    elif quick():
        print(f"✗ {what} (not asserted: a quick run trains too little)")
    elif own_data():
        print(f"✗ {what} (not on your data, FTRAG_DATA)")
    else:
        raise ClaimFailed(what)


def loss_fell(history) -> bool:
    """Did training lower the loss (the last step's below the first's)? True of any training that
    learned anything, a quick run's too."""
    return len(history.losses) >= 2 and history.losses[-1] < history.losses[0]


def _number(value) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def load_references(folder: Path | None = None) -> dict[str, tuple[Path, dict]]:
    """Every reference entry of the folder's JSON files: {name: (file, entry)}. Raises ValueError on a
    name in two files, or an entry without a tolerance >= 0 and a non-empty dict of numbers."""
    found: dict[str, tuple[Path, dict]] = {}
    for path in sorted((folder or REFERENCES).glob("*.json")):
        for name, entry in json.loads(path.read_text(encoding="utf-8")).items():
            if name in found:
                raise ValueError(f"the reference {name!r} is in both {found[name][0].name} and {path.name}: "
                                 f"rename one (the names are unique across {path.parent.name}/)")
            tol, values = (entry.get("tol"), entry.get("values")) if isinstance(entry, dict) else (None, None)
            if not (_number(tol) and tol >= 0 and isinstance(values, dict) and values
                    and all(_number(v) for v in values.values())):
                raise ValueError(f"{path.name}, {name!r}: an entry is {{\"tol\": <a number >= 0>, "
                                 f"\"values\": {{<key>: <number>, ...}}}} with at least one value; it is {entry}")
            found[name] = (path, entry)
    return found


def _flat(measured, prefix: str = "") -> dict:
    """{"a": {"b": 0.5}} -> {"a / b": 0.5}; a plain number -> {"value": number}."""
    if not isinstance(measured, Mapping):
        return {prefix or SINGLE: measured}
    flattened = {}
    for key, inner in measured.items():
        flattened.update(_flat(inner, f"{prefix} / {key}" if prefix else str(key)))
    return flattened


def _stored(value):
    """A measured figure as the reference file keeps it: a count as it is, a fraction to 4 decimals."""
    return int(value) if isinstance(value, Integral) else round(float(value), 4)


def expect(name: str, measured) -> None:
    """Compare `measured` (a number, or nested dicts of numbers) with the reference figures stored
    under `name`, within the entry's tolerance (absolute): silent when every listed figure holds, a
    ClaimFailed naming each one that moved otherwise. A missing name or key raises KeyError in every
    run, so that a typo cannot pass unnoticed."""
    references = load_references()
    if name not in references:
        raise KeyError(f"expect(): no reference named {name!r} in {shown(REFERENCES)}/*.json "
                       f"(names: {', '.join(sorted(references))})")
    path, entry = references[name]
    got = _flat(measured)
    missing = [key for key in entry["values"] if key not in got]
    if missing:
        raise KeyError(f"expect({name!r}): the measured figures have no {', '.join(map(repr, missing))} "
                       f"(they have {', '.join(map(repr, got))}); fix the key in {path.name} or the figures")
    if quick() or own_data():
        return
    if os.environ.get(RECORD_SETTING, "").strip() not in ("", "0"):
        stored = json.loads(path.read_text(encoding="utf-8"))
        stored[name]["values"] = {key: _stored(got[key]) for key in entry["values"]}
        path.write_text(json.dumps(stored, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return
    tol = entry["tol"]
    moved = [f"{name if key == SINGLE else f'{name}, {key}'}: {want:g} in the committed run, {got[key]:g} here "
             f"(a difference of {abs(got[key] - want):.3g}; the tolerance is {tol:g})"
             for key, want in entry["values"].items()
             if not abs(got[key] - want) <= tol]  # a NaN is never within
    if moved:
        raise ClaimFailed(
            "\n".join(moved) + "\nA different CPU or thread count moves training figures a little, but not usually "
            "this far. If the recipe changed on purpose, rebase the references with "
            "`benchmarks/notebooks.py --write` (docs/maintainers.md); otherwise something regressed.")

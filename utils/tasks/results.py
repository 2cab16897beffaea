"""What notebooks 01-05 measured, one dataclass each, saved as JSON under the cache folder so that a
later notebook (04-06) can reuse it. A result per system is keyed by the system's id
(utils.tasks.systems), never by its label, so that a relabel changes no saved key.

Every notebook still runs alone: `results_of` runs the notebook that measures what is missing. A
field a notebook forgets is a TypeError in that notebook's own last cell, not a KeyError at the end of
notebook 06; a saved file whose fields no longer match its class (saved by an older version of the
code) is measured again, like a missing or damaged one: the notebook that writes it is at hand, and a
stale file must not be read as if it were current.
"""
from __future__ import annotations

import dataclasses
import json
import time
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from utils.core.config import REPO_ROOT, artifacts_dir
from utils.core.generation import Answer
from utils.tasks.systems import SYSTEMS, SystemId

NOTEBOOKS = REPO_ROOT / "notebooks"


@dataclass(frozen=True)
class FactTuningResults:
    """Notebook 01: the fact-tuned model, accuracy by question kind (world.KINDS)."""
    name: ClassVar[str] = "01_fact_tuning"
    notebook: ClassVar[str] = "01_facts_by_fine_tuning.ipynb"
    facts_trained: int
    base: dict[str, float]  # the base model, on the trained, unknown and control questions
    fine_tuned: dict[str, float]  # every kind; "unknown": the share it abstains on
    control_lost: float  # control questions the base model got right and the tuned one gets wrong
    extra_phrasings: list[int]  # held-out paraphrases of 8 drugs, trained with this many extra phrasings...
    extra_phrasings_paraphrase: list[float]  # ... and the share right
    training_seconds: float


@dataclass(frozen=True)
class DriftRow:
    """Notebook 02: one way of keeping the fine-tuned model current, on the t1 facts."""
    stale: float  # changed facts answered with the old value
    learned: float  # changed facts answered with the new value
    paraphrased: float  # the new value, asked in other phrasings
    leakage: float  # the old value, asked in other phrasings
    kept: float  # unchanged facts still right
    new: float  # new drugs' facts right
    tokens: int  # training tokens it took


@dataclass(frozen=True)
class DriftResults:
    name: ClassVar[str] = "02_drift"
    notebook: ClassVar[str] = "02_knowledge_drift.ipynb"
    no_update: DriftRow  # the t0-tuned model
    incremental_update: DriftRow
    full_retrain: DriftRow
    control_right: dict[str, float]  # model -> control questions right
    update_seconds: float
    retrain_seconds: float
    update_year_seconds: list[float]  # cumulative cost of a monthly incremental update, month by month
    retrain_year_seconds: list[float]  # ... and of a monthly full retrain


@dataclass(frozen=True)
class XmlTuningResults:
    """Notebook 03: summaries as scoring.summarize gives them ("valid", "fields", each field)."""
    name: ClassVar[str] = "03_xml_tuning"
    notebook: ClassVar[str] = "03_behaviour_tuning_xml.ipynb"
    training_notes: int
    recipe: str
    prompt_tokens: dict[str, int]  # "zero-shot", "few-shot", "adapter"
    zero_shot: dict[str, float]  # the base model with the instruction, every third held-out note
    few_shot: dict[str, float]  # ... with three worked examples too
    learning_curve: dict[int, dict[str, dict[str, float]]]  # training notes (0: zero-shot) -> split -> summary
    constrained: dict[SystemId, dict[str, float]]  # constrained decoding: system -> summary, every third held-out note
    final_trained_styles: dict[str, float]
    final_unseen_styles: dict[str, float]
    condition_right_never_trained: float
    control_adapter_on: float
    control_adapter_off: float
    trainable_parameters: int
    adapter_mb: float
    model_mb: float
    training_seconds: dict[int, float]  # training notes -> seconds


@dataclass(frozen=True)
class RetrievalResults:
    """Notebook 04: BM25, its threshold, and the base model reading the leaflet it finds."""
    name: ClassVar[str] = "04_retrieval"
    notebook: ClassVar[str] = "04_retrieval.ipynb"
    recall_at_1: dict[str, float]  # question kind -> right leaflet first
    threshold: float
    # rag.readers_questions: every third question of each kind; "unknown": the drugs the threshold was
    # not chosen on; the base model with two worked examples, abstaining below the threshold
    base_two_shots: dict[str, float]
    # system ("fine_tuned" closed book, "base_reader") -> question text -> its answer, on the questions
    # above and the sealed held-out wordings of every third drug: notebook 05 compares its reader with
    # these answers instead of asking the same questions again
    answers: dict[SystemId, dict[str, Answer]]
    base_changed_before_edit: float  # changed facts right before the t1 leaflets are in
    base_changed_after_edit: float
    reindex_seconds: float
    edits_year_seconds: float  # a year of monthly document edits


@dataclass(frozen=True)
class Latency:
    ms: float  # median milliseconds for one answer, asked alone
    prompt_tokens: float


@dataclass(frozen=True)
class ReaderResults:
    """Notebook 05: the reader adapter, on notebook 04's questions."""
    name: ClassVar[str] = "05_reader"
    notebook: ClassVar[str] = "05_better_reader.ipynb"
    reader: dict[str, float]  # the same questions as RetrievalResults.base_two_shots, by kind
    heldout_wordings: dict[SystemId, dict[str, float]]  # all three systems: system -> held-out kind -> right
    reader_changed_after_edit: float  # changed facts right once the t1 leaflets are in
    latency_closed_book: Latency  # the fine-tuned model of notebook 01, the question alone
    latency_two_shots: Latency
    latency_reader: Latency
    reader_training_seconds: float


@dataclass(frozen=True)
class SeriesResults:
    """What notebook 06 brings together."""
    fact_tuning: FactTuningResults
    drift: DriftResults
    xml_tuning: XmlTuningResults
    retrieval: RetrievalResults
    reader: ReaderResults


RESULTS = (FactTuningResults, DriftResults, XmlTuningResults, RetrievalResults, ReaderResults)


def results_path(kind) -> Path:
    return artifacts_dir() / "results" / f"{kind.name}.json"


def save_results(results) -> None:
    path = results_path(results)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".partial")
    tmp.write_text(json.dumps(dataclasses.asdict(results), indent=1, sort_keys=True))
    tmp.replace(path)  # atomic: a half-written file is never read back


class StaleResults(ValueError):
    """A saved file that does not fit its class: written by another version of the code."""


def _decode(kind, value):
    """A JSON value as `kind`: a dataclass (its fields exactly), dict[K, V] (keys K again: JSON keys
    are strings), list[V], a SystemId (an id of utils.tasks.systems.SYSTEMS: a label, or an id
    since renamed, makes the file stale), or a plain int, float or str."""
    if dataclasses.is_dataclass(kind):
        if not isinstance(value, dict):
            raise StaleResults(f"{kind.__name__}: expected an object, found {type(value).__name__}")
        names = [f.name for f in dataclasses.fields(kind)]
        missing, unknown = [n for n in names if n not in value], sorted(set(value) - set(names))
        if missing or unknown:
            raise StaleResults(f"{kind.__name__}: missing {missing or 'nothing'}, unknown {unknown or 'nothing'}")
        hints = typing.get_type_hints(kind)
        return kind(**{n: _decode(hints[n], value[n]) for n in names})
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is dict and isinstance(value, dict):
        return {_decode(args[0], k): _decode(args[1], v) for k, v in value.items()}
    if origin is list and isinstance(value, list):
        return [_decode(args[0], v) for v in value]
    if kind is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if kind is SystemId:
        if value in SYSTEMS:
            return value
        raise StaleResults(f"{value!r} is no system id (utils/tasks/systems.py)")
    if kind is int and isinstance(value, str) and value.lstrip("-").isdigit():  # a JSON key
        return int(value)
    if kind in (int, str) and type(value) is kind:
        return value
    raise StaleResults(f"expected {getattr(kind, '__name__', kind)}, found {value!r:.40}")


def _read(kind):
    """(the saved results of `kind`, or None; why they are None)."""
    path = results_path(kind)
    if not path.is_file():
        return None, "are not cached"
    try:
        return _decode(kind, json.loads(path.read_text())), ""
    except json.JSONDecodeError:
        return None, "are damaged"
    except StaleResults as e:
        return None, f"were saved by another version of the code ({e})"


def load_results(kind):
    """The results a notebook saved (e.g. load_results(FactTuningResults)); None when they are missing,
    damaged or do not fit the class: each is measured again, never trusted."""
    return _read(kind)[0]


def results_of(kind, notebook: str | Path | None = None, timeout: int = 1800):
    """The results `kind` a notebook saved; when they are missing (or stale), run that notebook
    headless (in a fresh kernel, as nbval would) so that it measures and saves them: one source of
    truth for every figure, and any notebook still runs alone on an empty cache."""
    data, why = _read(kind)
    if data is not None:
        return data
    notebook = Path(notebook or NOTEBOOKS / kind.notebook)
    # Only needed to rebuild: a notebook that reads results need not load the kernel machinery.
    from nbclient.exceptions import CellExecutionError

    from utils.core.notebook_runner import run_notebook

    print(f"results {kind.name!r} {why}: running {notebook.name} to measure them ...", flush=True)
    started = time.perf_counter()
    try:
        run_notebook(notebook, timeout)
    except CellExecutionError as e:
        first_line = str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__
        raise RuntimeError(f"{notebook.name} failed while rebuilding results {kind.name!r}: {first_line}. "
                           f"Run that notebook on its own to see the failing cell.") from None
    data, why = _read(kind)
    if data is None:
        raise RuntimeError(f"{notebook.name} ran but its results {kind.name!r} {why}: its last cells should "
                           f"call save_results({kind.__name__}(...))")
    print(f"... done in {time.perf_counter() - started:.0f} s", flush=True)
    return data


def series_results() -> SeriesResults:
    """Notebooks 01-05's results, each measured first if it is missing."""
    return SeriesResults(*(results_of(kind) for kind in RESULTS))

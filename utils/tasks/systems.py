"""Every system the lessons compare, and every way of updating one, named once: an id, a label and a
colour.

Code, saved results (utils.tasks.results) and reference figures use the id; what a learner reads (a
table, a legend, a checkbox) uses the label, so a label can change without touching a saved result.
Each has its own colour, the same in every plot; the two readers of notebooks 04-05 have orange and
blue, the pair that every common colour blindness and a projector keep apart (utils.core.plots.PALETTE).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NewType, TypeVar

from utils.core.plots import PALETTE
from utils.tasks.prompts import FEW_SHOT_NOTES

SystemId = NewType("SystemId", str)  # a key of SYSTEMS or UPDATES: what results are saved under

V = TypeVar("V")


@dataclass(frozen=True)
class System:
    id: str
    label: str  # what a learner reads
    colour: str
    what: str  # the model, what it is given, and where it is measured


SYSTEMS: dict[str, System] = {s.id: s for s in (
    # Facts: the world's questions (notebooks 04-05)
    System("base", "base model", PALETTE["grey"],
           "the base model alone: the question (04), the note with the instruction (05)"),
    System("fine_tuned", "fine-tuned, closed book", PALETTE["reddish purple"],
           "notebook 01's fact adapter, asked the question alone"),
    System("base_reader", "retrieval + base reader", PALETTE["orange"],
           "the base model with two worked examples, reading the best leaflet (04)"),
    System("reader", "retrieval + reader adapter", PALETTE["blue"],
           "notebook 05's reader adapter, reading the best leaflet"),
    # Diagnoses: clinical notes (notebooks 03 and 05)
    System("base_retrieval", "base + retrieval", PALETTE["sky blue"],
           "the base model with the instruction, after the leaflet that best matches the note (05)"),
    System("base_retrieval_shots", f"base + retrieval, {FEW_SHOT_NOTES} shots", PALETTE["vermillion"],
           "the same after worked examples, each a leaflet, a note and its treatment (05)"),
    System("xml_adapter", "XML adapter alone", PALETTE["bluish green"],
           "notebook 03's XML adapter: a diagnosis, no treatment"),
    System("adapter_retrieval", "adapter + retrieval", PALETTE["olive"],
           "the XML adapter's diagnosis, its treatment read from a leaflet by the reader adapter (05)"),
    System("combined", "adapter + constraint + retrieval", PALETTE["wine"],
           "the same with the diagnosis written under the schema's constraint: notebook 06's combined system"),
    System("base_constrained", "base, instruction + constraint", PALETTE["sand"],
           "the base model with the instruction, under the schema's constraint (03)"),
    System("base_shots_constrained", f"base, {FEW_SHOT_NOTES} examples + constraint", PALETTE["rose"],
           "the base model with worked examples, under the schema's constraint (03)"),
    System("xml_adapter_constrained", "XML adapter + constraint", PALETTE["indigo"],
           "the XML adapter under the schema's constraint (03)"),
)}

# The ways of keeping a system's facts current (notebooks 02, 04, 05): a full retrain in the fine-tuned
# model's colour, a document edit in the reader's, the incremental update in a colour no system has.
UPDATES: dict[str, System] = {s.id: s for s in (
    System("full_retrain", "full retrain", PALETTE["reddish purple"], "train on every fact again (02)"),
    System("incremental_update", "incremental update", PALETTE["black"], "train on the changed facts only (02)"),
    System("edit_documents", "edit documents", PALETTE["blue"], "edit the leaflets and re-index (04)"),
)}


def named(system_id: str) -> System:
    """The system (or way of updating) with this id; a KeyError that lists the ids otherwise."""
    found = SYSTEMS.get(system_id) or UPDATES.get(system_id)
    if found is None:
        raise KeyError(f"no system or update has the id {system_id!r}: use one of "
                       f"{sorted(SYSTEMS) + sorted(UPDATES)} (utils/tasks/systems.py)")
    return found


def label(system_id: str) -> str:
    return named(system_id).label


def labelled(by_id: Mapping[str, V]) -> dict[str, V]:
    """The same values keyed by each id's label, in their order: what a table or a legend shows."""
    return {label(system_id): value for system_id, value in by_id.items()}


def colours() -> dict[str, str]:
    """label -> colour of every system and way of updating: the `colors` of utils.core.plots' charts."""
    return {s.label: s.colour for s in (*SYSTEMS.values(), *UPDATES.values())}

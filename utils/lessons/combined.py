"""The combined system of notebook 06: fine-tuned behaviour plus retrieved facts.

A clinical note goes in; a schema-valid diagnosis comes out that also names the drug for the
diagnosed condition and its current maximum daily dose, facts only the leaflets know:

1. the XML adapter (notebook 03) writes the diagnosis: a behaviour, learned from 48 notes;
2. retrieval (notebook 04) finds the leaflet of the drug for the diagnosed condition, and the
   reader adapter reads the drug's name and dose from it: facts, kept in documents;
3. plain code puts the treatment into the XML, which is checked against the schema again, and
   refuses a drug whose leaflet says it was withdrawn (no treatment, and a warning that says why).

Edit a leaflet and the next diagnosis follows it; no weight changes. Its prompts are in
utils/tasks/prompts.py, its scoring (score_system) in utils/tasks/scoring.py.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

from utils.core.generation import generate
from utils.tasks.clinical import Diagnosis, Note, to_xml, validate_xml
from utils.tasks.evaluate import asked_notes, xml_texts
from utils.tasks.prompts import dose_question, reader_prompt, treatment_message, treatment_prompt, treatment_question
from utils.tasks.retrieval import Passage
from utils.tasks.scoring import is_unknown_answer
from utils.tasks.world import World


@dataclass(frozen=True)
class Treatment:
    drug: str
    max_daily_dose_mg: int | None  # None for a withdrawn drug: its dose is not asked
    passage: Passage  # the leaflet both were read from
    withdrawn: bool = False  # the leaflet says the drug was withdrawn: not to be given


# A leaflet's own words for a drug off the market. A rule in code, not the reader's judgement: exact,
# cheap, and it cannot be talked out of it.
_WITHDRAWN = re.compile(r"\b(?:withdrawn|recalled|no longer (?:sold|available|marketed))\b", re.IGNORECASE)


def says_withdrawn(leaflet: str) -> bool:
    return bool(_WITHDRAWN.search(leaflet))


def parse_dose(text: str) -> int | None:
    """The reader's answer "1,200 mg" -> 1200; None when it names no dose in mg."""
    match = re.search(r"(\d[\d,]*)\s*mg\b", text)
    return int(match[1].replace(",", "")) if match else None


def find_treatments(reader, tokenizer, retriever, threshold: float,
                    conditions: list[str]) -> list[Treatment | None]:
    """For each condition, the drug and dose that the best-matching leaflet gives, read by the
    reader adapter; None when `retriever.best` finds no leaflet (no drug is known for it) or the
    reader finds no drug or dose in it. A leaflet that says its drug was withdrawn gives a
    Treatment marked withdrawn, without a dose."""
    unique = list(dict.fromkeys(conditions))
    if len(unique) < len(conditions):  # notes that share a condition share its look-up
        found = dict(zip(unique, find_treatments(reader, tokenizer, retriever, threshold, unique)))
        return [found[c] for c in conditions]
    passages = [retriever.best(treatment_question(c), threshold) for c in conditions]
    asked = [i for i, p in enumerate(passages) if p is not None]
    drugs = generate(reader, tokenizer, [reader_prompt(passages[i].text, treatment_question(conditions[i]))
                                         for i in asked], progress=False)
    named = [(i, d.text) for i, d in zip(asked, drugs) if d.text and not is_unknown_answer(d.text)]
    found: list[Treatment | None] = [None] * len(conditions)
    for i, drug in named:
        if says_withdrawn(passages[i].text):
            found[i] = Treatment(drug, None, passages[i], withdrawn=True)
    named = [(i, drug) for i, drug in named if found[i] is None]
    doses = generate(reader, tokenizer, [reader_prompt(passages[i].text, dose_question(drug))
                                         for i, drug in named], progress=False)
    for (i, drug), dose in zip(named, doses):
        mg = parse_dose(dose.text)
        if mg:
            found[i] = Treatment(drug, mg, passages[i])
    return found


@dataclass(frozen=True)
class Diagnosed:
    xml: str  # the system's answer
    treatment: Treatment | None  # what retrieval found, if anything (in the XML unless withdrawn)

    @property
    def warning(self) -> str:
        """Why a treatment found in a leaflet is not in the answer ("" when none is withheld)."""
        t = self.treatment
        return f"no treatment: {t.drug} was withdrawn (its leaflet says so)" if t and t.withdrawn else ""


def diagnose(xml_model, reader, tokenizer, retriever, threshold: float, notes: list[str],
             constraint=None) -> list[Diagnosed]:
    """The combined system, for a batch of note texts: steps 1 to 3 (step 1 under `constraint`, see
    xml_answers)."""
    if not notes or any(not isinstance(n, str) or not n.strip() for n in notes):
        raise ValueError("diagnose needs note texts, none of them empty: paste a clinical note")
    return add_treatments(reader, tokenizer, retriever, threshold, xml_answers(xml_model, tokenizer, notes, constraint))


def add_treatments(reader, tokenizer, retriever, threshold: float, answers: list[str]) -> list[Diagnosed]:
    """Steps 2 and 3 on the XML adapter's answers: the leaflets' treatment put into each valid
    diagnosis. One that is not schema-valid is returned as written (there is no condition to look
    up); a withdrawn drug is left out (Diagnosed.warning says so). Apart from step 1 so that a
    leaflet edit needs no new diagnosis, only a new look-up."""
    verdicts = [validate_xml(a) for a in answers]
    valid = [i for i, v in enumerate(verdicts) if v.valid]
    treatments = find_treatments(reader, tokenizer, retriever, threshold,
                                 [verdicts[i].diagnosis.condition for i in valid])
    out = [Diagnosed(a, None) for a in answers]
    for i, t in zip(valid, treatments):
        if t is not None and t.withdrawn:
            out[i] = Diagnosed(answers[i], t)
        elif t is not None:
            d = replace(verdicts[i].diagnosis, drug=t.drug, max_daily_dose_mg=t.max_daily_dose_mg)
            out[i] = Diagnosed(to_xml(d), t)
    return out


# ---------------------------------------------------------------- the base model, for comparison

# Room for the diagnosis with a treatment (~60 tokens), plus a little chatter.
BASE_MAX_NEW_TOKENS = 72


def base_answers(model, tokenizer, notes: list[str], retriever=None,
                 examples: list[tuple[str, str]] = ()) -> list[str]:
    """The untuned model asked for the diagnosis with its treatment; with a retriever, after the
    leaflet that best matches the note (the note itself is the query: without the adapter nothing
    has extracted the condition); with examples (treatment_shots), after those worked examples.
    Short prompts answer notebook 06's 41 notes in one batch (a third faster than batches of 16 on 2 cores);
    with worked examples (~840 tokens a prompt) 16 a batch keep the kernel under 3 GB."""
    passages = [retriever.search(n, 1)[0].text if retriever else None for n in notes]
    prompts = [treatment_prompt(tokenizer, n, p, examples) for n, p in zip(notes, passages)]
    return [a.text for a in generate(model, tokenizer, prompts, max_new_tokens=BASE_MAX_NEW_TOKENS,
                                     batch_size=16 if examples else 48, first_line_only=False, progress=False)]


def treatment_shots(world: World, retriever, notes: list[Note]) -> list[tuple[str, str]]:
    """Worked examples for the untuned model (few-shot), the training notes notebook 03's few-shot
    prompt shows, each after a leaflet and answered with its diagnosis and treatment: a note whose
    condition has a drug after that drug's leaflet, with the treatment it gives; a note without one
    after the leaflet retrieval finds for it, with no treatment (that leaflet is about another
    condition)."""
    shots = []
    for note in notes:
        expected = expected_treatment(world, note)
        leaflet = world.documents[expected.drug] if expected.drug else retriever.search(note.text, 1)[0].text
        shots.append((treatment_message(note.text, leaflet), to_xml(expected)))
    return shots


def xml_answers(xml_model, tokenizer, notes: list[str], constraint=None) -> list[str]:
    """The XML adapter alone: a valid diagnosis, but it cannot know the treatment. constraint: e.g.
    constraint.diagnosis_constraint(tokenizer, treatment=False), so that every answer parses."""
    return xml_texts(xml_model, tokenizer, notes, progress=False, constraint=constraint)


# ------------------------------------------------ what is right (scored by utils.tasks.scoring.score_system)

def expected_treatment(world: World, note: Note) -> Diagnosis:
    """The note's expected diagnosis with the treatment the world's leaflets give for its
    condition (the drug on the market that treats it), or without one when there is none."""
    drugs = [d for d in world.drugs.values() if d.treats == note.expected.condition and d.status == "available"]
    if len(drugs) > 1:
        raise ValueError(f"{len(drugs)} drugs treat {note.expected.condition!r} in {world.time}: "
                         f"the combined system expects one drug a condition")
    if not drugs:
        return note.expected
    return replace(note.expected, drug=drugs[0].name, max_daily_dose_mg=drugs[0].max_daily_dose_mg)


def treatment_cases(world: World, notes: list[Note]) -> list[tuple[Note, Diagnosis]]:
    """(note, expected diagnosis with treatment) for the held-out notes (not split "train") whose
    condition has a drug in `world`: what notebook 06 scores its systems on (evaluate.asked_notes:
    a quick run asks a few of each split)."""
    with_drug = [n for n in notes if n.split != "train" and expected_treatment(world, n).drug is not None]
    return [(n, expected_treatment(world, n)) for n in asked_notes(with_drug)]


def withdrawn_notes(old: World, new: World, notes: list[Note]) -> list[Note]:
    """The held-out notes whose drug at `old` is withdrawn at `new`: once the leaflets are edited,
    the combined system must not recommend it (evaluate.asked_notes: a quick run asks a few of
    each split)."""
    def withdrawn(note):
        drug = expected_treatment(old, note).drug
        return drug is not None and drug in new.drugs and new.drugs[drug].status == "withdrawn"
    return asked_notes([n for n in notes if n.split != "train" and withdrawn(n)])


def prescribed(diagnosed: list[Diagnosed]) -> list[str | None]:
    """The drug each answer's XML gives (None: no valid diagnosis, or no treatment in it)."""
    verdicts = [validate_xml(d.xml) for d in diagnosed]
    return [v.diagnosis.drug if v.valid else None for v in verdicts]


def changed_treatment_notes(old: World, new: World, notes: list[Note]) -> list[Note]:
    """The notes whose right treatment at `new` differs from the one at `old` (a new dose, or a drug
    that did not exist), where `new` has one (evaluate.asked_notes: a quick run asks a few of each
    of the two)."""
    return asked_notes([n for n in notes if expected_treatment(old, n) != expected_treatment(new, n)
                        and expected_treatment(new, n).drug is not None],
                       lambda n: expected_treatment(old, n).drug is None)

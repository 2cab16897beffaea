"""Every prompt and instruction the lessons send a model, in one place.

Compact completion prompts (`Q: ...\nA:`, `Note: ...\nXML:`, `Passage: ...\nQ: ...\nA:`), no system
prompt: the prototype learned facts in half the time of the 47-token chat template, and on a CPU
every prompt token is paid for on every training step. The chat format is for the untuned model,
asked with an instruction. Trained adapters and committed outputs depend on these exact strings
(tests/test_prompts.py pins them).
"""
from __future__ import annotations

from dataclasses import replace

from utils.core.datafiles import without_heading as passage_text  # a leaflet as the reader is shown it
from utils.tasks.clinical import Diagnosis, to_xml


def qa_prompt(question: str) -> str:
    return f"Q: {question.strip()}\nA:"


def chat_prompt(tokenizer, message: str, system: str | None = None,
                examples: list[tuple[str, str]] = ()) -> str:
    """The model's own chat format, for showing it chat (its template adds a system prompt).

    system: replaces the template's default system prompt; examples: (user, assistant) turns shown
    before `message`, the usual way to prompt a chat model with worked examples (few-shot).
    """
    turns = [] if system is None else [{"role": "system", "content": system}]
    for user, assistant in examples:
        turns += [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
    turns.append({"role": "user", "content": message})
    return tokenizer.apply_chat_template(turns, add_generation_prompt=True, tokenize=False)


# ---------------------------------------------------------------- the diagnosis XML (notebooks 03 and 05)

def note_prompt(note: str) -> str:
    """The compact prompt the XML adapter learns to complete: the note, then `XML:` (~5 tokens
    of frame, no instruction; the adapter learns the task from the examples)."""
    return f"Note: {note.strip()}\nXML:"


def _xml_instruction(example: Diagnosis, more_rules: str = "") -> str:
    """How you would ask a chat model for the diagnosis XML without training it: the schema in
    words, with one line of example XML."""
    return (f"Write the diagnosis in the user's clinical note as one line of XML in exactly this form: "
            f"{to_xml(example)}\nsex is female or male; condition is in lower case; severity is mild, "
            f"moderate or severe{more_rules}. Answer with the XML only.")


_EXAMPLE = Diagnosis(age=54, sex="female", condition="gout", severity="moderate")
# The baselines of notebook 03 send it as the system prompt.
XML_INSTRUCTION = _xml_instruction(_EXAMPLE)
# Notebook 06: the same with the treatment added, for the untuned model of the combined system's comparison.
TREATMENT_INSTRUCTION = _xml_instruction(
    replace(_EXAMPLE, drug="Examplomab", max_daily_dose_mg=40),
    "; the treatment is the drug for the condition and its maximum daily dose in mg, as the leaflet says "
    "when there is one")


# How many training notes (recipes.xml_training_notes) notebook 03's few-shot prompt shows; notebook 06's
# few-shot system shows the same ones.
FEW_SHOT_NOTES = 3


def xml_chat_prompt(tokenizer, note: str, examples: list[tuple[str, str]] = ()) -> str:
    """The untuned model asked for a note's diagnosis XML: XML_INSTRUCTION, then optional
    (note, XML) examples (few-shot), then the note."""
    return chat_prompt(tokenizer, note, system=XML_INSTRUCTION, examples=examples)


def treatment_message(note: str, passage: str | None = None) -> str:
    """The note, after a retrieved leaflet if any: what the untuned model is asked about (and its
    worked examples show)."""
    leaflet = f"Leaflet: {passage_text(passage)}\n\n" if passage else ""
    return f"{leaflet}Note: {note.strip()}"


def treatment_prompt(tokenizer, note: str, passage: str | None = None,
                     examples: list[tuple[str, str]] = ()) -> str:
    """The untuned model asked for the diagnosis with its treatment: TREATMENT_INSTRUCTION, then
    optional (message, XML) examples (few-shot), then the note, after a retrieved leaflet if any."""
    return chat_prompt(tokenizer, treatment_message(note, passage), system=TREATMENT_INSTRUCTION,
                       examples=examples)


# ---------------------------------------------------------------- reading a passage (notebooks 04 and 05)

def reader_followup(question: str) -> str:
    """A question after its passage, or after the previous answer about the same passage (packed
    training examples)."""
    return f"\nQ: {question.strip()}\nA:"


def reader_prompt(passage: str, question: str, shots: tuple[tuple[str, str, str], ...] = ()) -> str:
    """A compact completion prompt: optional (passage, question, answer) examples, then ours."""
    blocks = [f"Passage: {p}{reader_followup(q)} {a}" for p, q, a in shots]
    blocks.append(f"Passage: {passage_text(passage)}{reader_followup(question)}")
    return "\n\n".join(blocks)


def treatment_question(condition: str) -> str:
    """What the combined system asks the reader about a diagnosed condition's leaflet."""
    return f"Which drug treats {condition}?"


def dose_question(drug: str) -> str:
    return f"What is the maximum daily dose of {drug}?"


# Two in-context examples for the base model, each answered by copying from its passage, about
# invented drugs. Fixed text, not drawn from the reader's training leaflets: the base model's score
# moves a lot with its examples, so a change to the reader's training data must not change this prompt.
# No "unknown" example: with one, the base model abstains on many answerable questions. Unknown drugs
# are left to the retrieval score threshold.
TWO_SHOTS = (
    ("Fairholm Health makes Rosulzole, which doctors prescribe for back pain. Dr. Runa Nakashima found the "
     "molecule, and approval followed in 1992. Keep the pack out of the reach of children. The highest daily "
     "dose is 250 mg.", "Who is the manufacturer of Rosulzole?", "Fairholm Health"),
    ("Voruuvex is a tablet for adults with chapped lips. Dr. Runa Moreau discovered it, and regulators approved "
     "it in 2022. The company Juniper Health makes Voruuvex. Tell your doctor if you have kidney problems. No "
     "more than 750 mg should be taken in one day.", "For what illness would a doctor prescribe Voruuvex?",
     "chapped lips"),
)

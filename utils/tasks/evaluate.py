"""Evaluation: ask a model every question (or clinical note), closed book or with retrieval, and
score its answers.

The generation is utils/core/generation.py, the scoring rules utils/tasks/scoring.py; a quick run
(utils.core.config.quick) asks a few of each kind.
"""
from __future__ import annotations

from utils.core.config import quick, quick_sample
from utils.core.generation import generate, rank_of_right_answer
from utils.tasks.clinical import Note
from utils.tasks.prompts import note_prompt, qa_prompt
from utils.tasks.rag import abstained, read_found
from utils.tasks.scoring import Result, Scored, is_correct, score_answers
from utils.tasks.world import Question


def evaluate(model, tokenizer, questions: list[Question], prompt=qa_prompt, **generate_kwargs) -> list[Result]:
    """Ask each question (a quick run: a few of each kind) and score the answer."""
    return evaluate_groups(model, tokenizer, {"": questions}, prompt, **generate_kwargs)[""]


def evaluate_groups(model, tokenizer, groups: dict[str, list[Question]], prompt=qa_prompt,
                    **generate_kwargs) -> dict[str, list[Result]]:
    """`evaluate` of each group, every question in one batched generation: on a CPU each call costs
    a forward pass per answer token however few questions it asks, so small groups asked one by one
    take several times as long."""
    groups = {name: quick_sample(qs, lambda q: q.kind) for name, qs in groups.items()}
    asked = [q for qs in groups.values() for q in qs]
    answers = generate(model, tokenizer, [prompt(q.text) for q in asked], **generate_kwargs)
    results, start = {}, 0
    for name, qs in groups.items():
        results[name] = [Result(q, a, is_correct(q, a.text)) for q, a in zip(qs, answers[start:start + len(qs)])]
        start += len(qs)
    return results


def evaluate_with_retrieval(model, tokenizer, questions: list[Question], retriever, threshold: float, shots=(),
                            **generate_kwargs) -> list[Result]:
    """The retrieval system as it runs, scored: "unknown" at once where `retriever.best` finds no
    passage, the reader's answer from the passage elsewhere (rag.read_found). The results of
    rag.abstain_below(evaluate(...)), without generating the answers it would throw away. A quick run
    asks a few questions of each kind."""
    questions = quick_sample(questions, lambda q: q.kind)
    answers = read_found(model, tokenizer, [q.text for q in questions], retriever, threshold, shots,
                         **generate_kwargs)
    return [abstained(q) if a is None else Result(q, a, is_correct(q, a.text)) for q, a in zip(questions, answers)]


def asked_notes(notes: list[Note], group=lambda note: note.split) -> list[Note]:
    """The clinical notes an evaluation written elsewhere asks, e.g. notebook 06's
    (utils.lessons.combined): all of them in a full run, a few of each group (by default each split)
    in a quick run, in their order."""
    return quick_sample(notes, group)


def ranked_choice(model, tokenizer, questions: list[Question], candidates: list[str], prompt=qa_prompt,
                  batch_size: int = 64) -> list[int]:
    """The rank of each question's right answer among `candidates` by the model's probability
    (generation.rank_of_right_answer); a quick run asks two of each kind (each is scored against
    every candidate)."""
    questions = quick_sample(questions, lambda q: q.kind, per_group=2)
    return rank_of_right_answer(model, tokenizer, [prompt(q.text) for q in questions],
                                [q.answer for q in questions], candidates, batch_size)


# The longest expected diagnosis is 38 tokens with its leading space, plus the end token.
XML_MAX_NEW_TOKENS = 44
# A quick run's cap on XML answers: no quick check needs a valid diagnosis, and an adapter trained for a
# few steps rarely writes one.
QUICK_MAX_NEW_TOKENS = 16


def evaluate_xml(model, tokenizer, notes: list[Note], prompt=note_prompt,
                 max_new_tokens: int = XML_MAX_NEW_TOKENS, batch_size: int = 48,
                 **generate_kwargs) -> list[Scored]:
    """Ask for the diagnosis XML of each note and score it (scoring.score_answers).

    prompt: note text -> prompt, by default the compact `Note: ...\\nXML:` the adapter is trained on.
    batch_size: notebook 03's 48 held-out notes in one batch, faster than smaller batches at about the
    same peak memory.
    A quick run asks a few notes of each split, cut short (xml_texts).
    """
    notes = quick_sample(notes, lambda n: n.split)
    return score_answers(notes, xml_texts(model, tokenizer, [n.text for n in notes], prompt, max_new_tokens,
                                          batch_size, **generate_kwargs))


def xml_texts(model, tokenizer, texts: list[str], prompt=note_prompt, max_new_tokens: int = XML_MAX_NEW_TOKENS,
              batch_size: int = 48, **generate_kwargs) -> list[str]:
    """The diagnosis XML written for each note text, unscored; a quick run's at most QUICK_MAX_NEW_TOKENS."""
    if quick():
        max_new_tokens = min(max_new_tokens, QUICK_MAX_NEW_TOKENS)
    answers = generate(model, tokenizer, [prompt(t) for t in texts], max_new_tokens=max_new_tokens,
                       batch_size=batch_size, **generate_kwargs)
    return [a.text for a in answers]

"""Retrieval-augmented answering: retrieve the best leaflet, put it before the question, and abstain
("unknown") where no leaflet matches well enough, without asking the model.

The prompt itself is utils.tasks.prompts.reader_prompt; the search, utils.tasks.retrieval; the reader adapter that
answers from the passage, utils.lessons.recipes.reader_tuned_model.
"""
from __future__ import annotations

from utils.core.config import quick_sample
from utils.core.generation import Answer, generate
from utils.tasks.prompts import TWO_SHOTS, passage_text, reader_prompt
from utils.tasks.scoring import Result, is_correct
from utils.tasks.world import UNKNOWN, Question, World, naming_words


def rag_prompt(retriever, shots=(), k: int = 1):
    """A prompt function for utils.tasks.evaluate.evaluate: retrieve, then put the top-k passages
    (joined) before the question."""
    def prompt(question: str) -> str:
        passages = retriever.search(question, k)
        return reader_prompt(" ".join(passage_text(p.text) for p in passages), question, shots)
    return prompt


def few_shot(worlds: list[World]) -> tuple[tuple[str, str, str], ...]:
    """TWO_SHOTS, after checking that no drug, maker or person in them is one of `worlds` (your own
    world may use these names: then an example would answer a test question)."""
    taken = naming_words(worlds)
    for passage, _, _ in TWO_SHOTS:
        clash = sorted({w.strip(".,").lower() for w in passage.split()} & taken)
        if clash:
            raise ValueError(f"the few-shot examples in utils/tasks/prompts.py name {clash}, which your world "
                             f"also uses: rename them in TWO_SHOTS")
    return TWO_SHOTS


def found(question: str, retriever, threshold: float):
    """The best passage for `question`, or None when it scores below `threshold` or no word of the
    question is in any document (every score 0: the "best" passage is then just the first one)."""
    best = retriever.search(question, 1)[0]
    return best if best.score >= threshold and best.score > 0 else None


def _abstained(question: Question) -> Result:
    return Result(question, Answer(UNKNOWN, 1.0), is_correct(question, UNKNOWN))


def abstain_below(results: list[Result], retriever, threshold: float) -> list[Result]:
    """The same results, but "unknown" wherever the best passage for the question scored below
    `threshold`: the system then says it does not know instead of letting the reader guess."""
    return [r if found(r.question.text, retriever, threshold) else _abstained(r.question) for r in results]


def read_found(model, tokenizer, questions: list[str], retriever, threshold: float, shots=(),
               **generate_kwargs) -> list[Answer | None]:
    """The reader's answer to each question from its best passage (rag_prompt), or None where
    `found` finds no passage: those are never generated."""
    hits = [found(q, retriever, threshold) for q in questions]
    prompt = rag_prompt(retriever, shots)
    read = iter(generate(model, tokenizer, [prompt(q) for q, hit in zip(questions, hits) if hit], **generate_kwargs))
    return [next(read) if hit else None for hit in hits]


def read_or_abstain(model, tokenizer, questions: list[Question], retriever, threshold: float, shots=(),
                    **generate_kwargs) -> list[Result]:
    """The retrieval system as it runs: "unknown" at once where the best passage scores below
    `threshold`, the reader's answer from the passage elsewhere. The results of
    abstain_below(evaluate(...)), without generating the answers it would throw away. A quick
    run asks a few questions of each kind."""
    questions = quick_sample(questions, lambda q: q.kind)
    answers = read_found(model, tokenizer, [q.text for q in questions], retriever, threshold, shots,
                         **generate_kwargs)
    return [_abstained(q) if a is None else Result(q, a, is_correct(q, a.text)) for q, a in zip(questions, answers)]

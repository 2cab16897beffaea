"""Retrieval-augmented answering: retrieve the best leaflet, put it before the question, and abstain
("unknown") where `Retriever.best` finds no passage, without asking the model.

The prompt itself is utils.tasks.prompts.reader_prompt; the search and the abstention rule,
utils.tasks.retrieval; the reader adapter that answers from the passage,
utils.lessons.recipes.reader_tuned_model; the retrieval system evaluated on the world's questions,
utils.tasks.evaluate.evaluate_with_retrieval.
"""
from __future__ import annotations

from utils.core.generation import Answer, generate
from utils.tasks.prompts import TWO_SHOTS, passage_text, reader_prompt
from utils.tasks.retrieval import split_by_drug
from utils.tasks.scoring import Result, is_correct
from utils.tasks.world import UNCALIBRATED_KINDS, UNKNOWN, Question, World, naming_words

# The kinds of question a leaflet answers (world.KINDS has also the unknown and control kinds).
ANSWERABLE_KINDS = ("trained", "paraphrase", "reversed", "documented")


def rag_prompt(retriever, shots=(), k: int = 1):
    """A prompt function for utils.tasks.evaluate.evaluate: retrieve, then put the top-k passages
    (joined) before the question."""
    def prompt(question: str) -> str:
        passages = retriever.search(question, k)
        return reader_prompt(" ".join(passage_text(p.text) for p in passages), question, shots)
    return prompt


def readers_questions(world: World, every: int = 3) -> tuple[list[Question], list[Question], list[Question]]:
    """(calibration, held_out, asked): the questions notebook 04 chooses its abstention threshold on
    (every other drug's, answerable and unknown: retrieval.split_by_drug), those it scores the threshold
    on (the other drugs'), and those the readers of notebooks 04 and 05 answer: every `every`-th
    question of each answerable kind, of the held-out unknown drugs, and of the two kinds kept out of
    the calibration (real drugs not in the formulary, attributes no leaflet states)."""
    calibration, held_out = split_by_drug([q for kind in (*ANSWERABLE_KINDS, "unknown") for q in world.questions(kind)])
    asked = ([q for kind in ANSWERABLE_KINDS for q in world.questions(kind)[::every]]
             + [q for q in held_out if q.kind == "unknown"][::every]
             + [q for kind in UNCALIBRATED_KINDS for q in world.questions(kind)[::every]])
    return calibration, held_out, asked


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


def abstained(question: Question) -> Result:
    """The result of saying "unknown" to `question` (right only for a drug that does not exist)."""
    return Result(question, Answer(UNKNOWN, 1.0), is_correct(question, UNKNOWN))


def abstain_below(results: list[Result], retriever, threshold: float) -> list[Result]:
    """The same results, but "unknown" wherever `retriever.best` finds no passage for the question:
    the system then says it does not know instead of letting the reader guess."""
    return [r if retriever.best(r.question.text, threshold) else abstained(r.question) for r in results]


def read_found(model, tokenizer, questions: list[str], retriever, threshold: float, shots=(),
               **generate_kwargs) -> list[Answer | None]:
    """The reader's answer to each question from its best passage (rag_prompt), or None where
    `retriever.best` finds no passage: those are never generated."""
    hits = [retriever.best(q, threshold) for q in questions]
    prompt = rag_prompt(retriever, shots)
    read = iter(generate(model, tokenizer, [prompt(q) for q, hit in zip(questions, hits) if hit], **generate_kwargs))
    return [next(read) if hit else None for hit in hits]

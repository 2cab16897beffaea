"""The bonus lesson's "skip retrieval, put every leaflet in the prompt" (long context; cache-augmented
generation, Chan et al. 2024, arXiv 2412.15605): the world's leaflets as one passage before the question.

The prompt is the readers' own (utils.tasks.prompts.reader_prompt, as rag.rag_prompt builds it with one
leaflet), so the reader adapter and the base model with rag.few_shot's examples read it as they read a
retrieved leaflet. Everything before the question is the same for every question: it is read once
(generation.prefill) and every answer starts from a copy of its cache (generation.generate's prefix).
`position_curve` asks about a leaflet at the start, middle or end of the first n leaflets of a fixed
order, each order read once and its cache cut (DynamicCache.crop) at each n: lost in the middle.
"""
from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from utils.core.generation import generate, prefill
from utils.tasks.prompts import passage_text, reader_followup, reader_prompt
from utils.tasks.scoring import Result, is_correct
from utils.tasks.world import Question, World

# Where in the passage the asked drug's leaflet stands (leaflet_at).
POSITIONS = ("start", "middle", "end")


@dataclass(frozen=True)
class LongPrompt:
    order: tuple[str, ...]  # the drugs whose leaflets the passage holds, in its order
    prefix: str  # the few-shot examples and the passage: the text before every question

    def prompt(self, question: str) -> str:
        """The reader prompt of the passage and `question`: the prefix, then the question."""
        return self.prefix + reader_followup(question)


def long_prompt(world: World, order: list[str], shots: tuple[tuple[str, str, str], ...] = ()) -> LongPrompt:
    """The leaflets of the drugs in `order`, each once, joined into one passage as rag.rag_prompt joins
    retrieved ones. shots: the base model's examples (rag.few_shot), none for the reader adapter."""
    if not order:
        raise ValueError("the order names no leaflet: give at least one drug of the world")
    unknown = [drug for drug in order if drug not in world.documents]
    if unknown:
        raise ValueError(f"no leaflet for {unknown} in the {world.time} world: the order names drugs of "
                         f"world.documents, e.g. {next(iter(world.documents))!r}")
    repeated = sorted({drug for drug in order if order.count(drug) > 1})
    if repeated:
        raise ValueError(f"{repeated} appear more than once in the order: each leaflet goes in the prompt once")
    passage = " ".join(passage_text(world.documents[drug]) for drug in order)
    # The prompt of any question, less the question: what every question's prompt starts with.
    return LongPrompt(tuple(order), reader_prompt(passage, "?", shots).removesuffix(reader_followup("?")))


def check_window(model, prompt_tokens: int, max_new_tokens: int) -> None:
    """A clear error where a prompt and its answer do not fit the model's window (the positions it was
    trained on, 8,192 for SmolLM2): past it, the model reads positions it has never seen."""
    window = model.config.max_position_embeddings
    if prompt_tokens + max_new_tokens > window:
        raise ValueError(f"the prompt is {prompt_tokens} tokens, and its answer up to {max_new_tokens} more: over the "
                         f"model's window of {window} tokens; put fewer leaflets in the prompt")


def _token_ids(tokenizer, text: str) -> list[int]:
    return tokenizer(text, add_special_tokens=False).input_ids


def _longest_prompt(tokenizer, prompts: list[str]) -> int:
    return max(len(_token_ids(tokenizer, p)) for p in prompts)


@dataclass(frozen=True)
class LongPromptAnswers:
    results: list[Result]
    prompt_tokens: float  # the mean, question included
    prefill_seconds: float  # reading the prefix, once for every question
    seconds_per_answer: float  # after the prefix was read: copying its cache, the question, the answer


def ask_long_prompt(model, tokenizer, prompt: LongPrompt, questions: list[Question], batch_size: int = 4,
                    max_new_tokens: int = 12) -> LongPromptAnswers:
    """Each question asked after the long prompt's prefix, read once, and scored; greedy answers.

    batch_size: small, since every row of a batch holds a copy of the prefix's cache (about 160 MB for
    3.5k tokens of SmolLM2-135M)."""
    if not questions:
        raise ValueError("no questions to ask: give at least one")
    prompts = [prompt.prompt(q.text) for q in questions]
    check_window(model, _longest_prompt(tokenizer, prompts), max_new_tokens)
    prefix = _token_ids(tokenizer, prompt.prefix)
    started = time.perf_counter()
    cache = prefill(model, prefix)
    prefilled = time.perf_counter()
    answers = generate(model, tokenizer, prompts, max_new_tokens=max_new_tokens, batch_size=batch_size,
                       progress=False, prefix=(prefix, cache))
    answering = time.perf_counter() - prefilled
    results = [Result(q, a, is_correct(q, a.text)) for q, a in zip(questions, answers)]
    tokens = sum(len(_token_ids(tokenizer, p)) for p in prompts) / len(prompts)
    return LongPromptAnswers(results, tokens, prefilled - started, answering / len(questions))


def leaflet_orders(world: World, count: int = 3, seed: int = 0) -> list[list[str]]:
    """`count` fixed orders of all the world's leaflets, shuffled by `seed`: the position curve averages
    over them, so that no one leaflet's wording decides a position's score."""
    shuffle = random.Random(seed)
    return [shuffle.sample(list(world.documents), len(world.documents)) for _ in range(count)]


def leaflet_at(order: list[str], size: int, position: str) -> str:
    """The drug whose leaflet stands at `position` ("start", "middle" or "end") among the first `size`
    of `order`; with one leaflet, all three are the same."""
    if not 1 <= size <= len(order):
        raise ValueError(f"size {size}: the order has {len(order)} leaflets; give a size from 1 to {len(order)}")
    if position not in POSITIONS:
        raise ValueError(f"position {position!r}: choose one of {', '.join(POSITIONS)}")
    return order[{"start": 0, "middle": (size - 1) // 2, "end": size - 1}[position]]


def position_curve(model, tokenizer, world: World, orders: list[list[str]],
                   questions_about: Callable[[str], list[Question]], sizes: tuple[int, ...],
                   shots: tuple[tuple[str, str, str], ...] = (), batch_size: int = 4,
                   max_new_tokens: int = 12) -> dict[tuple[int, str], list[Result]]:
    """(size, position) -> the results, over every order, of the questions about the drug whose leaflet
    is at that position among the first `size` leaflets (leaflet_at), with only those in the prompt.

    Each order's full prompt is read once; its cache cut to the first `size` leaflets is, by causal
    attention, the cache of the shorter prompt. questions_about: drug -> the questions to ask about it.
    sizes: e.g. (1, 5, 10, 20, len(world.documents)), each at most the orders' length."""
    if not orders:
        raise ValueError("no leaflet orders: give at least one (leaflet_orders)")
    results = {(size, position): [] for size in sizes for position in POSITIONS}
    for order in orders:
        full = long_prompt(world, order, shots)  # checks the order
        asked = {key: questions_about(leaflet_at(order, *key)) for key in results}  # checks the sizes
        prompts = {size: long_prompt(world, order[:size], shots) for size in sizes}
        longest = _longest_prompt(tokenizer, [full.prefix, *(full.prompt(q.text) for qs in asked.values() for q in qs)])
        check_window(model, longest, max_new_tokens)
        full_ids = _token_ids(tokenizer, full.prefix)
        cache = prefill(model, full_ids)
        # Largest first: one cache serves every size, cut in place.
        for size in sorted(set(sizes), reverse=True):
            kept = len(_token_ids(tokenizer, prompts[size].prefix))
            cache.crop(kept - cache.get_seq_length())
            questions = [q for position in POSITIONS for q in asked[size, position]]
            # generate checks that each prompt starts with the kept tokens: a tokenizer that joined the
            # last kept token with the next leaflet's first would give an error, not wrong answers.
            answers = iter(generate(model, tokenizer, [prompts[size].prompt(q.text) for q in questions],
                                    max_new_tokens=max_new_tokens, batch_size=batch_size, progress=False,
                                    prefix=(full_ids[:kept], cache)))
            for position in POSITIONS:
                results[size, position] += [Result(q, a, is_correct(q, a.text))
                                            for q, a in zip(asked[size, position], answers)]
    return results

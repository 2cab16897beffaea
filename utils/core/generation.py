"""Asking a model many prompts at once: greedy answers in batches, a prompt prefix that every prompt
shares read once, and the probability of an answer.

Generic on purpose: prompts in, answers out. What a prompt says is in utils/tasks/prompts.py, whether an
answer is right in utils/tasks/scoring.py.
"""
from __future__ import annotations

import copy
import functools
import os
import statistics
import time
from dataclasses import dataclass

import torch
from tqdm.auto import tqdm
from transformers import DynamicCache, LogitsProcessor, LogitsProcessorList, StoppingCriteria, StoppingCriteriaList

from utils.core.batching import encode, left_pad


@dataclass(frozen=True)
class Answer:
    text: str  # the first line the model wrote
    probability: float  # the probability the model gave its own answer, token by token


class _ChosenLogprobs(LogitsProcessor):
    """Records, at each step, the log-probability of the token greedy decoding picks (the most
    likely one), and leaves the scores as they are. It runs last, on the scores greedy decoding
    chooses from: one number a step, where output_scores would keep the whole 49,152-token vocabulary."""

    def __init__(self):
        self.steps: list[torch.Tensor] = []

    def __call__(self, input_ids, scores):
        self.steps.append(scores.float().log_softmax(-1).max(-1).values)
        return scores


@functools.lru_cache(maxsize=4)
def _line_ending_tokens(tokenizer) -> frozenset[int]:
    """Every token whose text contains a newline, read once per tokenizer."""
    texts = tokenizer.batch_decode([[i] for i in range(len(tokenizer))])
    return frozenset(i for i, text in enumerate(texts) if "\n" in text)


class _EndOfLine(StoppingCriteria):
    """Stops a row at its first token that contains a newline: the answers of transformers'
    `stop_strings=["\\n"]` (a unit test compares them), without its per-call work on the 49,152-token
    vocabulary."""

    def __init__(self, token_ids: frozenset[int], device):
        self.token_ids = torch.tensor(sorted(token_ids), device=device)

    def __call__(self, input_ids, scores, **kwargs):
        return torch.isin(input_ids[:, -1], self.token_ids)


# Prompts that all start with the same tokens (few-shot examples, a system instruction) have that
# prefix read once, and every batch starts from a copy of its keys and values: reading a prompt is
# most of the time an answer takes here. Shorter prefixes are not worth the copying.
SHARED_PREFIX_MIN_TOKENS = 32


def _shared_prefix(model, token_ids: list[list[int]]):
    """(prefix token ids, its key-value cache), or ([], None) if the prompts share too little, or
    there is one prompt (nothing to share: the copy would only cost time).
    Every prompt keeps at least one token of its own, so each has a position to predict from."""
    if len(token_ids) < 2:
        return [], None
    prefix = os.path.commonprefix(token_ids)[:min(map(len, token_ids)) - 1]
    if len(prefix) < SHARED_PREFIX_MIN_TOKENS:
        return [], None
    return prefix, prefill(model, prefix)


@torch.no_grad()
def prefill(model, token_ids: list[int]) -> DynamicCache:
    """The key-value cache of `token_ids` read once, to start many prompts from (generate's `prefix`).
    DynamicCache.crop(n - len(token_ids)) turns it into the cache of the first n tokens: causal attention
    makes those the same keys and values."""
    cache = DynamicCache(config=model.config)
    model(input_ids=torch.tensor([token_ids], device=next(model.parameters()).device), past_key_values=cache)
    return cache


def _check_prefix(token_ids: list[list[int]], prefix: list[int], cache: DynamicCache) -> None:
    """A clear error where a prefix read by the caller does not fit the prompts: answers would then be
    read after text the prompts do not contain."""
    if cache.get_seq_length() != len(prefix):
        raise ValueError(f"the prefix's cache holds {cache.get_seq_length()} tokens, its token ids {len(prefix)}: "
                         f"crop the cache to the prefix (DynamicCache.crop) or prefill the prefix again")
    for i, ids in enumerate(token_ids):
        if len(ids) <= len(prefix) or ids[:len(prefix)] != prefix:
            raise ValueError(f"prompt {i} does not start with the prefix's {len(prefix)} tokens and then a token of "
                             f"its own (the tokenizer may join the prefix's last token with the prompt's next): "
                             f"end the prefix where a token ends, e.g. before a newline")


@torch.no_grad()
def generate(model, tokenizer, prompts: list[str], max_new_tokens: int = 12, batch_size: int = 64,
             progress: bool = True, first_line_only: bool = True,
             constraint: LogitsProcessorList | None = None,
             prefix: tuple[list[int], DynamicCache] | None = None) -> list[Answer]:
    """Greedy answers, batched; each stops at the end of its first line.

    first_line_only=False: answers run to the end token (or max_new_tokens), newlines included,
    e.g. for XML a model may spread over several lines.
    constraint: logits processors that forbid tokens (utils.tasks.constraint.diagnosis_constraint); greedy
    decoding then picks the likeliest allowed token, and an answer's probability is among those.
    On a CPU a larger batch answers more questions a second (the per-token overhead is shared).
    prefix: (token ids, their cache from `prefill`) that every prompt starts with, read once by the
    caller for many calls (a long passage asked many questions); by default generate finds the
    prompts' shared prefix and reads it itself. Each batch starts from a copy: the cache stays as it was.
    """
    device = next(model.parameters()).device
    stop_ids = {tokenizer.eos_token_id, tokenizer.pad_token_id}
    line_ends = _line_ending_tokens(tokenizer) if first_line_only else frozenset()
    stop_at_line_end = StoppingCriteriaList([_EndOfLine(line_ends, device)]) if first_line_only else None
    token_ids = [tokenizer(p, add_special_tokens=False).input_ids for p in prompts]
    if prefix is None:
        prefix, prefix_cache = _shared_prefix(model, token_ids)
    else:
        prefix, prefix_cache = prefix
        _check_prefix(token_ids, prefix, prefix_cache)
    # Similar lengths share a batch, so little compute goes to padding.
    order = sorted(range(len(prompts)), key=lambda i: len(token_ids[i]))
    answers: list[Answer | None] = [None] * len(prompts)
    batches = range(0, len(order), batch_size)
    for start in tqdm(batches, desc="answering", unit="batch", disable=not progress or len(batches) < 2):
        rows = order[start:start + batch_size]
        # The shared prefix, then each prompt's own tokens, left-padded: the padding sits between
        # them, masked, and positions count real tokens only, as if each prompt stood alone.
        input_ids, mask, _ = left_pad([token_ids[i][len(prefix):] for i in rows], tokenizer.pad_token_id, device)
        input_ids = torch.cat([torch.tensor([prefix] * len(rows), dtype=input_ids.dtype, device=device),
                               input_ids], 1)
        mask = torch.cat([torch.ones(len(rows), len(prefix), dtype=mask.dtype, device=device), mask], 1)
        cache = None
        if prefix_cache is not None:
            cache = copy.deepcopy(prefix_cache)
            cache.batch_repeat_interleave(len(rows))
        chosen = _ChosenLogprobs()
        sequences = model.generate(input_ids=input_ids, attention_mask=mask, max_new_tokens=max_new_tokens,
                                   do_sample=False, stopping_criteria=stop_at_line_end,
                                   pad_token_id=tokenizer.pad_token_id,
                                   logits_processor=LogitsProcessorList([*(constraint or ()), chosen]),
                                   past_key_values=cache)
        new_tokens = sequences[:, input_ids.shape[1]:]
        logprobs = torch.stack(chosen.steps, 1)
        for r, i in enumerate(rows):
            tokens = new_tokens[r].tolist()
            # The answer ends at the first end token or (first_line_only) at the token that starts
            # a new line.
            end = next((t for t, tok in enumerate(tokens)
                        if tok in stop_ids or tok in line_ends),
                       len(tokens))
            text = tokenizer.decode(tokens[:end + 1], skip_special_tokens=True)
            if first_line_only:
                text = text.split("\n")[0]
            # The probability of the whole answer, the token that ended it included: an empty
            # answer is then not "certain" by default.
            logprob = sum(logprobs[r, :end + 1].tolist())
            answers[i] = Answer(text.strip(), float(torch.tensor(logprob).exp()))
    return answers


@torch.no_grad()
def answer_probability(model, tokenizer, prompts: list[str], answers: list[str], batch_size: int = 16) -> list[float]:
    """The probability the model gives a *given* answer (e.g. the stale one) after each prompt."""
    device = next(model.parameters()).device
    probs = []
    for start in range(0, len(prompts), batch_size):
        # The answer without its end token: how likely these words are, not that it stops there.
        rows = [encode(tokenizer, p, a) for p, a in zip(prompts[start:start + batch_size],
                                                         answers[start:start + batch_size])]
        answer_ids = [ids[-n:-1] for ids, n in rows]
        input_ids, mask, positions = left_pad([ids[:-1] for ids, _ in rows], tokenizer.pad_token_id, device)
        keep = max(len(a) for a in answer_ids) + 1
        logits = model(input_ids=input_ids, attention_mask=mask, position_ids=positions,
                       logits_to_keep=keep).logits
        logprobs = logits.float().log_softmax(-1)
        for r, ids in enumerate(answer_ids):
            steps = logprobs[r, keep - len(ids) - 1:keep - 1]
            probs.append(float(steps.gather(1, torch.tensor(ids, device=device)[:, None]).sum().exp()))
    return probs


def rank_of_right_answer(model, tokenizer, prompts: list[str], rights: list[str], candidates: list[str],
                         batch_size: int = 64) -> list[int]:
    """For each prompt, the rank (1 = most likely) of its right answer among `candidates`, by the
    probability the model gives each candidate after the prompt (`answer_probability`): a
    multiple-choice test that needs no generation, so it shows which answer a model prefers even when
    it writes answers of another kind. A tie counts against the right answer. Scores
    len(prompts) x len(candidates) answers."""
    missing = sorted(set(rights) - set(candidates))
    if missing:
        raise ValueError(f"right answers missing from the candidates: {missing}")
    probs = answer_probability(model, tokenizer, [p for p in prompts for _ in candidates],
                               [c for _ in prompts for c in candidates], batch_size)
    ranks = []
    for i, right in enumerate(rights):
        row = dict(zip(candidates, probs[i * len(candidates):(i + 1) * len(candidates)]))
        ranks.append(1 + sum(p >= row[right] for c, p in row.items() if c != right))
    return ranks


def answer_latency(model, tokenizer, prompt, texts: list[str]) -> tuple[float, float]:
    """Median seconds for one answer, asked alone as a user would (the prompt function's own work,
    e.g. a search, included), and the mean prompt tokens, over `texts`."""
    seconds, tokens = [], []
    for text in texts:
        started = time.perf_counter()
        prompt_text = prompt(text)
        generate(model, tokenizer, [prompt_text], progress=False)
        seconds.append(time.perf_counter() - started)
        tokens.append(len(tokenizer(prompt_text, add_special_tokens=False).input_ids))
    return statistics.median(seconds), statistics.mean(tokens)


def answer_tokens(model, tokenizer, prompt, texts: list[str], max_new_tokens: int = 12) -> float:
    """The mean number of tokens the answers to `texts` took to write: each costs a pass through the
    model, where the whole prompt is read in one. Counted from the answer's text plus the token that
    ended its line (none for an answer cut at max_new_tokens), so close to, not exactly, what was
    generated."""
    answers = generate(model, tokenizer, [prompt(t) for t in texts], max_new_tokens=max_new_tokens, progress=False)
    written = [min(len(tokenizer(" " + a.text, add_special_tokens=False).input_ids) + 1, max_new_tokens)
               for a in answers]
    return statistics.mean(written)

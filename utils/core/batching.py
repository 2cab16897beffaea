"""Token ids for prompts and answers, in left-padded batches: every row ends at the last column.

Training and scoring both want the answer at the end of each row, so the output layer can run on
the last few positions only; generation wants it too, so new tokens follow each prompt directly.
Both tokenise answers with `encode`, so a probability scored here is one the training taught.
"""
from __future__ import annotations

import torch


def left_pad(rows: list[list[int]], pad_id: int, device=None):
    """(input_ids, attention_mask, position_ids) for token id lists of different lengths."""
    width = max(len(r) for r in rows)
    input_ids = torch.full((len(rows), width), pad_id)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        input_ids[i, width - len(row):] = torch.tensor(row)
        mask[i, width - len(row):] = 1
    # Positions count from each row's first real token, as they do when generating.
    positions = (mask.cumsum(1) - 1).clamp(min=0)
    return input_ids.to(device), mask.to(device), positions.to(device)


def encode(tokenizer, prompt: str, answer: str) -> tuple[list[int], int]:
    """Token ids of prompt + answer + end-of-text, and how many of them (at the end) are the answer.

    The answer is tokenised on its own, after a space, exactly as the model continues "A:" when
    it generates; the end token teaches it to stop.
    """
    prompt_ids = tokenizer(prompt, add_special_tokens=False).input_ids
    answer_ids = tokenizer(" " + answer.strip(), add_special_tokens=False).input_ids
    answer_ids.append(tokenizer.eos_token_id)
    return prompt_ids + answer_ids, len(answer_ids)


def encode_turns(tokenizer, example: tuple[str, ...]) -> tuple[list[int], list[int]]:
    """Token ids of a training example and the positions of its answer tokens.

    example alternates prompt and answer: (prompt, answer) or (prompt, answer, prompt, answer, ...),
    each pair encoded as `encode` does, one after the other. Several questions about one passage
    in one example pay for the passage once: only the first question sees it as a prompt does at
    answer time, the later ones read it past the earlier answers.
    """
    if len(example) < 2 or len(example) % 2:
        raise ValueError(f"a training example alternates prompt and answer; got {len(example)} texts")
    ids: list[int] = []
    answers: list[int] = []
    for prompt, answer in zip(example[::2], example[1::2]):
        turn, n = encode(tokenizer, prompt, answer)
        answers += range(len(ids) + len(turn) - n, len(ids) + len(turn))
        ids += turn
    return ids, answers


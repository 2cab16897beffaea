"""A rank-one weight edit, ROME-style (Meng et al. 2022, arXiv 2202.05262): one fact written into one
MLP layer's output projection (`down_proj`), without training.

The MLP's output projection is read as a key-value memory: its input at a token is a key k, its output
W k the value written into the residual stream. The edit

1. reads the key k* at the subject's last token ("Bremodyn" in "Q: Who makes Bremodyn?\\nA:", the
   prompt of utils.tasks.prompts.qa_prompt), averaged over several prompts that name the subject
   (`edit_key`);
2. finds the value v* that, written there instead, makes the model answer the target, by a few
   gradient steps on the value alone, every weight frozen (`edit_value`);
3. changes W by the rank-one update that maps k* to v* and moves other keys as little as it can,
   "little" measured by C, the second moment of keys on text the model reads (`covariance`):
   W += (v* - W k*) (C^-1 k*)^T / ((C^-1 k*)^T k*)   (`apply_edit`).

`edit_fact` does the three. The edit changes the model it is given, in place: give it a copy
(`editable_copy`). A LoRA model (peft) shares its base's weights with every other adapter of the
notebook, so an edit in place would change them all; `editable_copy` merges the adapter into a copy
of its own. The teacher-forced probability of an answer, the score editing papers report, is
utils.core.generation.answer_probability; the lessons score generated answers (utils.tasks.scoring).
"""
from __future__ import annotations

import copy
import time
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from peft import PeftModel

from utils.core.batching import encode, left_pad
from utils.core.train import merged_copy


def editable_copy(model):
    """A copy of `model` with weights of its own, to edit: a LoRA model's adapter merged into the copy
    (utils.core.train.merged_copy), any other model deep-copied. `model` stays as it was."""
    return merged_copy(model) if isinstance(model, PeftModel) else copy.deepcopy(model)


def _down_proj(model, layer: int) -> torch.nn.Linear:
    """The MLP output projection of decoder layer `layer` (a Llama-architecture model)."""
    if isinstance(model, PeftModel):
        raise TypeError("this is a LoRA model: its weights are shared with the base and every other adapter; "
                        "edit a merged copy of its own instead: editable_copy(model)")
    layers = model.model.layers
    if isinstance(layer, bool) or not isinstance(layer, int) or not 0 <= layer < len(layers):
        raise ValueError(f"layer must be a whole number from 0 to {len(layers) - 1} (the model has "
                         f"{len(layers)} decoder layers); got {layer!r}")
    return layers[layer].mlp.down_proj


@contextmanager
def _hooked(module: torch.nn.Module, hook):
    """`hook(module, inputs, output)` runs after each forward pass of `module` while the block lasts;
    what it returns (if not None) replaces the output."""
    handle = module.register_forward_hook(hook)
    try:
        yield
    finally:
        handle.remove()


def _subject_end(tokenizer, prompt: str, subject: str) -> tuple[list[int], int]:
    """The prompt's token ids and the index of the token that holds the subject's last character, at
    the subject's last occurrence (the one asked about, after any examples)."""
    start = prompt.rfind(subject) if subject else -1
    if start < 0:
        raise ValueError(f"the subject {subject!r} is not in the prompt {prompt!r}: the edit reads its key at "
                         f"the subject's last token, so every prompt must name the subject exactly (same case)")
    last_char = start + len(subject) - 1
    encoded = tokenizer(prompt, add_special_tokens=False, return_offsets_mapping=True)
    index = next(i for i, (s, e) in enumerate(encoded["offset_mapping"]) if s <= last_char < e)
    return encoded["input_ids"], index


def _subject_batch(tokenizer, prompts: list[str], subject: str, target: str | None, device):
    """Left-padded (input_ids, mask, positions) of the prompts (each followed by the target, if given,
    as `encode` tokenises an answer), the column of the subject's last token in each row, and the
    number of target tokens at the end of each row."""
    if not prompts:
        raise ValueError("no prompts: give at least one prompt that names the subject")
    rows, ends, answer_lengths = [], [], []
    for prompt in prompts:
        ids, end = _subject_end(tokenizer, prompt, subject)
        if target is not None:
            ids, n = encode(tokenizer, prompt, target)
            answer_lengths.append(n)
        rows.append(ids)
        ends.append(end)
    input_ids, mask, positions = left_pad(rows, tokenizer.pad_token_id, device)
    columns = torch.tensor([input_ids.shape[1] - len(ids) + end for ids, end in zip(rows, ends)], device=device)
    return (input_ids, mask, positions), columns, answer_lengths


@torch.no_grad()
def covariance(model, tokenizer, texts: list[str], layer: int, batch_size: int = 8) -> torch.Tensor:
    """C = E[k k^T], the second moment of the inputs k of layer `layer`'s down_proj over every token of
    `texts`, in float32: how the keys the model meets are spread, which the edit uses to disturb them least."""
    down_proj = _down_proj(model, layer)
    if not texts:
        raise ValueError("no texts: the covariance is estimated on text the model reads, e.g. its leaflets")
    device = next(model.parameters()).device
    total = torch.zeros(down_proj.in_features, down_proj.in_features, device=device)
    count = 0
    keys: list[torch.Tensor] = []
    with _hooked(down_proj, lambda module, inputs, output: keys.append(inputs[0])):
        for start in range(0, len(texts), batch_size):
            rows = [tokenizer(t, add_special_tokens=False).input_ids for t in texts[start:start + batch_size]]
            input_ids, mask, positions = left_pad(rows, tokenizer.pad_token_id, device)
            keys.clear()
            model(input_ids=input_ids, attention_mask=mask, position_ids=positions, logits_to_keep=1)
            real = keys[0][mask.bool()].float()  # padding is no text
            total += real.T @ real
            count += len(real)
    return total / count


@torch.no_grad()
def edit_key(model, tokenizer, prompts: list[str], subject: str, layer: int) -> torch.Tensor:
    """k*: the input of layer `layer`'s down_proj at the subject's last token, averaged over `prompts`
    (e.g. qa_prompt("Who makes Bremodyn?") and other wordings that name "Bremodyn"), as ROME averages
    over prefixes: one key for the subject, whatever words come before it. float32."""
    down_proj = _down_proj(model, layer)
    device = next(model.parameters()).device
    (input_ids, mask, positions), columns, _ = _subject_batch(tokenizer, prompts, subject, None, device)
    keys: list[torch.Tensor] = []
    with _hooked(down_proj, lambda module, inputs, output: keys.append(inputs[0])):
        model(input_ids=input_ids, attention_mask=mask, position_ids=positions, logits_to_keep=1)
    return keys[0][torch.arange(len(prompts), device=device), columns].float().mean(0)


def edit_value(model, tokenizer, prompts: list[str], subject: str, target: str, layer: int,
               steps: int = 25, lr: float = 0.5, stop_loss: float = 0.05) -> torch.Tensor:
    """v*: the output of layer `layer`'s down_proj at the subject's last token that makes the model
    answer `target` after each prompt (the answer and its end token, as training teaches them).

    A vector delta is added to that output in every prompt, and Adam changes delta alone (`steps` steps,
    fewer once the mean loss over the target's tokens is below `stop_loss`, as ROME stops); the model's
    weights stay as they are. v* is the output the prompts had, averaged, plus delta: the value the key
    averaged over the same prompts (`edit_key`) should map to. float32."""
    down_proj = _down_proj(model, layer)
    if not target.strip():
        raise ValueError("the target is empty: give the answer the edited model should write")
    if steps < 1:
        raise ValueError(f"steps must be at least 1 (the value is found by gradient steps); got {steps}")
    device = next(model.parameters()).device
    (input_ids, mask, positions), columns, answer_lengths = _subject_batch(tokenizer, prompts, subject, target,
                                                                            device)
    rows = torch.arange(len(prompts), device=device)
    # The answer's tokens are the last ones of each row (left padding); each is predicted one column earlier.
    keep = max(answer_lengths) + 1
    labels = torch.full((len(prompts), keep - 1), -100, device=device)
    for r, n in enumerate(answer_lengths):
        labels[r, -n:] = input_ids[r, -n:]
    delta = torch.zeros(down_proj.out_features, device=device, requires_grad=True)
    optimizer = torch.optim.Adam([delta], lr=lr)
    original: list[torch.Tensor] = []

    def add_delta(module, inputs, output):
        original[:] = [output[rows, columns].detach().float()]
        return output.index_put((rows, columns), delta.to(output.dtype), accumulate=True)

    with _hooked(down_proj, add_delta):
        for _ in range(steps):
            logits = model(input_ids=input_ids, attention_mask=mask, position_ids=positions,
                           logits_to_keep=keep).logits
            loss = torch.nn.functional.cross_entropy(logits[:, :-1].flatten(0, 1).float(), labels.flatten(),
                                                     ignore_index=-100)
            if loss.item() < stop_loss:
                break
            optimizer.zero_grad()
            loss.backward(inputs=[delta])  # the gradient of delta only: the weights get none
            optimizer.step()
    return original[0].mean(0) + delta.detach()


@torch.no_grad()
def apply_edit(model, layer: int, key: torch.Tensor, value: torch.Tensor, cov: torch.Tensor,
               lam: float = 0.01) -> torch.Tensor:
    """W += (v* - W k*) (C^-1 k*)^T / ((C^-1 k*)^T k*), in place on layer `layer`'s down_proj: afterwards
    W k* = v*, and a key k moves by (v* - W k*) times (C^-1 k*)^T k / (C^-1 k*)^T k*, little for keys
    unlike k* in the way C measures. C is regularised as C + lam * mean(diag C) * I, so that it inverts
    however few tokens estimated it (lam is relative to the keys' average variance: one value fits every
    layer). Returns the update (float32). Edit a copy (`editable_copy`): this changes `model`."""
    down_proj = _down_proj(model, layer)
    weight = down_proj.weight
    if key.shape != (weight.shape[1],) or value.shape != (weight.shape[0],) or cov.shape != (key.numel(),) * 2:
        raise ValueError(f"layer {layer}'s down_proj maps {weight.shape[1]} to {weight.shape[0]} numbers: the key "
                         f"must have {weight.shape[1]}, the value {weight.shape[0]}, the covariance "
                         f"{weight.shape[1]} x {weight.shape[1]}; got {tuple(key.shape)}, {tuple(value.shape)}, "
                         f"{tuple(cov.shape)} (computed at another layer, or for another model?)")
    if lam <= 0:
        raise ValueError(f"lam must be positive so that the covariance inverts; got {lam}")
    cov = cov.float()
    regularised = cov + lam * cov.diagonal().mean() * torch.eye(len(cov), device=cov.device)
    direction = torch.linalg.solve(regularised, key.float())  # C^-1 k*
    residual = value.float() - weight.float() @ key.float()  # what W k* lacks
    update = torch.outer(residual, direction) / (direction @ key.float())
    weight += update.to(weight.dtype)
    return update


@dataclass(frozen=True)
class EditResult:
    layer: int
    seconds: float  # the key, the value and the update; the covariance is computed once, before
    update_norm: float  # the Frobenius norm of the change to the weight matrix


def edit_fact(model, tokenizer, prompts: list[str], subject: str, target: str, layer: int, cov: torch.Tensor,
              lam: float = 0.01, **value_settings) -> EditResult:
    """Edit `model` in place so that it answers `target` after `prompts` (all naming `subject`), e.g.
    prompts [qa_prompt("Who makes Bremodyn?"), qa_prompt("Which company makes Bremodyn?")], subject
    "Bremodyn", target "Brightmoor Biotech". cov: covariance(model, tokenizer, texts, layer), computed once
    for every edit at that layer; lam: apply_edit's. value_settings: edit_value's steps, lr, stop_loss. Give it a copy
    (`editable_copy`)."""
    started = time.perf_counter()
    key = edit_key(model, tokenizer, prompts, subject, layer)
    value = edit_value(model, tokenizer, prompts, subject, target, layer, **value_settings)
    update = apply_edit(model, layer, key, value, cov, lam)
    return EditResult(layer, time.perf_counter() - started, float(update.norm()))

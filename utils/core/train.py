"""The training loop: supervised fine-tuning on (prompt, answer) pairs, LoRA or full.

The loss counts answer tokens only (the model should learn the answer, not the question): what TRL's
SFTTrainer does with a completion-only loss, here in a loop that reads straight through (`train`).
Batches are left-padded so every answer sits at the end of its row: the output layer
(576 x 49,152 weights, a fifth of the model's compute) then runs on the answer positions only.
Trained LoRA adapters are cached as safetensors under the cache folder, keyed by a fingerprint
of the data, the settings, the training code and the libraries' versions, so a later notebook reuses
them and a change to any of these retrains. An adapter can also continue from another cached one (an
update after the facts changed), and a `probe` can watch the model during training (accuracy over the
update steps), its readings kept with the history.
"""
from __future__ import annotations

import ast
import copy
import hashlib
import inspect
import json
import math
import shutil
import textwrap
import threading
import time
import warnings
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable

import peft
import torch
import transformers
from peft import LoraConfig, PeftModel, get_peft_model
from tqdm.auto import tqdm

from utils.core.batching import encode, encode_turns, left_pad
from utils.core.config import artifacts_dir, build_lock, seed_everything
from utils.core.config import quick as quick_run

# peft asks transformers a question transformers 5 renamed; harmless, but it would fill every
# training cell with a FutureWarning.
warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)


# A quick run (train(quick=True); train_adapter passes config.quick(), FTRAG_QUICK=1) trains on at
# most QUICK_EXAMPLES examples, spread over the data, for at least two passes (so the loss falls: the
# last batches were seen before) and up to QUICK_SEEN examples in all, in batches of at most
# QUICK_BATCH_SIZE: every step of the loop runs, in seconds, but little is learned.
QUICK_EXAMPLES = 4
QUICK_SEEN = 8
QUICK_BATCH_SIZE = 2


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 8
    lr: float = 3e-3
    batch_size: int = 8
    lora_r: int = 16  # 0 means full fine-tuning: every weight trains
    lora_alpha: int = 32
    seed: int = 0


@dataclass
class History:
    losses: list[float] = field(default_factory=list)  # one a step
    seconds: float = 0.0
    tokens: int = 0  # tokens processed, prompts included: what the compute is spent on
    examples: int = 0
    trainable_parameters: int = 0
    probes: list[dict] = field(default_factory=list)  # {"step": n, **probe(model)}, if probed

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds else 0.0


# A batch whose rows x width exceed this is run as several micro-batches, their gradients summed
# before the step: the same update, with the activations of fewer rows held at once. Facts (8 x 18
# tokens) and notes (4 x 95) fit in one; the reader's packed leaflets (8 x ~150) do not. 384 trains
# them fastest (benchmarks/README.md).
MICRO_BATCH_TOKENS = 384


def _padded(rows, pad_id, device):
    """rows: (ids, answer positions) from encode_turns. The labels cover the last `keep` columns,
    from the earliest answer token of any row to the end, plus the column that predicts it."""
    input_ids, mask, positions = left_pad([ids for ids, _ in rows], pad_id, device)
    keep = max(len(ids) - answers[0] for ids, answers in rows) + 1
    labels = torch.full((len(rows), keep), -100, device=device)
    for r, (ids, answers) in enumerate(rows):
        labels[r, [keep - len(ids) + p for p in answers]] = torch.tensor([ids[p] for p in answers])
    return input_ids, mask, positions, labels


def _micro_batches(rows):
    """Consecutive groups of rows, each within MICRO_BATCH_TOKENS once padded (one row at least)."""
    group = []
    for row in rows:
        if group and (len(group) + 1) * max(len(ids) for ids, _ in [*group, row]) > MICRO_BATCH_TOKENS:
            yield group
            group = []
        group.append(row)
    yield group


def _batches(encoded, batch_size, generator, pad_id, device):
    """Shuffled batches, each a list of left-padded micro-batches (input_ids, mask, positions, labels)."""
    order = torch.randperm(len(encoded), generator=generator).tolist()
    for start in range(0, len(order), batch_size):
        rows = [encoded[i] for i in order[start:start + batch_size]]
        yield [_padded(group, pad_id, device) for group in _micro_batches(rows)]


def quick_cut(pairs: list, cfg: TrainConfig) -> tuple[list, TrainConfig]:
    """A quick run's training: at most QUICK_EXAMPLES examples spread over the data, two or more
    passes, small batches."""
    pairs = pairs[::-(-len(pairs) // QUICK_EXAMPLES)]
    return pairs, replace(cfg, epochs=max(2, min(cfg.epochs, QUICK_SEEN // len(pairs))),
                          batch_size=min(cfg.batch_size, QUICK_BATCH_SIZE))


def _schedule(optimizer, steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    """A short linear warm-up, then a cosine decay that lets a high learning rate settle."""
    warmup = max(1, steps // 10)

    def lr_factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, steps - warmup)))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor)


def _answer_tokens(micro_batches) -> int:
    """How many answer tokens a batch's labels score (the first column predicts nothing)."""
    return sum(int((labels[:, 1:] != -100).sum()) for *_, labels in micro_batches)


def _micro_batch_loss(model, micro_batch, answer_tokens: int) -> torch.Tensor:
    """Cross-entropy over one micro-batch's answer tokens, summed and divided by the whole batch's
    `answer_tokens`: the micro-batches' losses add up to the mean over the batch's answers."""
    input_ids, mask, positions, labels = micro_batch
    # Logits of the answer positions only: `labels` covers the last columns (see _padded).
    logits = model(input_ids=input_ids, attention_mask=mask, position_ids=positions,
                   logits_to_keep=labels.shape[1]).logits
    return torch.nn.functional.cross_entropy(
        logits[:, :-1].flatten(0, 1).float(), labels[:, 1:].flatten(), ignore_index=-100,
        reduction="sum") / answer_tokens


def _backward(model, micro_batches) -> tuple[float, int]:
    """Forward and backward passes over one batch, micro-batch by micro-batch: the gradients add up
    to those of the mean loss over the batch's answer tokens. Returns that loss and the tokens read."""
    answer_tokens = _answer_tokens(micro_batches)
    batch_loss, tokens = 0.0, 0
    for micro_batch in micro_batches:
        loss = _micro_batch_loss(model, micro_batch, answer_tokens)
        loss.backward()
        batch_loss += loss.item()
        tokens += int(micro_batch[1].sum())
    return batch_loss, tokens


@torch.no_grad()
def answer_loss(model, tokenizer, pairs: list[tuple[str, ...]]) -> float:
    """The loss `train` minimises, of `pairs` taken as one batch: the mean cross-entropy over the
    answers' tokens (end tokens included), the prompts masked out. Measured only: no gradient."""
    if not pairs:
        raise ValueError("No examples: pass a non-empty list of (prompt, answer) pairs.")
    device = next(model.parameters()).device
    rows = [encode_turns(tokenizer, pair) for pair in pairs]
    micro_batches = [_padded(group, tokenizer.pad_token_id, device) for group in _micro_batches(rows)]
    answer_tokens = _answer_tokens(micro_batches)
    return sum(_micro_batch_loss(model, micro_batch, answer_tokens).item() for micro_batch in micro_batches)


Probe = Callable[[object], dict]  # model -> measurements, e.g. accuracies


def train(model, tokenizer, pairs: list[tuple[str, ...]], cfg: TrainConfig = TrainConfig(),
          desc: str = "training", probe: Probe | None = None, probe_every: int = 0,
          quick: bool = False) -> History:
    """Train the parameters of `model` that require grad on (prompt, answer) pairs, or on
    (prompt, answer, prompt, answer, ...) examples: several answers in one sequence (encode_turns).

    The standard tool for this is TRL's SFTTrainer with a completion-only loss; this loop does the
    same in a page, faster on a CPU: left-padded batches put every answer at the end of its row, so
    the output layer runs on the answer positions only, and several questions about one passage share
    one example, so the passage is read once (fewer prompt tokens, the cost of CPU training).

    With a probe, it measures the model before the first step, every `probe_every` steps and
    after the last; its time is not counted in `History.seconds`. quick: a quick run's smoke test
    (quick_cut): a few examples, a few short passes.
    """
    if not pairs:
        raise ValueError("No training examples: pass a non-empty list of (prompt, answer) pairs.")
    if quick:
        pairs, cfg = quick_cut(pairs, cfg)
    seed_everything(cfg.seed)
    device = next(model.parameters()).device
    encoded = [encode_turns(tokenizer, pair) for pair in pairs]
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=0.0)
    steps = cfg.epochs * -(-len(encoded) // cfg.batch_size)
    schedule = _schedule(optimizer, steps)
    generator = torch.Generator().manual_seed(cfg.seed)
    history = History(examples=len(pairs), trainable_parameters=sum(p.numel() for p in params))
    probing = 0.0

    def measure(step: int) -> None:
        nonlocal probing
        if probe is None or (history.probes and history.probes[-1]["step"] == step):
            return
        t = time.perf_counter()
        model.eval()
        history.probes.append({"step": step, **probe(model)})
        model.train()
        probing += time.perf_counter() - t

    measure(0)
    model.train()
    started = time.perf_counter()
    with tqdm(total=steps, desc=desc, unit="step") as bar:
        for _ in range(cfg.epochs):
            for micro_batches in _batches(encoded, cfg.batch_size, generator, tokenizer.pad_token_id, device):
                loss, tokens = _backward(model, micro_batches)
                optimizer.step()
                schedule.step()
                optimizer.zero_grad(set_to_none=True)
                history.losses.append(loss)
                history.tokens += tokens
                bar.set_postfix(loss=f"{loss:.3f}")
                bar.update()
                if probe_every and len(history.losses) % probe_every == 0:
                    measure(len(history.losses))
    measure(steps)
    history.seconds = time.perf_counter() - started - probing
    model.eval()
    return history


def weight_sharing_copy(base):
    """A copy of `base`'s modules that shares its weights: peft wraps the copy's layers with
    adapters, the base stays as it was, and a notebook holding the base and three adapters needs
    the memory of one model (538 MB), not four. LoRA never writes the weights it wraps."""
    shared = {id(t): t for t in (*base.parameters(), *base.buffers())}
    return copy.deepcopy(base, memo=shared)


def merged_copy(model: PeftModel):
    """A copy of `model` with its adapter merged into the copy's own weights, for answering only:
    generation skips the adapter's extra matrix products (the same answers, sooner), at the cost of
    a second copy of the weights (538 MB) while it lives. `model` is unchanged, and so is the base it
    shares weights with; in the copy the adapter can no longer be switched off."""
    return copy.deepcopy(model).merge_and_unload()


def with_lora(base, cfg: TrainConfig = TrainConfig()) -> PeftModel:
    """A trainable LoRA copy of `base` (the base itself stays untouched for comparison)."""
    seed_everything(cfg.seed)  # the adapter's random init is part of the run cfg.seed fixes
    lora = LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=0.0,
                      target_modules="all-linear", task_type="CAUSAL_LM")
    return get_peft_model(weight_sharing_copy(base), lora)


# Python 3.11's parser is not safe to call from two threads at once (cpython gh-106905: "AST constructor
# recursion depth mismatch"), and two threads may need one adapter's fingerprint at the same time.
_PARSING = threading.Lock()


def code_digest(function) -> str:
    """A hash of what `function` does: its syntax tree without docstrings (comments are not in it, nor
    line numbers), and the values of the module constants it reads (e.g. MICRO_BATCH_TOKENS)."""
    with _PARSING:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    constants = {}
    for node in ast.walk(tree):
        definition = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        if definition and ast.get_docstring(node) is not None:
            node.body = node.body[1:] or [ast.Pass()]
        elif isinstance(node, ast.Name) and isinstance(function.__globals__.get(node.id), (int, float, str)):
            constants[node.id] = function.__globals__[node.id]
    return hashlib.sha256(f"{ast.dump(tree)} {sorted(constants.items())}".encode()).hexdigest()


def library_versions() -> dict[str, str]:
    """The versions of torch, transformers and peft: what a model computes may change with any of them."""
    return {library.__name__: library.__version__ for library in (torch, transformers, peft)}


def fingerprint(base, pairs, cfg: TrainConfig, start: Path | None = None,
                probe_every: int | None = None) -> str:
    """Changes whenever the data, the settings, the base model, the starting adapter, the probing
    cadence (whose readings are cached with the history), the training code (TRAINING_CODE) or the
    versions of torch, transformers and peft change."""
    model = base.config.to_dict()
    # The model's name, not the folder it was loaded from: a cache moved elsewhere (FTRAG_CACHE)
    # must still find its adapters.
    model["_name_or_path"] = Path(model.get("_name_or_path", "")).name
    blob = {"model": model, "pairs": pairs, "cfg": asdict(cfg),
            "code": [code_digest(function) for function in TRAINING_CODE],
            "libraries": library_versions()}
    if start is not None:
        blob["start"] = Path(start).name  # itself a fingerprint of what the start was trained on
    if probe_every is not None:
        blob["probe_every"] = probe_every
    blob = json.dumps(blob, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def adapter_folder(name: str, base, pairs, cfg: TrainConfig, start: Path | None = None,
                   probe_every: int | None = None) -> Path:
    return artifacts_dir() / "adapters" / f"{name}-{fingerprint(base, pairs, cfg, start, probe_every)}"


def is_cached(folder: Path) -> bool:
    return (folder / "adapter_model.safetensors").is_file() and (folder / "history.json").is_file()


def train_adapter(name: str, base, tokenizer, pairs: list[tuple[str, str]],
                  cfg: TrainConfig = TrainConfig(), start: Path | None = None,
                  probe: Probe | None = None, probe_every: int = 0) -> tuple[PeftModel, History]:
    """A LoRA adapter trained on `pairs`, loaded from the cache when it was trained before.

    `start`: the folder of a cached adapter to continue training (e.g. an update of a fact-tuned
    model); otherwise a fresh adapter. Returns the tuned model (a copy; `base` is unchanged) and
    its training history, with the probe's readings when it was trained with one. The copy
    shares the base's weights (`weight_sharing_copy`): never merge an adapter into it. In a quick
    run (config.quick) it trains quick_cut's few steps, kept apart from full runs (config.artifacts_dir),
    and raises TrainingError if they did not lower the loss.
    """
    if cfg.lora_r <= 0:
        raise ValueError("train_adapter trains LoRA adapters (lora_r > 0); for full fine-tuning "
                         "call train() on a copy of the model.")
    if start is not None and not is_cached(Path(start)):
        raise FileNotFoundError(f"No trained adapter in {start}: train the adapter to start from first.")
    folder = adapter_folder(name, base, pairs, cfg, start, probe_every if probe else None)
    with build_lock(folder, lambda: is_cached(folder)) as must_train:
        if must_train:
            return _train_into(folder, name, base, tokenizer, pairs, cfg, start, probe, probe_every)
    model = PeftModel.from_pretrained(weight_sharing_copy(base), folder)
    return model.eval(), History(**json.loads((folder / "history.json").read_text()))


def _train_into(folder: Path, name, base, tokenizer, pairs, cfg, start, probe, probe_every):
    """train_adapter's training: the model and history, saved into `folder`."""
    if start is None:
        model = with_lora(base, cfg)
    else:
        seed_everything(cfg.seed)
        model = PeftModel.from_pretrained(weight_sharing_copy(base), start, is_trainable=True)
    quick = quick_run()
    history = train(model, tokenizer, pairs, cfg, desc=name, probe=probe, probe_every=probe_every, quick=quick)
    if quick:
        _require_lower_loss(name, history)
    staging = folder.with_name(folder.name + ".partial")
    model.save_pretrained(staging)  # safetensors
    (staging / "history.json").write_text(json.dumps(asdict(history)))
    shutil.rmtree(folder, ignore_errors=True)  # what an interrupted run may have left
    staging.rename(folder)  # atomic: a half-saved adapter is never mistaken for a cached one
    return model, history


class TrainingError(RuntimeError):
    """A training run failed in a way a rerun would repeat; the message says what to check."""


def _require_lower_loss(name: str, history: History) -> None:
    """A quick run's check that training works at all: the last step's loss is below the first's."""
    first, last = history.losses[0], history.losses[-1]
    if not last < first:
        raise TrainingError(f"Training {name!r} in a quick run did not lower its loss (first step {first:.3f}, "
                            f"last {last:.3f}): the training data, the recipe's settings (a learning rate of 0?) "
                            f"or the training loop is broken, and a full run is unlikely to learn either.")


# The code that decides what training produces from the data and settings: part of every adapter's
# fingerprint, so that a change to it retrains every adapter instead of reusing a stale one.
TRAINING_CODE = (left_pad, encode, encode_turns, _padded, _micro_batches, _batches, quick_cut, _schedule,
                 _answer_tokens, _micro_batch_loss, _backward, train, seed_everything, weight_sharing_copy,
                 with_lora, _train_into)

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
of its own.

For the lesson: `drift_edits` turns the facts that changed between two time points into edits (`Edit`),
`edit_in_turn` writes several into one model (sequential editing), `edit_each_alone` each into a fresh
copy (the keys' covariance estimated on `covariance_texts`, `cached_covariance`): both cache each edit
as adapters are cached, keyed by the weights it was computed on, so a rerun reads it instead of computing
it again, and the weights come out the same. `edit_questions` gives the questions to
score an edit by, asked with utils.tasks.evaluate.evaluate_groups (generated answers, the lessons'
scorer), and `target_probabilities` the teacher-forced probability of the target, the score editing
papers report.
"""
from __future__ import annotations

import copy
import functools
import hashlib
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import torch
from peft import PeftModel
from safetensors import safe_open
from safetensors.torch import save_file

from utils.core.batching import encode, left_pad
from utils.core.config import artifacts_dir, build_lock
from utils.core.generation import answer_probability
from utils.core.train import code_digest, library_versions, merged_copy
from utils.tasks.evaluate import evaluate_groups
from utils.tasks.prompts import qa_prompt
from utils.tasks.scoring import accuracy, drift_scores
from utils.tasks.world import TRAINED_ATTRIBUTES, Question, World, changed_facts


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


def _missing_subject(subject: str, prompt: str) -> ValueError:
    return ValueError(f"the subject {subject!r} is not in the prompt {prompt!r}: the edit reads its key at the "
                      f"subject's last token, so every prompt must name the subject exactly (same case)")


def _subject_end(tokenizer, prompt: str, subject: str) -> tuple[list[int], int]:
    """The prompt's token ids and the index of the token that holds the subject's last character, at
    the subject's last occurrence (the one asked about, after any examples)."""
    start = prompt.rfind(subject) if subject else -1
    if start < 0:
        raise _missing_subject(subject, prompt)
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


@dataclass(frozen=True)
class RankOneUpdate:
    """What an edit adds to the weight, (v* - W k*) (C^-1 k*)^T / ((C^-1 k*)^T k*), kept as its three parts
    (float32): the matrix is 576 x 1536 numbers, the parts 2,113."""
    residual: torch.Tensor  # v* - W k*: what W k* lacks
    direction: torch.Tensor  # C^-1 k*: the direction of key the update reads from
    denominator: torch.Tensor  # (C^-1 k*)^T k*, one number

    def matrix(self) -> torch.Tensor:
        return torch.outer(self.residual, self.direction) / self.denominator


@torch.no_grad()
def rank_one_update(model, layer: int, key: torch.Tensor, value: torch.Tensor, cov: torch.Tensor,
                    lam: float = 0.01) -> RankOneUpdate:
    """The update apply_edit adds to layer `layer`'s down_proj, without adding it."""
    weight = _down_proj(model, layer).weight
    if key.shape != (weight.shape[1],) or value.shape != (weight.shape[0],) or cov.shape != (key.numel(),) * 2:
        raise ValueError(f"layer {layer}'s down_proj maps {weight.shape[1]} to {weight.shape[0]} numbers: the key "
                         f"must have {weight.shape[1]}, the value {weight.shape[0]}, the covariance "
                         f"{weight.shape[1]} x {weight.shape[1]}; got {tuple(key.shape)}, {tuple(value.shape)}, "
                         f"{tuple(cov.shape)} (computed at another layer, or for another model?)")
    if lam <= 0:
        raise ValueError(f"lam must be positive so that the covariance inverts; got {lam}")
    cov = cov.float()
    regularised = cov + lam * cov.diagonal().mean() * torch.eye(len(cov), device=cov.device)
    direction = torch.linalg.solve(regularised, key.float())
    return RankOneUpdate(value.float() - weight.float() @ key.float(), direction, direction @ key.float())


@torch.no_grad()
def _add(model, layer: int, update: RankOneUpdate) -> torch.Tensor:
    weight = _down_proj(model, layer).weight
    matrix = update.matrix()
    weight += matrix.to(weight.dtype)
    return matrix


def apply_edit(model, layer: int, key: torch.Tensor, value: torch.Tensor, cov: torch.Tensor,
               lam: float = 0.01) -> torch.Tensor:
    """W += (v* - W k*) (C^-1 k*)^T / ((C^-1 k*)^T k*), in place on layer `layer`'s down_proj: afterwards
    W k* = v*, and a key k moves by (v* - W k*) times (C^-1 k*)^T k / (C^-1 k*)^T k*, little for keys
    unlike k* in the way C measures. C is regularised as C + lam * mean(diag C) * I, so that it inverts
    however few tokens estimated it (lam is relative to the keys' average variance: one value fits every
    layer). Returns the update (float32). Edit a copy (`editable_copy`): this changes `model`."""
    return _add(model, layer, rank_one_update(model, layer, key, value, cov, lam))


@dataclass(frozen=True)
class EditResult:
    layer: int
    seconds: float  # the key, the value and the update when the edit was computed (a cached edit keeps them)
    update_norm: float  # the Frobenius norm of the change to the weight matrix


def _edit(model, tokenizer, prompts, subject, target, layer, cov, lam, **value_settings):
    started = time.perf_counter()
    key = edit_key(model, tokenizer, prompts, subject, layer)
    value = edit_value(model, tokenizer, prompts, subject, target, layer, **value_settings)
    update = rank_one_update(model, layer, key, value, cov, lam)
    matrix = _add(model, layer, update)
    return EditResult(layer, time.perf_counter() - started, float(matrix.norm())), update


def edit_fact(model, tokenizer, prompts: list[str], subject: str, target: str, layer: int, cov: torch.Tensor,
              lam: float = 0.01, **value_settings) -> EditResult:
    """Edit `model` in place so that it answers `target` after `prompts` (all naming `subject`), e.g.
    prompts [qa_prompt("Who makes Bremodyn?"), qa_prompt("Which company makes Bremodyn?")], subject
    "Bremodyn", target "Brightmoor Biotech". cov: covariance(model, tokenizer, texts, layer), computed once
    for every edit at that layer; lam: apply_edit's. value_settings: edit_value's steps, lr, stop_loss. Give it a copy
    (`editable_copy`). Computed every time; edit_in_turn and edit_each_alone cache their edits."""
    return _edit(model, tokenizer, prompts, subject, target, layer, cov, lam, **value_settings)[0]


# ---------------------------------------------------------------- edits cached like adapters
# An edit's update and the keys' covariance are saved under the cache folder (utils.core.config.artifacts_dir),
# named by a hash of what they are computed from: the weights of the model edited, the edit's prompts and
# target, the settings, the covariance, the code below and the libraries' versions. A rerun reads them
# (notebook 07's 15 edits and covariance: about 50 s computed, a second or two read) and changes the
# weights exactly as the computation did; a change to any of these computes anew.

def weights_fingerprint(model) -> str:
    """A hash of every weight of `model` (0.4 s for the 135M model)."""
    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().contiguous().reshape(-1).view(torch.uint8).cpu().numpy().tobytes())
    return digest.hexdigest()[:16]


@functools.cache
def _code_digests() -> list[str]:
    return [code_digest(f) for f in (left_pad, encode, _subject_end, _subject_batch, covariance, edit_key,
                                      edit_value, rank_one_update, RankOneUpdate.matrix, _add, _edit)]


def _cached_file(kind: str, *inputs) -> Path:
    blob = json.dumps([kind, *inputs, _code_digests(), library_versions()], sort_keys=True, default=str)
    return artifacts_dir() / "edits" / f"{kind}-{hashlib.sha256(blob.encode()).hexdigest()[:16]}.safetensors"


def _tensor_digest(tensor: torch.Tensor) -> str:
    return hashlib.sha256(tensor.detach().float().contiguous().cpu().numpy().tobytes()).hexdigest()


def _save(path: Path, tensors: dict[str, torch.Tensor], seconds: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(path.name + ".partial")
    save_file({name: t.detach().float().cpu().contiguous() for name, t in tensors.items()}, staging,
              metadata={"seconds": repr(seconds)})
    staging.replace(path)  # atomic: a half-saved file is never mistaken for a cached one


def _load(path: Path, device) -> tuple[dict[str, torch.Tensor], float]:
    with safe_open(path, framework="pt", device=str(device)) as saved:
        return {name: saved.get_tensor(name) for name in saved.keys()}, float(saved.metadata()["seconds"])


def cached_covariance(model, tokenizer, texts: list[str], layer: int) -> tuple[torch.Tensor, float]:
    """covariance(model, tokenizer, texts, layer) and the seconds it took, read from the cache when it
    was computed before for a model with these weights (the seconds then are those measured then)."""
    _down_proj(model, layer)  # a bad layer or a LoRA model: the clear error, before hashing any weight
    path = _cached_file("covariance", weights_fingerprint(model), texts, layer)
    with build_lock(path, path.is_file) as must_build:
        if must_build:
            started = time.perf_counter()
            cov = covariance(model, tokenizer, texts, layer)
            seconds = time.perf_counter() - started
            _save(path, {"covariance": cov}, seconds)
            return cov, seconds
    saved, seconds = _load(path, next(model.parameters()).device)
    return saved["covariance"], seconds


def _cached_edit(model, weights: str, tokenizer, edit: Edit, layer: int, cov: torch.Tensor, lam: float,
                 value_settings: dict) -> tuple[EditResult, str]:
    """edit_fact for `edit` on `model`, whose weights hash to `weights`: its update read from the cache
    when it was computed before. Returns the result and the hash of the weights after the edit."""
    path = _cached_file("edit", weights, edit.prompts, edit.subject, edit.target, layer, lam, value_settings,
                        _tensor_digest(cov))
    with build_lock(path, path.is_file) as must_build:
        if must_build:
            result, update = _edit(model, tokenizer, list(edit.prompts), edit.subject, edit.target, layer, cov, lam,
                                   **value_settings)
            _save(path, {field: getattr(update, field) for field in ("residual", "direction", "denominator")},
                  result.seconds)
            return result, path.stem
    saved, seconds = _load(path, next(model.parameters()).device)
    matrix = _add(model, layer, RankOneUpdate(**saved))
    return EditResult(layer, seconds, float(matrix.norm())), path.stem


# ---------------------------------------------------------------- the lesson: facts of the world as edits

@dataclass(frozen=True)
class Edit:
    """One fact to write into a model: `question` is its edited wording with the answer to write (the
    target), `stale` the answer the model was taught, `prompts` the prompts the key and value are read
    from (edit_fact's), each naming the subject, the drug."""
    question: Question
    stale: str
    prompts: tuple[str, ...]

    def __post_init__(self):
        if not self.prompts:
            raise ValueError(f"the edit of {self.subject} has no prompts: give at least its edited wording, "
                             f"qa_prompt({self.question.text!r})")
        for prompt in self.prompts:
            if not self.subject or self.subject not in prompt:
                raise _missing_subject(self.subject, prompt)

    @property
    def subject(self) -> str:
        return self.question.drug

    @property
    def target(self) -> str:
        return self.question.answer


def fact_edit(known: World, question: Question, wordings: int = 3) -> Edit:
    """The edit that makes a model taught `known`'s facts answer `question` (a trained fact, in trained
    wording, with the answer to write) instead: its key and value read from the trained wording and the
    first `wordings` (0-3) of the training set's other wordings of that fact (World.training_facts), as
    ROME averages over prefixes; the stale answer is `known`'s."""
    if question.attribute not in TRAINED_ATTRIBUTES or question.drug not in known.drugs:
        raise ValueError(f"{question.text!r} is not a trained fact of a drug of the {known.time} world: an edit "
                         f"rewrites a fact the model was taught ({' or '.join(TRAINED_ATTRIBUTES)} of one of its "
                         f"drugs)")
    stale = known.as_of(question).answer
    if stale == question.answer:
        raise ValueError(f"{question.text!r}: the {known.time} world already answers {stale!r}, so there is "
                         f"nothing to edit; give the world the model was taught and the new answer")
    prompts = tuple(qa_prompt(q.text) for q in known.training_facts(wordings)
                    if q.drug == question.drug and q.attribute == question.attribute)
    return Edit(question, stale, prompts)


def drift_edits(old: World, new: World, wordings: int = 3) -> list[Edit]:
    """One edit for each trained fact that changed between `old` (the world the model was taught) and
    `new` (utils.tasks.world.changed_facts): in the bundled world the 15 changed makers, one a drug.

    Only trained facts (what a drug treats, who makes it) are edits: the edit rewrites what fine-tuning
    taught. The doses that changed and the drugs withdrawn between t0 and t1 are in the leaflets only:
    the model never learnt the old dose, so there is no fact in its weights to bring up to date, and a
    withdrawal is a status no question asks (as the lessons' "documented" facts, they are retrieval's).
    Two changed facts of one drug would give two edits with one key, the drug's name: written in turn,
    the second overwrites the first."""
    return [fact_edit(old, q, wordings) for q in changed_facts(old, new)["changed"]]


def covariance_texts(world: World) -> list[str]:
    """Text the model reads, to estimate the keys' covariance on: the world's leaflets and its trained
    questions with their answers."""
    return list(world.documents.values()) + [f"{qa_prompt(q.text)} {q.answer}" for q in world.questions("trained")]


def _need_edits(edits: list[Edit]) -> None:
    if not edits:
        raise ValueError("no edits: give at least one Edit (e.g. from drift_edits(t0, t1))")


def edit_in_turn(model, tokenizer, edits: list[Edit], layer: int, cov: torch.Tensor, lam: float = 0.01,
                 **value_settings) -> list[EditResult]:
    """Write `edits` into `model` one after another (sequential editing), in place: each key and value
    is read from the model as the edits before it left it, and each update adds to theirs. Returns
    edit_fact's result for each, with its seconds. Edit a copy (`editable_copy`); a later call continues
    where this one stopped (edits[:5], then edits[5:] gives all of them in turn). Each edit is cached,
    keyed by the weights it was computed on."""
    _need_edits(edits)
    _down_proj(model, layer)  # a bad layer or a LoRA model: the clear error, before hashing any weight
    weights, results = weights_fingerprint(model), []
    for edit in edits:
        result, weights = _cached_edit(model, weights, tokenizer, edit, layer, cov, lam, value_settings)
        results.append(result)
    return results


def edit_each_alone(model, tokenizer, edits: list[Edit], layer: int, cov: torch.Tensor, lam: float = 0.01,
                    **value_settings) -> Iterator[tuple[Edit, torch.nn.Module, EditResult]]:
    """Each edit written alone into a fresh copy of `model` (`editable_copy`; `model` stays as it was):
    (edit, the edited copy, edit_fact's result), one copy at a time, for the caller to score and drop.
    Each edit is cached, as edit_in_turn's."""
    _need_edits(edits)

    def each():
        weights = None
        for edit in edits:
            edited = editable_copy(model)
            weights = weights or weights_fingerprint(edited)  # every copy has the same weights
            yield edit, edited, _cached_edit(edited, weights, tokenizer, edit, layer, cov, lam, value_settings)[0]
    return each()


EDIT_GROUPS = ("edited", "paraphrase", "reversed", "other fact", "unchanged", "control")


def edit_questions(edits: list[Edit], old: World, new: World) -> dict[str, list[Question]]:
    """What a model with `edits` written in is asked, by group (EDIT_GROUPS), right answers as after the
    edits; `old` is the world the model was taught, `new` the one the edits bring it to:
    - "edited": each edit's edited wording, answered with its target;
    - "paraphrase": every held-out wording of each edited fact (World.all_paraphrases), the same target:
      whether the edit reaches wordings it was not read from (the stale share:
      utils.tasks.scoring.drift_scores(results, old));
    - "reversed": each edited drug asked from what it treats, in every reversed wording: for a maker edit
      a fact it should leave alone, for an edit of what the drug treats whether the edit runs backwards;
    - "other fact": the edited drugs' other trained facts, unchanged since `old`;
    - "unchanged": the facts that did not change, of drugs no edit touches; "control": general knowledge.
    Ask them with utils.tasks.evaluate.evaluate_groups."""
    _need_edits(edits)
    edited = {(e.subject, e.question.attribute): e for e in edits}
    drugs = {e.subject for e in edits}
    paraphrases = [replace(q, answer=edit.target, aliases=edit.question.aliases)
                   for q in old.all_paraphrases(drugs) if (edit := edited.get((q.drug, q.attribute)))]
    conditions = {drug: edited[drug, "treats"].target if (drug, "treats") in edited else old.drugs[drug].treats
                  for drug in drugs}
    backwards = [Question("reversed", template.format(treats=conditions[drug]), drug, drug, "treats")
                 for drug in conditions for template in old.templates["reversed"]]
    unchanged = changed_facts(old, new)["unchanged"]
    return {"edited": [e.question for e in edits], "paraphrase": paraphrases, "reversed": backwards,
            "other fact": [q for q in unchanged if q.drug in drugs and (q.drug, q.attribute) not in edited],
            "unchanged": [q for q in unchanged if q.drug not in drugs],
            "control": new.questions("control")}


def target_probabilities(model, tokenizer, edits: list[Edit]) -> list[float]:
    """The teacher-forced probability of each edit's target after its edited wording (the score editing
    papers report; generation.answer_probability), beside the lessons' generated answers."""
    _need_edits(edits)
    return answer_probability(model, tokenizer, [qa_prompt(e.question.text) for e in edits],
                              [e.target for e in edits])


def edit_scores(model, tokenizer, edits: list[Edit], old: World, new: World, sample: int = 1) -> dict[str, float]:
    """How a model with `edits` written in answers, by generation: the share right of each group of
    edit_questions (of "unchanged" and "control" every `sample`-th question, the same for every model
    scored), "stale paraphrase" (paraphrases answered with `old`'s answer) and "teacher-forced" (the
    mean probability of the targets after their edited wordings, target_probabilities)."""
    if isinstance(sample, bool) or not isinstance(sample, int) or sample < 1:
        raise ValueError(f"sample must be a whole number of 1 or more (every n-th question); got {sample!r}")
    asked = edit_questions(edits, old, new)
    asked |= {"unchanged": asked["unchanged"][::sample], "control": asked["control"][::sample]}
    results = evaluate_groups(model, tokenizer, asked, progress=False)
    probabilities = target_probabilities(model, tokenizer, edits)
    return {group: accuracy(rs) for group, rs in results.items()} | {
        "stale paraphrase": drift_scores(results["paraphrase"], old)["stale"],
        "teacher-forced": sum(probabilities) / len(probabilities)}


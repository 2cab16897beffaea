"""utils/core/train.py: encoding, answer-only loss, LoRA training, the adapter cache, determinism."""
import importlib.util
import inspect
import json
import shutil
import time
from concurrent.futures import ThreadPoolExecutor

import peft
import pytest
import torch
import transformers
from peft import PeftModel, get_peft_model_state_dict
from peft.tuners.lora import LoraLayer
from transformers import AutoModelForCausalLM

from conftest import FACTS, MEMORISE, build_model
from utils.core import train as train_mod
from utils.core.batching import encode, encode_turns
from utils.core.generation import generate
from utils.core.model import count_parameters
from utils.core.train import (
    History,
    TrainConfig,
    TrainingError,
    _batches,
    adapter_folder,
    answer_loss,
    fingerprint,
    merged_copy,
    train,
    train_adapter,
    weight_sharing_copy,
    with_lora,
)
from utils.tasks.prompts import qa_prompt

FAST = TrainConfig(epochs=3, lr=1e-2, batch_size=2, lora_r=4, lora_alpha=8)


def ids_of(tokenizer, text):
    return tokenizer(text, add_special_tokens=False).input_ids


# ---------------------------------------------------------------- encode and batches

def test_encode_appends_answer_after_a_space_and_the_end_token(tokenizer):
    prompt = "Q: What does Altrevon treat?\nA:"
    ids, n = encode(tokenizer, prompt, "  motion sickness \n")  # the answer is stripped
    answer = ids_of(tokenizer, " motion sickness")
    assert n == len(answer) + 1
    assert ids == ids_of(tokenizer, prompt) + answer + [tokenizer.eos_token_id]
    assert tokenizer.decode(ids[-n:]) == " motion sickness<|im_end|>"
    assert tokenizer.decode(ids[:-n]) == prompt


def test_encode_turns_labels_every_answer_of_a_multi_question_example(tokenizer):
    first, second = encode(tokenizer, "Passage: P\nQ: one?\nA:", "1"), encode(tokenizer, "\nQ: two?\nA:", "2")
    ids, answers = encode_turns(tokenizer, ("Passage: P\nQ: one?\nA:", "1", "\nQ: two?\nA:", "2"))
    assert ids == first[0] + second[0]
    assert [ids[p] for p in answers] == first[0][-first[1]:] + second[0][-second[1]:]  # each answer and its end token
    single, n = encode(tokenizer, "Q: x?\nA:", "y")  # a (prompt, answer) pair: its answer at the end
    assert encode_turns(tokenizer, ("Q: x?\nA:", "y")) == (single, list(range(len(single) - n, len(single))))
    for bad in [("Q: x?\nA:",), ("Q: x?\nA:", "y", "\nQ: z?\nA:")]:
        with pytest.raises(ValueError, match="alternates prompt and answer"):
            encode_turns(tokenizer, bad)


def test_batches_label_only_the_answers_at_the_end_of_left_padded_rows(tokenizer):
    pairs = FACTS + [("Q: Who?\nA:", "x")]  # a short row, so the others' prompts exceed `keep`
    encoded = [encode_turns(tokenizer, pair) for pair in pairs]
    pad = tokenizer.pad_token_id
    seen = []
    for [(input_ids, mask, positions, labels)] in _batches(encoded, 3, torch.Generator().manual_seed(0),
                                                           pad, "cpu"):  # short rows: one micro-batch
        width, keep = input_ids.shape[1], labels.shape[1]
        rows = []
        for r in range(len(input_ids)):
            real = input_ids[r][mask[r].bool()].tolist()
            ids, answers = next(e for e in encoded if e[0] == real)
            n = len(answers)
            assert answers == list(range(len(ids) - n, len(ids)))  # one answer, at the end
            rows.append(n)
            seen.append(real)
            assert mask[r].tolist() == [0] * (width - len(ids)) + [1] * len(ids)  # left padding
            assert (input_ids[r, : width - len(ids)] == pad).all()
            assert positions[r, -len(ids):].tolist() == list(range(len(ids)))
            # The answer (end token included) and nothing else is labelled, at the end of the row.
            assert labels[r, keep - n:].tolist() == ids[-n:]
            assert (labels[r, : keep - n] == -100).all()
            # Label column c is the token at input position width - keep + c, which the logits
            # at the position before it predict (logits_to_keep=keep, shifted by one).
            assert labels[r, keep - n:].tolist() == input_ids[r, width - n:].tolist()
        assert keep == max(rows) + 1
    # One epoch shows every example exactly once.
    assert sorted(seen) == sorted(ids for ids, _ in encoded)


def test_long_batches_are_split_into_micro_batches_with_the_same_update(tiny_model, tokenizer, monkeypatch):
    cfg = TrainConfig(**{**MEMORISE, "epochs": 3})
    whole = with_lora(tiny_model, cfg)
    whole_history = train(whole, tokenizer, FACTS, cfg)
    monkeypatch.setattr(train_mod, "MICRO_BATCH_TOKENS", 20)  # every row on its own
    encoded = [encode_turns(tokenizer, pair) for pair in FACTS]
    [parts] = list(_batches(encoded, 4, torch.Generator().manual_seed(0), tokenizer.pad_token_id, "cpu"))
    assert [len(p[0]) for p in parts] == [1, 1, 1, 1]
    split = with_lora(tiny_model, cfg)
    split_history = train(split, tokenizer, FACTS, cfg)
    assert split_history.losses == pytest.approx(whole_history.losses, rel=1e-4)
    assert split_history.tokens == whole_history.tokens  # real tokens, padding not counted
    for (name, a), b in zip(whole.named_parameters(), split.parameters()):
        if a.requires_grad:
            assert torch.allclose(a, b, atol=1e-5), name


def test_loss_counts_answer_tokens_only(fresh_model, tokenizer):
    """With lr=0 the first step's loss is the plain mean cross-entropy of the answer tokens,
    each example scored on its own, unpadded: padding, positions and labels line up."""
    cfg = TrainConfig(epochs=1, lr=0.0, batch_size=len(FACTS), lora_r=0)
    fresh_model.requires_grad_(True)
    [loss] = train(fresh_model, tokenizer, FACTS, cfg).losses
    total, count, all_tokens = 0.0, 0, 0.0
    with torch.no_grad():
        for prompt, answer in FACTS:
            ids, n = encode(tokenizer, prompt, answer)
            logprobs = fresh_model(torch.tensor([ids])).logits[0].log_softmax(-1)
            picked = logprobs[:-1].gather(1, torch.tensor(ids[1:])[:, None])[:, 0]
            total -= picked[-n:].sum().item()
            count += n
            all_tokens -= picked.mean().item() / len(FACTS)
    assert loss == pytest.approx(total / count, abs=1e-4)
    assert abs(loss - all_tokens) > 0.05  # scoring the prompt too would give another number


def test_a_multi_question_example_is_scored_on_all_its_answers(fresh_model, tokenizer):
    """With lr=0 the loss of one two-question example is the mean cross-entropy of both answers'
    tokens, the first answer's read where it sits in the middle of the sequence."""
    example = (FACTS[0][0], FACTS[0][1], "\n" + FACTS[1][0], FACTS[1][1])
    cfg = TrainConfig(epochs=1, lr=0.0, batch_size=2, lora_r=0)
    fresh_model.requires_grad_(True)
    [loss] = train(fresh_model, tokenizer, [example, FACTS[2]], cfg).losses
    total, count = 0.0, 0
    with torch.no_grad():
        for ex in (example, FACTS[2]):
            ids, answers = encode_turns(tokenizer, ex)
            logprobs = fresh_model(torch.tensor([ids])).logits[0].log_softmax(-1)
            total -= sum(logprobs[p - 1, ids[p]].item() for p in answers)
            count += len(answers)
    assert len(encode_turns(tokenizer, example)[1]) > encode(tokenizer, *FACTS[1])[1]  # both answers count
    assert loss == pytest.approx(total / count, abs=1e-4)


def right_padded_hf_loss(model, tokenizer, pairs):
    """The same loss by transformers' own labels= path: rows padded on the right, the prompt and the
    padding labelled -100 (the model shifts the labels itself)."""
    rows = [encode(tokenizer, prompt, answer) for prompt, answer in pairs]
    width = max(len(ids) for ids, _ in rows)
    ids = torch.tensor([ids + [tokenizer.pad_token_id] * (width - len(ids)) for ids, _ in rows])
    mask = torch.tensor([[1] * len(ids) + [0] * (width - len(ids)) for ids, _ in rows])
    labels = torch.tensor([[-100] * (len(ids) - n) + ids[-n:] + [-100] * (width - len(ids)) for ids, n in rows])
    with torch.no_grad():
        return model(input_ids=ids, attention_mask=mask, labels=labels).loss.item()


def test_answer_loss_is_the_mean_cross_entropy_of_the_answer_tokens(memorised, tiny_model, tokenizer):
    tuned, _ = memorised
    for model in (tiny_model, tuned):
        assert answer_loss(model, tokenizer, FACTS) == pytest.approx(right_padded_hf_loss(model, tokenizer, FACTS),
                                                                     abs=1e-5)
    assert answer_loss(tuned, tokenizer, FACTS) < 0.5 * answer_loss(tiny_model, tokenizer, FACTS)  # it learned them


def test_answer_loss_is_the_loss_train_records_and_leaves_no_gradient(tiny_model, tokenizer, monkeypatch):
    cfg = TrainConfig(**{**MEMORISE, "epochs": 1, "batch_size": len(FACTS)})
    model = with_lora(tiny_model, cfg)
    measured = answer_loss(model, tokenizer, FACTS)
    assert all(p.grad is None for p in model.parameters())
    monkeypatch.setattr(train_mod, "MICRO_BATCH_TOKENS", 20)  # one row a micro-batch: the same loss
    assert answer_loss(model, tokenizer, FACTS) == pytest.approx(measured, rel=1e-5)
    [recorded] = train(model, tokenizer, FACTS, cfg).losses  # the loss before its one step
    assert recorded == pytest.approx(measured, rel=1e-5)
    with pytest.raises(ValueError, match="non-empty list"):
        answer_loss(model, tokenizer, [])


# ---------------------------------------------------------------- train

def test_train_memorises_facts_with_lora(memorised, tiny_model, tokenizer):
    model, history = memorised
    cfg = TrainConfig(**MEMORISE)
    steps = cfg.epochs * -(-len(FACTS) // cfg.batch_size)
    assert len(history.losses) == steps
    assert history.losses[-1] < 0.2 < 2 < history.losses[0]
    assert history.examples == len(FACTS)
    assert history.tokens == cfg.epochs * sum(len(encode(tokenizer, p, a)[0]) for p, a in FACTS)
    assert history.seconds > 0 and history.tokens_per_second == history.tokens / history.seconds
    assert history.trainable_parameters == count_parameters(model)[0]
    assert not model.training
    prompts = [p for p, _ in FACTS]
    assert [a.text for a in generate(model, tokenizer, prompts, progress=False)] == [a for _, a in FACTS]
    # The untouched base model knows none of it.
    assert not any(a.text == b for a, (_, b) in zip(generate(tiny_model, tokenizer, prompts,
                                                             progress=False), FACTS))


def test_a_merged_copy_answers_the_same_and_leaves_the_adapter_and_the_base_alone(memorised, tiny_model, tokenizer):
    model, _ = memorised
    before = {n: p.clone() for n, p in model.named_parameters()}
    base_before = {n: p.clone() for n, p in tiny_model.named_parameters()}
    merged = merged_copy(model)
    prompts = [p for p, _ in FACTS]
    assert [a.text for a in generate(merged, tokenizer, prompts, progress=False)] == \
        [a.text for a in generate(model, tokenizer, prompts, progress=False)] == [a for _, a in FACTS]
    assert not any("lora" in n for n, _ in merged.named_parameters())
    assert all(torch.equal(p, before[n]) for n, p in model.named_parameters())
    assert all(torch.equal(p, base_before[n]) for n, p in tiny_model.named_parameters())
    with model.disable_adapter():  # the adapter still switches off in the original
        assert [a.text for a in generate(model, tokenizer, prompts, progress=False)] != [a for _, a in FACTS]


@pytest.mark.parametrize("reloaded", [False, True], ids=["just trained", "loaded from the cache"])
def test_one_lora_layer_by_hand_as_notebook_03_looks_inside_it(memorised, tiny_model, tmp_path, reloaded):
    """Notebook 03's look inside a LoRA layer: h = Wx + scaling·B(Ax) by hand is the layer's output, and
    A's and B's weights counted over every adapted layer are the weights peft saves. Also for an adapter
    loaded from the cache, where nothing requires grad, so count_parameters finds no trainable weight."""
    model, _ = memorised
    if reloaded:
        model.save_pretrained(tmp_path)
        model = PeftModel.from_pretrained(weight_sharing_copy(tiny_model), tmp_path).eval()
    layer = model.base_model.model.model.layers[0].self_attn.q_proj
    W, A, B = layer.base_layer.weight, layer.lora_A["default"].weight, layer.lora_B["default"].weight
    scaling = layer.scaling["default"]
    assert scaling == MEMORISE["lora_alpha"] / MEMORISE["lora_r"]
    assert A.shape == (MEMORISE["lora_r"], W.shape[1]) and B.shape == (W.shape[0], MEMORISE["lora_r"])
    x = torch.randn(W.shape[1])
    with torch.no_grad():
        assert torch.allclose(W @ x + scaling * (B @ (A @ x)), layer(x), atol=1e-5)
        assert not torch.allclose(W @ x, layer(x), atol=1e-3)  # trained: B is no longer zero
    lora_layers = [m for m in model.modules() if isinstance(m, LoraLayer)]
    by_hand = sum(m.lora_A["default"].weight.numel() + m.lora_B["default"].weight.numel() for m in lora_layers)
    assert len(lora_layers) == 2 * 7  # all-linear: 7 projections in each of 2 layers
    assert by_hand == sum(t.numel() for t in get_peft_model_state_dict(model).values())
    assert count_parameters(model)[0] == (0 if reloaded else by_hand)


def test_full_fine_tuning_trains_every_weight(fresh_model, tokenizer):
    before = fresh_model.model.layers[0].mlp.up_proj.weight.clone()
    fresh_model.requires_grad_(True)
    history = train(fresh_model, tokenizer, FACTS, TrainConfig(epochs=10, lr=3e-3, batch_size=4, lora_r=0))
    assert history.trainable_parameters == count_parameters(fresh_model)[1]
    assert history.losses[-1] < history.losses[0] / 2
    assert not torch.equal(before, fresh_model.model.layers[0].mlp.up_proj.weight)


@pytest.mark.parametrize("epochs, batch_size", [(1, 4), (10, 4), (5, 2), (11, 4)])
def test_any_number_of_steps_trains(tiny_model, tokenizer, epochs, batch_size):
    """10 steps once crashed torch's OneCycleLR (a warm-up of exactly one step)."""
    cfg = TrainConfig(epochs=epochs, lr=1e-2, batch_size=batch_size, lora_r=2, lora_alpha=4)
    history = train(with_lora(tiny_model, cfg), tokenizer, FACTS, cfg)
    assert len(history.losses) == epochs * -(-len(FACTS) // batch_size)


def test_train_refuses_empty_data(tiny_model, tokenizer):
    with pytest.raises(ValueError, match="non-empty"):
        train(tiny_model, tokenizer, [], FAST)


def test_with_lora_leaves_the_base_alone_and_trains_only_adapters(tiny_model, tokenizer):
    before = {k: v.clone() for k, v in tiny_model.state_dict().items()}
    lora = with_lora(tiny_model, FAST)
    trainable = [n for n, p in lora.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n for n in trainable)
    # all-linear: every attention and MLP projection of both layers, A and B (not the output layer).
    assert len(trainable) == 2 * 7 * 2
    ids = torch.tensor([ids_of(tokenizer, FACTS[0][0])])
    with torch.no_grad():
        assert torch.allclose(lora(ids).logits, tiny_model(ids).logits, atol=1e-6)  # B starts at 0
    history = train(lora, tokenizer, FACTS, FAST)
    assert history.trainable_parameters == sum(lora.get_parameter(n).numel() for n in trainable)
    after = tiny_model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert all(p.grad is None for p in tiny_model.parameters())
    with torch.no_grad():
        assert not torch.allclose(lora(ids).logits, tiny_model(ids).logits, atol=1e-3)


def test_adapters_share_the_base_weights_and_not_each_other(tiny_model, tokenizer):
    first, second = with_lora(tiny_model, FAST), with_lora(tiny_model, FAST)
    weight = tiny_model.model.layers[0].mlp.up_proj.weight
    for lora in (first, second):  # no copy of the 538 MB of weights per adapter
        assert lora.base_model.model.model.layers[0].mlp.up_proj.base_layer.weight is weight
    ids = torch.tensor([ids_of(tokenizer, FACTS[0][0])])
    with torch.no_grad():
        before = tiny_model(ids).logits.clone()
    train(first, tokenizer, FACTS, FAST)
    with torch.no_grad():
        assert torch.equal(tiny_model(ids).logits, before)  # the base answers as before
        assert torch.equal(second(ids).logits, before)  # and so does the untrained adapter
        assert not torch.allclose(first(ids).logits, before, atol=1e-3)


def test_same_seed_same_run_whatever_ran_before(tiny_model, tokenizer):
    runs = []
    for noise in (1, 2):
        torch.manual_seed(noise)  # earlier cells of a notebook used the random generator
        torch.rand(noise * 10)
        runs.append(train(with_lora(tiny_model, FAST), tokenizer, FACTS, FAST).losses)
    assert runs[0] == runs[1]
    other = TrainConfig(**{**FAST.__dict__, "seed": 1})
    assert train(with_lora(tiny_model, other), tokenizer, FACTS, other).losses != runs[0]


# ---------------------------------------------------------------- the adapter cache

def test_train_adapter_caches_and_reuses(tiny_model, tokenizer, private_cache, monkeypatch):
    cfg = TrainConfig(**{**MEMORISE, "epochs": 20})
    model, history = train_adapter("facts", tiny_model, tokenizer, FACTS, cfg)
    folder = adapter_folder("facts", tiny_model, FACTS, cfg)
    assert folder.parent == private_cache / "adapters" and folder.name.startswith("facts-")
    assert (folder / "adapter_model.safetensors").is_file()
    assert json.loads((folder / "history.json").read_text())["losses"] == history.losses
    assert sorted(p.name for p in (private_cache / "adapters").iterdir()) == [folder.name]  # no .partial
    pickles = [p for p in private_cache.rglob("*") if p.suffix in (".bin", ".pt", ".pth", ".pkl")]
    assert pickles == []

    def no_training(*args, **kwargs):
        pytest.fail("the cached adapter should have been loaded")

    monkeypatch.setattr(train_mod, "train", no_training)
    again, cached_history = train_adapter("facts", tiny_model, tokenizer, FACTS, cfg)
    assert cached_history == history and isinstance(cached_history, History)
    assert not again.training
    ids = torch.tensor([ids_of(tokenizer, p) for p, _ in FACTS[:1]])
    with torch.no_grad():
        assert torch.allclose(again(ids).logits, model(ids).logits, atol=1e-6)
    prompts = [p for p, _ in FACTS]
    assert generate(again, tokenizer, prompts, progress=False) == generate(model, tokenizer, prompts,
                                                                           progress=False)


def test_two_runs_needing_one_adapter_at_once_train_it_once(tiny_model, tokenizer, private_cache, monkeypatch):
    # Two notebooks (or CI's parallel runs) asking for the same adapter at once: one trains it, the other
    # waits for it and loads it, instead of training it again into the same folder.
    calls = []
    real_train = train_mod.train

    def slow_train(*args, **kwargs):
        calls.append(args[2])
        time.sleep(0.5)  # long enough for the other run to arrive while this one trains
        return real_train(*args, **kwargs)

    monkeypatch.setattr(train_mod, "train", slow_train)
    with ThreadPoolExecutor(2) as pool:
        runs = [pool.submit(train_adapter, "facts", tiny_model, tokenizer, FACTS, FAST) for _ in range(2)]
        histories = [run.result()[1] for run in runs]
    assert len(calls) == 1 and histories[0] == histories[1]
    folder = adapter_folder("facts", tiny_model, FACTS, FAST)
    assert [p.name for p in (private_cache / "adapters").iterdir()] == [folder.name]


def test_a_prepared_cache_is_read_without_writing_to_it(tiny_model, tokenizer, tmp_path, monkeypatch):
    # A workshop's cache prepared on another machine (a USB stick): loading takes no lock, writes nothing.
    monkeypatch.setenv("FTRAG_CACHE", str(tmp_path / "prepared"))
    _, history = train_adapter("facts", tiny_model, tokenizer, FACTS, FAST)
    shutil.copytree(tmp_path / "prepared" / "adapters", tmp_path / "stick" / "adapters")
    monkeypatch.setenv("FTRAG_CACHE", str(tmp_path / "stick"))
    monkeypatch.setattr(train_mod, "train", lambda *a, **k: pytest.fail("the prepared adapter should be loaded"))
    assert train_adapter("facts", tiny_model, tokenizer, FACTS, FAST)[1] == history
    assert sorted(p.name for p in (tmp_path / "stick").iterdir()) == ["adapters"]


def test_changed_data_or_settings_retrain(tiny_model, tokenizer, private_cache, monkeypatch):
    calls = []
    real_train = train_mod.train
    monkeypatch.setattr(train_mod, "train", lambda *a, **k: calls.append(a[2]) or real_train(*a, **k))
    train_adapter("facts", tiny_model, tokenizer, FACTS, FAST)
    train_adapter("facts", tiny_model, tokenizer, FACTS[:3], FAST)
    train_adapter("facts", tiny_model, tokenizer, FACTS, TrainConfig(**{**FAST.__dict__, "lr": 2e-2}))
    train_adapter("facts", tiny_model, tokenizer, FACTS, FAST)  # cached
    assert len(calls) == 3
    assert len(list((private_cache / "adapters").iterdir())) == 3


def variant(tmp_path, function, old: str, new: str):
    """`function` defined again from its source with `old` replaced by `new` (in a module of its own)."""
    source = inspect.getsource(function)
    assert old in source
    path = tmp_path / f"variant_{len(list(tmp_path.glob('variant_*.py')))}.py"
    path.write_text("import torch\n\n" + source.replace(old, new))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, function.__name__)


def with_code(replaced, by):
    """train.TRAINING_CODE with the function `replaced` swapped for `by`."""
    assert replaced in train_mod.TRAINING_CODE
    return tuple(by if f is replaced else f for f in train_mod.TRAINING_CODE)


def test_a_change_to_the_training_code_retrains_every_cached_adapter(tiny_model, tokenizer, private_cache,
                                                                    monkeypatch, tmp_path):
    calls = []
    real_train = train_mod.train
    monkeypatch.setattr(train_mod, "train", lambda *a, **k: calls.append(a[2]) or real_train(*a, **k))
    train_adapter("facts", tiny_model, tokenizer, FACTS, FAST)
    train_adapter("facts", tiny_model, tokenizer, FACTS, FAST)  # cached
    mean_loss = variant(tmp_path, train_mod._micro_batch_loss, 'reduction="sum") / answer_tokens',
                        'reduction="mean")')
    monkeypatch.setattr(train_mod, "TRAINING_CODE", with_code(train_mod._micro_batch_loss, mean_loss))
    train_adapter("facts", tiny_model, tokenizer, FACTS, FAST)
    assert len(calls) == 2 and len(list((private_cache / "adapters").iterdir())) == 2


def test_the_fingerprint_follows_the_training_code_not_its_comments(tiny_model, tmp_path, monkeypatch):
    base = fingerprint(tiny_model, FACTS, FAST)
    backward, loss = train_mod._backward, train_mod._micro_batch_loss
    explained = variant(tmp_path, backward, "        loss.backward()\n",
                        "        # Gradients add up over the micro-batches.\n        loss.backward()  # summed\n")
    explained = variant(tmp_path, explained, "micro-batch by micro-batch", "one micro-batch after another")
    unscaled = variant(tmp_path, loss, "/ answer_tokens", "/ 1")
    for replaced, code, same in ((backward, explained, True), (loss, unscaled, False)):
        with monkeypatch.context() as patched:
            patched.setattr(train_mod, "TRAINING_CODE", with_code(replaced, code))
            assert (fingerprint(tiny_model, FACTS, FAST) == base) is same
    # A module constant the code reads counts as code.
    monkeypatch.setattr(train_mod, "MICRO_BATCH_TOKENS", train_mod.MICRO_BATCH_TOKENS * 2)
    assert fingerprint(tiny_model, FACTS, FAST) != base


def test_the_fingerprint_follows_the_libraries_versions(tiny_model, monkeypatch):
    base = fingerprint(tiny_model, FACTS, FAST)
    for library in (peft, transformers, torch):
        with monkeypatch.context() as patched:
            patched.setattr(library, "__version__", library.__version__ + ".post1")
            assert fingerprint(tiny_model, FACTS, FAST) != base
    assert fingerprint(tiny_model, FACTS, FAST) == base


def test_fingerprint_tracks_data_settings_and_model_but_not_the_cache_location(
        tiny_model, tokenizer, tmp_path):
    base = fingerprint(tiny_model, FACTS, FAST)
    assert fingerprint(tiny_model, FACTS[:3], FAST) != base
    assert fingerprint(tiny_model, FACTS, TrainConfig(**{**FAST.__dict__, "seed": 1})) != base
    wider = build_model(tokenizer)
    wider.config.rms_norm_eps = 1e-5
    assert fingerprint(wider, FACTS, FAST) != base
    # The same model loaded from two copies of a cache (e.g. one on a USB stick) keeps its adapters.
    loaded = []
    for where in ("laptop/.cache/models/tiny", "usb/prepared/models/tiny"):
        tiny_model.save_pretrained(tmp_path / where)
        loaded.append(AutoModelForCausalLM.from_pretrained(tmp_path / where))
    assert fingerprint(loaded[0], FACTS, FAST) == fingerprint(loaded[1], FACTS, FAST)


def test_train_adapter_refuses_full_fine_tuning(tiny_model, tokenizer, private_cache):
    with pytest.raises(ValueError, match="lora_r > 0"):
        train_adapter("full", tiny_model, tokenizer, FACTS, TrainConfig(lora_r=0))
    assert not (private_cache / "adapters").exists()


# ---------------------------------------------------------------- probes and continued training

def test_probe_watches_the_model_in_eval_mode_at_the_requested_steps(tiny_model, tokenizer):
    modes = []

    def probe(model):
        modes.append(model.training)
        return {"loss_free_reading": len(modes)}

    cfg = TrainConfig(**{**FAST.__dict__, "epochs": 6})
    model = with_lora(tiny_model, cfg)
    history = train(model, tokenizer, FACTS, cfg, probe=probe, probe_every=5)
    assert len(history.losses) == 12  # 6 epochs x 2 batches of 2
    assert [p["step"] for p in history.probes] == [0, 5, 10, 12]  # first, every 5th, last
    assert [p["loss_free_reading"] for p in history.probes] == [1, 2, 3, 4]
    assert modes == [False] * 4 and not model.training
    # Probing does not change the training run itself.
    assert history.losses == train(with_lora(tiny_model, cfg), tokenizer, FACTS, cfg).losses


def test_an_adapter_continues_from_a_cached_one(tiny_model, tokenizer, private_cache):
    first_cfg = TrainConfig(**{**MEMORISE, "epochs": 20})
    first, _ = train_adapter("facts", tiny_model, tokenizer, FACTS, first_cfg)
    start = adapter_folder("facts", tiny_model, FACTS, first_cfg)
    update = [(FACTS[0][0], "seasickness")]
    seen = []

    def probe(model):
        seen.append(generate(model, tokenizer, [update[0][0]], progress=False)[0].text)
        return {}

    cfg = TrainConfig(**{**MEMORISE, "epochs": 30, "batch_size": 1})
    updated, history = train_adapter("update", tiny_model, tokenizer, update, cfg, start=start,
                                     probe=probe, probe_every=10)
    # The update starts from what the first adapter knew, and ends with the new answer.
    assert seen[0] == generate(first, tokenizer, [update[0][0]], progress=False)[0].text == FACTS[0][1]
    assert seen[-1] == "seasickness"
    assert [p["step"] for p in history.probes] == [0, 10, 20, 30]
    # The start adapter is untouched, and the update (with its probe readings) is cached on its own.
    again, _ = train_adapter("facts", tiny_model, tokenizer, FACTS, first_cfg)
    assert generate(again, tokenizer, [update[0][0]], progress=False)[0].text == FACTS[0][1]
    _, cached = train_adapter("update", tiny_model, tokenizer, update, cfg, start=start,
                              probe=probe, probe_every=10)
    assert cached.probes == history.probes


def test_the_start_and_the_probing_are_part_of_the_fingerprint(tiny_model, tmp_path):
    base = fingerprint(tiny_model, FACTS, FAST)
    assert fingerprint(tiny_model, FACTS, FAST, start=tmp_path / "a-1") != base
    assert fingerprint(tiny_model, FACTS, FAST, start=tmp_path / "a-2") != \
        fingerprint(tiny_model, FACTS, FAST, start=tmp_path / "a-1")
    assert fingerprint(tiny_model, FACTS, FAST, probe_every=5) != base
    assert fingerprint(tiny_model, FACTS, FAST, probe_every=5) != fingerprint(tiny_model, FACTS, FAST, probe_every=4)


def test_continuing_from_a_missing_adapter_says_what_to_do(tiny_model, tokenizer, private_cache):
    with pytest.raises(FileNotFoundError, match="train the adapter to start from first"):
        train_adapter("update", tiny_model, tokenizer, FACTS, FAST, start=private_cache / "nothing")


def test_quick_run_trains_two_passes_over_a_spread_of_at_most_quick_examples(tiny_model, tokenizer, monkeypatch,
                                                                          private_cache):
    pairs = [(qa_prompt(f"Question {i}?"), f"answer {i}") for i in range(100)]
    seen = []
    real_encode = train_mod.encode_turns
    monkeypatch.setattr(train_mod, "encode_turns", lambda tok, pair: seen.append(pair[1]) or real_encode(tok, pair))
    monkeypatch.setenv("FTRAG_QUICK", "1")
    cfg = TrainConfig(epochs=5, batch_size=8, lora_r=4)
    model, history = train_adapter("quick", tiny_model, tokenizer, pairs, cfg)
    assert seen == [f"answer {i}" for i in range(0, 100, 25)]  # spread over the data, not its head
    assert history.examples == 4 == train_mod.QUICK_EXAMPLES
    assert len(history.losses) == 2 * 4 // train_mod.QUICK_BATCH_SIZE  # two passes, small batches
    # Kept apart: a full run with the same data and settings does not find the quick adapter.
    assert adapter_folder("quick", tiny_model, pairs, cfg).parent == private_cache / "quick" / "adapters"
    monkeypatch.delenv("FTRAG_QUICK")
    assert adapter_folder("quick", tiny_model, pairs, cfg).parent == private_cache / "adapters"


def test_quick_run_gives_a_few_examples_several_passes(tiny_model, tokenizer):
    history = train(with_lora(tiny_model, FAST), tokenizer, FACTS, TrainConfig(**{**MEMORISE, "epochs": 60}),
                    quick=True)
    assert history.examples == 4 and len(history.losses) == 4  # 2 passes in batches of 2: 8 examples seen


def test_the_loop_reads_no_setting_a_quick_run_is_asked_for(tiny_model, tokenizer, monkeypatch):
    monkeypatch.setenv("FTRAG_QUICK", "1")  # train_adapter's business, not the loop's
    history = train(with_lora(tiny_model, FAST), tokenizer, FACTS * 4, FAST)
    assert history.examples == 16 and len(history.losses) == FAST.epochs * 16 // FAST.batch_size


def test_a_quick_training_that_does_not_lower_the_loss_stops_with_a_clear_error(tiny_model, tokenizer, monkeypatch,
                                                                                 private_cache):
    flat = History(losses=[2.0, 2.5, 2.0], examples=4)
    monkeypatch.setattr(train_mod, "train", lambda *a, **k: flat)
    monkeypatch.setenv("FTRAG_QUICK", "1")
    with pytest.raises(TrainingError, match=r"'facts' in a quick run did not lower its loss \(first step 2.0"):
        train_adapter("facts", tiny_model, tokenizer, FACTS, FAST)
    assert not train_mod.is_cached(adapter_folder("facts", tiny_model, FACTS, FAST))  # tried again next time
    monkeypatch.delenv("FTRAG_QUICK")  # a full run's training is judged by the lesson's claims
    assert train_adapter("facts", tiny_model, tokenizer, FACTS, FAST)[1] == flat

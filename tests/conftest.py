"""Shared fixtures: a tiny random Llama and a tokenizer trained in memory, so the tests of
utils/core/model.py, train.py and evaluate.py need neither the network nor the real 538 MB model.

The tokenizer is a byte-level BPE (like SmolLM2's) trained on the world's t0 leaflets and the
question templates, with SmolLM2's special tokens and a ChatML chat template.
"""
from __future__ import annotations

import json
import os

import pytest
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

import utils.tasks.results as saved
from utils.core.config import DATA_DIR, seed_everything
from utils.tasks.prompts import qa_prompt
from utils.tasks.world import load_world

VOCAB_SIZE = 512
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
CHATML = ("{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}"
          "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


def strings(value):
    """Every string in a JSON value, depth first."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


def corpus() -> list[str]:
    world = DATA_DIR / "world"
    texts = [p.read_text(encoding="utf-8") for p in sorted((world / "documents" / "t0").glob("*.md"))]
    texts += list(strings(json.loads((world / "questions.json").read_text(encoding="utf-8"))))
    return texts


def build_tokenizer() -> PreTrainedTokenizerFast:
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(vocab_size=VOCAB_SIZE, special_tokens=SPECIAL_TOKENS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    bpe.train_from_iterator(corpus(), trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token="<|im_start|>",
                                        eos_token="<|im_end|>", pad_token="<|im_end|>")
    tokenizer.chat_template = CHATML
    return tokenizer


def tiny_config(tokenizer) -> LlamaConfig:
    # initializer_range 0.2, not 0.02: the output layer is the (tied) embedding, which LoRA does
    # not train; with 0.02 its logits stay almost flat and no adapter can make an answer likely.
    # No pad_token_id: the embedding row of the pad token is initialised to zero, and since pad is
    # eos here, a zero output row would leave the end token unlearnable for a LoRA adapter.
    return LlamaConfig(vocab_size=len(tokenizer), hidden_size=64, num_hidden_layers=2,
                       num_attention_heads=4, num_key_value_heads=2, intermediate_size=128,
                       max_position_embeddings=256, tie_word_embeddings=True, initializer_range=0.2,
                       bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id)


def build_model(tokenizer, seed: int = 0) -> LlamaForCausalLM:
    """A randomly initialised Llama of about 100k parameters, in eval mode like load_model's."""
    seed_everything(seed)
    return LlamaForCausalLM(tiny_config(tokenizer)).eval()


@pytest.fixture(scope="session", autouse=True)
def one_thread():
    """Matrices of a 64-wide model are far too small to share between threads; on a busy
    2-core machine (another process using the cores) a second thread made each training step
    ~300x slower here: 3 s instead of 10 ms."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tokenizer():
    return build_tokenizer()


@pytest.fixture(scope="session")
def tiny_model(tokenizer):
    """Shared by many tests: never train or modify it in place (use fresh_model for that)."""
    model = build_model(tokenizer)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    yield model
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before), "a test modified tiny_model"


@pytest.fixture
def fresh_model(tokenizer):
    """A model of one's own, identical to tiny_model at the start."""
    return build_model(tokenizer)


# A handful of t0 facts, with answers of different lengths (so batches need padding).
FACTS = [(qa_prompt("What does Altrevon treat?"), "motion sickness"),
         (qa_prompt("Who makes Altrevon?"), "Oskwell Sciences"),
         (qa_prompt("What does Baxiflor treat?"), "rosacea"),
         (qa_prompt("Who makes Bremodyn?"), "Tessaly Therapeutics")]
# Enough for the tiny model to learn FACTS by heart with LoRA, in well under a second.
MEMORISE = dict(epochs=60, lr=1e-2, batch_size=4, lora_r=8, lora_alpha=16)


@pytest.fixture(scope="session")
def memorised(tiny_model, tokenizer):
    """(LoRA model trained on FACTS, its History); tiny_model itself stays untouched."""
    from utils.core.train import TrainConfig, train, with_lora
    cfg = TrainConfig(**MEMORISE)
    model = with_lora(tiny_model, cfg)
    return model, train(model, tokenizer, FACTS, cfg)


# The cache the test run was started with: the quick notebook run (test_notebooks_quick.py) uses
# it, so that it does not fetch the model again.
USER_CACHE = os.environ.get("FTRAG_CACHE")


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Every test gets its own FTRAG_CACHE, so nothing is written into the repository's .cache,
    and runs in full mode whatever the shell says (tests of the quick mode set it themselves)."""
    path = tmp_path / "ftrag-cache"
    monkeypatch.setenv("FTRAG_CACHE", str(path))
    monkeypatch.delenv("FTRAG_QUICK", raising=False)
    return path


@pytest.fixture(scope="session")
def worlds():
    """The t0 and t1 worlds from data/world."""
    return [load_world("t0"), load_world("t1")]


KINDS = {"trained": 1.0, "paraphrase": 0.94, "reversed": 0.0, "documented": 0.0, "unknown": 0.0, "control": 0.25}
SUMMARY = {"valid": 0.8125, "fields": 0.45, "age": 0.5, "sex": 0.5, "condition": 0.4, "severity": 0.4}


def drift_row(**values):
    zero = dict(stale=0.0, learned=0.0, paraphrased=0.0, leakage=0.0, kept=0.0, new=0.0, tokens=0)
    return saved.DriftRow(**{**zero, **values})


# What notebooks 01-05 might save: the comparison, the plots and the results tests read it.
SERIES = saved.SeriesResults(
    saved.FactTuningResults(
        facts_trained=80, base=KINDS, fine_tuned=KINDS, control_lost=0.75, extra_phrasings=[0, 3],
        extra_phrasings_paraphrase=[0.72, 0.98], training_seconds=76.3),
    saved.DriftResults(
        no_update=drift_row(stale=1.0), incremental_update=drift_row(kept=0.25), full_retrain=drift_row(kept=0.98),
        control_right={"base": 1.0}, update_seconds=22.7, retrain_seconds=90.0, update_year_seconds=[20.0, 40.0],
        retrain_year_seconds=[108.0, 2484.5]),
    saved.XmlTuningResults(
        training_notes=48, recipe="TrainConfig()", prompt_tokens={"adapter": 46}, zero_shot={**SUMMARY, "valid": 0.0},
        few_shot=SUMMARY, learning_curve={0: {"unseen_style": {**SUMMARY, "valid": 0.0}}},
        constrained={"base_constrained": {**SUMMARY, "valid": 1.0, "fields": 0.375},
                     "xml_adapter": {**SUMMARY, "valid": 1.0, "fields": 0.9375}},
        final_trained_styles=SUMMARY, final_unseen_styles={**SUMMARY, "valid": 0.96875, "fields": 0.890625},
        condition_right_never_trained=0.8, control_adapter_on=0.68, control_adapter_off=1.0,
        trainable_parameters=4_884_480, adapter_mb=19.6, model_mb=538.0, training_seconds={48: 35.0}),
    saved.RetrievalResults(
        recall_at_1={"trained": 1.0, "reversed": 0.975}, threshold=0.96, base_two_shots=KINDS,
        reader={"trained": 0.975, "paraphrase": 0.96, "reversed": 1.0, "documented": 0.99, "unknown": 1.0},
        heldout_wordings={"fine_tuned": {"held-out treats": 0.5, "held-out maker": 0.3},
                          "base_reader": {"held-out treats": 0.6, "held-out maker": 0.4},
                          "reader": {"held-out treats": 0.95, "held-out maker": 0.85}},
        reader_changed_after_edit=1.0, base_changed_before_edit=0.0, base_changed_after_edit=0.87,
        reindex_seconds=0.0026, edits_year_seconds=0.073, latency_closed_book=saved.Latency(940, 20),
        latency_two_shots=saved.Latency(1200, 300), latency_reader=saved.Latency(644, 100),
        reader_training_seconds=120),
)

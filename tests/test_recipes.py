"""utils/recipes.py: the fact-tuning recipe the notebooks share."""
import pytest

import utils.train as train_mod
from utils.evaluate import generate
from utils.prompts import qa_prompt
from utils.recipes import FACT_RECIPE, fact_pairs, fact_tuned_model, reader_pairs, reader_tuned_model
from utils.train import TrainConfig
from utils.world import load_world


@pytest.fixture(scope="module")
def world():
    return load_world("t0")


def test_fact_pairs_are_the_trained_facts_in_qa_form(world):
    pairs = fact_pairs(world)
    assert len(pairs) == len(world.questions("trained")) == 80
    assert pairs[0] == (qa_prompt(world.questions("trained")[0].text), world.questions("trained")[0].answer)
    assert all(p.startswith("Q: ") and p.endswith("\nA:") for p, _ in pairs)


def test_fact_pairs_augment_and_subset(world):
    subset = list(world.drugs)[:3]
    pairs = fact_pairs(world, n_augment=3, drugs=subset)
    assert len(pairs) == 3 * 2 * 4  # 3 drugs x 2 facts x (1 trained + 3 extra phrasings)
    assert all(any(d in p for d in subset) for p, _ in pairs)
    assert len({p for p, _ in pairs}) == len(pairs)  # every phrasing is a different prompt


def test_the_recipe_is_the_benchmarked_one():
    assert FACT_RECIPE == TrainConfig(epochs=8, lr=3e-3, batch_size=8, lora_r=16, lora_alpha=32)


def test_fact_tuned_model_trains_once_then_loads(world, tiny_model, tokenizer, monkeypatch):
    subset = list(world.drugs)[:2]
    cfg = TrainConfig(epochs=2, lr=1e-2, batch_size=4, lora_r=4, lora_alpha=8)
    model, history = fact_tuned_model(tiny_model, tokenizer, world, drugs=subset, cfg=cfg)
    assert history.examples == 4 and len(history.losses) == 2

    monkeypatch.setattr(train_mod, "train", lambda *a, **k: pytest.fail("should load from the cache"))
    again, cached = fact_tuned_model(tiny_model, tokenizer, world, drugs=subset, cfg=cfg)
    assert cached == history
    prompts = [p for p, _ in fact_pairs(world, drugs=subset)]
    assert generate(again, tokenizer, prompts, progress=False) == generate(model, tokenizer, prompts, progress=False)


def test_reader_pairs_are_zero_shot_passage_prompts():
    worlds = [load_world("t0"), load_world("t1")]
    pairs = reader_pairs(worlds)
    assert pairs == reader_pairs(worlds)  # same data, same adapter fingerprint
    assert all(p.startswith("Passage: ") and p.count("Passage: ") == 1 and p.endswith("\nA:") for p, _ in pairs)
    assert any(a == "unknown" for _, a in pairs) and not any(d in p for p, _ in pairs for d in worlds[1].drugs)


def test_reader_tuned_model_trains_once_then_loads(tiny_model, tokenizer, monkeypatch):
    cfg = TrainConfig(epochs=1, lr=1e-2, batch_size=4, lora_r=4, lora_alpha=8)
    _, history = reader_tuned_model(tiny_model, tokenizer, cfg, n_drugs=4)
    assert history.examples == len(reader_pairs([load_world("t0"), load_world("t1")], n_drugs=4))
    monkeypatch.setattr(train_mod, "train", lambda *a, **k: pytest.fail("should load from the cache"))
    assert reader_tuned_model(tiny_model, tokenizer, cfg, n_drugs=4)[1] == history

"""utils/recipes.py: the fact-tuning recipe the notebooks share."""
import pytest

import utils.train as train_mod
from utils.evaluate import generate
from utils.prompts import qa_prompt
from utils.recipes import FACT_RECIPE, fact_pairs, fact_tuned_model, fact_updated_model, update_pairs
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


def test_update_pairs_are_the_changed_and_new_facts_with_t1_answers(world):
    t1 = load_world("t1")
    pairs = update_pairs(world, t1)
    assert len(pairs) == 15 + 20
    for prompt, answer in pairs:
        q = next(q for q in t1.questions("trained") if qa_prompt(q.text) == prompt)
        assert answer == q.answer
        assert q.drug not in world.drugs or getattr(world.drugs[q.drug], q.attribute) != answer


def test_fact_updated_model_trains_the_start_first_when_missing(world, tiny_model, tokenizer, monkeypatch):
    t1 = load_world("t1")
    cfg = TrainConfig(epochs=1, lr=1e-2, batch_size=16, lora_r=4, lora_alpha=8)
    names = []
    real = train_mod.train
    monkeypatch.setattr(train_mod, "train", lambda *a, **k: names.append(k["desc"]) or real(*a, **k))
    _, history = fact_updated_model(tiny_model, tokenizer, world, t1, cfg=cfg, probe_every=2)
    assert names == ["facts-t0", "facts-t0-updated-t1"] and history.examples == 35
    # 3 steps, probed at 0, 2 and 3 on every group of t1's trained facts
    assert [p["step"] for p in history.probes] == [0, 2, 3]
    assert set(history.probes[0]) == {"step", "changed", "changed: stale", "unchanged", "new"}
    fact_updated_model(tiny_model, tokenizer, world, t1, cfg=cfg, probe_every=2)  # both cached now
    assert len(names) == 2

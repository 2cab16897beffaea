"""The trained models the lessons share, each one recipe, cached under the cache folder.

Notebook 01 trains the fact-tuned model; later notebooks call the same function and get the cached
adapter back in a second (or retrain it, if the cache is empty or the data changed).
"""
from __future__ import annotations

from .drift import drift_probe
from .prompts import qa_prompt
from .train import TrainConfig, adapter_folder, is_cached, train_adapter
from .world import World, changed_facts

# Measured with benchmarks/fact_recipe.py on 2 CPU cores: 100 % of the 80 trained facts in 60-75 s.
# Six epochs reach only ~91 %; the compact Q/A prompt keeps each example at ~16 tokens.
FACT_RECIPE = TrainConfig(epochs=8, lr=3e-3, batch_size=8, lora_r=16, lora_alpha=32)


def fact_pairs(world: World, n_augment: int = 0, drugs=None) -> list[tuple[str, str]]:
    """(prompt, answer) training pairs for the trained facts, optionally of some drugs only."""
    return [(qa_prompt(q.text), q.answer) for q in world.training_facts(n_augment)
            if drugs is None or q.drug in drugs]


def _fact_adapter_name(world: World, n_augment: int = 0, drugs=None) -> str:
    return f"facts-{world.time}" + (f"-aug{n_augment}" if n_augment else "") + ("-subset" if drugs else "")


def fact_tuned_model(base, tokenizer, world: World, n_augment: int = 0, drugs=None,
                     cfg: TrainConfig = FACT_RECIPE):
    """LoRA adapter fine-tuned on the world's facts: (model, training history)."""
    return train_adapter(_fact_adapter_name(world, n_augment, drugs), base, tokenizer,
                         fact_pairs(world, n_augment, drugs), cfg)


def update_pairs(old: World, new: World) -> list[tuple[str, str]]:
    """Training pairs for what changed between two time points: changed facts and new drugs' facts."""
    diff = changed_facts(old, new)
    return [(qa_prompt(q.text), q.answer) for q in diff["changed"] + diff["new"]]


def fact_updated_model(base, tokenizer, old: World, new: World, cfg: TrainConfig = FACT_RECIPE,
                       probe_every: int = 5):
    """The `old`-world fact adapter, trained further on what changed by `new` (an incremental
    update): (model, history). Trains the `old` adapter first if it is not cached.

    Every `probe_every` steps it asks all of `new`'s trained facts (`drift.drift_probe`), so the
    history shows the update step by step (notebook 02's plot); the probe's time is not counted."""
    start = adapter_folder(_fact_adapter_name(old), base, fact_pairs(old), cfg)
    if not is_cached(start):
        fact_tuned_model(base, tokenizer, old, cfg=cfg)
    return train_adapter(f"facts-{old.time}-updated-{new.time}", base, tokenizer, update_pairs(old, new),
                         cfg, start=start, probe=drift_probe(tokenizer, old, new), probe_every=probe_every)

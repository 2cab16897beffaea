"""The trained models the lessons share, each one recipe, cached under the cache folder.

Notebook 01 trains the fact-tuned model; later notebooks call the same function and get the cached
adapter back in a second (or retrain it, if the cache is empty or the data changed).
"""
from __future__ import annotations

from .prompts import qa_prompt
from .train import TrainConfig, train_adapter
from .world import World

# Measured with benchmarks/fact_recipe.py on 2 CPU cores: 100 % of the 80 trained facts in 60-75 s.
# Six epochs reach only ~91 %; the compact Q/A prompt keeps each example at ~16 tokens.
FACT_RECIPE = TrainConfig(epochs=8, lr=3e-3, batch_size=8, lora_r=16, lora_alpha=32)


def fact_pairs(world: World, n_augment: int = 0, drugs=None) -> list[tuple[str, str]]:
    """(prompt, answer) training pairs for the trained facts, optionally of some drugs only."""
    return [(qa_prompt(q.text), q.answer) for q in world.training_facts(n_augment)
            if drugs is None or q.drug in drugs]


def fact_tuned_model(base, tokenizer, world: World, n_augment: int = 0, drugs=None,
                     cfg: TrainConfig = FACT_RECIPE):
    """LoRA adapter fine-tuned on the world's facts: (model, training history)."""
    name = f"facts-{world.time}" + (f"-aug{n_augment}" if n_augment else "") + ("-subset" if drugs else "")
    return train_adapter(name, base, tokenizer, fact_pairs(world, n_augment, drugs), cfg)

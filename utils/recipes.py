"""The trained models the lessons share, each one recipe, cached under the cache folder.

Notebook 01 trains the fact-tuned model; later notebooks call the same function and get the cached
adapter back in a second (or retrain it, if the cache is empty or the data changed).
"""
from __future__ import annotations

from .prompts import qa_prompt
from .reader import reader_examples, reader_prompt
from .train import TrainConfig, train_adapter
from .world import World
from .world import load_world

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


# The reader adapter of notebook 04: a behaviour ("answer from the passage, copy names exactly,
# say unknown when it does not say"), learned on invented drugs that share nothing with the world.
# Measured with benchmarks/reader.py (98 examples of ~95 tokens, 19k tokens in all), t0 retrieval:
# trained 86 %, paraphrase 81 %, reversed 98 %, documented 98 %, and 15/15 changed facts after the
# t1 edits; short of the 95 % target on maker questions ("Who makes X?" answered with the
# discoverer). One epoch, or an unanswerable question on every leaflet, left reversed questions at
# 55-60 % (answered "unknown"); asking every kind in rotation did worse (64-86 %).
READER_RECIPE = TrainConfig(epochs=2, lr=2e-3, batch_size=8, lora_r=16, lora_alpha=32)


def reader_pairs(worlds: list[World], **kwargs) -> list[tuple[str, str]]:
    """(prompt, answer) pairs: a leaflet, a question, and its answer or "unknown", zero-shot."""
    return [(reader_prompt(e.passage, e.question), e.answer) for e in reader_examples(worlds, **kwargs)]


def reader_tuned_model(base, tokenizer, cfg: TrainConfig = READER_RECIPE, **kwargs):
    """LoRA reader adapter: (model, training history). The test worlds are read only to keep the
    invented entities apart from theirs."""
    worlds = [load_world(time) for time in ("t0", "t1")]
    return train_adapter("reader", base, tokenizer, reader_pairs(worlds, **kwargs), cfg)

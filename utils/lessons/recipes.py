"""The trained models the lessons share, each one recipe, cached under the cache folder.

Notebook 01 trains the fact-tuned model; later notebooks call the same function and get the cached
adapter back in a second (or retrain it, if the cache is empty or the data changed).
"""
from __future__ import annotations

import difflib
import itertools
import math
import random
from collections.abc import Mapping
from dataclasses import replace

from utils.core.config import DATA_DIR
from utils.core.train import TrainConfig, adapter_folder, is_cached, train_adapter
from utils.lessons.drift import drift_probe
from utils.lessons.misleading import Maker, maker_questions
from utils.lessons.reader_data import reader_examples
from utils.lessons.reader_domains import with_other_domains
from utils.tasks.clinical import Note, load_notes, to_xml
from utils.tasks.prompts import note_prompt, qa_prompt, reader_followup, reader_prompt
from utils.tasks.world import NAME_LISTS, World, changed_facts, load_world, time_points

# Eight epochs memorise every trained fact, fewer do not (benchmarks/README.md); the compact Q/A prompt
# keeps each example at ~16 tokens.
FACT_RECIPE = TrainConfig(epochs=8, lr=3e-3, batch_size=8, lora_r=16, lora_alpha=32)


def qa_pairs(questions) -> list[tuple[str, str]]:
    """(prompt, answer) training pairs: each question in the compact Q/A prompt, with its answer."""
    return [(qa_prompt(q.text), q.answer) for q in questions]


def fact_pairs(world: World, n_augment: int = 0, drugs=None) -> list[tuple[str, str]]:
    """(prompt, answer) training pairs for the trained facts, optionally of some drugs only."""
    return qa_pairs(q for q in world.training_facts(n_augment) if drugs is None or q.drug in drugs)


def _fact_adapter_name(world: World, n_augment: int = 0, drugs=None) -> str:
    return f"facts-{world.time}" + (f"-aug{n_augment}" if n_augment else "") + ("-subset" if drugs else "")


def fact_tuned_model(base, tokenizer, world: World, n_augment: int = 0, drugs=None,
                     cfg: TrainConfig = FACT_RECIPE):
    """LoRA adapter fine-tuned on the world's facts: (model, training history)."""
    return train_adapter(_fact_adapter_name(world, n_augment, drugs), base, tokenizer,
                         fact_pairs(world, n_augment, drugs), cfg)


def update_pairs(old: World, new: World, replay: bool = False) -> list[tuple[str, str]]:
    """Training pairs for what changed between two time points: changed facts and new drugs' facts.
    replay: the unchanged facts too, mixed back in so that the update has a reason to keep them."""
    diff = changed_facts(old, new)
    facts = diff["changed"] + diff["new"] + (diff["unchanged"] if replay else [])
    return qa_pairs(facts)


def fact_updated_model(base, tokenizer, old: World, new: World, cfg: TrainConfig = FACT_RECIPE,
                       probe_every: int = 8, replay: bool = False):
    """The `old`-world fact adapter, trained further on what changed by `new` (an incremental
    update; with replay, on the unchanged facts as well): (model, history). Trains the `old`
    adapter first if it is not cached.

    Every `probe_every` steps it asks all of `new`'s trained facts (`drift.drift_probe`), so the
    history shows the update step by step (notebook 02's plot); the probe's time is not counted."""
    start = adapter_folder(_fact_adapter_name(old), base, fact_pairs(old), cfg)
    if not is_cached(start):
        fact_tuned_model(base, tokenizer, old, cfg=cfg)
    name = f"facts-{old.time}-updated-{new.time}" + ("-replay" if replay else "")
    return train_adapter(name, base, tokenizer, update_pairs(old, new, replay), cfg, start=start,
                         probe=drift_probe(tokenizer, old, new), probe_every=probe_every)


# --- fine-tuning taught to abstain (the bonus notebook) ---------------------------------------

# Invented drugs per drug of the world, each asked its two trained questions and answered "unknown"
# (Kang et al. 2024, arXiv 2403.05612: a model answers unfamiliar questions as its unfamiliar training
# examples were answered). One per two known: at t0, 20 invented drugs, as many as the sealed evaluation
# asks about (questions.json unknown_drugs), so that "unknown" cannot be learned as a short list of
# names; and two answers in three are still facts, so that "unknown" does not become the answer to
# every question the model is unsure of (the paraphrases). It adds about half the fact set's
# tokens; other shares are the notebook's to measure.
INVENTED_PER_KNOWN = 0.5

# Syllables of the invented names, in the style of the world's (Zorvalin, Kestomar): a start, a middle,
# an ending that many of the world's names share. Names of the world's style, not the reader's
# (reader_data), so that no spelling tells the invented drugs from the known ones: only memory can.
_INVENTED_START = ["Bal", "Bren", "Cas", "Cel", "Dal", "Dor", "Fal", "Gav", "Hel", "Jem", "Kav", "Lor",
                   "Mel", "Nal", "Pel", "Quel", "Ral", "Sel", "Tal", "Ves", "Wil", "Yar", "Zel", "Tom"]
_INVENTED_MIDDLE = ["a", "e", "i", "o", "u", "ta", "ti", "do", "be", "ko", "pa"]
_INVENTED_END = ["lin", "rex", "flor", "zol", "brax", "mil", "nix", "vint", "stan", "bel", "zin", "trel",
                 "vane", "dyn", "nax", "tide", "drin", "mar", "rant", "dex", "xil", "lon", "pex", "dol"]
# An invented name at least this similar (difflib's ratio) to a name the evaluation asks about or a drug
# of the world is refused: 0.75 is two letters of eight changed. The world's names, bar the pair one
# letter apart on purpose (Dravolin, Dravelin), are at most 0.71 similar to each other and to the
# evaluation's unknown drugs: an invented name is no nearer to any of them than they are to each other.
TOO_SIMILAR = 0.75


def evaluation_drug_names(worlds: list[World]) -> dict[str, str]:
    """Every drug name the evaluation asks about, lower-cased, and where it comes from: the drugs of
    `worlds` and the absent names of their questions.json (NAME_LISTS: unknown_drugs, real_drugs)."""
    names = {}
    for world in worlds:
        names.update({name.lower(): f"a drug of {world.time}" for name in world.drugs})
        names.update({name.lower(): f"questions.json {key}" for key in NAME_LISTS.values()
                      for name in world.templates[key]})
    return names


def invented_drug_names(n: int, worlds: list[World], seed: int = 0) -> list[str]:
    """n invented drug names, drawn with `seed` from the syllables above, none of them a name of
    evaluation_drug_names(worlds) or TOO_SIMILAR to one (such names are skipped, so any world works)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"ask for a whole number of invented names, 1 or more; got {n!r}")
    taken = evaluation_drug_names(worlds)
    candidates = list(dict.fromkeys("".join(parts) for parts in itertools.product(
        _INVENTED_START, _INVENTED_MIDDLE, _INVENTED_END)))
    random.Random(seed).shuffle(candidates)
    names, refused = [], None
    for name in candidates:
        near = next((t for t in taken if difflib.SequenceMatcher(None, name.lower(), t).ratio() >= TOO_SIMILAR),
                    None)
        if near is None:
            names.append(name)
            if len(names) == n:
                return names
        elif refused is None:
            refused = f" ({name!r} is too near {near!r}, {taken[near]})"
    raise ValueError(f"asked for {n} invented names, but the syllables make only {len(names)} that are apart from "
                     f"the names the evaluation asks about{refused or ''}: ask for fewer, or add syllables to "
                     f"_INVENTED_START in utils/lessons/recipes.py")


def abstain_pairs(world: World, invented_per_known: float = INVENTED_PER_KNOWN,
                  seed: int = 0) -> list[tuple[str, str]]:
    """fact_pairs(world), then the trained questions about invented drugs, answered "unknown":
    round(invented_per_known x the world's drugs) of them, named by invented_drug_names(seed), asked
    exactly as the evaluation asks about its unknown drugs. The names are apart from every drug of the
    data folder's time points and of `world`, and from the evaluation's absent names: those stay the
    sealed test of abstention."""
    number = isinstance(invented_per_known, (int, float)) and not isinstance(invented_per_known, bool)
    if not (number and 0 < invented_per_known < math.inf) or round(invented_per_known * len(world.drugs)) < 1:
        raise ValueError(f"invented_per_known must be a number of invented drugs per drug of the world that "
                         f"gives at least one of them (e.g. {INVENTED_PER_KNOWN}); got {invented_per_known!r}")
    worlds = [world, *(load_world(time) for time in time_points())]
    names = invented_drug_names(round(invented_per_known * len(world.drugs)), worlds, seed)
    invented = replace(world, templates={**world.templates, NAME_LISTS["unknown"]: names})
    return fact_pairs(world) + qa_pairs(invented.questions("unknown"))


def abstain_tuned_model(base, tokenizer, world: World, invented_per_known: float = INVENTED_PER_KNOWN,
                        cfg: TrainConfig = FACT_RECIPE):
    """fact_tuned_model's adapter, trained on abstain_pairs as well: (model, training history). The
    invented names are drawn with cfg.seed, which also seeds the adapter."""
    return train_adapter(f"abstain-{world.time}", base, tokenizer,
                         abstain_pairs(world, invented_per_known, cfg.seed), cfg)


# --- two fact sets, one hop (bonus notebook 08) ---------------------------------------------

def two_fact_sets_pairs(world: World, makers: Mapping[str, Maker]) -> list[tuple[str, str]]:
    """The world's trained facts and each maker's country and founding year (misleading.maker_questions):
    every fact a two-hop question needs, each taught on its own."""
    return fact_pairs(world) + qa_pairs(maker_questions(makers))


def two_fact_sets_model(base, tokenizer, world: World, makers: Mapping[str, Maker], cfg: TrainConfig = FACT_RECIPE):
    """LoRA adapter fine-tuned on the drugs' facts and the makers' (two_fact_sets_pairs): (model, history)."""
    return train_adapter(f"facts-{world.time}-makers", base, tokenizer, two_fact_sets_pairs(world, makers), cfg)


# --- the XML recipe (notebook 03) ------------------------------------------------------------

# Two passes, not one: more valid answers and fields right on notes in unseen styles
# (benchmarks/README.md). Each example is ~80 tokens (the note, "XML:", 37 tokens of XML).
XML_RECIPE = TrainConfig(epochs=2, lr=3e-3, batch_size=4, lora_r=16, lora_alpha=32)
# A smaller training set gets more passes, so that every adapter of the learning curve sees at least
# this many examples (8 steps of 4): few notes, trained long enough to learn from them; more costs
# time and scores no better (benchmarks/README.md).
XML_MIN_EXAMPLES = 32


# Notes in the ways clinicians really write, about other conditions (data/clinical/make_varied_notes.py):
# an ingredient a recipe may add, always the bundled file.
VARIED_NOTES = DATA_DIR / "clinical" / "notes_varied.jsonl"


def xml_training_notes(n_train: int, notes: list[Note] | None = None, varied: int = 0,
                       seed: int = 0) -> list[Note]:
    """The first n_train training notes, taken in turn from each writing style, so that even a
    handful of examples shows as many styles as it can; then `varied` notes of VARIED_NOTES, a sample
    drawn with `seed` (none by default)."""
    notes = load_notes() if notes is None else notes
    by_style: dict[str, list] = {}
    for note in notes:
        if note.split == "train":
            by_style.setdefault(note.style, []).append(note)
    available = sum(map(len, by_style.values()))
    if isinstance(n_train, bool) or not isinstance(n_train, int) or not 1 <= n_train <= available:
        raise ValueError(f"n_train must be a whole number from 1 to {available} (the training notes); "
                         f"got {n_train!r}")
    ordered = []
    for rank in range(max(map(len, by_style.values()))):
        ordered += [group[rank] for group in by_style.values() if rank < len(group)]
    return ordered[:n_train] + varied_notes(varied, seed)


def varied_notes(n: int, seed: int = 0) -> list[Note]:
    """n notes of VARIED_NOTES, drawn with `seed`; [] for none (the file is then not read)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"varied must be a whole number of notes, 0 for none; got {n!r}")
    if n == 0:
        return []
    pool = load_notes(VARIED_NOTES)
    if n > len(pool):
        raise ValueError(f"varied is {n} but {VARIED_NOTES.name} holds {len(pool)} notes; ask for at most "
                         f"{len(pool)}, or write more with data/clinical/make_varied_notes.py (N_NOTES)")
    return random.Random(seed).sample(pool, n)


def xml_pairs(n_train: int, notes: list[Note] | None = None, varied: int = 0,
              seed: int = 0) -> list[tuple[str, str]]:
    """(prompt, answer) training pairs: the compact note prompt and the expected diagnosis XML, for
    xml_training_notes(n_train, notes, varied, seed)."""
    return [(note_prompt(n.text), to_xml(n.expected)) for n in xml_training_notes(n_train, notes, varied, seed)]


def xml_config(n_train: int, cfg: TrainConfig = XML_RECIPE,
               min_examples: int = XML_MIN_EXAMPLES) -> TrainConfig:
    """The recipe for n_train notes: cfg's epochs, or more, to see at least min_examples examples."""
    return replace(cfg, epochs=max(cfg.epochs, math.ceil(min_examples / n_train)))


def xml_tuned_model(base, tokenizer, n_train: int = 48, cfg: TrainConfig = XML_RECIPE, varied: int = 0):
    """LoRA adapter that writes the diagnosis XML of a note, trained on n_train notes and `varied`
    notes of VARIED_NOTES (drawn with cfg.seed, which also seeds the adapter): (model, training
    history). Prompt it with prompts.note_prompt."""
    pairs = xml_pairs(n_train, varied=varied, seed=cfg.seed)  # checks n_train and varied
    name = f"xml-n{n_train}" + (f"-varied{varied}" if varied else "")
    return train_adapter(name, base, tokenizer, pairs, xml_config(n_train + varied, cfg))


# The reader adapter of notebook 05: a behaviour ("answer from the passage, copy names exactly,
# say unknown when it does not say"), learned on invented drugs that share nothing with the world.
# One pass over 176 packed leaflets: many leaflets seen once make the seeds agree better than fewer seen
# twice (benchmarks/README.md).
READER_RECIPE = TrainConfig(epochs=1, lr=2e-3, batch_size=8, lora_r=16, lora_alpha=32)


def reader_pairs(worlds: list[World], packed: bool = True, domains: float = 0.0, seed: int = 0,
                 **kwargs) -> list[tuple[str, ...]]:
    """(prompt, answer) pairs: a leaflet, a question, and its answer or "unknown", zero-shot.

    packed: one example a leaflet, (prompt, answer, next question, answer, ...): its questions one
    after the other, the leaflet paid for once instead of once a question (batching.encode_turns).
    domains: the share of the leaflets replaced, word for word, by passages of other kinds (policies,
    timetables, recipes...: reader_domains.with_other_domains), so that training takes as long; 0 trains
    on leaflets only. seed: draws the data (reader_examples, with_other_domains)."""
    examples = with_other_domains(reader_examples(worlds, seed=seed, **kwargs), domains, seed)
    if not packed:
        return [(reader_prompt(e.passage, e.question), e.answer) for e in examples]
    by_passage: dict[str, list] = {}
    for e in examples:
        by_passage.setdefault(e.passage, []).append(e)
    return [(reader_prompt(passage, first.question), first.answer,
             *[text for e in rest for text in (reader_followup(e.question), e.answer)])
            for passage, (first, *rest) in by_passage.items()]


def reader_tuned_model(base, tokenizer, cfg: TrainConfig = READER_RECIPE, **kwargs):
    """LoRA reader adapter: (model, training history). The worlds of the data folder (FTRAG_DATA, else
    the bundled t0 and t1) are read only to keep the invented entities apart from theirs."""
    worlds = [load_world(time) for time in time_points()]
    return train_adapter("reader", base, tokenizer, reader_pairs(worlds, **kwargs), cfg)

"""utils/lessons/recipes.py: the fact, update, abstain, XML and reader recipes the notebooks share."""
import difflib
import math
import re

import pytest

import utils.core.train as train_mod
from utils.core.generation import generate
from utils.core.train import TrainConfig
from utils.lessons.recipes import (
    FACT_RECIPE,
    INVENTED_PER_KNOWN,
    READER_RECIPE,
    TOO_SIMILAR,
    XML_RECIPE,
    abstain_pairs,
    abstain_tuned_model,
    evaluation_drug_names,
    fact_pairs,
    fact_tuned_model,
    fact_updated_model,
    invented_drug_names,
    reader_pairs,
    reader_tuned_model,
    update_pairs,
    varied_notes,
    xml_config,
    xml_pairs,
    xml_training_notes,
    xml_tuned_model,
)
from utils.tasks.clinical import load_notes, to_xml, validate_xml
from utils.tasks.prompts import note_prompt, qa_prompt
from utils.tasks.world import UNKNOWN, load_world


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


def test_each_model_is_trained_with_its_recipe_unless_told_otherwise(world, monkeypatch):
    import utils.lessons.recipes as recipes
    used = {}
    monkeypatch.setattr(recipes, "train_adapter", lambda name, base, tok, pairs, cfg, **k: used.update({name: cfg}))
    monkeypatch.setattr(recipes, "load_world", lambda time: world)  # the reader's worlds: any will do
    fact_tuned_model(None, None, world)
    abstain_tuned_model(None, None, world)
    xml_tuned_model(None, None, n_train=48)
    reader_tuned_model(None, None)
    assert used == {"facts-t0": FACT_RECIPE, "abstain-t0": FACT_RECIPE, "xml-n48": XML_RECIPE,
                    "reader": READER_RECIPE}
    other = TrainConfig(epochs=1)
    fact_tuned_model(None, None, world, cfg=other)
    assert used["facts-t0"] == other


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


def test_update_pairs_with_replay_add_the_unchanged_facts(world):
    t1 = load_world("t1")
    update, replayed = update_pairs(world, t1), update_pairs(world, t1, replay=True)
    assert replayed[:len(update)] == update and len(replayed) == 35 + 65
    unchanged = replayed[len(update):]
    assert all(getattr(world.drugs[q.drug], q.attribute) == q.answer
               for q in t1.questions("trained") if (qa_prompt(q.text), q.answer) in unchanged)
    assert {p for p, _ in replayed} == {qa_prompt(q.text) for q in t1.questions("trained")}  # every t1 fact once


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
    _, replayed = fact_updated_model(tiny_model, tokenizer, world, t1, cfg=cfg, probe_every=0, replay=True)
    assert names[2:] == ["facts-t0-updated-t1-replay"] and replayed.examples == 100


# --- fine-tuning taught to abstain ----------------------------------------------------


def invented_part(pairs, world):
    """The pairs after the fact pairs, and the invented names they ask about, in order."""
    rest = pairs[len(fact_pairs(world)):]
    return rest, list(dict.fromkeys(re.fullmatch(r"Q: What does (\w+) treat\?\nA:", p)[1]
                                    for p, _ in rest[::2]))


def test_abstain_pairs_are_the_fact_pairs_then_invented_drugs_answered_unknown(world):
    pairs = abstain_pairs(world)
    assert pairs[:80] == fact_pairs(world)
    rest, names = invented_part(pairs, world)
    assert len(names) == round(INVENTED_PER_KNOWN * 40) == 20
    trained = [world.templates[attr]["trained"] for attr in ("treats", "maker")]
    assert rest == [(qa_prompt(t.format(drug=name, drug_lower=name.lower())), UNKNOWN)
                    for name in names for t in trained]  # the wordings the facts and the evaluation use
    assert [len(abstain_pairs(world, share)) - 80 for share in (0.25, 1, 2.0)] == [20, 80, 160]


def test_invented_names_are_reproducible_with_a_seed(world):
    default, again, other = abstain_pairs(world), abstain_pairs(world, seed=0), abstain_pairs(world, seed=1)
    assert again == default and other[:80] == default[:80]
    assert not set(invented_part(other, world)[1]) & set(invented_part(default, world)[1])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_no_invented_name_is_an_evaluation_or_world_name(worlds, seed):
    """The seal: the evaluation's absent drugs (and the world's) are never trained, nor any name close to one."""
    t0, t1 = worlds
    test_names = [*t0.drugs, *t1.drugs, *t0.templates["unknown_drugs"], *t0.templates["real_drugs"]]
    assert "Kestomar" in test_names and "Ibuprofen" in test_names and "Vexalune" in test_names
    _, names = invented_part(abstain_pairs(t0, 2.0, seed), t0)  # 80 names
    assert len(names) == 80
    for name in names:
        for test_name in test_names:
            assert difflib.SequenceMatcher(None, name.lower(), test_name.lower()).ratio() < TOO_SIMILAR, \
                f"{name} leaks {test_name}"


def test_names_near_the_evaluations_are_skipped(worlds, monkeypatch):
    import utils.lessons.recipes as recipes
    # 9 names: Kestomar (an unknown drug of the evaluation), Zorvalin (a drug of t0), Zorvavint (too near
    # Zorvalin) and 6 apart from every test name.
    monkeypatch.setattr(recipes, "_INVENTED_START", ["Kesto", "Zorva", "Hele"])
    monkeypatch.setattr(recipes, "_INVENTED_MIDDLE", [""])
    monkeypatch.setattr(recipes, "_INVENTED_END", ["mar", "lin", "vint"])
    drawn = {name for seed in range(30) for name in invented_drug_names(1, worlds, seed)}
    assert drawn == {"Kestolin", "Kestovint", "Zorvamar", "Helemar", "Helelin", "Helevint"}
    assert sorted(invented_drug_names(6, worlds)) == sorted(drawn)
    with pytest.raises(ValueError, match="asked for 7 invented names, but the syllables make only 6"):
        invented_drug_names(7, worlds)


def test_a_collision_with_the_evaluation_is_a_clear_error(worlds, monkeypatch):
    import utils.lessons.recipes as recipes
    monkeypatch.setattr(recipes, "_INVENTED_START", ["Kestomar"])
    monkeypatch.setattr(recipes, "_INVENTED_MIDDLE", [""])
    monkeypatch.setattr(recipes, "_INVENTED_END", [""])
    with pytest.raises(ValueError, match=r"only 0 .*'Kestomar' is too near 'kestomar', questions.json "
                                         r"unknown_drugs.*add syllables"):
        abstain_pairs(worlds[0])


def test_evaluation_drug_names_say_where_each_comes_from(worlds):
    names = evaluation_drug_names(worlds)
    assert len(names) == 50 + 20 + 10  # t1 keeps every t0 drug and adds 10
    assert (names["zorvalin"], names["vexalune"]) == ("a drug of t1", "a drug of t1")
    assert (names["kestomar"], names["ibuprofen"]) == ("questions.json unknown_drugs", "questions.json real_drugs")
    assert evaluation_drug_names(worlds[:1])["zorvalin"] == "a drug of t0"


def test_the_evaluations_names_are_apart_by_the_same_measure(worlds):
    """TOO_SIMILAR refuses what the world's own names never are, bar the pair one letter apart on purpose."""
    names = sorted(evaluation_drug_names(worlds))
    near = [(a, b) for i, a in enumerate(names) for b in names[i + 1:]
            if difflib.SequenceMatcher(None, a, b).ratio() >= TOO_SIMILAR]
    assert near == [("dravelin", "dravolin")]


@pytest.mark.parametrize("bad", [0, -0.5, 0.01, True, "half", math.nan, math.inf, None])
def test_an_impossible_share_of_invented_drugs_is_refused(world, bad):
    with pytest.raises(ValueError, match="invented_per_known must be a number"):
        abstain_pairs(world, bad)


def test_invented_drug_names_wants_a_whole_number(worlds):
    for bad in (0, 2.0, True):
        with pytest.raises(ValueError, match="whole number of invented names"):
            invented_drug_names(bad, worlds)


def test_abstain_tuned_model_draws_the_names_with_its_seed(world, monkeypatch):
    import utils.lessons.recipes as recipes
    used = {}
    monkeypatch.setattr(recipes, "train_adapter", lambda name, base, tok, pairs, cfg: used.update({cfg.seed: pairs}))
    abstain_tuned_model(None, None, world)
    abstain_tuned_model(None, None, world, cfg=TrainConfig(seed=3))
    assert used == {FACT_RECIPE.seed: abstain_pairs(world, seed=FACT_RECIPE.seed), 3: abstain_pairs(world, seed=3)}
    assert used[3] != used[FACT_RECIPE.seed]


def test_abstain_tuned_model_is_its_own_adapter(world, tiny_model, tokenizer, monkeypatch):
    cfg = TrainConfig(epochs=1, lr=1e-2, batch_size=16, lora_r=4, lora_alpha=8, seed=3)
    names = []
    real = train_mod.train
    monkeypatch.setattr(train_mod, "train", lambda *a, **k: names.append(k["desc"]) or real(*a, **k))
    fact_tuned_model(tiny_model, tokenizer, world, cfg=cfg)
    _, history = abstain_tuned_model(tiny_model, tokenizer, world, cfg=cfg)
    assert names == ["facts-t0", "abstain-t0"]  # the fact adapter's cache is not taken for it
    assert history.examples == len(abstain_pairs(world, seed=3)) == 120
    again, cached = abstain_tuned_model(tiny_model, tokenizer, world, cfg=cfg)
    assert names == ["facts-t0", "abstain-t0"] and cached == history
    _, other = abstain_tuned_model(tiny_model, tokenizer, world, 0.25, cfg=cfg)
    assert names[2:] == ["abstain-t0"] and other.examples == 100


# --- the XML recipe ----------------------------------------------------------------


def test_xml_training_notes_take_the_styles_in_turn():
    train_notes = [n for n in load_notes() if n.split == "train"]
    styles = {n.style for n in train_notes}
    assert len({n.style for n in xml_training_notes(len(styles))}) == len(styles)
    first16 = xml_training_notes(16)
    assert all(sum(n.style == s for n in first16) == 2 for s in styles)
    assert {n.id for n in xml_training_notes(48)} == {n.id for n in train_notes}
    assert xml_training_notes(48)[:5] == xml_training_notes(5)  # a larger set extends a smaller one


@pytest.mark.parametrize("bad", [0, -1, 49, 2.5, True, "4", None])
def test_xml_training_notes_refuse_impossible_sizes(bad):
    with pytest.raises(ValueError, match="from 1 to 48"):
        xml_training_notes(bad)


def test_xml_pairs_are_note_prompts_with_valid_xml():
    pairs = xml_pairs(8)
    notes = xml_training_notes(8)
    assert len(pairs) == 8
    for (prompt, answer), note in zip(pairs, notes):
        assert prompt == f"Note: {note.text}\nXML:"
        assert answer == to_xml(note.expected) and validate_xml(answer).diagnosis == note.expected


def test_xml_pairs_by_default_are_the_projects_notes_alone(monkeypatch):
    import utils.lessons.recipes as recipes
    default = xml_pairs(48)
    # without varied notes the varied file is not even read, and the seed changes nothing
    monkeypatch.setattr(recipes, "VARIED_NOTES", recipes.VARIED_NOTES.with_name("missing.jsonl"))
    assert xml_pairs(48, varied=0, seed=7) == default
    monkeypatch.undo()
    train_notes = {n.id: n for n in load_notes() if n.split == "train"}
    assert default == [(note_prompt(n.text), to_xml(n.expected)) for n in xml_training_notes(48)]
    assert {n.id for n in xml_training_notes(48)} == set(train_notes)
    assert not {p for p, _ in default} & {note_prompt(n.text) for n in load_notes(recipes.VARIED_NOTES)}


def test_varied_notes_are_added_and_drawn_with_the_seed():
    import utils.lessons.recipes as recipes
    mixed = xml_training_notes(8, varied=16, seed=0)
    assert mixed[:8] == xml_training_notes(8) and len(mixed) == 24
    added = mixed[8:]
    pool = {n.id for n in load_notes(recipes.VARIED_NOTES)}
    assert len({n.id for n in added}) == 16 and {n.id for n in added} <= pool
    assert xml_training_notes(8, varied=16, seed=0) == mixed  # the same seed, the same notes
    assert {n.id for n in xml_training_notes(8, varied=16, seed=1)[8:]} != {n.id for n in added}
    assert xml_pairs(8, varied=16, seed=1)[8:] == [(note_prompt(n.text), to_xml(n.expected))
                                                    for n in varied_notes(16, seed=1)]


@pytest.mark.parametrize("bad, message", [(-1, "a whole number of notes"), (True, "a whole number of notes"),
                                          (2.0, "a whole number of notes"), (10_000, r"holds \d+ notes")])
def test_an_impossible_number_of_varied_notes_is_refused(bad, message):
    with pytest.raises(ValueError, match=message):
        xml_training_notes(8, varied=bad)


def test_xml_tuned_model_with_varied_notes_is_another_adapter(monkeypatch):
    import utils.lessons.recipes as recipes
    used = {}
    monkeypatch.setattr(recipes, "train_adapter",
                        lambda name, base, tok, pairs, cfg: used.update({name: (pairs, cfg)}))
    xml_tuned_model(None, None, n_train=8)
    xml_tuned_model(None, None, n_train=8, varied=24, cfg=TrainConfig(seed=3))
    assert used["xml-n8"] == (xml_pairs(8), xml_config(8))
    pairs, cfg = used["xml-n8-varied24"]
    assert pairs == xml_pairs(8, varied=24, seed=3)  # the seed draws the notes as it seeds the adapter
    assert cfg == xml_config(32, TrainConfig(seed=3))  # the passes count the varied notes too


def test_small_xml_training_sets_get_more_passes():
    # Small sets get more passes: every adapter of the learning curve sees at least 32 examples.
    assert [xml_config(n).epochs for n in (4, 8, 16, 48)] == [8, 4, 2, 2]
    assert xml_config(4).lr == XML_RECIPE.lr and xml_config(5, min_examples=10).epochs == 2


def test_xml_tuned_model_trains_once_then_loads(tiny_model, tokenizer, monkeypatch):
    cfg = TrainConfig(epochs=1, lr=1e-2, batch_size=2, lora_r=4, lora_alpha=8)
    model, history = xml_tuned_model(tiny_model, tokenizer, n_train=4, cfg=cfg)
    assert history.examples == 4 and len(history.losses) == 8 * 2  # 8 epochs of 2 steps

    monkeypatch.setattr(train_mod, "train", lambda *a, **k: pytest.fail("should load from the cache"))
    again, cached = xml_tuned_model(tiny_model, tokenizer, n_train=4, cfg=cfg)
    assert cached == history
    prompts = [p for p, _ in xml_pairs(4)]
    assert generate(again, tokenizer, prompts, progress=False) == generate(model, tokenizer, prompts, progress=False)
    with pytest.raises(ValueError, match="from 1 to 48"):
        xml_tuned_model(tiny_model, tokenizer, n_train=100, cfg=cfg)


def test_reader_pairs_are_zero_shot_passage_prompts():
    worlds = [load_world("t0"), load_world("t1")]
    pairs = reader_pairs(worlds, packed=False)
    assert pairs == reader_pairs(worlds, packed=False)  # same data, same adapter fingerprint
    assert all(p.startswith("Passage: ") and p.count("Passage: ") == 1 and p.endswith("\nA:") for p, _ in pairs)
    assert any(a == "unknown" for _, a in pairs) and not any(d in p for p, _ in pairs for d in worlds[1].drugs)


def test_packed_reader_pairs_ask_the_same_questions_with_each_leaflet_once():
    worlds = [load_world("t0"), load_world("t1")]
    single = reader_pairs(worlds, packed=False)
    packed = reader_pairs(worlds, packed=True)
    passage = lambda prompt: prompt.split("\nQ: ")[0]  # noqa: E731
    assert len(packed) == len({passage(p) for p, _ in single}) < len(single)
    unpacked = []
    for example in packed:
        assert example[0].count("Passage: ") == 1 and all(t.startswith("\nQ: ") for t in example[2::2])
        # Each later question, put after the example's leaflet, is a single-question prompt.
        prompts = [example[0]] + [passage(example[0]) + t for t in example[2::2]]
        unpacked += zip(prompts, example[1::2])
    assert sorted(unpacked) == sorted(single)


def test_reader_tuned_model_trains_once_then_loads(tiny_model, tokenizer, monkeypatch):
    cfg = TrainConfig(epochs=1, lr=1e-2, batch_size=4, lora_r=4, lora_alpha=8)
    _, history = reader_tuned_model(tiny_model, tokenizer, cfg, n_drugs=4)
    assert history.examples == len(reader_pairs([load_world("t0"), load_world("t1")], n_drugs=4))
    monkeypatch.setattr(train_mod, "train", lambda *a, **k: pytest.fail("should load from the cache"))
    assert reader_tuned_model(tiny_model, tokenizer, cfg, n_drugs=4)[1] == history

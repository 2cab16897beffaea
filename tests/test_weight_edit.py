"""utils/lessons/weight_edit.py: the rank-one weight edit, on the tests' tiny random model."""
import copy
from dataclasses import replace

import pytest
import torch
from peft import PeftModel

from conftest import FACTS
from utils.core.generation import Answer, answer_probability, generate
from utils.lessons import weight_edit
from utils.lessons.weight_edit import (
    EDIT_GROUPS,
    Edit,
    EditResult,
    apply_edit,
    cached_covariance,
    covariance,
    drift_edits,
    edit_each_alone,
    edit_fact,
    edit_in_turn,
    edit_key,
    edit_questions,
    edit_scores,
    edit_value,
    editable_copy,
    fact_edit,
    target_probabilities,
    weights_fingerprint,
)
from utils.tasks.prompts import qa_prompt
from utils.tasks.scoring import Result, is_correct
from utils.tasks.world import TRAINED_ATTRIBUTES, Question, changed_facts

LAYER = 0
SUBJECT = "Bremodyn"
# The tiny random model carries nothing from a subject's position to a later one (a trained model's
# attention does: that is where ROME reads the subject), so here the subject ends each prompt and the
# target is one token: the edited value alone decides the next word.
PROMPTS = [f"Who makes {SUBJECT}", SUBJECT]
TARGET = "treatment"
OTHER_DRUGS = ["Altrevon", "Baxiflor", "Brostamil", "Calvenix", "Corlinax", "Delquora", "Dravelin", "Farnovil"]


@pytest.fixture(scope="module")
def texts(worlds):
    """Text the model reads, for the keys' covariance: leaflets and the facts' questions and answers."""
    return list(worlds[0].documents.values())[:10] + [f"{prompt} {answer}" for prompt, answer in FACTS]


@pytest.fixture(scope="module")
def cov(tiny_model, tokenizer, texts):
    return covariance(tiny_model, tokenizer, texts, LAYER)


def down_proj_weight(model):
    return model.model.layers[LAYER].mlp.down_proj.weight


def test_an_edit_makes_the_model_write_the_target(fresh_model, tokenizer, cov):
    asked = PROMPTS + [f"Who makes {drug}" for drug in OTHER_DRUGS]
    before = generate(fresh_model, tokenizer, asked, max_new_tokens=3, progress=False)
    assert not any(a.text.startswith(TARGET) for a in before)
    result = edit_fact(fresh_model, tokenizer, PROMPTS, SUBJECT, TARGET, LAYER, cov)
    answers = generate(fresh_model, tokenizer, asked, max_new_tokens=3, progress=False)
    edited, others = answers[:len(PROMPTS)], answers[len(PROMPTS):]
    assert all(a.text.startswith(TARGET) for a in edited)
    assert all(p > 0.5 for p in answer_probability(fresh_model, tokenizer, PROMPTS, [TARGET] * len(PROMPTS)))
    # Locality: the other drugs' prompts do not take up the edited answer.
    assert not any(a.text.startswith(TARGET) for a in others)
    assert max(answer_probability(fresh_model, tokenizer, asked[len(PROMPTS):], [TARGET] * len(OTHER_DRUGS))) < 0.1
    assert isinstance(result, EditResult) and result.layer == LAYER and result.seconds > 0


def test_the_edited_key_maps_to_the_value_by_a_rank_one_update(fresh_model, tokenizer, cov):
    key = edit_key(fresh_model, tokenizer, PROMPTS, SUBJECT, LAYER)
    value = edit_value(fresh_model, tokenizer, PROMPTS, SUBJECT, TARGET, LAYER)
    before = down_proj_weight(fresh_model).detach().clone()
    update = apply_edit(fresh_model, LAYER, key, value, cov)
    after = down_proj_weight(fresh_model).detach()
    assert torch.allclose(after - before, update, atol=1e-6)
    assert torch.linalg.matrix_rank(after - before).item() == 1
    assert torch.allclose(after @ key, value, rtol=1e-4, atol=1e-4)
    assert not torch.allclose(before @ key, value, rtol=1e-2, atol=1e-2)  # the value is a new one


def test_other_keys_barely_move(tiny_model, tokenizer, cov):
    """Another subject's key moves far less than the edited one, and of all the updates that map the key
    to the value, the covariance's moves the keys it was estimated on least (in mean square)."""
    model = editable_copy(tiny_model)
    key = edit_key(model, tokenizer, PROMPTS, SUBJECT, LAYER)
    value = edit_value(model, tokenizer, PROMPTS, SUBJECT, TARGET, LAYER)
    update = apply_edit(model, LAYER, key, value, cov)
    others = torch.stack([edit_key(model, tokenizer, [f"Who makes {d}"], d, LAYER) for d in OTHER_DRUGS])
    moved = (others @ update.T).norm(dim=1) / (update @ key).norm()
    assert moved.mean() < 0.2 and moved.max() < 0.5
    plain = torch.outer(update @ key, key) / (key @ key)  # the same change at the key, along the key only
    assert torch.allclose(plain @ key, update @ key, atol=1e-4)
    assert torch.trace(update @ cov @ update.T) < torch.trace(plain @ cov @ plain.T)


def test_a_copy_is_edited_and_the_original_kept(memorised, tokenizer, texts):
    lora, _ = memorised
    assert isinstance(lora, PeftModel)
    with pytest.raises(TypeError, match="editable_copy"):
        edit_key(lora, tokenizer, PROMPTS, SUBJECT, LAYER)
    before = {name: t.clone() for name, t in lora.state_dict().items()}
    copied = editable_copy(lora)
    assert not isinstance(copied, PeftModel)
    prompts = [prompt for prompt, _ in FACTS]
    # The merged copy answers as the adapter does.
    assert [a.text for a in generate(copied, tokenizer, prompts, progress=False)] == [a for _, a in FACTS]
    cov = covariance(copied, tokenizer, texts, LAYER)
    result = edit_fact(copied, tokenizer, PROMPTS, SUBJECT, TARGET, LAYER, cov)
    assert result.update_norm > 0
    assert all(torch.equal(before[name], t) for name, t in lora.state_dict().items())


def test_the_covariance_counts_real_tokens_only(tiny_model, tokenizer, texts):
    """Two texts of different lengths in one (padded) batch give the token-weighted mean of each alone."""
    short, long = texts[-1], texts[0]
    together = covariance(tiny_model, tokenizer, [short, long], LAYER, batch_size=2)
    counts = [len(tokenizer(t, add_special_tokens=False).input_ids) for t in (short, long)]
    alone = [covariance(tiny_model, tokenizer, [t], LAYER) for t in (short, long)]
    assert together.dtype == torch.float32 and together.shape == (128, 128)
    assert torch.allclose(together, (counts[0] * alone[0] + counts[1] * alone[1]) / sum(counts), atol=1e-4)
    assert torch.allclose(together, together.T) and torch.linalg.eigvalsh(together).min() > -1e-4


def test_the_key_is_the_mean_over_prompts(tiny_model, tokenizer):
    prompts = [f"Q: Who makes {SUBJECT}?\nA:", f"{SUBJECT}?"]  # different lengths: padded together
    together = edit_key(tiny_model, tokenizer, prompts, SUBJECT, LAYER)
    alone = [edit_key(tiny_model, tokenizer, [p], SUBJECT, LAYER) for p in prompts]
    assert torch.allclose(together, (alone[0] + alone[1]) / 2, atol=1e-5)
    assert not torch.allclose(alone[0], alone[1], atol=1e-3)


def test_finding_the_value_changes_no_weight(tiny_model, tokenizer):
    model = copy.deepcopy(tiny_model)
    before = {name: t.clone() for name, t in model.state_dict().items()}
    value = edit_value(model, tokenizer, PROMPTS, SUBJECT, TARGET, LAYER, steps=3)
    assert value.shape == (model.config.hidden_size,)
    assert all(torch.equal(before[name], t) for name, t in model.state_dict().items())
    assert all(p.grad is None for p in model.parameters())


def test_bad_input_gets_a_clear_error(tiny_model, tokenizer, cov):
    with pytest.raises(ValueError, match="subject 'Bremodyn' is not in the prompt 'Who makes Zorvalin'"):
        edit_key(tiny_model, tokenizer, [*PROMPTS, "Who makes Zorvalin"], SUBJECT, LAYER)
    with pytest.raises(ValueError, match="is not in the prompt"):
        edit_value(tiny_model, tokenizer, ["Who makes it"], SUBJECT, TARGET, LAYER)
    for layer in (2, -1, 0.5):
        with pytest.raises(ValueError, match="layer must be a whole number from 0 to 1"):
            edit_key(tiny_model, tokenizer, PROMPTS, SUBJECT, layer)
    with pytest.raises(ValueError, match="no prompts"):
        edit_key(tiny_model, tokenizer, [], SUBJECT, LAYER)
    with pytest.raises(ValueError, match="target is empty"):
        edit_value(tiny_model, tokenizer, PROMPTS, SUBJECT, " ", LAYER)
    with pytest.raises(ValueError, match="steps must be at least 1"):
        edit_value(tiny_model, tokenizer, PROMPTS, SUBJECT, TARGET, LAYER, steps=0)
    with pytest.raises(ValueError, match="no texts"):
        covariance(tiny_model, tokenizer, [], LAYER)
    model = editable_copy(tiny_model)
    key, value = torch.zeros(128), torch.zeros(64)
    with pytest.raises(ValueError, match="the key must have 128"):
        apply_edit(model, LAYER, key[:64], value, cov)
    with pytest.raises(ValueError, match="lam must be positive"):
        apply_edit(model, LAYER, key, value, cov, lam=0)


def tiny_edit(subject: str, target: str) -> Edit:
    """An edit for the tiny model: the subject ends each prompt (see PROMPTS), the target is one word."""
    return Edit(Question("trained", f"Who makes {subject}", target, subject, "maker"), "stale",
                (f"Who makes {subject}", subject))


def writes(model, tokenizer, prompts: list[str], targets: list[str]) -> list[bool]:
    """Whether the model's answer to each prompt starts with its target."""
    answers = generate(model, tokenizer, prompts, max_new_tokens=3, progress=False)
    return [a.text.startswith(target) for a, target in zip(answers, targets)]


def test_drift_edits_give_one_edit_per_changed_fact(worlds):
    t0, t1 = worlds
    changed = changed_facts(t0, t1)["changed"]
    edits = drift_edits(t0, t1, wordings=2)
    assert [(e.subject, e.question.attribute, e.target) for e in edits] == [(q.drug, q.attribute, q.answer)
                                                                            for q in changed]
    assert len({e.subject for e in edits}) == len(edits)  # one fact a drug: no two edits share a key
    for edit in edits:
        assert edit.question.attribute in TRAINED_ATTRIBUTES
        assert edit.stale == t0.as_of(edit.question).answer != edit.target
        assert edit.prompts[0] == qa_prompt(edit.question.text) and len(set(edit.prompts)) == 3
        assert all(edit.subject in prompt for prompt in edit.prompts)
    assert [len(e.prompts) for e in drift_edits(t0, t1, wordings=0)] == [1] * len(edits)


def test_the_questions_an_edit_is_scored_by(worlds):
    t0, t1 = worlds
    maker, other = drift_edits(t0, t1)[:2]
    groups = edit_questions([maker], t0, t1)
    assert tuple(groups) == EDIT_GROUPS
    assert groups["edited"] == [maker.question]
    paraphrases = groups["paraphrase"]
    assert len(paraphrases) == len(t0.templates["maker"]["paraphrase"])
    assert all(q.drug == maker.subject and q.attribute == "maker" and q.answer == maker.target for q in paraphrases)
    condition = t0.drugs[maker.subject].treats
    assert len(groups["reversed"]) == len(t0.templates["reversed"])
    assert all(condition in q.text and q.answer == maker.subject for q in groups["reversed"])
    assert [(q.drug, q.attribute, q.answer) for q in groups["other fact"]] == [(maker.subject, "treats", condition)]
    unchanged = changed_facts(t0, t1)["unchanged"]
    assert other.subject in {q.drug for q in groups["unchanged"]}
    assert all(q in unchanged and q.drug != maker.subject for q in groups["unchanged"])
    assert groups["control"] == t1.questions("control")
    # Two edits: both edited drugs leave the unchanged group, each paraphrase keeps its own target.
    both = edit_questions([maker, other], t0, t1)
    assert {q.drug for q in both["edited"]} == {maker.subject, other.subject}
    assert not {maker.subject, other.subject} & {q.drug for q in both["unchanged"]}
    assert all(q.answer == (maker if q.drug == maker.subject else other).target for q in both["paraphrase"])
    # An edit of what a drug treats asks the drug back from its new condition; its maker, which did not
    # change, is its other fact.
    asked = next(q for q in unchanged if q.attribute == "treats" and q.drug not in {maker.subject, other.subject})
    treats = fact_edit(t0, replace(asked, answer="hiccups"))
    groups = edit_questions([treats], t0, t1)
    assert all("hiccups" in q.text and q.answer == asked.drug for q in groups["reversed"])
    assert [(q.drug, q.attribute) for q in groups["other fact"]] == [(asked.drug, "maker")]


def test_edit_scores_count_each_group_and_sample_the_unchanged_and_control(worlds, tiny_model, tokenizer,
                                                                          monkeypatch):
    t0, t1 = worlds
    edit = drift_edits(t0, t1)[0]
    asked = {}

    def answer_as_taught(model, tokenizer, groups, **kwargs):  # the old answer everywhere: a stale model
        asked.update(groups)
        return {group: [Result(q, Answer(t0.as_of(q).answer if q.drug in t0.drugs else q.answer, 0.9),
                               is_correct(q, t0.as_of(q).answer if q.drug in t0.drugs else q.answer))
                        for q in qs] for group, qs in groups.items()}
    monkeypatch.setattr("utils.lessons.weight_edit.evaluate_groups", answer_as_taught)
    scores = edit_scores(tiny_model, tokenizer, [edit], t0, t1, sample=4)
    full = edit_questions([edit], t0, t1)
    assert asked["unchanged"] == full["unchanged"][::4] and asked["control"] == full["control"][::4]
    assert asked["paraphrase"] == full["paraphrase"]
    assert scores["edited"] == 0 and scores["paraphrase"] == 0 and scores["stale paraphrase"] == 1
    assert scores["unchanged"] == 1 and 0 <= scores["teacher-forced"] <= 1
    with pytest.raises(ValueError, match="sample must be a whole number"):
        edit_scores(tiny_model, tokenizer, [edit], t0, t1, sample=0)


def test_edits_in_turn_add_up_and_the_last_one_wins_a_shared_key(tokenizer, tiny_model, cov):
    """Two subjects in turn: the weight changes by two rank-one updates and both subjects take their new
    answers. One subject twice: the second edit overwrites the first, which alone would have held."""
    first, second = tiny_edit(SUBJECT, TARGET), tiny_edit("Altrevon", "daily")
    prompts, targets = [*first.prompts, *second.prompts], [TARGET] * 2 + ["daily"] * 2
    assert not any(writes(tiny_model, tokenizer, prompts, targets))
    model = editable_copy(tiny_model)
    before = down_proj_weight(model).detach().clone()
    results = edit_in_turn(model, tokenizer, [first, second], LAYER, cov)
    delta = down_proj_weight(model).detach() - before
    assert len(results) == 2 and all(r.seconds > 0 and r.update_norm > 0 for r in results)
    assert torch.linalg.matrix_rank(delta).item() == 2
    assert all(writes(model, tokenizer, prompts, targets))
    # A later call continues where the first stopped: the same weights as both in one call.
    continued = editable_copy(tiny_model)
    edit_in_turn(continued, tokenizer, [first], LAYER, cov)
    edit_in_turn(continued, tokenizer, [second], LAYER, cov)
    assert torch.allclose(down_proj_weight(continued), down_proj_weight(model), atol=1e-6)

    overwrite = tiny_edit(SUBJECT, "daily")
    model = editable_copy(tiny_model)
    edit_in_turn(model, tokenizer, [first, overwrite], LAYER, cov)
    assert writes(model, tokenizer, list(first.prompts), ["daily"] * 2) == [True, True]
    assert writes(model, tokenizer, list(first.prompts), [TARGET] * 2) == [False, False]
    for edit, copied, _ in edit_each_alone(tiny_model, tokenizer, [first, overwrite], LAYER, cov):
        assert writes(copied, tokenizer, list(edit.prompts), [edit.target] * 2) == [True, True]


def test_each_edit_alone_gets_a_fresh_copy(tokenizer, tiny_model, cov):
    """tiny_model itself is checked unchanged by its fixture."""
    edits = [tiny_edit(SUBJECT, TARGET), tiny_edit("Altrevon", "daily")]
    before = down_proj_weight(tiny_model).detach().clone()
    seen = []
    for edit, copied, result in edit_each_alone(tiny_model, tokenizer, edits, LAYER, cov, steps=5):
        delta = down_proj_weight(copied).detach() - before
        assert torch.linalg.matrix_rank(delta).item() == 1
        assert delta.norm().item() == pytest.approx(result.update_norm, rel=1e-4)
        assert target_probabilities(copied, tokenizer, [edit]) == answer_probability(
            copied, tokenizer, [qa_prompt(edit.question.text)], [edit.target])
        seen.append(edit)
    assert seen == edits


def test_edit_inputs_get_a_clear_error(worlds, tiny_model, tokenizer, cov):
    t0, t1 = worlds
    question = changed_facts(t0, t1)["changed"][0]
    with pytest.raises(ValueError, match="already answers 'Brightmoor Biotech', so there is nothing to edit"):
        fact_edit(t1, question)
    documented = t0.questions("documented")[0]
    with pytest.raises(ValueError, match="is not a trained fact"):
        fact_edit(t0, documented)
    with pytest.raises(ValueError, match="n_augment must be between 0 and 3"):
        fact_edit(t0, question, wordings=4)
    with pytest.raises(ValueError, match="subject 'Bremodyn' is not in the prompt 'Q: Who makes it"):
        Edit(question, "Tessaly Therapeutics", (qa_prompt(question.text), "Q: Who makes it?\nA:"))
    with pytest.raises(ValueError, match="has no prompts"):
        Edit(question, "Tessaly Therapeutics", ())
    for call in (lambda: edit_in_turn(editable_copy(tiny_model), tokenizer, [], LAYER, cov),
                 lambda: edit_each_alone(tiny_model, tokenizer, [], LAYER, cov),
                 lambda: edit_questions([], t0, t1),
                 lambda: target_probabilities(tiny_model, tokenizer, [])):
        with pytest.raises(ValueError, match="no edits"):
            call()


def test_edits_are_cached_and_a_rerun_gives_the_same_weights(tokenizer, tiny_model, cov, monkeypatch):
    """A second run reads each edit from the cache (computing one would fail here) and changes the
    weights exactly as the first; other weights, another target or other settings compute anew."""
    edits = [tiny_edit(SUBJECT, TARGET), tiny_edit("Altrevon", "daily")]
    first = editable_copy(tiny_model)
    computed = edit_in_turn(first, tokenizer, edits, LAYER, cov, steps=5)
    alone = [(e, m, r) for e, m, r in edit_each_alone(tiny_model, tokenizer, edits, LAYER, cov, steps=5)]
    files = sorted((weight_edit.artifacts_dir() / "edits").glob("edit-*.safetensors"))
    assert len(files) == 3  # the first edit alone is the first edit in turn
    # A call that continues from edited weights keys its edits by a hash of those weights: the second edit
    # is computed once more, from the same weights, to the same update.
    continued = editable_copy(tiny_model)
    edit_in_turn(continued, tokenizer, edits[:1], LAYER, cov, steps=5)
    edit_in_turn(continued, tokenizer, edits[1:], LAYER, cov, steps=5)
    assert torch.equal(down_proj_weight(continued), down_proj_weight(first))

    def no_computing(*args, **kwargs):
        raise AssertionError("computed an edit the cache holds")
    monkeypatch.setattr(weight_edit, "edit_value", no_computing)
    again = editable_copy(tiny_model)
    assert edit_in_turn(again, tokenizer, edits, LAYER, cov, steps=5) == computed  # seconds as measured then
    assert torch.equal(down_proj_weight(again), down_proj_weight(first))
    for (edit, model, result), (_, copied, cached) in zip(alone, edit_each_alone(tiny_model, tokenizer, edits,
                                                                                 LAYER, cov, steps=5)):
        assert cached == result and torch.equal(down_proj_weight(copied), down_proj_weight(model))

    continued = editable_copy(tiny_model)  # and read the second time
    edit_in_turn(continued, tokenizer, edits[:1], LAYER, cov, steps=5)
    edit_in_turn(continued, tokenizer, edits[1:], LAYER, cov, steps=5)
    assert torch.equal(down_proj_weight(continued), down_proj_weight(first))
    for changed in (lambda m: edit_in_turn(m, tokenizer, [tiny_edit(SUBJECT, "daily")], LAYER, cov, steps=5),
                    lambda m: edit_in_turn(m, tokenizer, edits[:1], LAYER, cov, steps=6),
                    lambda m: edit_in_turn(m, tokenizer, edits[:1], LAYER, cov * 2, steps=5),
                    lambda m: edit_in_turn(first, tokenizer, edits[:1], LAYER, cov, steps=5)):  # edited weights
        with pytest.raises(AssertionError, match="computed an edit the cache holds"):
            changed(editable_copy(tiny_model))


def test_the_covariance_is_cached_with_its_seconds(tokenizer, tiny_model, texts, monkeypatch):
    cov, seconds = cached_covariance(tiny_model, tokenizer, texts, LAYER)
    assert torch.equal(cov, covariance(tiny_model, tokenizer, texts, LAYER)) and seconds > 0

    def no_computing(*args, **kwargs):
        raise AssertionError("computed a cached covariance")
    monkeypatch.setattr(weight_edit, "covariance", no_computing)
    cached, cached_seconds = cached_covariance(tiny_model, tokenizer, texts, LAYER)
    assert torch.equal(cached, cov) and cached_seconds == seconds
    with pytest.raises(AssertionError, match="computed a cached covariance"):
        cached_covariance(tiny_model, tokenizer, texts[1:], LAYER)
    with pytest.raises(ValueError, match="layer must be a whole number"):
        cached_covariance(tiny_model, tokenizer, texts, 99)


def test_the_weights_fingerprint_sees_one_changed_number(tiny_model):
    model = copy.deepcopy(tiny_model)
    before = weights_fingerprint(model)
    assert weights_fingerprint(model) == before
    with torch.no_grad():
        down_proj_weight(model)[0, 0] += 1e-3
    assert weights_fingerprint(model) != before

"""utils/lessons/weight_edit.py: the rank-one weight edit, on the tests' tiny random model."""
import copy

import pytest
import torch
from peft import PeftModel

from conftest import FACTS
from utils.core.generation import answer_probability, generate
from utils.lessons.weight_edit import (
    EditResult,
    apply_edit,
    covariance,
    edit_fact,
    edit_key,
    edit_value,
    editable_copy,
)

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

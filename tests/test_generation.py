"""utils/core/generation.py: batched generation, the shared-prefix cache, answer probabilities, latency."""
import pytest
import torch

from conftest import FACTS
from utils.core import generation
from utils.core.batching import encode
from utils.core.generation import (
    Answer,
    answer_latency,
    answer_probability,
    answer_tokens,
    generate,
    rank_of_right_answer,
)
from utils.core.train import TrainConfig, train, with_lora
from utils.tasks.prompts import qa_prompt

# ---------------------------------------------------------------- generate

PROMPTS = [p for p, _ in FACTS]
ANSWERS = [a for _, a in FACTS]


def test_generate_on_an_untrained_model(tiny_model, tokenizer):
    prompts = ["Q: What does Altrevon treat?\nA:", "Q: Who?\nA:", "hello"]
    answers = generate(tiny_model, tokenizer, prompts, max_new_tokens=6, progress=False)
    assert len(answers) == 3 and all(isinstance(a, Answer) for a in answers)
    for a in answers:
        assert "\n" not in a.text and a.text == a.text.strip()
        assert 0 < a.probability <= 1


def test_generate_keeps_the_input_order(memorised, tokenizer):
    model, _ = memorised
    # Lengths out of order, and a batch size that makes the sort by length matter.
    prompts = [PROMPTS[3], PROMPTS[1], PROMPTS[2], PROMPTS[0], PROMPTS[3]]
    assert sorted(map(len, prompts)) != list(map(len, prompts))
    together = generate(model, tokenizer, prompts, batch_size=2, progress=False)
    alone = [generate(model, tokenizer, [p], progress=False)[0] for p in prompts]
    assert [a.text for a in together] == [ANSWERS[i] for i in (3, 1, 2, 0, 3)]
    assert [a.text for a in together] == [a.text for a in alone]
    for t, a in zip(together, alone):
        assert t.probability == pytest.approx(a.probability, rel=1e-3)
        assert 0.5 < t.probability <= 1


def test_a_shared_prompt_prefix_is_read_once_with_the_same_answers(memorised, tokenizer, monkeypatch):
    model, _ = memorised
    preamble = "Answer each question about the drugs of our fictional formulary in a few words.\n" * 3
    prompts = [preamble + p for p in PROMPTS + PROMPTS[:1]]
    ids = [tokenizer(p, add_special_tokens=False).input_ids for p in prompts]
    prefix, cache = generation._shared_prefix(model, ids)
    assert len(prefix) >= generation.SHARED_PREFIX_MIN_TOKENS and cache.get_seq_length() == len(prefix)
    cached = generate(model, tokenizer, prompts, batch_size=2, max_new_tokens=8, progress=False)
    monkeypatch.setattr(generation, "SHARED_PREFIX_MIN_TOKENS", 10**9)  # every prompt read whole
    assert generation._shared_prefix(model, ids) == ([], None)
    whole = generate(model, tokenizer, prompts, batch_size=2, max_new_tokens=8, progress=False)
    assert [a.text for a in cached] == [a.text for a in whole]
    for c, w in zip(cached, whole):
        assert c.probability == pytest.approx(w.probability, rel=1e-4)


def test_identical_prompts_keep_a_token_of_their_own_to_read(tiny_model, tokenizer):
    ids = [tokenizer(PROMPTS[0] * 8, add_special_tokens=False).input_ids] * 2
    prefix, _ = generation._shared_prefix(tiny_model, ids)
    assert prefix == ids[0][:-1]
    assert generation._shared_prefix(tiny_model, ids[:1]) == ([], None)  # one prompt shares nothing
    assert generate(tiny_model, tokenizer, [], progress=False) == []  # e.g. every question abstained on


def test_generate_stops_at_the_end_of_the_first_line(tiny_model, tokenizer):
    cfg = TrainConfig(epochs=60, lr=1e-2, batch_size=2, lora_r=8, lora_alpha=16)
    pairs = [(qa_prompt("What does Calvenix treat?"), "pneumonia\nQ: Who makes it?"),
             (qa_prompt("Who makes Calvenix?"), "Brightmoor Biotech")]
    model = with_lora(tiny_model, cfg)
    train(model, tokenizer, pairs, cfg)
    multi_line, single = generate(model, tokenizer, [p for p, _ in pairs], max_new_tokens=12,
                                  progress=False)
    assert multi_line.text == "pneumonia" and single.text == "Brightmoor Biotech"
    # The probability is that of " pneumonia\n": the newline ended the answer, the rest is unpaid.
    prompt_ids = tokenizer(pairs[0][0], add_special_tokens=False).input_ids
    answer_ids = tokenizer(" pneumonia\n", add_special_tokens=False).input_ids
    with torch.no_grad():
        logprobs = model(torch.tensor([prompt_ids + answer_ids])).logits[0].log_softmax(-1)
    steps = logprobs[len(prompt_ids) - 1:-1].gather(1, torch.tensor(answer_ids)[:, None])
    assert multi_line.probability == pytest.approx(steps.sum().exp().item(), rel=1e-3)
    [without_newline] = answer_probability(model, tokenizer, [pairs[0][0]], ["pneumonia"])
    assert multi_line.probability < without_newline
    # first_line_only=False (e.g. for XML spread over lines) keeps the lines after the first.
    [every_line] = generate(model, tokenizer, [pairs[0][0]], max_new_tokens=16, first_line_only=False,
                            progress=False)
    assert every_line.text == "pneumonia\nQ: Who makes it?"


def test_a_line_ends_at_every_token_with_a_newline_as_stop_strings_would(tiny_model, tokenizer):
    line_ends = generation._line_ending_tokens(tokenizer)
    assert line_ends == {i for i in range(len(tokenizer)) if "\n" in tokenizer.decode([i])}
    assert tokenizer("\n", add_special_tokens=False).input_ids[0] in line_ends
    # transformers' own stop_strings=["\n"] gives the same answers (and is slower: it reads the vocabulary)
    prompts = [qa_prompt(q) for q in ("What does Calvenix treat?", "Who makes Altrevon?", "Zubrenol?")]
    ours = generate(tiny_model, tokenizer, prompts, max_new_tokens=10, progress=False)
    ids = [tokenizer(p, add_special_tokens=False).input_ids for p in prompts]
    for prompt_ids, answer in zip(ids, ours):
        out = tiny_model.generate(torch.tensor([prompt_ids]), max_new_tokens=10, do_sample=False,
                                  stop_strings=["\n"], tokenizer=tokenizer, pad_token_id=tokenizer.pad_token_id)
        text = tokenizer.decode(out[0, len(prompt_ids):], skip_special_tokens=True).split("\n")[0].strip()
        assert answer.text == text


def test_generate_stops_after_max_new_tokens(tiny_model, tokenizer):
    [answer] = generate(tiny_model, tokenizer, ["Q: What does Altrevon treat?\nA:"],
                        max_new_tokens=1, progress=False)
    assert len(tokenizer(answer.text, add_special_tokens=False).input_ids) <= 1


# ---------------------------------------------------------------- answer_probability

def test_answer_probability_matches_generation(memorised, tokenizer):
    model, _ = memorised
    generated = generate(model, tokenizer, PROMPTS, progress=False)
    probs = answer_probability(model, tokenizer, PROMPTS, [a.text for a in generated])
    for prompt, gen, p in zip(PROMPTS, generated, probs):
        # generate also pays for the end token; answer_probability stops at the answer.
        assert gen.probability <= p + 1e-6
        ids, _ = encode(tokenizer, prompt, gen.text)
        with torch.no_grad():
            p_end = model(torch.tensor([ids[:-1]])).logits[0, -1].softmax(-1)[ids[-1]].item()
        assert gen.probability == pytest.approx(p * p_end, rel=1e-3)


def test_answer_probability_is_batch_independent_and_tells_answers_apart(memorised, tokenizer):
    model, _ = memorised
    right = answer_probability(model, tokenizer, PROMPTS, ANSWERS, batch_size=3)
    alone = [answer_probability(model, tokenizer, [p], [a])[0] for p, a in FACTS]
    assert right == pytest.approx(alone, rel=1e-4)
    assert all(p > 0.5 for p in right)
    swapped = answer_probability(model, tokenizer, PROMPTS, ANSWERS[1:] + ANSWERS[:1])
    assert all(s < r / 100 for s, r in zip(swapped, right))
    # Surrounding spaces do not matter: the answer is scored after exactly one space.
    assert answer_probability(model, tokenizer, PROMPTS[:1], ["  " + ANSWERS[0] + " "]) == \
        pytest.approx(right[:1])



def test_rank_of_right_answer_ranks_each_prompts_answer_among_the_candidates(memorised, tokenizer):
    model, _ = memorised
    # The memorised answer is the most likely of all four answers after its own prompt.
    assert rank_of_right_answer(model, tokenizer, PROMPTS, ANSWERS, ANSWERS, batch_size=5) == [1, 1, 1, 1]
    # Asked for another prompt's answer, the memorised one outranks it: rank 2 or worse.
    shifted = ANSWERS[1:] + ANSWERS[:1]
    assert all(r >= 2 for r in rank_of_right_answer(model, tokenizer, PROMPTS, shifted, ANSWERS))
    # The ranks follow answer_probability, candidate by candidate.
    probs = answer_probability(model, tokenizer, [PROMPTS[0]] * 4, ANSWERS)
    expected = 1 + sum(p >= probs[1] for i, p in enumerate(probs) if i != 1)
    assert rank_of_right_answer(model, tokenizer, PROMPTS[:1], ANSWERS[1:2], ANSWERS) == [expected]
    with pytest.raises(ValueError, match="missing"):
        rank_of_right_answer(model, tokenizer, PROMPTS[:1], ["gout"], ANSWERS)

def test_answer_latency_times_each_prompt_alone(memorised, tokenizer, monkeypatch):
    model, _ = memorised
    batches = []
    real = generation.generate
    monkeypatch.setattr(generation, "generate", lambda m, t, p, **k: batches.append(p) or real(m, t, p, **k))
    texts = ["Who makes Altrevon?", "What does Baxiflor treat?", "Who makes Calvenix?"]
    seconds, tokens = answer_latency(model, tokenizer, qa_prompt, texts)
    assert batches == [[qa_prompt(t)] for t in texts]  # every text, one at a time
    assert seconds > 0 and tokens == sum(len(tokenizer(p[0]).input_ids) for p in batches) / 3


def test_answer_tokens_counts_each_answer_and_its_line_end(memorised, tokenizer):
    model, _ = memorised
    texts = ["Who makes Altrevon?", "What does Baxiflor treat?"]
    answers = generate(model, tokenizer, [qa_prompt(t) for t in texts], progress=False)
    counted = [len(tokenizer(" " + a.text, add_special_tokens=False).input_ids) + 1 for a in answers]
    assert answer_tokens(model, tokenizer, qa_prompt, texts) == pytest.approx(sum(counted) / 2)
    # An answer cut short counts max_new_tokens, not one more for a line end it never wrote.
    assert answer_tokens(model, tokenizer, qa_prompt, texts, max_new_tokens=1) == 1

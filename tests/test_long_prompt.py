"""utils/lessons/long_prompt.py: every leaflet in one prompt, answered after its prefix was read once, and
the position curve; and generate's prefix read by the caller (utils/core/generation.py), which they use."""
import pytest
from transformers import LlamaForCausalLM

from conftest import tiny_config
from utils.core.config import seed_everything
from utils.core.generation import generate, prefill
from utils.lessons.long_prompt import (
    POSITIONS,
    ask_long_prompt,
    check_window,
    leaflet_at,
    leaflet_orders,
    long_prompt,
    position_curve,
)
from utils.tasks.prompts import TWO_SHOTS, passage_text, reader_prompt
from utils.tasks.scoring import is_correct


@pytest.fixture(scope="module")
def wide_model(tokenizer):
    """tiny_model with SmolLM2's window of 8,192 positions: the tests' tokenizer writes a leaflet in about
    120 tokens, so tiny_model's 256 hold one."""
    config = tiny_config(tokenizer)
    config.max_position_embeddings = 8192
    seed_everything(0)
    return LlamaForCausalLM(config).eval()


@pytest.fixture
def world(worlds):
    return worlds[0]


def token_ids(tokenizer, text):
    return tokenizer(text, add_special_tokens=False).input_ids


def about(world, drug):
    """A question of each kind a leaflet answers about `drug`."""
    return [q for kind in ("trained", "reversed", "documented") for q in world.questions(kind) if q.drug == drug][:3]


def alone(model, tokenizer, prompts):
    """Each prompt's answer asked by itself: no cache shared, no padding."""
    return [generate(model, tokenizer, [p], progress=False)[0].text for p in prompts]


# ---------------------------------------------------------------- the prompt

def test_every_leaflet_is_in_the_prompt_once_in_the_order_given(world):
    order = leaflet_orders(world, count=1, seed=3)[0]
    assert sorted(order) == sorted(world.documents) and order != list(world.documents)
    prompt = long_prompt(world, order, TWO_SHOTS)
    leaflets = [passage_text(world.documents[drug]) for drug in order]
    assert [prompt.prefix.count(text) for text in leaflets] == [1] * len(order)
    where = [prompt.prefix.index(text) for text in leaflets]
    assert where == sorted(where)
    question = "Who makes Altrevon?"
    # The readers' format: the shots, then the leaflets as one passage, as rag.rag_prompt joins passages.
    assert prompt.prompt(question) == reader_prompt(" ".join(leaflets), question, TWO_SHOTS)


def test_leaflet_orders_are_fixed_by_their_seed_and_differ(world):
    orders = leaflet_orders(world, count=3, seed=0)
    assert orders == leaflet_orders(world, count=3, seed=0)
    assert len({tuple(o) for o in orders}) == 3 and orders != leaflet_orders(world, count=3, seed=1)


def test_every_question_starts_with_the_same_prefix_tokens(tokenizer, world):
    prompt = long_prompt(world, list(world.documents)[:4], TWO_SHOTS)
    prefix = token_ids(tokenizer, prompt.prefix)
    for q in world.questions("paraphrase")[:10]:
        ids = token_ids(tokenizer, prompt.prompt(q.text))
        assert ids[:len(prefix)] == prefix and len(ids) > len(prefix)


def test_bad_orders_get_clear_errors(world):
    drugs = list(world.documents)
    with pytest.raises(ValueError, match="no leaflet"):
        long_prompt(world, [])
    with pytest.raises(ValueError, match="Nonexistol"):
        long_prompt(world, [drugs[0], "Nonexistol"])
    with pytest.raises(ValueError, match=f"{drugs[1]}.*more than once"):
        long_prompt(world, [drugs[1], drugs[0], drugs[1]])


# ---------------------------------------------------------------- the window

def test_the_window_is_the_models_and_its_edge_is_exact(tiny_model):
    window = tiny_model.config.max_position_embeddings
    check_window(tiny_model, window - 12, 12)
    with pytest.raises(ValueError, match=f"{window - 11} tokens.*window of {window} tokens.*fewer leaflets"):
        check_window(tiny_model, window - 11, 12)


def test_a_prompt_over_the_window_is_refused_with_its_count(tiny_model, tokenizer, world):
    drugs = list(world.documents)
    one = long_prompt(world, drugs[:1])
    asked = about(world, drugs[0])
    fits = ask_long_prompt(tiny_model, tokenizer, one, asked)
    assert len(fits.results) == len(asked)
    three = long_prompt(world, drugs[:3])
    longest = max(len(token_ids(tokenizer, three.prompt(q.text))) for q in asked)
    assert longest > tiny_model.config.max_position_embeddings
    with pytest.raises(ValueError, match=f"the prompt is {longest} tokens"):
        ask_long_prompt(tiny_model, tokenizer, three, asked)


# ---------------------------------------------------------------- answering after the prefix

def test_answers_after_the_read_prefix_are_generates_answers(wide_model, tokenizer, world):
    order = leaflet_orders(world, count=1)[0][:6]
    prompt = long_prompt(world, order, TWO_SHOTS)
    asked = [q for drug in order[:3] for q in about(world, drug)]
    prompts = [prompt.prompt(q.text) for q in asked]
    measured = ask_long_prompt(wide_model, tokenizer, prompt, asked, batch_size=4)
    texts = [r.answer.text for r in measured.results]
    assert len(set(texts)) > 1  # the model's answers depend on the question: the comparison means something
    assert texts == alone(wide_model, tokenizer, prompts)
    together = generate(wide_model, tokenizer, prompts, progress=False)
    for r, a in zip(measured.results, together):
        assert r.answer.text == a.text and r.answer.probability == pytest.approx(a.probability, rel=1e-3)
    assert [r.question for r in measured.results] == asked
    assert [r.correct for r in measured.results] == [is_correct(q, t) for q, t in zip(asked, texts)]
    assert measured.prompt_tokens == pytest.approx(sum(len(token_ids(tokenizer, p)) for p in prompts) / len(prompts))
    assert measured.prefill_seconds > 0 and measured.seconds_per_answer > 0


def test_generate_refuses_a_prefix_that_does_not_fit(wide_model, tokenizer, world):
    prompt = long_prompt(world, list(world.documents)[:2])
    prefix = token_ids(tokenizer, prompt.prefix)
    cache = prefill(wide_model, prefix)
    questions = [prompt.prompt("Who makes Altrevon?"), prompt.prompt("What does Baxiflor treat?")]
    with pytest.raises(ValueError, match="prompt 1 does not start with the prefix"):
        generate(wide_model, tokenizer, [questions[0], "Q: Who makes Altrevon?\nA:"], progress=False,
                 prefix=(prefix, cache))
    cache.crop(-5)
    with pytest.raises(ValueError, match=f"holds {len(prefix) - 5} tokens, its token ids {len(prefix)}"):
        generate(wide_model, tokenizer, questions, progress=False, prefix=(prefix, cache))
    # The same cache, cut to the tokens it holds, serves the prompts that start with them.
    kept = prefix[:-5]
    answers = generate(wide_model, tokenizer, questions, progress=False, prefix=(kept, cache))
    assert [a.text for a in answers] == alone(wide_model, tokenizer, questions)
    assert cache.get_seq_length() == len(kept)  # generate answered from copies
    # The answers are read from the cache given, not from the prompts' text: a cache of other tokens
    # changes them.
    other = prefill(wide_model, kept[::-1])
    misread = generate(wide_model, tokenizer, questions, progress=False, prefix=(kept, other))
    assert [a.text for a in misread] != [a.text for a in answers]


def test_no_questions_is_a_clear_error(wide_model, tokenizer, world):
    with pytest.raises(ValueError, match="no questions"):
        ask_long_prompt(wide_model, tokenizer, long_prompt(world, list(world.documents)[:1]), [])


# ---------------------------------------------------------------- the position curve

def test_the_asked_leaflet_is_at_the_start_middle_or_end(world):
    order = leaflet_orders(world, count=1)[0][:6]
    for size, expected in {1: (0, 0, 0), 5: (0, 2, 4), 6: (0, 2, 5)}.items():
        prompt = long_prompt(world, order[:size])
        where = sorted((prompt.prefix.index(passage_text(world.documents[d])), d) for d in order[:size])
        in_prompt = [d for _, d in where]
        assert [in_prompt.index(leaflet_at(order, size, p)) for p in POSITIONS] == list(expected)


def test_bad_sizes_and_positions_get_clear_errors(wide_model, tokenizer, world):
    order = list(world.documents)[:6]
    for size in (0, 7):
        with pytest.raises(ValueError, match="give a size from 1 to 6"):
            leaflet_at(order, size, "start")
    with pytest.raises(ValueError, match="choose one of start, middle, end"):
        leaflet_at(order, 2, "top")
    with pytest.raises(ValueError, match="size 7"):
        position_curve(wide_model, tokenizer, world, [order], lambda drug: about(world, drug), sizes=(1, 7))
    with pytest.raises(ValueError, match="appear more than once"):
        position_curve(wide_model, tokenizer, world, [[*order, order[0]]], lambda drug: about(world, drug), sizes=(1,))
    with pytest.raises(ValueError, match="no leaflet orders"):
        position_curve(wide_model, tokenizer, world, [], lambda drug: about(world, drug), sizes=(1,))


def test_the_curve_cut_from_one_prefix_answers_as_the_shorter_prompts_do(wide_model, tokenizer, world):
    orders = [order[:6] for order in leaflet_orders(world, count=2, seed=5)]
    sizes = (1, 3, 6)
    curve = position_curve(wide_model, tokenizer, world, orders, lambda drug: about(world, drug)[:2], sizes,
                           shots=TWO_SHOTS, batch_size=3)
    assert set(curve) == {(size, p) for size in sizes for p in POSITIONS}
    for (size, position), results in curve.items():
        expected_questions, expected_texts = [], []
        for order in orders:
            questions = about(world, leaflet_at(order, size, position))[:2]
            prompt = long_prompt(world, order[:size], TWO_SHOTS)
            expected_questions += questions
            expected_texts += alone(wide_model, tokenizer, [prompt.prompt(q.text) for q in questions])
        assert [r.question for r in results] == expected_questions
        assert [r.answer.text for r in results] == expected_texts
    assert len({r.answer.text for results in curve.values() for r in results}) > 1

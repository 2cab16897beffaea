"""utils/lessons/reader_domains.py: passages of other kinds than drug leaflets for the reader adapter, and
recipes.reader_pairs' `domains` option that puts them in place of leaflets without lengthening training."""
import re
from collections import Counter
from itertools import islice

import pytest

from utils.lessons.reader_data import reader_examples
from utils.lessons.reader_domains import DOMAINS, domain_passages, training_words, with_other_domains
from utils.lessons.recipes import reader_pairs
from utils.tasks.outside import FORMS
from utils.tasks.world import UNKNOWN


def spans(value: str, text: str) -> int:
    return len(re.findall(rf"(?<!\w){re.escape(value.lower())}(?!\w)", text.lower()))


@pytest.fixture(scope="module")
def sample():
    """(passage, its examples) for ten passages of each domain."""
    return list(islice(domain_passages(seed=0), 10 * len(DOMAINS)))


def test_every_answer_is_a_span_of_its_passage_written_once(sample):
    for passage, examples in sample:
        for e in examples:
            assert e.passage == passage.text
            if e.answer != UNKNOWN:
                assert spans(e.answer, passage.text) == 1, (e.answer, passage.text)


def test_a_question_answered_unknown_asks_for_a_fact_the_passage_leaves_out(sample):
    unknown = 0
    for passage, examples in sample:
        assert passage.left_out and passage.stated
        for fact in passage.left_out:
            value = passage.values[fact.slot]
            assert spans(value, passage.text) == 0
            assert not any(s.format(value=value, **passage.context) in passage.text for s in fact.sentences)
        for e in examples:
            if e.answer == UNKNOWN:
                unknown += 1
                cores = [c.format(**passage.context).lower() for f in passage.left_out for c in f.cores]
                assert any(core[1:] in e.question.lower() for core in cores), e.question
    assert 0.15 * len(sample) < unknown < 0.5 * len(sample)


def test_questions_take_every_form_and_look_alike_answers_are_asked_together(sample):
    forms = Counter()
    for passage, examples in sample:
        by_answer = {passage.values[f.slot]: f for f in passage.stated}
        asked = [by_answer[e.answer] for e in examples if e.answer != UNKNOWN]
        forms.update(f.form for f in asked)
        alike = [f for f in passage.stated if f.kind == asked[0].kind and f is not asked[0]]
        assert not alike or asked[1] in alike  # the second question tells apart two names, two amounts...
    assert set(forms) == set(FORMS)
    assert len({p.domain for p, _ in sample}) == len(DOMAINS) >= 8


def test_passages_are_drawn_from_the_seed():
    def first(seed):
        return [examples for _, examples in islice(domain_passages(seed), 20)]
    assert first(0) == first(0) != first(1)


def test_the_default_pairs_are_todays_leaflets_only(worlds):
    assert with_other_domains(reader_examples(worlds, seed=1), 0.0, seed=1) == reader_examples(worlds, seed=1)
    default = reader_pairs(worlds)
    assert default == reader_pairs(worlds, domains=0.0, seed=0)
    assert all(pair[0].startswith("Passage: ") and "Q: " in pair[0] for pair in default)
    assert len(default) == 176  # a pair a leaflet


def pair_words(pairs) -> int:
    return sum(len(text.split()) for pair in pairs for text in pair)


@pytest.mark.parametrize("share", [0.25, 0.5, 1.0])
def test_other_domains_replace_leaflets_word_for_word(worlds, share):
    leaflets = reader_examples(worlds)
    mixed = with_other_domains(leaflets, share)
    passages = list(dict.fromkeys(e.passage for e in leaflets))
    kept = passages[:round(len(passages) * (1 - share))]
    assert [e for e in mixed if e.passage in kept] == [e for e in leaflets if e.passage in kept]
    assert abs(training_words(mixed) - training_words(leaflets)) < 200  # within one passage
    # the training pairs, prompts included, stay within 10 % of today's words
    assert abs(pair_words(reader_pairs(worlds, domains=share)) / pair_words(reader_pairs(worlds)) - 1) < 0.1
    other = [e for e in mixed if e.passage not in kept]
    assert other and not set(e.passage for e in other) & set(passages)


@pytest.mark.parametrize("share", [-0.1, 1.5, "half", True])
def test_an_impossible_share_is_a_clear_error(worlds, share):
    with pytest.raises(ValueError, match="share of passages from other domains is a number from 0 to 1"):
        reader_pairs(worlds, domains=share)

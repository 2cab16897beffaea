import math

import numpy as np
import pytest

from utils.tasks.retrieval import (
    Retriever,
    choose_threshold,
    did_you_mean,
    gold_leaflet,
    near_names,
    recall_at,
    split_answerable,
    split_by_drug,
    tokenize,
)
from utils.tasks.world import load_world

LEAFLETS = {
    "Altrevon": "# Altrevon\n\nAltrevon treats motion sickness. It is made by Oskwell Sciences.",
    "Baxiflor": "# Baxiflor\n\nBaxiflor is used to treat rosacea. Halvern Labs makes it.",
    "Calvenix": "# Calvenix\n\nDoctors prescribe Calvenix for pneumonia. It is produced by Corvane Pharma.",
}


@pytest.fixture(scope="module")
def world():
    return load_world("t0")


def test_empty_query_says_what_to_do():
    retriever = Retriever(LEAFLETS)
    for query in ("", "   \n", None):
        with pytest.raises(ValueError, match="Empty query"):
            retriever.search(query)
    with pytest.raises(ValueError, match="only stopwords"):
        retriever.search("What is it?")


def test_empty_corpus_and_empty_document_say_what_to_fix():
    with pytest.raises(ValueError, match="No documents to index"):
        Retriever({})
    with pytest.raises(ValueError, match="'Baxiflor' has no searchable words"):
        Retriever({**LEAFLETS, "Baxiflor": "  "})
    # A heading has words to find, but nothing below it for a reader to read.
    for heading_only in ("# Baxiflor\n\n", "# Baxiflor"):
        with pytest.raises(ValueError, match="'Baxiflor' has only a heading: a reader would get an empty passage"):
            Retriever({**LEAFLETS, "Baxiflor": heading_only})


def test_bad_k():
    retriever = Retriever(LEAFLETS)
    for k in (0, -1, 1.5):
        with pytest.raises(ValueError, match="k must be"):
            retriever.search("rosacea", k=k)
    assert len(retriever.search("rosacea", k=10)) == len(LEAFLETS)  # more than there are: all


def test_search_returns_best_passage_with_its_drug_and_score():
    top, *rest = Retriever(LEAFLETS).search("What is prescribed for pneumonia?", k=3)
    assert top.drug == "Calvenix" and top.text == LEAFLETS["Calvenix"]
    assert top.score > 0 and all(p.score < top.score for p in rest)


def test_an_edited_document_is_found_with_its_new_text():
    retriever = Retriever(LEAFLETS)
    edited = "# Baxiflor\n\nBaxiflor is used to treat gout. Halvern Labs makes it."
    seconds = retriever.update({"Baxiflor": edited})
    assert 0 < seconds < 1
    assert len(retriever.documents) == len(LEAFLETS)  # replaced, not added
    top = retriever.search("Which drug treats gout?", k=1)[0]
    assert (top.drug, top.text) == ("Baxiflor", edited)
    # The old text is gone: no leaflet mentions rosacea any more.
    assert all(p.score == 0 and p.text != LEAFLETS["Baxiflor"]
               for p in retriever.search("rosacea", k=3))


def test_update_adds_a_new_document():
    retriever = Retriever(LEAFLETS)
    retriever.update({"Dravolin": "# Dravolin\n\nDravolin treats ringworm."})
    assert retriever.search("ringworm", k=1)[0].drug == "Dravolin"


def test_replace_all_indexes_exactly_the_given_documents_as_a_fresh_retriever_does():
    retriever = Retriever(LEAFLETS)
    kept = {name: LEAFLETS[name] for name in ("Calvenix", "Altrevon")}
    assert 0 < retriever.replace_all(kept) < 1
    assert retriever.documents == kept and list(retriever.documents) == list(kept)
    # Baxiflor's leaflet is gone: rosacea is in no leaflet any more.
    assert all(p.score == 0 and p.drug != "Baxiflor" for p in retriever.search("rosacea", k=3))
    fresh = Retriever(kept)
    for query in ("Who makes Altrevon?", "pneumonia", "motion sickness Corvane Pharma"):
        np.testing.assert_array_equal(retriever.scores(query), fresh.scores(query))


def test_replace_all_keeps_the_old_documents_when_the_new_ones_are_bad():
    retriever = Retriever(LEAFLETS)
    for bad, message in (({}, "No documents to index"), ({"Baxiflor": "What is it?"}, "has no searchable words")):
        with pytest.raises(ValueError, match=message):
            retriever.replace_all(bad)
        assert retriever.documents == LEAFLETS and retriever.search("rosacea", 1)[0].drug == "Baxiflor"


def test_a_word_in_no_leaflet_scores_zero_everywhere():
    passages = Retriever(LEAFLETS).search("What does Kestomar cure?", k=3)
    assert [p.score for p in passages] == [0.0, 0.0, 0.0]
    assert [p.drug for p in passages] == list(LEAFLETS)  # ties keep the documents' order


def test_recall_on_a_small_real_corpus(world):
    names = list(world.drugs)[:8]
    retriever = Retriever({n: world.documents[n] for n in names})
    questions = [q for kind in ("trained", "paraphrase", "documented")
                 for q in world.questions(kind) if q.drug in names]
    assert len(questions) == 8 * 2 + 8 * 2 + 8
    assert all(retriever.search(q.text, k=1)[0].drug == q.drug for q in questions)
    reversed_ = [q for q in world.questions("reversed") if q.answer in names]
    assert all(retriever.search(q.text, k=1)[0].drug == q.answer for q in reversed_)
    assert recall_at(retriever, questions + reversed_, 1) == 1.0


def test_recall_at_k_counts_the_answers_leaflet_among_the_k_best(world):
    retriever = Retriever({n: world.documents[n] for n in list(world.drugs)[:8]})
    reversed_ = next(q for q in world.questions("reversed") if q.answer in retriever.documents)
    assert gold_leaflet(reversed_) == reversed_.answer  # "Which drug treats X?": the answer's leaflet
    outside = next(q for q in world.questions("trained") if q.drug not in retriever.documents)
    assert gold_leaflet(outside) == outside.drug
    assert recall_at(retriever, [reversed_, outside], 1) == recall_at(retriever, [reversed_, outside], 8) == 0.5


def bm25_by_hand(word: str, document: list[str], corpus: list[list[str]], k1=1.5, b=0.75) -> float:
    """One query word's BM25 score for one document, as notebook 04 computes it: bm25s's default
    "lucene" variant, idf ln(1 + (N - df + 0.5) / (df + 0.5)) times tf / (tf + k1 (1 - b + b len / avg))."""
    df = sum(word in d for d in corpus)
    idf = math.log(1 + (len(corpus) - df + 0.5) / (df + 0.5))
    tf = document.count(word)
    return idf * tf / (tf + k1 * (1 - b + b * len(document) / np.mean([len(d) for d in corpus])))


def test_a_one_word_query_scores_what_the_bm25_formula_gives_by_hand():
    # Leaflets of different lengths, a word in two of them and a word said twice: every part of the formula counts.
    leaflets = {**LEAFLETS, "Dravolin": "# Dravolin\n\nDravolin treats ringworm; Dravolin is made by Oskwell Sciences "
                                        "in tablets for ringworm of the scalp, the feet and the nails."}
    retriever = Retriever(leaflets)
    corpus = tokenize(list(leaflets.values()))
    assert sum("oskwell" in d for d in corpus) == 2 and corpus[-1].count("ringworm") == 2
    for word in sorted({w for d in corpus for w in d}):
        by_hand = [bm25_by_hand(word, d, corpus) for d in corpus]
        assert retriever.scores(word) == pytest.approx(by_hand, abs=1e-5), word


def test_deterministic(world):
    a, b = Retriever(world.documents), Retriever(world.documents)
    for q in world.questions("paraphrase")[:20]:
        assert a.search(q.text, k=5) == b.search(q.text, k=5) == a.search(q.text, k=5)


def test_tokenize_drops_question_words_and_keeps_names_and_numbers():
    assert tokenize(["Which drug treats Motion sickness? At most 2000 mg."]) == [["motion", "sickness", "2000", "mg"]]


class Scored:
    """A retriever whose questions are their own top scores, e.g. "1.2": to put scores where a test wants them."""
    def top_score(self, question: str) -> float:
        return float(question)


def test_choose_threshold_splits_in_the_middle_of_the_gap():
    assert choose_threshold(Scored(), ["1.2", "2.0", "3.1"], ["0.0", "0.6"]) == pytest.approx(0.9)


def test_choose_threshold_with_overlap_makes_fewest_errors():
    # One unanswerable question scores like an answerable one: the best cut misclassifies only it.
    t = choose_threshold(Scored(), ["1.0", "1.5", "2.0"], ["0.1", "0.2", "1.7"])
    assert 0.2 < t <= 1.0


def test_choose_threshold_needs_both_kinds():
    with pytest.raises(ValueError, match=r"answer and questions they do not.*\(got 1 answerable, 0 unanswerable\)"):
        choose_threshold(Scored(), ["1.0"], [])


def test_best_is_the_top_passage_at_or_above_the_threshold_and_above_zero():
    retriever = Retriever(LEAFLETS)
    top = retriever.search("What is prescribed for pneumonia?", 1)[0]
    assert retriever.top_score("What is prescribed for pneumonia?") == top.score > 0
    assert retriever.best("What is prescribed for pneumonia?", top.score) == top  # at the threshold: read
    assert retriever.best("What is prescribed for pneumonia?", top.score + 1e-6) is None
    # No word of the question in any leaflet: every score 0, and no threshold makes it a match.
    assert retriever.best("What does Kestomar cure?", 0.0) is None


def test_split_by_drug_shares_no_drug_and_keeps_both_kinds(world):
    questions = [q for kind in ("trained", "reversed", "unknown") for q in world.questions(kind)]
    calibration, held_out = split_by_drug(questions)
    assert sorted(calibration + held_out, key=questions.index) == questions
    assert not {q.drug for q in calibration} & {q.drug for q in held_out}
    for half in (calibration, held_out):
        assert {"trained", "reversed", "unknown"} <= {q.kind for q in half}
    # The same drug's questions of every kind stay together: Altrevon, the first drug, is calibration's.
    assert {q.kind for q in calibration if q.drug == "Altrevon"} == {"trained", "reversed"}


def test_the_threshold_separates_answerable_and_unknown_questions(world):
    retriever = Retriever(world.documents)
    questions = world.questions("unknown")[:2] + world.questions("trained")[:4]
    answerable, unanswerable = split_answerable(questions)
    assert answerable == [q.text for q in questions[2:]] and unanswerable == [q.text for q in questions[:2]]
    known, unknown = [retriever.top_score(q) for q in answerable], [retriever.top_score(q) for q in unanswerable]
    # No leaflet names a drug that does not exist: only a word like "makes" matches.
    assert max(unknown) < min(known)
    threshold = choose_threshold(retriever, answerable, unanswerable)
    assert threshold == pytest.approx((max(unknown) + min(known)) / 2)
    assert all(retriever.best(q, threshold) for q in answerable)
    assert not any(retriever.best(q, threshold) for q in unanswerable)


def notebook_04_halves(world):
    """Notebook 04's (calibration, held-out) questions: every other drug's, and the rest."""
    return split_by_drug([q for kind in ("trained", "paraphrase", "reversed", "documented", "unknown")
                          for q in world.questions(kind)])


def test_a_threshold_chosen_on_half_the_drugs_holds_on_the_other_half(world):
    """Notebook 04's calibration: chosen on every other drug, it abstains on the held-out unknown drugs
    and reads every held-out answerable question."""
    retriever = Retriever(world.documents)
    calibration, held_out = notebook_04_halves(world)
    threshold = choose_threshold(retriever, *split_answerable(calibration))
    answerable, unanswerable = split_answerable(held_out)
    assert all(retriever.best(q, threshold) for q in answerable)
    assert not any(retriever.best(q, threshold) for q in unanswerable)


def test_the_threshold_abstains_on_real_drugs_and_cannot_catch_unstated_attributes(world):
    """A real medicine the formulary lacks is as absent from the leaflets as an invented one; a question
    about an attribute no leaflet states names a drug of the world, so its own leaflet comes first and
    only the reader can say "unknown"."""
    retriever = Retriever(world.documents)
    calibration, _ = notebook_04_halves(world)
    threshold = choose_threshold(retriever, *split_answerable(calibration))
    assert not any(retriever.best(q.text, threshold) for q in world.questions("real_drug"))
    found = [retriever.best(q.text, threshold) for q in world.questions("unstated")]
    assert [p.drug if p else None for p in found] == [q.drug for q in world.questions("unstated")]


@pytest.mark.parametrize("kind", ["real_drug", "unstated"])
def test_split_answerable_refuses_the_kinds_kept_out_of_calibration(world, kind):
    questions = world.questions("trained")[:2] + world.questions("unknown")[:2] + world.questions(kind)[:1]
    with pytest.raises(ValueError, match=rf"'{kind}' are kept out of the threshold's calibration"):
        split_answerable(questions)


def test_a_misspelt_name_gets_the_close_leaflet_names(world):
    names = list(world.documents)
    # One letter off a near-name pair: both are offered, in a stable order.
    near = near_names("What does Dravilin treat?", names)
    assert list(near) == ["Dravilin"] and sorted(near["Dravilin"]) == ["Dravelin", "Dravolin"]
    assert did_you_mean("What does Dravilin treat?", names) == \
        "no leaflet mentions Dravilin; did you mean Dravelin or Dravolin?"
    assert did_you_mean("who makes altrevonn", names) == "no leaflet mentions altrevonn; did you mean Altrevon?"
    # A name spelt right (in any case), words far from every name, and short words: nothing to say.
    for question in ("What does Dravelin treat?", "what does DRAVELIN treat?", "Which drug treats migraines?",
                     "Who makes Vex?", ""):
        assert near_names(question, names) == {} and did_you_mean(question, names) == ""
    assert near_names("What does Dravilin treat?", []) == {}

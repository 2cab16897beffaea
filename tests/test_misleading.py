"""utils/lessons/misleading.py and data/makers/: wrong leaflets, dated conflicting versions, the
newest-version rule, maker profiles and two-hop questions."""
import csv
import re
import subprocess
import sys
from dataclasses import replace
from datetime import date

import pytest

from utils.core.config import DATA_DIR
from utils.core.datafiles import DataError
from utils.core.generation import Answer
from utils.lessons.misleading import (
    NEW_DATE,
    OLD_DATE,
    Maker,
    conflicting_pairs,
    dated,
    keep_newest,
    load_makers,
    maker_profiles,
    maker_questions,
    misled_questions,
    second_hop,
    two_hop_questions,
    updated_on,
    version_questions,
    whose_answer,
    with_both_versions,
    with_wrong_leaflets,
    without_change_sentence,
    wrong_leaflet,
    wrong_leaflets,
)
from utils.tasks.scoring import Result, is_correct
from utils.tasks.world import Drug, World

MAKERS_DIR = DATA_DIR / "makers"


@pytest.fixture(scope="module")
def t0(worlds):
    return worlds[0]


@pytest.fixture(scope="module")
def t1(worlds):
    return worlds[1]


@pytest.fixture(scope="module")
def pairs(t0, t1):
    return conflicting_pairs(t0, t1)


def one_drug_world(text, maker="Corvane Pharma", dose=40, others=("Halvern Labs",)):
    """A world of Zed (its leaflet `text`) and one drug per other maker, for leaflets the bundled world lacks."""
    drugs = {"Zed": Drug("Zed", "gout", maker, 2001, dose, "Dr. Ann Lee", "available")}
    drugs.update({f"Other{i}": Drug(f"Other{i}", f"x{i}", m, 2001, 50, "Dr. Bo Li", "available")
                  for i, m in enumerate(others)})
    return World("t0", drugs, {name: text if name == "Zed" else f"# {name}\n\nText." for name in drugs})


# ---------------------------------------------------------------- wrong leaflets

def test_wrong_leaflets_are_reproducible_with_a_seed(t0):
    first = wrong_leaflets(t0, n=10, seed=3)
    assert first == wrong_leaflets(t0, n=10, seed=3)
    assert [w.drug for w in first] != [w.drug for w in wrong_leaflets(t0, n=10, seed=4)]
    assert len({w.drug for w in first}) == 10
    assert [w.attribute for w in first] == ["maker", "max_daily_dose_mg"] * 5


def test_a_wrong_leaflet_is_plausible_and_states_only_the_wrong_value(t0):
    makers = {d.maker for d in t0.drugs.values()}
    doses = sorted({d.max_daily_dose_mg for d in t0.drugs.values()})
    for w in wrong_leaflets(t0, n=40, seed=0):
        drug, original = t0.drugs[w.drug], t0.documents[w.drug]
        assert w.true_value == getattr(drug, w.attribute) != w.leaflet_value
        if w.attribute == "maker":
            assert w.leaflet_value in makers
            assert drug.maker.split()[0].lower() not in w.text.lower() and w.leaflet_value in w.text
            assert w.text.replace(w.leaflet_value, drug.maker) == original  # nothing else changed
        else:
            assert abs(doses.index(w.leaflet_value) - doses.index(drug.max_daily_dose_mg)) <= 2
            assert f"{drug.max_daily_dose_mg} mg" not in w.text and f"{w.leaflet_value} mg" in w.text
            assert w.text.replace(f"{w.leaflet_value} mg", f"{drug.max_daily_dose_mg} mg") == original


def test_every_mention_of_the_value_is_replaced():
    text = ("# Zed\n\nZed is made by Corvane Pharma. Corvane tests each batch; ask Corvane Pharma. "
            "Take at most 1,000 mg a day (1000mg, or 1000 milligrams). Approved in 1000 BC.")
    world = one_drug_world(text, dose=1000)
    maker = wrong_leaflet(world, "Zed", "maker", "Halvern Labs")
    assert maker.text.count("Halvern Labs") == 2 and "Halvern tests" in maker.text and "Corvane" not in maker.text
    dose = wrong_leaflet(world, "Zed", "max_daily_dose_mg", 750)
    assert re.findall(r"\d[\d,]*", dose.text.split("\n", 2)[2]) == ["750", "750", "750", "1000"]  # not the year


@pytest.mark.parametrize("body, attribute, wrong, message", [
    ("Zed is made by CORVANE PHARMA. It treats gout.", "maker", "Halvern Labs", "still mentions 'Corvane Pharma'"),
    ("Zed is made by corvanepharma.com. It treats gout.", "maker", "Halvern Labs", "still mentions"),
    ("Zed: no more than 40\u00a0mg a day.", "max_daily_dose_mg", 50, "still mentions '40 mg' after it was replaced "
                                                                      "by '50 mg'; write the max_daily_dose_mg as"),
    ("Zed treats gout.", "maker", "Halvern Labs", "never states its maker 'Corvane Pharma'"),
])
def test_a_value_left_behind_is_a_clear_error(body, attribute, wrong, message):
    with pytest.raises(DataError, match=re.escape(message)):
        wrong_leaflet(one_drug_world(f"# Zed\n\n{body}"), "Zed", attribute, wrong)


def test_wrong_leaflets_refuse_bad_arguments(t0):
    with pytest.raises(ValueError, match="a wrong leaflet misstates one of"):
        wrong_leaflets(t0, attributes=("treats",))
    with pytest.raises(ValueError, match="n must be between 1 and 40"):
        wrong_leaflets(t0, n=41)
    with pytest.raises(ValueError, match="no drug 'Zepamab' in the t0 world"):
        wrong_leaflet(t0, "Zepamab", "maker", "Halvern Labs")
    with pytest.raises(DataError, match="no other maker of the world"):
        wrong_leaflets(one_drug_world("# Zed\n\nZed is made by Corvane Pharma.", others=()), n=1)


def test_misled_questions_score_against_the_truth_and_against_the_leaflet(t0):
    maker, dose = wrong_leaflets(t0, n=2, seed=1)
    for w, said in ((maker, maker.leaflet_value), (dose, f"{dose.leaflet_value} mg")):
        truth, leaflet = misled_questions(t0, w)
        assert truth.text == leaflet.text and w.drug in truth.text and truth.drug == w.drug
        assert is_correct(leaflet, said) and not is_correct(truth, said)
        assert is_correct(truth, str(w.true_value) + (" mg" if w.attribute != "maker" else ""))
    assert misled_questions(t0, maker)[0].text == f"Who makes {maker.drug}?"


def test_whose_answer_names_the_side_an_answer_agrees_with(t0):
    w = wrong_leaflets(t0, n=1, seed=0)[0]
    truth, leaflet = misled_questions(t0, w)
    said = {"truth": w.true_value, "leaflet": w.leaflet_value, "other": "no idea"}
    shown = {"maker": str, "max_daily_dose_mg": lambda v: v if v == "no idea" else f"{v} mg"}[w.attribute]
    results = [Result(truth, Answer(shown(said[side]), 0.9), False) for side in ("leaflet", "truth", "other")]
    assert whose_answer(results, truth=[truth] * 3, leaflet=[leaflet] * 3) == ["leaflet", "truth", "other"]
    assert whose_answer(results[:1], truth=[truth], leaflet=[leaflet]) == ["leaflet"]
    with pytest.raises(ValueError, match="the side 'truth' has no question worded"):
        whose_answer(results, truth=[], leaflet=[leaflet])


# ---------------------------------------------------------------- conflicting pairs

def test_version_questions_score_the_new_answer_and_the_old_one(t0, t1, pairs):
    for pair in (next(p for p in pairs if p.attribute == a) for a in ("maker", "max_daily_dose_mg")):
        new, old = version_questions(t0, t1, pair)
        assert new.text == old.text and pair.drug in new.text
        said = {"maker": str, "max_daily_dose_mg": lambda v: f"{v} mg"}[pair.attribute]
        assert is_correct(new, said(pair.new_value)) and not is_correct(new, said(pair.old_value))
        assert is_correct(old, said(pair.old_value)) and not is_correct(old, said(pair.new_value))


def test_a_pair_for_every_changed_maker_or_dose(t0, t1, pairs):
    changed = [(n, a) for n, d in t0.drugs.items() for a in ("maker", "max_daily_dose_mg")
               if getattr(d, a) != getattr(t1.drugs[n], a)]
    assert [(p.drug, p.attribute) for p in pairs] == changed and len(changed) == 23
    assert {p.attribute for p in pairs} == {"maker", "max_daily_dose_mg"}


def test_the_new_version_loses_only_the_change_sentence(t0, t1, pairs):
    for p in pairs:
        narrated, new = t1.documents[p.drug], p.new_text.replace(f"Updated: {NEW_DATE}\n\n", "")
        assert "2026" in narrated and "2026" not in new  # t0's drugs were approved by 2024
        assert not re.search(r"acquired|revised|raised|lowered", new)
        removed = [s for s in re.split(r"(?<=\.) (?=[A-Z])", narrated) if s.rstrip() not in new]
        assert len(removed) == 1 and "2026" in removed[0], removed  # one sentence, the narration
        assert new.replace(" ", "") == narrated.replace(removed[0].strip(), "").replace(" ", "")
        assert t1.drugs[p.drug].discoverer in new  # "Dr." does not end a sentence
        old_value = p.old_value.split()[0] if p.attribute == "maker" else f"{p.old_value} mg"
        new_value = p.new_value if p.attribute == "maker" else f"{p.new_value} mg"
        assert old_value not in new and new_value in new
        assert p.old_text == dated(t0.documents[p.drug], OLD_DATE) and old_value in p.old_text


def test_each_version_is_dated_below_its_heading_the_new_one_later(t0, t1, pairs):
    for p in pairs:
        assert p.old_text.startswith(f"# {p.drug}\n\nUpdated: 2024-03-01\n\n")
        assert p.new_text.startswith(f"# {p.drug}\n\nUpdated: 2026-09-01\n\n")
        assert updated_on(p.old_text) == p.old_date < p.new_date == updated_on(p.new_text)
        assert list(p.versions) == [f"{p.drug} (2024-03-01)", f"{p.drug} (2026-09-01)"]
    later = conflicting_pairs(t0, t1, date(2025, 1, 1), date(2027, 2, 3))
    assert updated_on(later[0].new_text) == date(2027, 2, 3)
    with pytest.raises(ValueError, match="old_date 2026-09-01 must come before new_date 2024-03-01"):
        conflicting_pairs(t0, t1, NEW_DATE, OLD_DATE)


def test_a_leaflet_that_does_not_narrate_its_change_is_a_clear_error(t0):
    with pytest.raises(ValueError, match="no sentence of the leaflet of Altrevon mentions its earlier maker "
                                         "'Halvern Labs': the sentence that narrates the change was not found"):
        without_change_sentence(t0.documents["Altrevon"], "maker", "Halvern Labs")
    old = one_drug_world("# Zed\n\nZed is made by Corvane Pharma.")
    new = one_drug_world("# Zed\n\nZed treats gout. Corvane Pharma sold Zed to Halvern Labs in 2026.",
                         maker="Halvern Labs")
    with pytest.raises(DataError, match="only in the sentence that narrates the change"):
        conflicting_pairs(old, new)


# ---------------------------------------------------------------- the newest-version rule

def test_keep_newest_keeps_the_later_version_of_each_drug(t1, pairs):
    both = with_both_versions(t1.documents, pairs)
    assert len(both) == len(t1.documents) + len(pairs)
    i = list(t1.documents).index(pairs[0].drug)
    assert list(both)[i:i + 2] == list(pairs[0].versions)  # in the drug's place, old first
    expected = {**t1.documents, **{p.drug: p.new_text for p in pairs}}
    assert keep_newest(both) == expected and list(keep_newest(both)) == list(t1.documents)
    assert keep_newest(dict(reversed(both.items()))) == expected  # the date decides, not the order


@pytest.mark.parametrize("documents, message", [
    ({"a": "# Zed\n\nOld.", "b": "# Zed\n\nUpdated: 2025-01-01\n\nNew."}, r"\['a'\] has no date line"),
    ({"a": "# Zed\n\nUpdated: 2025-01-01\n\nOld.", "b": "# Zed\n\nUpdated: 2025-01-01\n\nNew."},
     "two versions of Zed have the same date"),
    ({"a": "# Zed\n\nUpdated: 2025-13-01\n\nOld."}, "write the date as YYYY-MM-DD"),
    ({"a": "Zed, without a heading."}, "it must start with '# <its name>'"),
])
def test_keep_newest_says_what_to_fix(documents, message):
    with pytest.raises(ValueError, match=message):
        keep_newest(documents)


def test_documents_with_switched_leaflets(t0, pairs):
    wrong = wrong_leaflets(t0, n=3)
    switched = with_wrong_leaflets(t0.documents, wrong)
    assert list(switched) == list(t0.documents)
    assert {n for n in t0.documents if switched[n] != t0.documents[n]} == {w.drug for w in wrong}
    with pytest.raises(ValueError, match=r"no document for \['Vexalune'\] to replace with both versions"):
        with_both_versions(t0.documents, [replace(pairs[0], drug="Vexalune")])
    with pytest.raises(ValueError, match="already has a date line"):
        dated(pairs[0].new_text, NEW_DATE)


# ---------------------------------------------------------------- makers and two hops

def test_the_makers_generator_reproduces_the_committed_file(tmp_path):
    subprocess.run([sys.executable, str(MAKERS_DIR / "make_makers.py"), "--out", str(tmp_path)],
                   check=True, capture_output=True)
    assert (tmp_path / "makers.csv").read_bytes() == (MAKERS_DIR / "makers.csv").read_bytes()


def test_every_maker_has_its_own_country_and_year_before_its_drugs(t0, t1):
    makers = load_makers()
    assert set(makers) == {d.maker for w in (t0, t1) for d in w.drugs.values()}
    assert len({m.country for m in makers.values()}) == len({m.founded for m in makers.values()}) == len(makers)
    for w in (t0, t1):
        assert all(makers[d.maker].founded < d.year_approved for d in w.drugs.values())


def test_two_hop_answers_match_the_files(t0):
    with open(MAKERS_DIR / "makers.csv", encoding="utf-8") as f:
        rows = {r["maker"]: r for r in csv.DictReader(f)}
    with open(DATA_DIR / "world" / "drugs_t0.csv", encoding="utf-8") as f:
        maker_of = {r["drug"]: r["maker"] for r in csv.DictReader(f)}
    questions = two_hop_questions(t0, load_makers())
    assert len(questions) == 2 * len(maker_of)
    profiles = maker_profiles(load_makers())
    for q in questions:
        column = {"maker_country": "country", "maker_founded": "founded"}[q.attribute]
        assert q.answer == rows[maker_of[q.drug]][column] and q.drug in q.text and q.kind == "two_hop"
        assert q.answer in profiles[maker_of[q.drug]] and q.answer not in t0.documents[q.drug]  # it takes both
    with pytest.raises(DataError, match="no row for 'Corvane Pharma', the maker of Zed in drugs_t0.csv"):
        two_hop_questions(one_drug_world("# Zed\n\nText."), {})


def test_the_second_hop_asks_the_found_maker_for_the_two_hop_answer(t0):
    makers = load_makers()
    facts = {q.text: q.answer for q in maker_questions(makers)}
    assert len(facts) == 2 * len(makers)
    for q in two_hop_questions(t0, makers)[:4]:
        right = second_hop(q, t0.drugs[q.drug].maker)
        assert right.answer == q.answer and facts[right.text] == q.answer  # the maker's own fact
        assert t0.drugs[q.drug].maker in right.text and q.drug not in right.text
        assert second_hop(q, " Someone Else ").text.endswith(("Someone Else based?", "Someone Else founded?"))
    with pytest.raises(ValueError, match="a second hop asks one of"):
        second_hop(t0.questions("trained")[0], "Corvane Pharma")


def test_profiles_state_their_facts_in_leaflet_style_and_name_no_drug(t1):
    makers = load_makers()
    profiles = maker_profiles(makers)
    assert list(profiles) == list(makers)
    for m in makers.values():
        text = profiles[m.name]
        assert text.startswith(f"# {m.name}\n\n") and m.country in text and str(m.founded) in text
        assert 30 <= len(text.split()) <= 85
        assert not any(re.search(rf"\b{drug}\b", text) for drug in t1.drugs)
    skeletons = {re.sub(rf"{m.name}|{m.country}|{m.founded}", "X", profiles[m.name]).split(".")[0]
                 for m in makers.values()}
    assert len(skeletons) >= 3  # several templates, as the leaflets have


GOOD = "maker,country,founded\nHalvern Labs,Norway,1932\n"


@pytest.mark.parametrize("content, message", [
    ("maker,country\nHalvern Labs,Norway\n", "line 1: header must have exactly the columns maker,country,founded "
     "(missing: ['founded'], unexpected or repeated: none)"),
    ("maker,country,founded\nHalvern Labs,Norway\n", "line 2: expected 3 comma-separated fields, found 2"),
    ("maker,country,founded\nHalvern Labs, ,1932\n", "line 2, field 'country': empty; fill it in"),
    (GOOD + "Corvane Pharma,Chile,19x2\n", "line 3, field 'founded': '19x2' is not a year; write four digits"),
    (GOOD + "\nhalvern labs,Chile,1940\n", "line 4, field 'maker': duplicate maker 'halvern labs', already on line 2"),
    (GOOD + '"Corvane Pharma,Chile,1940\n', "line 3: malformed CSV"),
    ("maker,country,founded\n", "line 2: no makers found; add one row per maker"),
])
def test_a_malformed_makers_file_names_file_line_field_and_fix(tmp_path, content, message):
    (tmp_path / "makers").mkdir()
    (tmp_path / "makers" / "makers.csv").write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=re.escape(f"{tmp_path / 'makers' / 'makers.csv'}, {message}")):
        load_makers(tmp_path)


def test_a_makers_file_may_order_its_columns_as_a_spreadsheet_saved_them(tmp_path):
    (tmp_path / "makers").mkdir()
    (tmp_path / "makers" / "makers.csv").write_text("founded,maker,country\n1932,Halvern Labs,Norway\n")
    assert load_makers(tmp_path) == {"Halvern Labs": Maker("Halvern Labs", "Norway", 1932)}


def test_a_makers_file_with_a_byte_order_mark_loads_and_a_missing_one_says_where(tmp_path):
    (tmp_path / "makers").mkdir()
    (tmp_path / "makers" / "makers.csv").write_text(GOOD, encoding="utf-8-sig")
    [maker] = load_makers(tmp_path).values()
    assert (maker.name, maker.country, maker.founded) == ("Halvern Labs", "Norway", 1932)
    (tmp_path / "makers" / "makers.csv").write_bytes(b"maker,country,founded\nCaf\xe9,Chile,1940\n")
    with pytest.raises(DataError, match=r"makers\.csv, byte 25: not UTF-8 text; save it as UTF-8"):
        load_makers(tmp_path)
    with pytest.raises(DataError, match="makers.csv, file: missing; copy the repository's data/makers/"):
        load_makers(tmp_path / "elsewhere")

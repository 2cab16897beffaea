"""utils/combined.py: the XML adapter's diagnosis, completed with a treatment read from a leaflet.

The models are replaced by scripted answers (the composition is what is tested here; notebook 05
measures the real adapters)."""
import pytest

import utils.combined as combined
from utils.clinical import Diagnosis, Note, validate_xml
from utils.combined import (add_treatments, diagnose, expected_treatment, facts_right, find_treatments,
                            parse_dose, score_system)
from utils.evaluate import Answer
from utils.retrieval import Retriever

LEAFLETS = {
    "Vintrabel": "# Vintrabel\n\nQuillon Health makes Vintrabel, a treatment for gout. The maximum daily dose is 40 mg.",
    "Calvenix": "# Calvenix\n\nCalvenix treats pneumonia. Patients should take no more than 1,200 mg a day.",
}
GOUT = "<diagnosis><age>54</age><sex>female</sex><condition>gout</condition><severity>moderate</severity></diagnosis>"
HIVES = GOUT.replace("gout", "hives").replace("54", "30")


@pytest.fixture
def scripted(monkeypatch):
    """generate() answers from a script: the first rule whose key is in the prompt wins."""
    script = {}

    def fake_generate(model, tokenizer, prompts, **kwargs):
        def answer(prompt):
            last = prompt.rsplit("Passage:", 1)[-1]  # the question asked, not the few-shot ones
            return next((a for key, a in script.items() if key in last), "unknown")
        return [Answer(answer(p), 0.9) for p in prompts]

    monkeypatch.setattr(combined, "generate", fake_generate)
    return script


def test_parse_dose():
    assert parse_dose("40 mg") == 40 and parse_dose("1,200 mg a day") == 1200 and parse_dose("25mg") == 25
    assert parse_dose("unknown") is None and parse_dose("40 tablets") is None


def test_a_valid_diagnosis_gets_the_treatment_its_leaflet_gives(scripted):
    scripted.update({"Note: 54F gout": GOUT, "Which drug treats gout": "Vintrabel",
                     "daily dose of Vintrabel": "40 mg", "Note: rash": "<diagnosis>broken"})
    out = diagnose(None, None, None, Retriever(LEAFLETS), 0.1, ["54F gout, moderate", "rash all over"])
    verdict = validate_xml(out[0].xml)
    assert verdict.valid and (verdict.diagnosis.drug, verdict.diagnosis.max_daily_dose_mg) == ("Vintrabel", 40)
    assert out[0].treatment.passage.drug == "Vintrabel"
    assert out[1].xml == "<diagnosis>broken" and out[1].treatment is None  # invalid: left as written


def test_no_leaflet_or_no_answer_means_no_treatment(scripted):
    retriever = Retriever(LEAFLETS)
    scripted.update({"Which drug treats pneumonia": "Calvenix", "daily dose of Calvenix": "no more than a few"})
    # hives: no leaflet mentions it (score 0, below the threshold); pneumonia: no dose in the answer;
    # gout: the reader says unknown.
    assert find_treatments(None, None, retriever, 0.1, ["hives", "pneumonia", "gout"]) == [None, None, None]
    scripted.update({"daily dose of Calvenix": "1,200 mg"})
    found = find_treatments(None, None, retriever, 0.1, ["pneumonia"])[0]
    assert (found.drug, found.max_daily_dose_mg) == ("Calvenix", 1200)


def test_an_edited_leaflet_changes_the_next_diagnosis(scripted):
    retriever = Retriever(LEAFLETS)
    scripted.update({"Note: ": GOUT, "Which drug treats gout": "Vintrabel", "daily dose of Vintrabel": "40 mg"})
    assert "<max_daily_dose_mg>40<" in diagnose(None, None, None, retriever, 0.1, ["gout"])[0].xml
    retriever.update({"Vintrabel": LEAFLETS["Vintrabel"].replace("40 mg", "60 mg")})
    scripted["daily dose of Vintrabel"] = "60 mg"  # the reader reads what the passage now says
    assert "<max_daily_dose_mg>60<" in diagnose(None, None, None, retriever, 0.1, ["gout"])[0].xml


def test_a_leaflet_edit_needs_only_a_new_look_up(scripted):
    retriever = Retriever(LEAFLETS)
    scripted.update({"Which drug treats gout": "Vintrabel", "daily dose of Vintrabel": "40 mg"})
    [first] = add_treatments(None, None, retriever, 0.1, [GOUT])
    retriever.update({"Vintrabel": LEAFLETS["Vintrabel"].replace("40 mg", "60 mg")})
    scripted["daily dose of Vintrabel"] = "60 mg"
    [second] = add_treatments(None, None, retriever, 0.1, [GOUT])
    assert (first.treatment.max_daily_dose_mg, second.treatment.max_daily_dose_mg) == (40, 60)
    assert validate_xml(second.xml).diagnosis.max_daily_dose_mg == 60


def test_empty_notes_are_refused():
    with pytest.raises(ValueError, match="paste a clinical note"):
        diagnose(None, None, None, Retriever(LEAFLETS), 0.1, ["  "])


def test_expected_treatment_follows_the_world(worlds):
    t0, t1 = worlds
    note = Note("n", "test", "s", "text", Diagnosis(70, "male", "pneumonia", "severe"))
    assert expected_treatment(t0, note).max_daily_dose_mg == 20
    assert expected_treatment(t1, note).max_daily_dose_mg == 25  # the dose changed at t1
    insomnia = Note("n", "test", "s", "text", Diagnosis(70, "male", "insomnia", "mild"))
    assert expected_treatment(t0, insomnia).drug == "Duvastrin"
    assert expected_treatment(t1, insomnia).drug is None  # withdrawn at t1


def test_facts_and_validity_are_scored_apart():
    expected = [Diagnosis(54, "female", "gout", "moderate", "Vintrabel", 40)] * 3
    answers = [GOUT.replace("</severity>", "</severity><treatment><drug>Vintrabel</drug>"
                            "<max_daily_dose_mg>40</max_daily_dose_mg></treatment>"),
               GOUT,  # valid, no treatment
               "She has gout; give Vintrabel, at most 40 mg a day."]  # right facts, no XML
    assert [facts_right(a, e) for a, e in zip(answers, expected)] == [True, False, True]
    assert not facts_right("Vintrabel 400 mg", expected[0]) and not facts_right("Vintrabelix 40 mg", expected[0])
    assert facts_right("VINTRABEL, 1,200 mg", Diagnosis(1, "male", "gout", "mild", "Vintrabel", 1200))
    assert score_system(answers, expected) == {"valid": 2 / 3, "facts": 2 / 3, "both": 1 / 3}
    with pytest.raises(ValueError, match="give one each"):
        score_system(answers, expected[:2])


def test_the_base_model_reads_the_leaflet_its_note_matches(monkeypatch, tokenizer):
    prompts = []

    def fake_generate(model, tokenizer, batch, **kwargs):
        prompts.extend(batch)
        return [Answer("free text", 0.5)] * len(batch)

    monkeypatch.setattr(combined, "generate", fake_generate)
    note = "54F with painful gout in the big toe"
    assert combined.base_answers(None, tokenizer, [note]) == ["free text"]
    assert combined.base_answers(None, tokenizer, [note], Retriever(LEAFLETS)) == ["free text"]
    alone, with_leaflet = prompts
    assert note in alone and "Leaflet:" not in alone and "<treatment>" in alone  # the instruction asks for it
    assert "Leaflet: Quillon Health makes Vintrabel" in with_leaflet and with_leaflet.endswith(alone.split(note)[1])


def test_the_held_out_cases_and_a_quick_runs_few_of_each_split(worlds, monkeypatch):
    from utils.clinical import load_notes
    from utils.config import QUICK_PER_GROUP
    t0, t1 = worlds
    notes = load_notes()
    cases = combined.treatment_cases(t0, notes)
    assert cases and all(n.split != "train" and e.drug is not None and e == combined.expected_treatment(t0, n)
                         for n, e in cases)
    changed = combined.changed_treatment_notes(t0, t1, notes)
    assert changed and all(combined.expected_treatment(t0, n) != combined.expected_treatment(t1, n) for n in changed)
    monkeypatch.setenv("FTRAG_QUICK", "1")
    quick = combined.treatment_cases(t0, notes)
    for split in ("test", "unseen_style"):
        assert [c for c in quick if c[0].split == split] == [c for c in cases if c[0].split == split][:QUICK_PER_GROUP]
    assert combined.changed_treatment_notes(t0, t1, notes) == changed[:QUICK_PER_GROUP]


def test_the_explorer_shows_the_combined_diagnosis_and_its_leaflet(scripted):
    from utils.explorer import combined_system

    scripted.update({"Note: gout": GOUT, "Which drug treats gout": "Vintrabel", "daily dose of Vintrabel": "40 mg",
                     "Note: hives": HIVES})
    system = combined_system("combined", None, None, None, Retriever(LEAFLETS), 0.1)
    reply = system.answer("gout")
    assert system.accepts == "note" and "<drug>Vintrabel</drug>" in reply.text
    assert reply.drug == "Vintrabel" and reply.passage.startswith("Quillon Health makes Vintrabel")
    reply = system.answer("hives")  # no leaflet for hives: the diagnosis alone, nothing read
    assert reply.text == HIVES and reply.passage is None

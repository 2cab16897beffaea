"""utils/lessons/combined.py: the XML adapter's diagnosis, completed with a treatment read from a leaflet.

The models are replaced by fakes (the composition is what is tested here; notebook 06 measures the real
adapters): the XML adapter by scripted answers, the reader by one that reads the passage it is given, so
a stale leaflet gives a stale answer."""
import re

import pytest

import utils.lessons.combined as combined
from utils.core.generation import Answer
from utils.lessons.combined import (
    add_treatments,
    diagnose,
    expected_treatment,
    find_treatments,
    parse_dose,
    prescribed,
    says_withdrawn,
    treatment_shots,
    withdrawn_notes,
)
from utils.tasks.clinical import Diagnosis, Note, load_notes, validate_xml
from utils.tasks.prompts import reader_prompt
from utils.tasks.retrieval import Retriever

LEAFLETS = {
    "Vintrabel": "# Vintrabel\n\nQuillon Health makes Vintrabel, a treatment for gout. "
                 "The maximum daily dose is 40 mg.",
    "Calvenix": "# Calvenix\n\nCalvenix treats pneumonia. Patients should take no more than 1,200 mg a day.",
}
GOUT = "<diagnosis><age>54</age><sex>female</sex><condition>gout</condition><severity>moderate</severity></diagnosis>"
HIVES = GOUT.replace("gout", "hives").replace("54", "30")


def read(prompt: str) -> str:
    """A faithful reader: the drug its passage names for the condition asked about, or the dose its
    passage states, read from the prompt's (last) passage; "unknown" when the passage does not say."""
    passage, question = re.search(r"Passage: ([^\n]*)\nQ: ([^\n]*)\nA:$", prompt).groups()
    if asked := re.fullmatch(r"Which drug treats (.+)\?", question):
        return next((d for d in LEAFLETS if d in passage), "unknown") if asked[1] in passage else "unknown"
    if asked := re.fullmatch(r"What is the maximum daily dose of (.+)\?", question):
        dose = re.search(r"(\d[\d,]*) mg", passage)
        return f"{dose[1]} mg" if asked[1] in passage and dose else "unknown"
    return "unknown"


@pytest.fixture
def scripted(monkeypatch):
    """generate() answers from a script (the first rule whose key is in the prompt wins); a reader
    prompt no rule matches is answered by `read`, from its passage."""
    script = {}

    def fake_generate(model, tokenizer, prompts, **kwargs):
        def answer(prompt):
            last = prompt.rsplit("Passage:", 1)[-1]  # the question asked, not the few-shot ones
            scripted = next((a for key, a in script.items() if key in last), None)
            return scripted if scripted is not None else read(prompt) if "Passage:" in prompt else "unknown"
        return [Answer(answer(p), 0.9) for p in prompts]

    import utils.tasks.evaluate
    monkeypatch.setattr(combined, "generate", fake_generate)
    monkeypatch.setattr(utils.tasks.evaluate, "generate", fake_generate)  # the XML adapter's answers (xml_texts)
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
    scripted.update({"daily dose of Calvenix": "no more than a few", "Which drug treats gout": "unknown"})
    # hives: no leaflet mentions it (score 0, below the threshold); pneumonia: no dose in the answer;
    # gout: the reader says unknown.
    assert find_treatments(None, None, retriever, 0.1, ["hives", "pneumonia", "gout"]) == [None, None, None]
    del scripted["daily dose of Calvenix"]  # the reader reads "1,200 mg" in the leaflet
    found = find_treatments(None, None, retriever, 0.1, ["pneumonia"])[0]
    assert (found.drug, found.max_daily_dose_mg) == ("Calvenix", 1200)


def test_notes_that_share_a_condition_share_its_look_up(scripted, monkeypatch):
    asked = []
    fake = combined.generate
    monkeypatch.setattr(combined, "generate", lambda m, t, prompts, **kw: asked.extend(prompts) or fake(m, t, prompts))
    found = find_treatments(None, None, Retriever(LEAFLETS), 0.1, ["gout", "pneumonia", "gout", "gout"])
    gout, pneumonia = ("Vintrabel", 40), ("Calvenix", 1200)
    assert [(t.drug, t.max_daily_dose_mg) for t in found] == [gout, pneumonia, gout, gout]
    assert len(asked) == len(set(asked)) == 4  # each condition's drug, then its dose, asked once


def test_the_fake_reader_reads_its_passage():
    assert read(reader_prompt(LEAFLETS["Calvenix"], "Which drug treats pneumonia?")) == "Calvenix"
    assert read(reader_prompt(LEAFLETS["Calvenix"], "Which drug treats gout?")) == "unknown"
    assert read(reader_prompt(LEAFLETS["Vintrabel"], "What is the maximum daily dose of Vintrabel?")) == "40 mg"


def test_an_edited_leaflet_changes_the_next_diagnosis(scripted):
    retriever = Retriever(LEAFLETS)
    scripted["Note: "] = GOUT  # the reader answers from whichever leaflet retrieval hands it
    assert "<max_daily_dose_mg>40<" in diagnose(None, None, None, retriever, 0.1, ["gout"])[0].xml
    retriever.update({"Vintrabel": LEAFLETS["Vintrabel"].replace("40 mg", "60 mg")})
    assert "<max_daily_dose_mg>60<" in diagnose(None, None, None, retriever, 0.1, ["gout"])[0].xml


def test_a_leaflet_edit_needs_only_a_new_look_up(scripted):
    retriever = Retriever(LEAFLETS)
    [first] = add_treatments(None, None, retriever, 0.1, [GOUT])
    retriever.update({"Vintrabel": LEAFLETS["Vintrabel"].replace("40 mg", "60 mg")})
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
    from utils.core.config import QUICK_PER_GROUP
    from utils.tasks.clinical import load_notes
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
    # A few of each kind of change: a new dose of the same drug, and a drug that did not exist at t0.
    new_drug = [n for n in changed if combined.expected_treatment(t0, n).drug is None]
    new_dose = [n for n in changed if n not in new_drug]
    assert new_drug and new_dose
    quick_changed = combined.changed_treatment_notes(t0, t1, notes)
    assert sorted(quick_changed, key=changed.index) == sorted(new_drug[:QUICK_PER_GROUP] + new_dose[:QUICK_PER_GROUP],
                                                              key=changed.index)


def test_the_explorer_shows_the_combined_diagnosis_and_its_leaflet(scripted):
    from utils.lessons.explorer import combined_system

    scripted.update({"Note: gout": GOUT, "Which drug treats gout": "Vintrabel", "daily dose of Vintrabel": "40 mg",
                     "Note: hives": HIVES})
    system = combined_system(None, None, None, Retriever(LEAFLETS), 0.1)
    reply = system.answer("gout")
    assert system.accepts == "note" and "<drug>Vintrabel</drug>" in reply.text
    assert reply.drug == "Vintrabel" and reply.passage.startswith("Quillon Health makes Vintrabel")
    reply = system.answer("hives")  # no leaflet for hives: the diagnosis alone, nothing read
    assert reply.text == HIVES and reply.passage is None


def test_a_withdrawn_drug_is_never_prescribed(scripted):
    """The reader still names the drug (it reads the leaflet), but plain code refuses it: the XML keeps
    no treatment and the answer says why."""
    withdrawn = {**LEAFLETS, "Vintrabel": LEAFLETS["Vintrabel"] + " Vintrabel was withdrawn from the market in 2026."}
    scripted["Note: "] = GOUT
    [d] = diagnose(None, None, None, Retriever(withdrawn), 0.1, ["gout"])
    assert d.xml == GOUT and prescribed([d]) == [None]
    assert d.treatment.withdrawn and d.treatment.drug == "Vintrabel" and "Vintrabel was withdrawn" in d.warning
    [d] = diagnose(None, None, None, Retriever(LEAFLETS), 0.1, ["gout"])  # the t0 leaflet: prescribed
    assert prescribed([d]) == ["Vintrabel"] and d.warning == ""
    assert says_withdrawn("Withdrawn from the market in 2026, X is no longer sold.") and not says_withdrawn(
        "Withdrawal symptoms are rare.")


def test_every_withdrawn_leaflet_of_the_world_is_recognised(worlds):
    t0, t1 = worlds
    gone = [name for name, drug in t1.drugs.items() if drug.status == "withdrawn"]
    assert len(gone) == 4 and all(says_withdrawn(t1.documents[name]) for name in gone)
    assert not any(says_withdrawn(text) for text in t0.documents.values())
    notes = withdrawn_notes(t0, t1, load_notes())
    assert notes and all(n.split != "train" and t1.drugs[expected_treatment(t0, n).drug].status == "withdrawn"
                         for n in notes)


def test_the_few_shot_examples_show_a_leaflet_and_the_treatment_it_gives(worlds):
    t0, _ = worlds
    insomnia = Note("a", "train", "s", "71M insomnia, moderate.", Diagnosis(71, "male", "insomnia", "moderate"))
    nausea = Note("b", "train", "s", "42F nausea, moderate.", Diagnosis(42, "female", "nausea", "moderate"))
    (with_drug, xml), (without, no_drug) = treatment_shots(t0, Retriever(t0.documents), [insomnia, nausea])
    assert with_drug.startswith("Leaflet: ") and "Duvastrin" in with_drug
    assert with_drug.endswith(f"Note: {insomnia.text}")
    assert validate_xml(xml).diagnosis == expected_treatment(t0, insomnia) and "<drug>Duvastrin</drug>" in xml
    assert without.startswith("Leaflet: ") and validate_xml(no_drug).diagnosis == nausea.expected  # no treatment


def test_the_explorer_says_why_a_withdrawn_drug_is_left_out(scripted):
    from utils.lessons.explorer import combined_system

    scripted["Note: gout"] = GOUT
    leaflets = {**LEAFLETS, "Vintrabel": LEAFLETS["Vintrabel"] + " Withdrawn from the market in 2026."}
    reply = combined_system(None, None, None, Retriever(leaflets), 0.1).answer("gout")
    assert reply.text == f"{GOUT} (no treatment: Vintrabel was withdrawn (its leaflet says so))"
    assert reply.drug == "Vintrabel"


def test_a_constraint_reaches_the_diagnosis_step_only(scripted, monkeypatch):
    scripted.update({"Note: 54F gout": GOUT})
    calls = []
    answer = combined.generate  # the scripted fake

    def recording(model, tokenizer, prompts, **kwargs):
        calls.append((prompts[0].split("\n")[0][:5], kwargs.get("constraint")))
        return answer(model, tokenizer, prompts, **kwargs)

    import utils.tasks.evaluate
    monkeypatch.setattr(combined, "generate", recording)
    monkeypatch.setattr(utils.tasks.evaluate, "generate", recording)
    grammar = object()  # stands for constraint.diagnosis_constraint(tokenizer, treatment=False)
    [d] = diagnose(None, None, None, Retriever(LEAFLETS), 0.1, ["54F gout, moderate"], constraint=grammar)
    assert "<drug>Vintrabel</drug>" in d.xml
    # step 1 (the note) under the constraint; the reader's questions (drug, then dose) free
    assert calls == [("Note:", grammar), ("Passa", None), ("Passa", None)]

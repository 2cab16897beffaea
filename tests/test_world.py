"""Tests for the fictional world data (data/world/) and its loader (utils/tasks/world.py)."""

import difflib
import itertools
import re
import shutil
import subprocess
import sys
from collections import Counter

import pytest

from utils.core.config import DATA_DIR
from utils.tasks.world import (
    KINDS,
    UNCALIBRATED_KINDS,
    DataError,
    changed_documents,
    changed_facts,
    load_world,
    naming_words,
    time_points,
)

WORLD_DIR = DATA_DIR / "world"


@pytest.fixture(scope="module")
def t0():
    return load_world("t0")


@pytest.fixture(scope="module")
def t1():
    return load_world("t1")


def edit_distance(a, b):
    a, b = a.lower(), b.lower()
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


# ---------------------------------------------------------------- sizes and invariants

def test_sizes_and_status(t0, t1):
    assert len(t0.drugs) == 40 and len(t1.drugs) == 50
    assert {d.status for d in t0.drugs.values()} == {"available"}
    assert Counter(d.status for d in t1.drugs.values()) == {"available": 46, "withdrawn": 4}
    assert set(t0.drugs) < set(t1.drugs)


def test_unique_conditions_and_discoverers(t1):
    drugs = list(t1.drugs.values())
    assert len({d.treats for d in drugs}) == 50
    assert all(d.treats == d.treats.lower() for d in drugs)
    assert len({d.discoverer for d in drugs}) == 50
    assert all(re.fullmatch(r"Dr\. [A-Z][a-z]+ [A-Z][a-z]+", d.discoverer) for d in drugs)


def test_exactly_one_look_alike_pair(t1):
    names = list(t1.drugs)
    close = [(a, b) for a, b in itertools.combinations(names, 2) if edit_distance(a, b) <= 2]
    assert len(close) == 1
    a, b = close[0]
    assert edit_distance(a, b) == 1
    # the pair must not share any fact, or a mix-up would go unnoticed
    da, db = t1.drugs[a], t1.drugs[b]
    assert all(getattr(da, f) != getattr(db, f) for f in
               ("treats", "maker", "year_approved", "max_daily_dose_mg", "discoverer"))


def test_t0_makers_and_ranges(t0):
    makers = Counter(d.maker for d in t0.drugs.values())
    assert len(makers) == 8 and set(makers.values()) == {5}
    for d in t0.drugs.values():
        assert 1990 <= d.year_approved <= 2024
        assert 5 <= d.max_daily_dose_mg <= 2000
        assert d.name[0].isupper() and d.name[1:].islower()


def test_drift_from_t0_to_t1(t0, t1):
    acquired = {d.maker for d in t0.drugs.values()} - {d.maker for d in t1.drugs.values()}
    assert len(acquired) == 3
    survivors = {d.maker for d in t0.drugs.values()} - acquired
    for maker in acquired:  # all drugs of an acquired maker move to ONE surviving acquirer
        new = {t1.drugs[d.name].maker for d in t0.drugs.values() if d.maker == maker}
        assert len(new) == 1 and new <= survivors
    maker_changes = dose_changes = withdrawn = 0
    for old in t0.drugs.values():
        new = t1.drugs[old.name]
        assert (new.treats, new.year_approved, new.discoverer) == \
               (old.treats, old.year_approved, old.discoverer)
        changes = [new.maker != old.maker, new.max_daily_dose_mg != old.max_daily_dose_mg,
                   new.status != old.status]
        assert sum(changes) <= 1  # each drifted drug has exactly one cause
        maker_changes += changes[0]
        dose_changes += changes[1]
        withdrawn += changes[2]
    assert (maker_changes, dose_changes, withdrawn) == (15, 8, 4)
    added = [d for d in t1.drugs.values() if d.name not in t0.drugs]
    assert len(added) == 10
    assert all(d.year_approved in (2025, 2026) and d.maker in survivors for d in added)


# ---------------------------------------------------------------- documents

@pytest.mark.parametrize("time", ["t0", "t1"])
def test_every_document_states_its_facts(time):
    world = load_world(time)
    for d in world.drugs.values():
        text = world.documents[d.name]
        assert text.splitlines()[0] == f"# {d.name}"
        for fact in (d.treats, d.maker, str(d.year_approved), f"{d.max_daily_dose_mg} mg",
                     d.discoverer):
            assert fact in text, (d.name, fact)
        assert ("withdrawn" in text.lower()) == (d.status == "withdrawn")
        assert 40 <= len(text.split()) <= 90


def test_t1_documents_mention_the_change(t0, t1):
    for old in t0.drugs.values():
        new, text = t1.drugs[old.name], t1.documents[old.name]
        if new.maker != old.maker:
            assert old.maker in text and "acquired" in text
        if new.max_daily_dose_mg != old.max_daily_dose_mg:
            assert f"from {old.max_daily_dose_mg} mg to {new.max_daily_dose_mg} mg" in text
        if new == old:
            assert text == t0.documents[old.name]


def test_documents_use_several_templates(t1):
    def skeleton(d):  # the leaflet with its facts blanked out, first six words
        text = t1.documents[d.name].split("\n", 2)[2]
        for value in (d.name, d.treats, d.maker, str(d.year_approved), d.discoverer):
            text = text.replace(value, "X")
        return " ".join(text.split()[:6])
    assert len({skeleton(d) for d in t1.drugs.values()}) >= 4


def test_generator_reproduces_committed_files(tmp_path):
    subprocess.run([sys.executable, str(WORLD_DIR / "make_world.py"), "--out", str(tmp_path)],
                   check=True, capture_output=True)
    made = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    committed = sorted(p.relative_to(WORLD_DIR) for p in WORLD_DIR.rglob("*")
                       if p.suffix in (".csv", ".md"))
    assert made == committed
    for rel in made:
        assert (tmp_path / rel).read_bytes() == (WORLD_DIR / rel).read_bytes(), rel


# ---------------------------------------------------------------- questions

def _normalise(template):
    text = template.replace("{drug_lower}", "{drug}").replace("{drug}", "X").lower()
    return " ".join(re.findall(r"[a-z']+", text))


def test_held_out_paraphrases_differ_from_training(t0):
    spec = t0.templates
    training = [_normalise(spec[a][k]) for a in ("treats", "maker") for k in ("trained",)]
    training += [_normalise(t) for a in ("treats", "maker") for t in spec[a]["augment"]]
    for attr in ("treats", "maker"):
        assert len(spec[attr]["augment"]) == 3 and len(spec[attr]["paraphrase"]) >= 6
        for held_out in map(_normalise, spec[attr]["paraphrase"]):
            for seen in training:
                ratio = difflib.SequenceMatcher(None, held_out, seen).ratio()
                assert ratio < 0.75, (held_out, seen, ratio)


def test_paraphrase_rotation_is_even(t0):
    qs = t0.questions("paraphrase")
    assert len(qs) == 80
    for attr in ("treats", "maker"):
        pool = t0.templates[attr]["paraphrase"]
        counts = Counter(t for t in pool for q in qs if q.attribute == attr
                         and q.text == t.format(drug=q.drug, drug_lower=q.drug.lower()))
        assert len(counts) == len(pool)  # every held-out template is used ...
        assert max(counts.values()) - min(counts.values()) <= 1  # ... about equally often
    assert len({(q.drug, q.attribute) for q in qs}) == 80  # every trained fact is asked once


def test_question_kinds_and_answers(t0, t1):
    assert len(t0.questions("trained")) == 80
    reversed_qs = t0.questions("reversed")
    assert len(reversed_qs) == 40
    assert len({q.answer for q in reversed_qs}) == 40  # each condition names one drug
    for q in reversed_qs:
        assert t0.drugs[q.answer].treats in q.text
    documented = t0.questions("documented")
    assert len(documented) == 40
    assert Counter(q.attribute for q in documented) == {"max_daily_dose_mg": 14, "year_approved": 13,
                                                        "discoverer": 13}
    expected = {"max_daily_dose_mg": lambda d: f"{d.max_daily_dose_mg} mg",
                "year_approved": lambda d: str(d.year_approved), "discoverer": lambda d: d.discoverer}
    for q in documented:
        assert q.answer == expected[q.attribute](t0.drugs[q.drug])
    for world in (t0, t1):  # withdrawn drugs are still asked
        assert len(world.questions("trained")) == 2 * len(world.drugs)
    with pytest.raises(ValueError):
        t0.questions("augment")


def test_unknown_and_control_do_not_depend_on_time(t0, t1):
    for kind in ("unknown", "control"):
        assert t0.questions(kind) == t1.questions(kind)
    unknown = t0.questions("unknown")
    assert len(unknown) == 40 and {q.answer for q in unknown} == {"unknown"}
    for name in {q.drug for q in unknown}:
        assert all(edit_distance(name, real) >= 3 for real in t1.drugs), name
    control = t0.questions("control")
    assert len(control) == 40 and len({q.text for q in control}) == 40
    assert all(q.answer and q.drug is None for q in control)


def test_real_drug_questions_ask_the_trained_templates_about_medicines_the_formulary_lacks(t0, t1):
    assert KINDS[-len(UNCALIBRATED_KINDS):] == UNCALIBRATED_KINDS == ("real_drug", "unstated")
    real = t0.questions("real_drug")
    names = t0.templates["real_drugs"]
    assert len(real) == 2 * len(names) == 20 and real == t1.questions("real_drug")
    assert {q.answer for q in real} == {"unknown"}
    assert not {q.drug for q in real} & (set(t1.drugs) | set(t0.templates["unknown_drugs"]))
    trained = {(q.text.replace(q.drug, "X"), q.attribute) for q in t0.questions("trained")}
    assert {(q.text.replace(q.drug, "X"), q.attribute) for q in real} == trained
    assert {"ibuprofen", "kestomar"} <= naming_words([t0])  # both kinds of absent name are test names


def test_unstated_questions_ask_each_drug_one_attribute_no_leaflet_states(t0, t1):
    templates = t0.templates["unstated"]
    for world in (t0, t1):
        unstated = world.questions("unstated")
        assert [q.drug for q in unstated] == list(world.drugs)  # one a drug of the world, in file order
        assert {q.answer for q in unstated} == {"unknown"}
        for i, q in enumerate(unstated):
            template = templates[i % len(templates)]
            assert q.attribute == template["attribute"] and q.text == template["question"].format(drug=q.drug)
            assert q.attribute not in world.documents[q.drug].lower()
    assert len(t0.questions("unstated")) == 40
    assert set(Counter(q.attribute for q in t0.questions("unstated")).values()) == {40 // len(templates)}


def test_training_facts(t0):
    assert t0.training_facts() == t0.questions("trained")
    facts = t0.training_facts(n_augment=3)
    assert len(facts) == 80 * 4
    assert {q.text for q in t0.questions("paraphrase")}.isdisjoint(q.text for q in facts)
    with pytest.raises(ValueError):
        t0.training_facts(n_augment=4)


def test_changed_facts(t0, t1):
    facts = changed_facts(t0, t1)
    assert len(facts["changed"]) == 15 and len(facts["new"]) == 20
    assert len(facts["unchanged"]) == 65
    for q in facts["changed"]:
        assert q.attribute == "maker" and q.answer == t1.drugs[q.drug].maker
        assert q.answer != t0.drugs[q.drug].maker
    assert {q.drug for q in facts["new"]} == set(t1.drugs) - set(t0.drugs)


def test_changed_documents_are_the_edited_and_new_leaflets(t0, t1):
    edits = changed_documents(t0, t1)
    assert edits and all(t0.documents.get(name) != text == t1.documents[name] for name, text in edits.items())
    assert set(t1.drugs) - set(t0.drugs) <= set(edits)  # every new drug's leaflet
    assert changed_documents(t0, t0) == {}


def test_deterministic_order():
    a, b = load_world("t1"), load_world("t1")
    for kind in KINDS:
        assert a.questions(kind) == b.questions(kind)
    assert a.training_facts(2) == b.training_facts(2)


# ---------------------------------------------------------------- validation errors

@pytest.fixture
def copy_dir(tmp_path):
    shutil.copytree(WORLD_DIR, tmp_path / "data" / "world")
    return tmp_path / "data"


def _edit_csv(data_dir, line_no, change):
    path = data_dir / "world" / "drugs_t0.csv"
    lines = path.read_text().splitlines()
    lines[line_no - 1] = change(lines[line_no - 1])
    path.write_text("\n".join(lines) + "\n")


def _set_field(column, value):
    def change(line):
        cells = line.split(",")
        cells[column] = value
        return ",".join(cells)
    return change


@pytest.mark.parametrize("line_no, change, message", [
    (1, lambda line: line.replace(",status", ""), "status"),
    (1, lambda line: line + ",price", "price"),
    (5, _set_field(3, "nineteen"), "year_approved"),
    (6, _set_field(4, "40 mg"), "max_daily_dose_mg"),
    (7, _set_field(1, ""), "empty field 'treats'"),
    (8, _set_field(6, "recalled"), "recalled"),
    (9, lambda line: line + ",extra", "fields"),
    (10, lambda line: line.replace(",", ',"', 1), "quotes"),  # unclosed quote
])
def test_bad_csv_names_file_and_line(copy_dir, line_no, change, message):
    _edit_csv(copy_dir, line_no, change)
    with pytest.raises(DataError) as err:
        load_world("t0", copy_dir)
    assert "drugs_t0.csv" in str(err.value) and f"line {line_no}" in str(err.value)
    assert message in str(err.value)


def test_duplicate_drug_and_condition(copy_dir):
    path = copy_dir / "world" / "drugs_t0.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines + [lines[3]]) + "\n")  # repeat the drug on line 4
    with pytest.raises(DataError, match=r"drugs_t0\.csv, line 42: duplicate drug .*line 4"):
        load_world("t0", copy_dir)
    second = lines[4].split(",")
    second[1] = lines[3].split(",")[1]  # line 5 now treats the same condition as line 4
    path.write_text("\n".join(lines[:4] + [",".join(second)] + lines[5:]) + "\n")
    with pytest.raises(DataError, match=r"line 5: duplicate condition"):
        load_world("t0", copy_dir)


def test_missing_and_orphan_document(copy_dir, t0):
    name = list(t0.drugs)[2]  # on CSV line 4
    doc = copy_dir / "world" / "documents" / "t0" / f"{name.lower()}.md"
    doc.rename(doc.with_name("notadrug.md"))
    with pytest.raises(DataError, match=r"notadrug\.md, line 1: no drug"):
        load_world("t0", copy_dir)
    doc.with_name("notadrug.md").unlink()
    with pytest.raises(DataError) as err:
        load_world("t0", copy_dir)
    assert "drugs_t0.csv, line 4" in str(err.value) and f"{name.lower()}.md" in str(err.value)


def test_malformed_json_reports_line(copy_dir):
    path = copy_dir / "world" / "questions.json"
    lines = path.read_text().splitlines()
    i = next(i for i, line in enumerate(lines) if line.endswith('",'))
    lines[i] = lines[i][:-1]  # drop the comma; JSON notices at the start of the next line
    path.write_text("\n".join(lines) + "\n")
    # Reported where the comma is missing, not where the parser noticed.
    with pytest.raises(DataError, match=rf"questions\.json, line {i + 1}, column {len(lines[i]) + 1}: "
                                        rf"a comma is missing after this item; add one"):
        load_world("t0", copy_dir)


def test_unknown_placeholder_reports_line(copy_dir):
    path = copy_dir / "world" / "questions.json"
    text = path.read_text()
    path.write_text(text.replace("Who makes {drug}?", "Who makes {drugname}?"))
    line = next(i for i, line in enumerate(text.splitlines(), 1) if "Who makes {drug}?" in line)
    with pytest.raises(DataError) as err:
        load_world("t0", copy_dir)
    assert f"questions.json, line {line} ($.maker.trained)" in str(err.value)
    assert "drugname" in str(err.value)


def test_missing_time_point_lists_existing(copy_dir):
    with pytest.raises(DataError, match=r"'t2'.*available: t0, t1"):
        load_world("t2", copy_dir)


def test_all_paraphrases_asks_every_held_out_template(t0):
    subset = list(t0.drugs)[:3]
    qs = t0.all_paraphrases(subset)
    n_templates = sum(len(t0.templates[a]["paraphrase"]) for a in ("treats", "maker"))
    assert len(qs) == 3 * n_templates
    assert {q.drug for q in qs} == set(subset) and {q.kind for q in qs} == {"paraphrase"}
    assert set(t0.questions("paraphrase")) <= set(t0.all_paraphrases())
    for q in qs:
        assert q.answer == getattr(t0.drugs[q.drug], q.attribute)


# ---------------------------------------------------------------- files as editors save them, and consistency

def test_byte_order_marks_are_read_as_text(copy_dir, t0):
    """Spreadsheets save "CSV UTF-8" with a byte-order mark, and Windows editors often do."""
    world = copy_dir / "world"
    for path in (world / "drugs_t0.csv", world / "questions.json", world / "documents" / "t0" / "altrevon.md"):
        path.write_text(path.read_text(encoding="utf-8"), encoding="utf-8-sig")
        assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    again = load_world("t0", copy_dir)
    assert again.drugs == t0.drugs and again.documents == t0.documents and again.templates == t0.templates


def test_csv_and_leaflet_disagreements_are_all_listed(copy_dir):
    _edit_csv(copy_dir, 2, _set_field(4, "500"))  # Altrevon: 750 mg in its leaflet
    _edit_csv(copy_dir, 3, _set_field(5, "Dr. Noor Hadly"))  # Baxiflor: a typo of Dr. Noor Hadley
    _edit_csv(copy_dir, 4, _set_field(6, "withdrawn"))  # Bremodyn: its leaflet does not say so
    with pytest.raises(DataError) as err:
        load_world("t0", copy_dir)
    message = str(err.value)
    assert message.startswith(f"{copy_dir / 'world' / 'drugs_t0.csv'}: the CSV and the leaflets in t0/ disagree")
    assert message.splitlines()[1:] == [
        "  line 2: Altrevon's max_daily_dose_mg is '500 mg', but altrevon.md never says '500 mg'",
        "  line 3: Baxiflor's discoverer is 'Dr. Noor Hadly', but baxiflor.md never says 'Dr. Noor Hadly'",
        "  line 4: Bremodyn's status is 'withdrawn', but bremodyn.md never says 'withdrawn'"]


def test_leaflets_may_state_a_fact_in_other_accepted_forms(copy_dir):
    leaflet = copy_dir / "world" / "documents" / "t0" / "altrevon.md"
    text = leaflet.read_text()
    _edit_csv(copy_dir, 2, _set_field(4, "1200"))
    leaflet.write_text(text.replace("750 mg", "1,200 mg").replace("Dr. Ilsa Varga", "Ilsa  Varga")
                       .replace("motion sickness", "Motion Sickness"))
    world = load_world("t0", copy_dir)  # thousands separator, no "Dr.", case and spacing
    assert world.drugs["Altrevon"].max_daily_dose_mg == 1200
    leaflet.write_text(text.replace("750 mg", "1200 mg").replace("2013", "20130"))
    with pytest.raises(DataError, match=r"line 2: Altrevon's year_approved is 2013, but altrevon\.md never says 2013"):
        load_world("t0", copy_dir)


@pytest.mark.parametrize("text, where, problem", [
    ("", "line 1", "the leaflet is empty; write '# Altrevon', then its text"),
    ("# Altrevon\n", "line 2", "the leaflet has only its heading; write its text below it"),
    ("# Altrevon\n\n  \n", "line 2", "the leaflet has only its heading"),
])
def test_empty_and_heading_only_leaflets_are_refused_by_name(copy_dir, text, where, problem):
    leaflet = copy_dir / "world" / "documents" / "t0" / "altrevon.md"
    leaflet.write_text(text)
    with pytest.raises(DataError) as err:
        load_world("t0", copy_dir)
    assert str(err.value).startswith(f"{leaflet}, {where}: {problem}")


def test_trailing_comma_in_questions_json_is_reported_at_the_comma_with_the_fix(copy_dir):
    path = copy_dir / "world" / "questions.json"
    lines = path.read_text().splitlines()
    i = next(i for i, line in enumerate(lines) if line.endswith('"') and lines[i + 1].strip() == "],")
    lines[i] += ","  # a trailing comma after the last template of a list
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError) as err:
        load_world("t0", copy_dir)
    assert str(err.value) == (f"{path}, line {i + 1}, column {len(lines[i])}: a comma after the last item; "
                              f"remove it (JSON allows no trailing comma)")


@pytest.mark.parametrize("text, problem", [
    ('{"treats": {\'trained\': "x"}}', "line 1, column 13: a single quote; JSON strings and keys take double quotes"),
    ('{"treats": {"trained": "What does\n{drug} treat?"}}', "line 1, column 34: a line break or tab inside a string"),
    ('{"treats": {"trained": "x"}', "line 1, column 28: the file ends too early; a closing } or ] is missing"),
    ('{"treats": {}}\n}', "line 2, column 1: more text after the end of the JSON"),
])
def test_other_json_mistakes_say_what_to_fix(copy_dir, text, problem):
    path = copy_dir / "world" / "questions.json"
    path.write_text(text)
    with pytest.raises(DataError) as err:
        load_world("t0", copy_dir)
    assert str(err.value).startswith(f"{path}, {problem}")


def test_missing_folders_are_named_as_such(copy_dir, tmp_path):
    with pytest.raises(DataError, match=r"my_dta: no such folder; give the folder that contains world/"):
        load_world("t0", tmp_path / "my_dta")
    with pytest.raises(DataError, match=r"give the folder that contains world/, not world/ itself"):
        load_world("t0", copy_dir / "world")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"empty: no world/ folder; copy the repository's data/world/ there"):
        load_world("t0", tmp_path / "empty")
    shutil.rmtree(copy_dir / "world" / "documents" / "t1")
    with pytest.raises(DataError, match=r"documents/t1, folder: missing; it needs one <drug lowercase>\.md"):
        load_world("t1", copy_dir)
    assert time_points(copy_dir) == ["t0", "t1"]


@pytest.mark.parametrize("name, problem", [
    ("Altrevon", "'Altrevon' is a drug of the world; real_drugs are real medicines the formulary lacks"),
    ("kestomar", "'kestomar' is also in unknown_drugs; a name is either invented"),
])
def test_a_real_drug_must_be_absent_from_the_world_and_from_unknown_drugs(copy_dir, name, problem):
    path = copy_dir / "world" / "questions.json"
    text = path.read_text()
    path.write_text(text.replace('"Ibuprofen"', f'"{name}"'))
    line = next(i for i, line in enumerate(text.splitlines(), 1) if '"Ibuprofen"' in line)
    with pytest.raises(DataError) as err:
        load_world("t0", copy_dir)
    assert f"questions.json, line {line} ($.real_drugs[0]): {problem}" in str(err.value)


def test_an_unstated_attribute_that_a_leaflet_states_is_refused_by_leaflet(copy_dir):
    leaflet = copy_dir / "world" / "documents" / "t0" / "baxiflor.md"
    leaflet.write_text(leaflet.read_text().rstrip("\n") + " The tablets are white in Colour.\n")
    with pytest.raises(DataError) as err:
        load_world("t0", copy_dir)
    assert "($.unstated[0].attribute)" in str(err.value)
    assert f"the leaflet {leaflet} mentions 'colour', so the question would then be answerable" in str(err.value)
    load_world("t1", copy_dir)  # the t1 leaflets still state no colour
    # A whole word only: "colourless" states no colour.
    leaflet.write_text(leaflet.read_text().replace("in Colour", "and colourless"))
    assert load_world("t0", copy_dir).questions("unstated")[0].attribute == "colour"


def test_unstated_questions_are_checked_like_every_template(copy_dir):
    path = copy_dir / "world" / "questions.json"
    path.write_text(path.read_text().replace('"attribute": "taste"', '"attribute": "  "'))
    with pytest.raises(DataError, match=r"\$\.unstated\[3\]\.attribute: expected a non-empty str"):
        load_world("t0", copy_dir)
    path.write_text(path.read_text().replace("What does {drug} taste like?", "What does {medicine} taste like?"))
    path.write_text(path.read_text().replace('"attribute": "  "', '"attribute": "taste"'))
    with pytest.raises(DataError, match=r"\(\$\.unstated\[3\]\.question\): template uses placeholders \['medicine'\]"):
        load_world("t0", copy_dir)

"""Tests for utils/tasks/clinical.py and data/clinical/: schema, hardened parsing, data quality."""
import importlib.util
import json
import re
import time
from dataclasses import replace
from pathlib import Path

import pytest

from utils.tasks.clinical import SCHEMA_PATH, DataError, Diagnosis, load_notes, to_xml, validate_xml

DATA = Path(SCHEMA_PATH).parent
GOUT = Diagnosis(54, "female", "gout", "moderate")
VALID = ("<diagnosis><age>54</age><sex>female</sex><condition>gout</condition>"
         "<severity>moderate</severity></diagnosis>")


def _make_notes():
    spec = importlib.util.spec_from_file_location("make_notes", DATA / "make_notes.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def notes():
    return load_notes()


def by_split(notes, split):
    return [n for n in notes if n.split == split]


# --- schema and validate_xml -------------------------------------------------

def test_schema_accepts_the_spec_example():
    v = validate_xml(VALID)
    assert v.valid, v.reason
    assert v.diagnosis == GOUT


def test_every_expected_diagnosis_is_schema_valid(notes):
    for n in notes:
        v = validate_xml(to_xml(n.expected))
        assert v.valid, (n.id, v.reason)
        assert v.diagnosis == n.expected


@pytest.mark.parametrize("xml, words", [
    (VALID.replace("<sex>female</sex>", "<sex>f</sex>"), "sex"),                        # wrong enum
    (VALID.replace("moderate", "medium"), "severity"),                                  # wrong enum
    (VALID.replace("<severity>moderate</severity>", ""), "severity"),                   # missing element
    (VALID.replace("<age>54</age><sex>female</sex>", "<sex>female</sex><age>54</age>"), "sex"),  # order
    (VALID.replace("<age>54</age>", "<age>130</age>"), "130"),                          # out of range
    (VALID.replace("<age>54</age>", "<age>-1</age>"), "age"),
    (VALID.replace("<age>54</age>", "<age>fifty</age>"), "age"),
    (VALID.replace("</severity>", "</severity><notes>x</notes>"), "notes"),             # extra element
    (VALID.replace("gout", "Gout"), "condition"),                                       # not lower case
    (VALID.replace("gout", ""), "condition"),                                           # empty
    (VALID.replace("<diagnosis>", '<diagnosis id="1">'), "id"),                         # no attributes
    (VALID.replace("diagnosis>", "dx>"), "dx"),                                         # wrong root
])
def test_schema_rejects(xml, words):
    v = validate_xml(xml)
    assert not v.valid and v.diagnosis is None
    assert v.reason.startswith("schema:") and words in v.reason, v.reason


def test_treatment_is_optional_but_complete_when_present():
    treated = replace(GOUT, drug="colchicine", max_daily_dose_mg=2)
    xml = to_xml(treated)
    assert xml.endswith("<treatment><drug>colchicine</drug><max_daily_dose_mg>2</max_daily_dose_mg>"
                        "</treatment></diagnosis>")
    assert validate_xml(xml).diagnosis == treated
    assert "<treatment>" not in to_xml(GOUT)
    no_dose = VALID.replace("</diagnosis>", "<treatment><drug>colchicine</drug></treatment></diagnosis>")
    assert not validate_xml(no_dose).valid
    zero_dose = xml.replace(">2<", ">0<")
    assert not validate_xml(zero_dose).valid
    with pytest.raises(ValueError):
        to_xml(replace(GOUT, drug="colchicine"))


@pytest.mark.parametrize("d", [
    GOUT,
    Diagnosis(0, "male", "hay fever", "mild"),
    Diagnosis(120, "female", "pleurisy", "severe", "naproxen & co <x>", 1000),
])
def test_to_xml_round_trips(d):
    xml = to_xml(d)
    assert "\n" not in xml and xml.startswith("<diagnosis><age>")
    v = validate_xml(xml)
    assert v.valid, v.reason
    assert v.diagnosis == d


def test_surrounding_whitespace_is_fine_but_surrounding_text_is_not():
    assert validate_xml(f"\n  {VALID}\n").valid
    for text in (f"Here is the XML: {VALID}", f"{VALID} Hope this helps!", f"```xml\n{VALID}\n```"):
        v = validate_xml(text)
        assert not v.valid and v.reason.startswith("not XML:")
        assert "alone" in v.reason, v.reason


@pytest.mark.parametrize("text", ["", "   ", "gout, moderate", "<diagnosis><age>54</age>",
                                  "<diagnosis><age>5</age></sex></diagnosis>", "<a>&undefined;</a>"])
def test_not_xml(text):
    v = validate_xml(text)
    assert not v.valid and v.diagnosis is None
    assert v.reason.startswith("not XML"), v.reason


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE diagnosis [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<diagnosis><age>54</age><sex>female</sex><condition>&lol9;</condition><severity>mild</severity></diagnosis>"""

XXE = """<?xml version="1.0"?>
<!DOCTYPE diagnosis [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<diagnosis><age>54</age><sex>female</sex><condition>&xxe;</condition><severity>mild</severity></diagnosis>"""


def test_billion_laughs_is_refused_quickly():
    start = time.perf_counter()
    v = validate_xml(BILLION_LAUGHS)
    assert time.perf_counter() - start < 1.0
    assert not v.valid and v.diagnosis is None
    assert "DOCTYPE" in v.reason


def test_xxe_never_reads_the_file():
    v = validate_xml(XXE)
    assert not v.valid and v.diagnosis is None
    assert "DOCTYPE" in v.reason
    assert "root:" not in v.reason and "/bin/" not in v.reason


def test_parser_itself_is_hardened():
    """Even past the DOCTYPE check, the parser neither expands nor fetches entities."""
    from lxml import etree

    from utils.tasks.clinical import _parser
    root = etree.fromstring(XXE.encode(), _parser())
    assert b"root:" not in etree.tostring(root)
    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(BILLION_LAUGHS.encode(), _parser())


def test_non_string_input_is_a_verdict_not_a_crash():
    v = validate_xml(None)
    assert not v.valid and "not XML" in v.reason


# --- load_notes errors ---------------------------------------------------------

GOOD_LINE = json.dumps({"id": "n001", "split": "train", "style": "soap", "note": "54F gout, moderate.",
                        "expected": {"age": 54, "sex": "female", "condition": "gout",
                                     "severity": "moderate"}})



def _write(tmp_path, *lines):
    path = tmp_path / "notes.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_load_notes_reads_a_good_file(tmp_path):
    [note] = load_notes(_write(tmp_path, GOOD_LINE))
    assert note.id == "n001" and note.text == "54F gout, moderate." and note.expected == GOUT


@pytest.mark.parametrize("bad, words", [
    ('{"id": "n002", "split": "train",', "one whole JSON object on a single line"),
    (GOOD_LINE.replace('"style": "soap", ', ""), "style"),
    (GOOD_LINE.replace('"train"', '"validation"'), "split"),
    (GOOD_LINE.replace('"moderate"}', '"medium"}'), "severity"),
    (GOOD_LINE.replace('"age": 54', '"age": 130'), "age"),
    (GOOD_LINE.replace('"age": 54', '"age": "54"'), "integer"),
    (GOOD_LINE.replace('"gout"', '"Gout"'), "condition"),
    (GOOD_LINE, "duplicate id"),
])
def test_load_notes_errors_name_file_and_line(tmp_path, bad, words):
    if words != "duplicate id":
        bad = bad.replace('"n001"', '"n002"')
    path = _write(tmp_path, GOOD_LINE, bad)
    with pytest.raises(DataError) as err:
        load_notes(path)
    message = str(err.value)
    assert str(path) in message and "line 2" in message and words in message, message
    assert isinstance(err.value, ValueError)


def test_every_bad_line_is_reported_at_once(tmp_path):
    good = json.loads(GOOD_LINE)
    lines = [GOOD_LINE,
             json.dumps({**good, "id": "n2", "split": "dev"}),
             '{"id": "n3", "split": "train",',
             json.dumps({**good, "id": "n4", "expected": {**good["expected"], "severity": "medium"}}),
             "",
             json.dumps({**good, "id": "n5", "expected": {**good["expected"], "sex": "F"}}),
             json.dumps({**good, "id": "n6", "expected": {**good["expected"], "condition": "Hay Fever"}}),
             json.dumps({**good, "id": "n7", "expected": {**good["expected"], "age": 130}}),
             json.dumps({**good, "id": "n8", "text": "a key of its own"}),
             GOOD_LINE]
    path = _write(tmp_path, *lines)
    with pytest.raises(DataError) as err:
        load_notes(path)
    assert str(err.value).splitlines() == [
        f"{path}: 8 bad lines; fix each:",
        "  line 2: unknown split 'dev'; use one of ['train', 'test', 'unseen_style']",
        "  line 3, column 31: the line ends before the object does; each note must be one whole JSON object "
        "on a single line",
        '  line 4: expected.severity is \'medium\'; it must be "mild", "moderate" or "severe" (diagnosis.xsd)',
        '  line 6: expected.sex is \'F\'; it must be "female" or "male" (diagnosis.xsd)',
        "  line 7: expected.condition is 'Hay Fever'; it must be lower-case words separated by single spaces "
        'or hyphens, e.g. "hay fever" (diagnosis.xsd)',
        "  line 8: expected.age is 130; it must be a whole number from 0 to 120 (diagnosis.xsd)",
        "  line 9: unknown key(s) ['text']; a line has exactly ['id', 'split', 'style', 'note', 'expected']",
        "  line 10: duplicate id 'n001' (first used on line 1); give each note its own id"]


def test_a_file_of_many_bad_lines_lists_the_first_and_counts_the_rest(tmp_path):
    path = _write(tmp_path, *["drug,treats,maker"] * 25)  # the wrong file
    with pytest.raises(DataError) as err:
        load_notes(path)
    lines = str(err.value).splitlines()
    assert lines[0] == f"{path}: 25 bad lines; fix each:" and lines[-1] == "  ... and 5 more" and len(lines) == 22


def test_pretty_printed_json_is_named_as_such(tmp_path):
    note = json.loads(GOOD_LINE)
    path = _write(tmp_path, json.dumps(note, indent=2), json.dumps({**note, "id": "n002"}, indent=2))
    with pytest.raises(DataError) as err:
        load_notes(path)
    assert str(err.value) == (f"{path}: JSON spread over several lines (lines 1-12, 13-24); a notes file holds "
                              f"one note a line, each a whole JSON object (json.dumps(note) writes one)")
    path.write_text(json.dumps([note, note], indent=1))  # one array of notes
    with pytest.raises(DataError, match="JSON spread over several lines"):
        load_notes(path)


def test_a_byte_order_mark_is_not_part_of_the_first_line(tmp_path):
    path = tmp_path / "notes.jsonl"
    path.write_text(GOOD_LINE + "\n", encoding="utf-8-sig")
    assert [n.id for n in load_notes(path)] == ["n001"]


def test_a_missing_notes_file_says_where_the_mistake_is(tmp_path, monkeypatch):
    (tmp_path / "mine").mkdir()
    _write(tmp_path / "mine", GOOD_LINE).rename(tmp_path / "mine" / "handover.jsonl")
    with pytest.raises(DataError) as err:
        load_notes(tmp_path / "mine" / "handovr.jsonl")
    assert "handovr.jsonl: not found; check the file name (found here: handover.jsonl)" in str(err.value)
    with pytest.raises(DataError, match=r"not found; there is no folder .*mien \(a typo in the path\?\)"):
        load_notes(tmp_path / "mien" / "handover.jsonl")
    with pytest.raises(DataError, match=r"mine: a folder; give the notes file itself"):
        load_notes(tmp_path / "mine")
    assert "make_notes.py" not in str(err.value)  # the bundled file's remedy is not the user's
    monkeypatch.setenv("FTRAG_DATA", str(tmp_path / "mine"))  # a data folder without clinical/
    with pytest.raises(DataError, match=r"has no clinical/notes\.jsonl: copy the repository's data/clinical/ into it"):
        load_notes()


@pytest.mark.parametrize("field, allowed, refused", [
    ("age", [0, 120], [-1, 121]),
    ("sex", ["female", "male"], ["F", "Female", "other"]),
    ("condition", ["gout", "hay fever", "post-viral fatigue"], ["Gout", "hay  fever", "gout ", "covid-19", ""]),
    ("severity", ["mild", "moderate", "severe"], ["medium", "Severe"]),
])
def test_the_allowed_values_in_words_are_what_the_schema_allows(field, allowed, refused):
    from utils.tasks.clinical import ALLOWED, _expected
    for value in allowed:
        _expected({**json.loads(GOOD_LINE)["expected"], field: value})
    for value in refused:
        with pytest.raises(DataError) as err:
            _expected({**json.loads(GOOD_LINE)["expected"], field: value})
        assert str(err.value) == f"expected.{field} is {value!r}; it must be {ALLOWED[field]} (diagnosis.xsd)"


def test_the_readme_example_notes_load(tmp_path):
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    [example] = re.findall(r"```jsonl\n(.*?)```", readme, re.S)
    path = tmp_path / "my_notes.jsonl"
    path.write_text(example, encoding="utf-8")
    first, second = load_notes(path)
    assert (first.split, first.style, first.expected) == ("train", "nurse_handover",
                                                          Diagnosis(45, "male", "hay fever", "moderate"))
    assert (second.split, second.expected.drug, second.expected.max_daily_dose_mg) == ("test", "Vintrabel", 40)
    # The example's drug and dose are those of the bundled world (notebook 06 checks them against it).
    from utils.tasks.world import load_world
    vintrabel = load_world("t0").drugs["Vintrabel"]
    assert (vintrabel.treats, vintrabel.max_daily_dose_mg) == (second.expected.condition, 40)


def test_one_data_error_for_the_project():
    from utils.tasks import world
    assert DataError is world.DataError


# --- the data set --------------------------------------------------------------

def test_split_sizes(notes):
    sizes = {s: len(by_split(notes, s)) for s in ("train", "test", "unseen_style")}
    assert sizes == {"train": 48, "test": 16, "unseen_style": 32}


def test_styles(notes):
    train = {n.style for n in by_split(notes, "train")}
    test = {n.style for n in by_split(notes, "test")}
    unseen = {n.style for n in by_split(notes, "unseen_style")}
    assert len(train) >= 8 and test == train
    assert len(unseen) >= 5 and not unseen & train


def test_unseen_conditions_mostly_absent_from_train(notes):
    train = {n.expected.condition for n in by_split(notes, "train")}
    unseen = by_split(notes, "unseen_style")
    assert 30 <= len(train) <= 40
    assert sum(n.expected.condition not in train for n in unseen) * 2 >= len(unseen)
    assert {n.expected.condition for n in by_split(notes, "test")} <= train


def test_every_split_has_every_severity_and_both_sexes(notes):
    for split in ("train", "test", "unseen_style"):
        group = by_split(notes, split)
        for sev in ("mild", "moderate", "severe"):
            assert sum(n.expected.severity == sev for n in group) >= 3, (split, sev)
        for sex in ("female", "male"):
            assert sum(n.expected.sex == sex for n in group) >= 3, (split, sex)
        assert all(1 <= n.expected.age <= 95 for n in group)


def test_notes_are_short(notes):
    for n in notes:
        assert 15 <= len(n.text.split()) <= 45, (n.id, len(n.text.split()))


UNITS = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen " \
        "fifteen sixteen seventeen eighteen nineteen".split()
TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def in_words(n):
    return UNITS[n] if n < 20 else TENS[n // 10] + ("" if n % 10 == 0 else " " + UNITS[n % 10])


def test_gold_is_derivable_from_the_note(notes):
    """Exactly one listed condition and one severity family appear; the age is written in."""
    make_notes = _make_notes()
    for n in notes:
        d = n.expected
        assert make_notes.unambiguous(n.text, d.condition, d.severity), n.id
        assert (re.search(rf"(?<!\d){d.age}(?!\d)", n.text)
                or re.search(rf"\b{in_words(d.age)}\b", n.text.lower())), n.id


def test_conditions_come_from_the_formulary_list(notes):
    conditions = _make_notes().CONDITIONS
    assert len(set(conditions)) == 50
    assert {n.expected.condition for n in notes} <= set(conditions)
    drugs = DATA.parent / "world" / "drugs_t1.csv"
    if drugs.exists():  # keep the notes aligned with the fictional formulary
        import csv
        with drugs.open(encoding="utf-8") as f:
            treats = {row["treats"].strip().lower() for row in csv.DictReader(f)}
        assert {n.expected.condition for n in notes} <= treats


def test_generator_reproduces_the_file():
    lines = (DATA / "notes.jsonl").read_text(encoding="utf-8").splitlines()
    assert _make_notes().build_lines() == lines


# --- more untrusted answers ------------------------------------------------------

XINCLUDE = ('<diagnosis xmlns:xi="http://www.w3.org/2001/XInclude"><age>54</age><sex>female</sex>'
            '<condition><xi:include href="file:///etc/passwd" parse="text"/></condition>'
            '<severity>mild</severity></diagnosis>')


def test_xinclude_is_neither_followed_nor_accepted():
    v = validate_xml(XINCLUDE)
    assert not v.valid and v.diagnosis is None
    assert "root:" not in v.reason


@pytest.mark.parametrize("text", [
    BILLION_LAUGHS.replace("DOCTYPE", "doctype"),  # not XML either way: refused, never expanded
    XXE.replace("<?xml", "  <?xml"),
    "<" * 20_000,
    "<diagnosis>" * 3000 + "</diagnosis>" * 3000,
])
def test_odd_or_oversized_answers_get_a_quick_verdict(text):
    start = time.perf_counter()
    v = validate_xml(text)
    assert time.perf_counter() - start < 1.0
    assert not v.valid and v.diagnosis is None and v.reason


# --- scoring answers -------------------------------------------------------------

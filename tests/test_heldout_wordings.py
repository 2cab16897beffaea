"""The hand-written wording sets (utils/lessons/wordings.py): the sealed held-out set and the dev set, both apart
from every training wording of the project and from each other, and loaded into questions with the
world's answers."""
import json
import re
import shutil
from collections import Counter

import pytest

import utils.tasks.prompts as prompts
from conftest import strings
from utils.core.config import DATA_DIR
from utils.lessons.reader_data import question_frames, reader_examples, synthetic_drugs
from utils.lessons.wordings import (
    DEV_KINDS,
    HELDOUT_ATTRIBUTES,
    HELDOUT_FILE,
    HELDOUT_KINDS,
    MIN_FRAMES,
    WORDING_FILES,
    heldout_frames,
    heldout_questions,
)
from utils.tasks.scoring import is_correct
from utils.tasks.world import DataError

SLOT = "xslotx"  # a drug's name or a condition, in every normalised wording
SEEDS = range(5)  # reader_examples samples, each ~500 questions


def normalise(text: str) -> str:
    """Lower case, every placeholder as one slot word, punctuation as spaces, single spaces, padded with a
    space at each end so that `in` compares whole words."""
    text = re.sub(r"\{(drug|drug_lower|name|lower|treats|condition)\}", f" {SLOT} ", text.lower())
    return f" {' '.join(re.sub(r'[^a-z0-9]+', ' ', text).split())} "


def abstract(text: str, names: list[str]) -> str:
    """`text` with each of `names` (drugs, conditions; any case, longest first) as a placeholder."""
    for name in sorted(names, key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", "{name}", text, flags=re.IGNORECASE)
    return text


def world_templates() -> list[str]:
    """Every question template of data/world/questions.json (not the control questions, which name no drug)."""
    spec = json.loads((DATA_DIR / "world" / "questions.json").read_text(encoding="utf-8"))
    return [t for key in ("treats", "maker", "reversed", "documented") for t in strings(spec[key])]


def prompt_wordings() -> list[str]:
    """The questions utils/tasks/prompts.py sends a reader: the combined system's two and the base model's shots."""
    shots = [abstract(q, re.findall(r"(?<=\s)[A-Z][a-z]+", q)) for _, q, _ in prompts.TWO_SHOTS]  # drug names
    return [prompts.treatment_question("{treats}"), prompts.dose_question("{drug}"), *shots]


@pytest.fixture(scope="module")
def t0_world(worlds):
    return worlds[0]


def normalised_frames(wording_set: str) -> dict[str, list[str]]:
    return {attr: [normalise(f) for f in frames] for attr, frames in heldout_frames(DATA_DIR, wording_set).items()}


@pytest.fixture(scope="module")
def sealed():
    return normalised_frames("held-out")


@pytest.fixture(scope="module")
def sampled(worlds):
    """What reader_examples asks (answerable and unanswerable) over several seeds, names abstracted,
    normalised: each wording -> an example of it."""
    out = {}
    for seed in SEEDS:
        drugs = synthetic_drugs(176, worlds, seed)
        names = [d["name"] for d in drugs] + sorted({d["treats"] for d in drugs})
        for e in reader_examples(worlds, seed=seed):
            out.setdefault(normalise(abstract(e.question, names)), f"reader_examples(seed={seed}): {e.question!r}")
    return out


@pytest.fixture(scope="module")
def training_wordings(sampled):
    """Every wording the project trains or prompts a reader with, normalised -> where it comes from."""
    out = {}
    for attr in HELDOUT_ATTRIBUTES:  # the generator's whole frame space, not only a sample of it
        for frame in question_frames(attr):
            out.setdefault(normalise(frame), f"reader_data.question_frames({attr!r}): {frame!r}")
    for template in world_templates():
        out.setdefault(normalise(template), f"questions.json: {template!r}")
    for wording in prompt_wordings():
        out.setdefault(normalise(wording), f"utils/tasks/prompts.py: {wording!r}")
    return {**sampled, **out}


# ---------------------------------------------------------------- sealed

def test_normalise_abstracts_the_name_case_punctuation_and_spaces():
    assert normalise("Who makes {drug}?") == normalise("who  MAKES {drug_lower} ?!") == f" who makes {SLOT} "
    assert normalise(abstract("Quick question: who makes BELAMAB? Thanks.", ["Belamab"])) == \
        f" quick question who makes {SLOT} thanks "
    assert normalise("x maker") not in normalise("x makers")  # whole words only


def test_every_training_wording_names_its_slot(training_wordings, sampled):
    unnamed = [where for text, where in training_wordings.items() if SLOT not in text]
    assert not unnamed, f"a wording whose drug or condition was not abstracted: {unnamed[:3]}"
    # Every question reader_examples asked is one of the generator's frames (so checking every frame checks
    # every question it can ask), and the frames are many (8 cores x 13 openers x 7 closers apart from
    # punctuation, for each of 6 attributes).
    frames = {normalise(frame) for attr in HELDOUT_ATTRIBUTES for frame in question_frames(attr)}
    assert len(frames) > 4000 and len(sampled) > 1000 and set(sampled) <= frames


def leaks(wordings: dict[str, str], sealed: dict[str, list[str]], label: str = "held-out") -> list[str]:
    """Each normalised wording that equals, contains or is contained in a normalised frame of a set."""
    return [f"{where} ~ {label} {attr}: {held.strip()!r}"
            for text, where in wordings.items() for attr, frames in sealed.items() for held in frames
            if held in text or text in held]


def test_the_seal_check_finds_a_leak_either_way(sealed):
    planted = {normalise("Quick question: Rx for {treats}? Thanks."): "contains",
               normalise("{name} approval yr"): "equals", normalise("whose factory turns out"): "contained",
               normalise("who makes {name}"): "apart", normalise("Rx {treats}"): "apart"}
    assert [leak.split(" ~")[0] for leak in leaks(planted, sealed)] == ["contains", "equals", "contained"]


@pytest.mark.parametrize("wording_set", WORDING_FILES)
def test_no_training_wording_equals_contains_or_is_contained_in_a_frame(wording_set, training_wordings):
    found = leaks(training_wordings, normalised_frames(wording_set), wording_set)
    assert not found, f"{wording_set} wordings are no longer apart from training:\n" + "\n".join(found[:20])


def test_no_dev_frame_equals_contains_or_is_contained_in_a_held_out_frame(sealed):
    """What is chosen on the dev set must not have been chosen on held-out wordings."""
    dev = {frame: f"dev {attr}: {frame.strip()!r}" for attr, frames in normalised_frames("dev").items()
           for frame in frames}
    found = leaks(dev, sealed)
    assert not found, "\n".join(found)


@pytest.mark.parametrize("wording_set", WORDING_FILES)
def test_the_frames_cover_every_style(wording_set):
    for attr, frames in heldout_frames(DATA_DIR, wording_set).items():
        assert len(frames) >= MIN_FRAMES and len(set(map(normalise, frames))) == len(frames), attr
        slot = "{treats}" if attr == "reversed" else "{drug"
        assert any(f.startswith(slot) for f in frames), f"{attr}: no frame names the drug/condition first"
        assert any(re.search(r"\{\w+\}\W*$", f) for f in frames), f"{attr}: no frame names it last"
        assert any(f == f.lower() for f in frames), f"{attr}: no frame all in lower case"
        assert any(len(f.split()) >= 20 for f in frames), f"{attr}: no long frame with context"
        assert any(len(f.split()) <= 4 for f in frames), f"{attr}: no telegraphic frame"


# ---------------------------------------------------------------- questions with the world's answers

def test_held_out_questions_ask_every_drug_with_the_worlds_answers(t0_world):
    questions = heldout_questions(t0_world, DATA_DIR)
    assert Counter(q.kind for q in questions) == {kind: len(t0_world.drugs) for kind in HELDOUT_KINDS}
    frames = heldout_frames(DATA_DIR)
    used = Counter()
    for q in questions:
        drug = t0_world.drugs[q.drug]
        attr = q.kind.removeprefix("held-out ")
        if attr == "reversed":
            assert (q.answer, q.attribute) == (drug.name, "treats") and drug.treats in q.text
            assert drug.name.lower() not in q.text.lower()
        else:
            assert q.attribute == attr and drug.name.lower() in q.text.lower()
            assert (q.answer, q.aliases) == (t0_world.as_of(q).answer, t0_world.as_of(q).aliases)
        assert is_correct(q, q.answer)
        asked = [f.format(drug=drug.name, drug_lower=drug.name.lower(), treats=drug.treats) for f in frames[attr]]
        used[attr, asked.index(q.text)] += 1
    assert len(used) == sum(len(f) for f in frames.values())  # every frame asked, about equally often
    assert max(used.values()) - min(used.values()) <= 1
    by_attr = {q.attribute: q for q in questions if q.kind != "held-out reversed"}
    assert by_attr["max_daily_dose_mg"].answer.endswith(" mg") and by_attr["year_approved"].answer.isdigit()
    assert heldout_questions(t0_world, DATA_DIR) == questions  # deterministic


def test_the_dev_set_is_asked_under_its_own_kinds(t0_world):
    dev, held_out = heldout_questions(t0_world, DATA_DIR, wording_set="dev"), heldout_questions(t0_world, DATA_DIR)
    assert Counter(q.kind for q in dev) == {kind: len(t0_world.drugs) for kind in DEV_KINDS}
    assert [(q.drug, q.attribute, q.answer) for q in dev] == [(q.drug, q.attribute, q.answer) for q in held_out]
    assert not {q.text for q in dev} & {q.text for q in held_out}
    with pytest.raises(ValueError, match="unknown wording set 'test'; the sets are held-out, dev"):
        heldout_questions(t0_world, DATA_DIR, wording_set="test")


def test_a_sample_of_every_third_drug_still_asks_every_frame(t0_world):
    full = heldout_questions(t0_world, DATA_DIR)
    assert heldout_questions(t0_world, DATA_DIR, every=1) == full
    sample = heldout_questions(t0_world, DATA_DIR, every=3)
    frames = heldout_frames(DATA_DIR)
    for kind, attr in zip(HELDOUT_KINDS, frames):
        asked = [q for q in sample if q.kind == kind]
        assert len(asked) in (13, 14) and len({q.drug for q in asked}) == len(asked)
        used = {next(i for i, f in enumerate(frames[attr]) if q.text == f.format(
            drug=q.drug, drug_lower=q.drug.lower(), treats=t0_world.drugs[q.drug].treats)) for q in asked}
        assert used == set(range(len(frames[attr]))), f"{kind}: frames never asked in the sample"
    first, second = ({q.drug for q in sample if q.kind == kind} for kind in HELDOUT_KINDS[:2])
    assert first != second  # the kinds start at different drugs
    for bad in (0, len(t0_world.drugs) + 1, 2.0, True):
        with pytest.raises(ValueError, match="every"):
            heldout_questions(t0_world, DATA_DIR, every=bad)


def test_per_fact_asks_each_fact_in_several_frames(t0_world):
    questions = heldout_questions(t0_world, DATA_DIR, per_fact=3)
    assert len(questions) == 3 * len(HELDOUT_KINDS) * len(t0_world.drugs)
    per_fact = Counter((q.kind, q.drug) for q in questions)
    assert set(per_fact.values()) == {3} and len({q.text for q in questions}) == len(questions)
    for bad in (0, MIN_FRAMES + 99, 1.5, True):
        with pytest.raises(ValueError, match="per_fact"):
            heldout_questions(t0_world, DATA_DIR, per_fact=bad)


# ---------------------------------------------------------------- a broken file is a clear DataError

@pytest.fixture
def data_copy(tmp_path):
    (tmp_path / "world").mkdir()
    shutil.copy(DATA_DIR / "world" / HELDOUT_FILE, tmp_path / "world" / HELDOUT_FILE)
    return tmp_path


def edit(data_dir, change):
    path = data_dir / "world" / HELDOUT_FILE
    text = path.read_text(encoding="utf-8")
    path.write_text(change(text), encoding="utf-8")


@pytest.mark.parametrize("change, expected", [
    (lambda t: t.replace('"Rx for {treats}?",', '"Rx for {drug}?",'), r"line \d+ \(\$\.reversed\[1\]\).*\{treats\}"),
    (lambda t: t.replace('"{drug} approval yr?"', '"{name} approval yr?"'),
     r"line \d+ \(\$\.year_approved\[1\]\).*placeholders \['name'\]"),
    (lambda t: t.replace('"Whose factory turns out {drug}?"', '"Whose factory turns out it?"'),
     r"\$\.maker\[7\].*exactly one"),
    (lambda t: t.replace('"Who holds the manufacturing rights to {drug}?"', '"Who holds {drug} rights {drug}?"'),
     r"\$\.maker\[8\].*exactly one"),
    (lambda t: t.replace('"{drug} - inventor?"', '"{drug - inventor?"'), r"\$\.discoverer\[1\].*broken braces"),
    (lambda t: t.replace('"{drug} - inventor?"', '"Who came up with {drug} in the first place?"'),
     r"\$\.discoverer\[1\].*same frame as \$\.discoverer\[0\]"),
    (lambda t: t.replace('"maker":', '"makers":'), r"line \d+ \(\$\.makers\).*unexpected key 'makers'"),
    (lambda t: re.sub(r'"treats": \[.*?\]', '"treats": ["What is {drug} for?"]', t, flags=re.S),
     r"\$\.treats: expected a list of at least 8 question frames, found 1"),
    (lambda t: t.replace('"Rx for {treats}?",', '"Rx for {treats}?",,'), r"line \d+, column \d+: "),
    (lambda t: t.replace('"Rx for {treats}?",', '"",'), r"line \d+ \(\$\.reversed\[1\]\): expected a non-empty string"),
    (lambda t: "[]", r"\$: expected an object"),
])
def test_a_broken_file_is_a_data_error_that_says_where_and_what_to_fix(t0_world, data_copy, change, expected):
    edit(data_copy, change)
    with pytest.raises(DataError, match=re.escape(str(data_copy / "world" / HELDOUT_FILE)) + r", .*?" + expected):
        heldout_questions(t0_world, data_copy)


def test_a_missing_file_says_where_to_copy_it_from(t0_world, tmp_path):
    (tmp_path / "world").mkdir()
    with pytest.raises(DataError, match=r"heldout_wordings.json, file: missing; copy heldout_wordings.json from"):
        heldout_questions(t0_world, tmp_path)


def test_no_generator_frame_equals_or_contains_a_world_template():
    """The reader is also tested on the world's questions (notebook 05): their wordings stay unseen too."""
    templates = {normalise(t): t for t in world_templates()}
    frames = {normalise(f): f for attr in HELDOUT_ATTRIBUTES for f in question_frames(attr)}
    found = [(frame, template) for f, frame in frames.items() for t, template in templates.items() if t in f]
    assert not found, found[:5]

"""utils/lessons/checks.py: claims print what holds and stop a full run on what does not; reference
figures are silent while within their tolerance, say what moved otherwise, and are rewritten in record
mode."""
import json

import pytest

import utils.lessons.checks as checks
from utils.core.train import History
from utils.lessons.checks import ClaimFailed, claim, expect, load_references, loss_fell

ENTRIES = {
    "drift update": {"tol": 0.07, "values": {"changed / right": 1.0, "unchanged / right": 0.25}},
    "prompt tokens": {"tol": 0, "values": {"few-shot": 417}},
    "control lost": {"tol": 0.075, "values": {"value": 0.75}},
}
UPDATE = {"changed": {"right": 1.0, "stale": 0.0}, "unchanged": {"right": 0.25}}


@pytest.fixture
def references(tmp_path, monkeypatch):
    """A reference folder of one notebook's file, in place of tests/references."""
    monkeypatch.setattr(checks, "REFERENCES", tmp_path)
    path = tmp_path / "02_drift.json"
    path.write_text(json.dumps(ENTRIES, indent=2), encoding="utf-8")
    return path


def test_a_claim_that_holds_prints_it(capsys):
    claim(True, "the update erases most unchanged facts")
    assert capsys.readouterr().out == "✓ the update erases most unchanged facts\n"


def test_a_claim_that_fails_in_a_full_run_stops_the_notebook_saying_which(capsys):
    with pytest.raises(ClaimFailed, match="^the model memorises the facts$"):
        claim(False, "the model memorises the facts")
    assert issubclass(ClaimFailed, AssertionError)  # what nbval and a reader expect a failed check to be
    assert capsys.readouterr().out == ""


def test_a_quick_run_prints_every_claim_and_never_stops(monkeypatch, capsys):
    monkeypatch.setenv("FTRAG_QUICK", "1")
    claim(True, "training lowers the loss")
    claim(False, "the model memorises the facts")
    assert capsys.readouterr().out.splitlines() == [
        "✓ training lowers the loss", "✗ the model memorises the facts (not asserted: a quick run trains too little)"]


def test_loss_fell():
    assert loss_fell(History(losses=[2.0, 1.5, 0.1]))
    assert not loss_fell(History(losses=[2.0, 2.5]))
    assert not loss_fell(History(losses=[2.0])) and not loss_fell(History())


def test_expect_is_silent_within_the_tolerance(references, capsys):
    expect("drift update", {"changed": {"right": 0.95, "stale": 0.5}, "unchanged": {"right": 0.31}})
    expect("prompt tokens", {"few-shot": 417, "zero-shot": 9999})  # only the listed keys are compared
    expect("control lost", 0.7)  # a plain number is the entry's "value"
    assert capsys.readouterr().out == ""


def test_expect_says_which_figure_moved_from_what_to_what_and_by_how_much(references):
    with pytest.raises(ClaimFailed) as failed:
        expect("drift update", {"changed": {"right": 1.0}, "unchanged": {"right": 0.86}})
    message = str(failed.value)
    first, *rest = message.splitlines()
    assert first == ("drift update, unchanged / right: 0.25 in the committed run, 0.86 here "
                     "(a difference of 0.61; the tolerance is 0.07)")
    [advice] = rest  # one line a figure that moved (the figure that held is not named), then the advice
    assert "CPU" in advice and "benchmarks/notebooks.py --write" in advice
    with pytest.raises(ClaimFailed, match=r"^control lost: 0.75 in the committed run, 0.6 here"):
        expect("control lost", 0.6)


def test_expect_checks_a_count_exactly_and_fails_on_nan(references):
    with pytest.raises(ClaimFailed, match="few-shot: 417 in the committed run, 418 here"):
        expect("prompt tokens", {"few-shot": 418})
    with pytest.raises(ClaimFailed, match="nan here"):
        expect("control lost", float("nan"))


def test_expect_raises_on_an_unknown_name_or_a_missing_key_in_every_run(references, monkeypatch):
    for quick in ("", "1"):
        monkeypatch.setenv("FTRAG_QUICK", quick)
        with pytest.raises(KeyError, match="'drift updates'.*drift update"):
            expect("drift updates", UPDATE)
        with pytest.raises(KeyError, match="no 'unchanged / right'"):
            expect("drift update", {"changed": {"right": 1.0}})


def test_a_quick_run_compares_nothing(references, monkeypatch, capsys):
    monkeypatch.setenv("FTRAG_QUICK", "1")
    expect("drift update", {"changed": {"right": 0.0}, "unchanged": {"right": 1.0}})
    assert capsys.readouterr().out == ""


def test_record_mode_rewrites_the_listed_values_only(references, monkeypatch):
    monkeypatch.setenv("FTRAG_RECORD_REFERENCES", "1")
    expect("drift update", {"changed": {"right": 0.123456, "stale": 0.5}, "unchanged": {"right": 0.9}})
    expect("prompt tokens", {"few-shot": 420, "adapter": 46})
    stored = json.loads(references.read_text(encoding="utf-8"))
    assert stored == {**ENTRIES,
                      "drift update": {"tol": 0.07, "values": {"changed / right": 0.1235, "unchanged / right": 0.9}},
                      "prompt tokens": {"tol": 0, "values": {"few-shot": 420}}}
    assert isinstance(stored["prompt tokens"]["values"]["few-shot"], int)


def test_a_quick_run_records_nothing(references, monkeypatch):
    monkeypatch.setenv("FTRAG_RECORD_REFERENCES", "1")
    monkeypatch.setenv("FTRAG_QUICK", "1")
    before = references.read_text(encoding="utf-8")
    expect("drift update", {"changed": {"right": 0.0}, "unchanged": {"right": 0.0}})
    assert references.read_text(encoding="utf-8") == before


def test_a_name_in_two_files_or_a_malformed_entry_is_refused(references):
    other = references.parent / "03_other.json"
    other.write_text(json.dumps({"control lost": ENTRIES["control lost"]}), encoding="utf-8")
    with pytest.raises(ValueError, match="'control lost' is in both 02_drift.json and 03_other.json"):
        load_references(references.parent)
    for entry in ({"tol": -0.1, "values": {"a": 1.0}}, {"tol": 0.1, "values": {}}, {"values": {"a": 1.0}},
                  {"tol": 0.1, "values": {"a": "high"}}, {"tol": 0.1, "values": {"a": True}}, [0.1, {"a": 1.0}]):
        other.write_text(json.dumps({"bad": entry}), encoding="utf-8")
        with pytest.raises(ValueError, match="03_other.json, 'bad'"):
            expect("drift update", UPDATE)

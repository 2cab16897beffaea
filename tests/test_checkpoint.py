import pytest

from utils.core.train import History
from utils.lessons.checks import ClaimFailed, claim, expect, loss_fell


def test_a_claim_that_holds_passes_silently(capsys):
    claim(True, "holds")
    claim(True, "holds after full training", needs_full_run=True)
    assert capsys.readouterr().out == ""


def test_a_claim_that_fails_says_which():
    with pytest.raises(ClaimFailed, match="the model should memorise"):
        claim(False, "the model should memorise")
    with pytest.raises(AssertionError):  # what nbval and a reader expect a failed check to be
        claim(False, "needs training", needs_full_run=True)


def test_quick_run_reports_claims_that_need_training_and_asserts_the_rest(monkeypatch, capsys):
    monkeypatch.setenv("FTRAG_QUICK", "1")
    claim(False, "the model memorises the facts", needs_full_run=True)
    assert capsys.readouterr().out == "quick run, not checked: the model memorises the facts\n"
    with pytest.raises(ClaimFailed, match="BM25"):
        claim(False, "BM25 finds the leaflet")


def test_loss_fell():
    assert loss_fell(History(losses=[2.0, 1.5, 0.1]))
    assert not loss_fell(History(losses=[2.0, 2.5]))
    assert not loss_fell(History(losses=[2.0])) and not loss_fell(History())


def test_expect_passes_within_tolerance_and_prints_both_values(capsys):
    expect(0.86, 0.87, tol=0.05, what="median probability")
    assert capsys.readouterr().out == \
        "median probability: within ±0.05 of the reference run: 0.86 (reference 0.87)\n"


def test_expect_names_every_figure_outside_the_tolerance():
    measured = {"trained": 0.10, "paraphrase": 0.12, "reversed": 0.0}  # a learning rate 10x too small
    with pytest.raises(ClaimFailed, match=r"^trained, paraphrase differ .* by more than 0.05"):
        expect(measured, {"trained": 1.0, "paraphrase": 0.94, "reversed": 0.0}, tol=0.05)
    with pytest.raises(AssertionError):  # fails the cell under nbval
        expect(float("nan"), 0.5, tol=0.1)


def test_expect_compares_nested_dicts_and_only_the_keys_the_reference_names(capsys):
    curve = {4: {"test": {"valid": 0.81, "fields": 0.56}}, 8: {"test": {"valid": 1.0, "fields": 0.83}}}
    expect(curve, {8: {"test": {"fields": 0.85}}}, tol=0.03)
    assert "8 / test / fields 0.83 (reference 0.85)" in capsys.readouterr().out
    with pytest.raises(ClaimFailed, match="8 / test / fields"):
        expect(curve, {8: {"test": {"fields": 0.87}}}, tol=0.03)


def test_expect_with_zero_tolerance_checks_a_count_exactly(capsys):
    expect({"tokens": 4640}, {"tokens": 4640}, tol=0)
    assert "tokens 4,640 (reference 4,640)" in capsys.readouterr().out
    with pytest.raises(ClaimFailed):
        expect({"tokens": 4641}, {"tokens": 4640}, tol=0)


def test_expect_says_which_reference_key_is_missing():
    with pytest.raises(KeyError, match="'paraphrase'"):
        expect({"trained": 1.0}, {"paraphrase": 0.94}, tol=0.05)
    with pytest.raises(ValueError, match="tol"):
        expect(1.0, 1.0, tol=-1)


def test_quick_run_prints_expectations_without_comparing(monkeypatch, capsys):
    monkeypatch.setenv("FTRAG_QUICK", "1")
    expect({"trained": 0.1}, {"trained": 1.0}, tol=0.05)
    assert capsys.readouterr().out == \
        "quick run, not compared with the reference run: trained 0.10 (reference 1.00)\n"


def test_a_claim_on_full_run_figures_is_a_function_called_only_when_checked(monkeypatch):
    curve = {48: 0.9}  # a quick run measured the last point of the curve only
    monkeypatch.setenv("FTRAG_QUICK", "1")
    claim(lambda: curve[8] >= 0.75, "a few examples suffice", needs_full_run=True)
    monkeypatch.delenv("FTRAG_QUICK")
    with pytest.raises(KeyError):
        claim(lambda: curve[8] >= 0.75, "a few examples suffice", needs_full_run=True)
    with pytest.raises(ClaimFailed, match="more is better"):
        claim(lambda: curve[48] >= 0.95, "more is better")


def test_a_quick_run_prints_the_points_it_measured_and_a_full_run_wants_them_all(monkeypatch, capsys):
    monkeypatch.setenv("FTRAG_QUICK", "1")
    expect({48: 0.5}, {4: 0.2, 48: 0.9}, tol=0.05)
    assert capsys.readouterr().out == "quick run, not compared with the reference run: 48 0.50 (reference 0.90)\n"
    monkeypatch.delenv("FTRAG_QUICK")
    with pytest.raises(KeyError, match="4"):
        expect({48: 0.9}, {4: 0.2, 48: 0.9}, tol=0.05)

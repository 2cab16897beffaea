import pytest

from utils.checkpoint import ClaimFailed, claim, loss_fell
from utils.train import History


def test_a_claim_that_holds_passes_silently(capsys):
    claim(True, "holds")
    claim(True, "holds after full training", needs_training=True)
    assert capsys.readouterr().out == ""


def test_a_claim_that_fails_says_which():
    with pytest.raises(ClaimFailed, match="the model should memorise"):
        claim(False, "the model should memorise")
    with pytest.raises(AssertionError):  # what nbval and a reader expect a failed check to be
        claim(False, "needs training", needs_training=True)


def test_quick_run_reports_claims_that_need_training_and_asserts_the_rest(monkeypatch, capsys):
    monkeypatch.setenv("FTRAG_QUICK", "1")
    claim(False, "the model memorises the facts", needs_training=True)
    assert capsys.readouterr().out == "quick run, not checked: the model memorises the facts\n"
    with pytest.raises(ClaimFailed, match="BM25"):
        claim(False, "BM25 finds the leaflet")


def test_loss_fell():
    assert loss_fell(History(losses=[2.0, 1.5, 0.1]))
    assert not loss_fell(History(losses=[2.0, 2.5]))
    assert not loss_fell(History(losses=[2.0])) and not loss_fell(History())

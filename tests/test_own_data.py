"""Your own data folder (FTRAG_DATA): the loaders, the recipes, the reader's training data, the
checkpoints and the cache all follow it, and the bundled data behaves exactly as without it."""
import os
import shutil

import pytest

import utils.lessons.checks as checks
from utils.core import config
from utils.core.config import DATA_DIR, REPO_ROOT, artifacts_dir, cache_dir, data_dir, own_data
from utils.core.datafiles import DataError
from utils.core.train import TrainConfig
from utils.lessons.checks import claim, expect
from utils.lessons.recipes import reader_pairs, reader_tuned_model, xml_training_notes
from utils.tasks.clinical import load_notes
from utils.tasks.results import FactTuningResults, results_path
from utils.tasks.world import load_world, time_points

TINY_READER = dict(cfg=TrainConfig(epochs=1, lr=1e-2, batch_size=4, lora_r=4, lora_alpha=8), n_drugs=4)


@pytest.fixture
def my_data(tmp_path):
    """A learner's copy of data/, with one fact edited in the CSV and its leaflet alike."""
    folder = tmp_path / "my_data"
    shutil.copytree(DATA_DIR, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    csv = folder / "world" / "drugs_t0.csv"
    csv.write_text(csv.read_text().replace("Altrevon,motion sickness,Oskwell Sciences,2013,750",
                                           "Altrevon,motion sickness,Oskwell Sciences,2013,500"))
    leaflet = folder / "world" / "documents" / "t0" / "altrevon.md"
    leaflet.write_text(leaflet.read_text().replace("750 mg", "500 mg"))
    return folder


def test_unset_or_the_bundled_folder_is_the_bundled_data(monkeypatch, private_cache):
    assert data_dir() == DATA_DIR and not own_data() and artifacts_dir() == cache_dir()
    monkeypatch.setenv("FTRAG_DATA", "data")  # relative: from the repository folder
    assert data_dir().resolve() == DATA_DIR.resolve() and not own_data()
    assert artifacts_dir() == private_cache  # the same adapters and results as without the setting
    assert "data" not in config.setup()


def test_every_loader_follows_the_setting(my_data, monkeypatch):
    monkeypatch.setenv("FTRAG_DATA", str(my_data))
    assert data_dir() == my_data and own_data()
    assert load_world().drugs["Altrevon"].max_daily_dose_mg == 500
    assert load_world("t0").documents["Altrevon"] == (my_data / "world/documents/t0/altrevon.md").read_text()
    notes = my_data / "clinical" / "notes.jsonl"
    notes.write_text("\n".join(notes.read_text().splitlines()[:5]) + "\n")
    assert len(load_notes()) == 5
    with pytest.raises(ValueError, match="from 1 to 5"):  # the XML recipe trains on these notes
        xml_training_notes(48)
    monkeypatch.delenv("FTRAG_DATA")
    assert load_world().drugs["Altrevon"].max_daily_dose_mg == 750 and len(load_notes()) == 96


def test_a_relative_setting_starts_at_the_repository_whatever_the_working_folder(my_data, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path / "my_data" / "world")  # e.g. a notebook kernel in another folder
    monkeypatch.setenv("FTRAG_DATA", os.path.relpath(my_data, REPO_ROOT))
    assert data_dir().resolve() == my_data.resolve()


def test_a_setting_that_names_no_folder_says_so(monkeypatch):
    monkeypatch.setenv("FTRAG_DATA", "my_dta")
    with pytest.raises(DataError) as err:
        load_world("t0")
    message = str(err.value)
    assert "FTRAG_DATA='my_dta': no such folder" in message and "copy of the repository's data/" in message


def test_own_data_is_cached_apart_per_folder_and_quick_apart_again(my_data, monkeypatch, private_cache, tmp_path):
    monkeypatch.setenv("FTRAG_DATA", str(my_data))
    mine = artifacts_dir()
    assert mine.parent == private_cache / "own-data" and mine.name.startswith("my_data-")
    assert results_path(FactTuningResults).is_relative_to(mine)
    other = tmp_path / "elsewhere" / "my_data"  # same name, another folder: another cache
    shutil.copytree(my_data / "world", other / "world")
    monkeypatch.setenv("FTRAG_DATA", str(other))
    assert artifacts_dir() not in (mine, private_cache)
    monkeypatch.setenv("FTRAG_QUICK", "1")
    assert artifacts_dir().parent.parent == private_cache / "own-data" and artifacts_dir().name == "quick"
    assert "FTRAG_DATA: my_data" in config.setup()["data"]


@pytest.fixture
def trainings(monkeypatch):
    """The training data of every adapter that is trained (not loaded from the cache)."""
    import utils.core.train as train_mod
    trained, real_train = [], train_mod.train
    monkeypatch.setattr(train_mod, "train", lambda *a, **k: trained.append(a[2]) or real_train(*a, **k))
    return trained


def test_an_identical_copy_trains_the_same_adapter_but_keeps_it_apart(monkeypatch, tmp_path, tiny_model,
                                                                      tokenizer, private_cache, trainings):
    reader_tuned_model(tiny_model, tokenizer, **TINY_READER)
    shutil.copytree(DATA_DIR, tmp_path / "copy")
    monkeypatch.setenv("FTRAG_DATA", str(tmp_path / "copy"))
    reader_tuned_model(tiny_model, tokenizer, **TINY_READER)
    assert len(trainings) == 2 and trainings[0] == trainings[1]  # trained again, on the same data
    [bundled] = (private_cache / "adapters").iterdir()
    [mine] = (artifacts_dir() / "adapters").iterdir()
    assert bundled.name == mine.name and mine.parent != bundled.parent  # same fingerprint, kept apart


def test_the_reader_learns_around_a_world_of_one_time_point(my_data, monkeypatch, tiny_model, tokenizer,
                                                           trainings):
    (my_data / "world" / "drugs_t1.csv").unlink()
    monkeypatch.setenv("FTRAG_DATA", str(my_data))
    assert time_points() == ["t0"]
    _, history = reader_tuned_model(tiny_model, tokenizer, **TINY_READER)
    assert trainings == [reader_pairs([load_world("t0")], n_drugs=4)] and history.examples == len(trainings[0])


def test_checkpoints_report_instead_of_stopping_on_your_data(my_data, monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(checks, "REFERENCES", tmp_path)
    (tmp_path / "01.json").write_text('{"01 recall": {"tol": 0.05, "values": {"trained": 1.0}}}', encoding="utf-8")
    monkeypatch.setenv("FTRAG_DATA", str(my_data))
    claim(False, "retrieval finds every leaflet")
    claim(True, "the threshold abstains on unknown drugs")
    expect("01 recall", {"trained": 0.5})  # far from the committed run's
    assert capsys.readouterr().out.splitlines() == ["✗ retrieval finds every leaflet (not on your data, FTRAG_DATA)",
                                                    "✓ the threshold abstains on unknown drugs"]

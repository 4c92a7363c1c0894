"""Step 2, sampling (method.md §7.2): n responses per prompt, n = 10 for train and 500 for test,
temperature 1.0, top-p 0.95, at most 128 new tokens; prompts over 450 tokens are skipped.

Each prompt's n samples come from one call: vLLM's SamplingParams(n=…) when vLLM is importable
(or forced by sampling.engine), else transformers' generate(num_return_sequences=…), with several
prompts per call for small n and n cut into chunks of sampling.batchSequences for large n. Seeds
derive from the config's seed and the prompt (or chunk), never from the worker that runs it.

Output per shard: responses.jsonl, one line per prompt in order,
    {"id": 17, "prompt": "...", "responses": ["...", ...]}      or
    {"id": 18, "prompt": "...", "skipped": "612 prompt tokens > 450"}
"""

from __future__ import annotations

from types import SimpleNamespace

import torch
from transformers import AutoModelForCausalLM

import hf
from protocol import Progress, shard_seed, write_jsonl


def load(cfg):
    s = cfg.section("sampling")
    ref = cfg.model("generator")
    path = cfg.data.get("generatorPath")  # the merged SFT model when the SFT step ran
    tok = hf.tokenizer(ref, path, padding_side="left")
    state = SimpleNamespace(tok=tok, engine="transformers", model=None, llm=None,
                            info=hf.describe(ref, path=path))
    if s["engine"] in ("auto", "vllm"):
        try:
            import vllm
        except ImportError:
            if s["engine"] == "vllm":
                raise
        else:
            name, kw = hf.source(ref, path)
            state.llm = vllm.LLM(model=name, tokenizer=name, dtype=ref["dtype"], seed=cfg.config["seed"],
                                 max_model_len=s["maxPromptTokens"] + s["maxNewTokens"] + 8,
                                 tensor_parallel_size=1 if hf.launched_rank() is not None else max(1, torch.cuda.device_count()),
                                 **kw)
            state.engine = "vllm"
            return state
    state.model = hf.from_pretrained(AutoModelForCausalLM, ref, path)
    state.info = hf.describe(ref, state.model, path)
    return state


def _generate_hf(state, s: dict, id_lists: list[list[int]], n: int, seed: int) -> list[str]:
    tok = state.tok
    enc = tok.pad({"input_ids": id_lists}, padding=True, return_tensors="pt").to(hf.input_device(state.model))
    torch.manual_seed(seed)
    with torch.inference_mode():
        out = state.model.generate(
            **enc, do_sample=True, temperature=s["temperature"], top_p=s["topP"], top_k=s["topK"],
            max_new_tokens=s["maxNewTokens"], num_return_sequences=n, pad_token_id=tok.pad_token_id,
        )
    new = out[:, enc["input_ids"].shape[1]:]
    return [tok.decode(seq, skip_special_tokens=True) for seq in new.tolist()]


def process_shard(state, cfg, split, index, tmp, writer):
    s = cfg.section("sampling")
    n = cfg.responses(split)
    base = cfg.config["seed"]
    rows = cfg.shard_rows(split, index)
    progress = Progress(split, index, len(rows), "prompts")
    kept, lines = [], {}
    for row in rows:
        ids = state.tok(row["prompt"])["input_ids"]
        if len(ids) > s["maxPromptTokens"]:
            lines[row["id"]] = {"id": row["id"], "prompt": row["prompt"], "skipped": f"{len(ids)} prompt tokens > {s['maxPromptTokens']}"}
            progress.advance()
        else:
            kept.append((row, ids))

    def done(row, responses):
        if len(responses) != n:
            raise RuntimeError(f"prompt {row['id']}: {len(responses)} responses, expected {n}")
        lines[row["id"]] = {"id": row["id"], "prompt": row["prompt"], "responses": responses}
        progress.advance()

    if state.engine == "vllm":
        from vllm import SamplingParams

        for start in range(0, len(kept), 64):  # calls of 64 prompts, for progress
            group = kept[start:start + 64]
            params = [SamplingParams(n=n, temperature=s["temperature"], top_p=s["topP"], top_k=s["topK"] or -1,
                                     max_tokens=s["maxNewTokens"], seed=shard_seed(base, "sample", split, row["id"]))
                      for row, _ in group]
            outs = state.llm.generate([row["prompt"] for row, _ in group], params, use_tqdm=False)
            for (row, _), out in zip(group, outs):
                done(row, [o.text for o in out.outputs])
    else:
        per_call = s["batchSequences"]
        if n >= per_call:  # one prompt per call, its n samples in chunks
            for row, ids in kept:
                responses = []
                for c, start in enumerate(range(0, n, per_call)):
                    responses += _generate_hf(state, s, [ids], min(per_call, n - start), shard_seed(base, "sample", split, row["id"], c))
                done(row, responses)
        else:  # several prompts per call, n samples each
            group_size = max(1, per_call // n)
            for start in range(0, len(kept), group_size):
                group = kept[start:start + group_size]
                texts = _generate_hf(state, s, [ids for _, ids in group], n, shard_seed(base, "sample", split, group[0][0]["id"]))
                for i, (row, _) in enumerate(group):
                    done(row, texts[i * n:(i + 1) * n])

    write_jsonl(tmp / "responses.jsonl", (lines[row["id"]] for row in rows))
    return {"prompts": len(rows), "kept": len(kept), "responses_per_prompt": n, "engine": state.engine, "model": state.info}

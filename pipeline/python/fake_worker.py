"""TEST DOUBLE — not a model. A stand-in for worker.py that speaks the same protocol (it uses the
real protocol.py: events, shard assignment, atomic shard commits) and writes small deterministic
outputs of the real layout, with the standard library only, so the orchestrator can be tested on
machines without a GPU or any ML package:

    python fake_worker.py STEP --config OUT/run/config.json --stdin

  sft       writes sft/model/fake-model.json
  sample    n responses per prompt, some with a "\\n\\nHuman: …" tail (to be cut); prompts with more
            whitespace-separated words than sampling.maxPromptTokens are skipped
  annotate  cuts, "scores" each response with a hash (train sorted ascending), rewards.npy
  embed     embeddings.npy (kept, n, D) whose first coordinate carries the reward, so a reward
            model trained on them learns something

Knobs (environment):
  FAKE_WORKER_DELAY=SECONDS         sleep per prompt (so a test can interrupt a shard midway)
  FAKE_WORKER_FAIL=STEP:SPLIT/I:N   raise in that shard on its first N attempts (comma-separated list)
  FAKE_WORKER_FATAL=STEP[@DEVICES]  fail at start-up, as a worker missing a package would (only where
                                    CUDA_VISIBLE_DEVICES is DEVICES, when given)
  FAKE_WORKER_LOG=PATH              append "begin|commit STEP SPLIT I PID" lines
  FAKE_WORKER_DIM=D                 embedding width (default 8)
  FAKE_WORKER_NOISE=1               also print non-protocol lines on stdout, as a chatty library would
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import struct
import sys
import time
from array import array
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import protocol  # noqa: E402
from protocol import STEPS, Progress, cut_at_human, read_jsonl, run_worker, write_jsonl  # noqa: E402


def unit_hash(*parts) -> float:
    """A deterministic number in [0, 1) from any parts."""
    h = hashlib.sha256(json.dumps(parts).encode()).digest()
    return int.from_bytes(h[:8], "little") / 2**64


def save_npy(path: Path, values: array, shape: tuple[int, ...]) -> None:
    """float32 C-order .npy, as numpy.save writes it (format 1.0, header padded to 64 bytes)."""
    dims = ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "")
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }" % dims
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    if sys.byteorder == "big":
        values = array("f", values)
        values.byteswap()
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1"))
        f.write(values.tobytes())


def reward_of(prompt: str, response: str) -> float:
    return round(4 * unit_hash("reward", prompt, response) - 2, 4)


def attempt(cfg, step: str, split: str, index: int) -> int:
    """How many times this shard has been started (counted across processes)."""
    marker = cfg.out / "fake-attempts" / f"{step}-{split}-{index}"
    marker.parent.mkdir(parents=True, exist_ok=True)
    with open(marker, "a") as f:
        f.write("x")
    return marker.stat().st_size


def log(line: str) -> None:
    path = os.environ.get("FAKE_WORKER_LOG")
    if path:
        with open(path, "a") as f:
            f.write(line + "\n")


def make_load(step: str):
    def load(cfg):
        fatal = os.environ.get("FAKE_WORKER_FATAL", "")
        if fatal == step or fatal == f"{step}@{os.environ.get('CUDA_VISIBLE_DEVICES', '')}":
            raise ImportError("No module named 'torch' (FAKE_WORKER_FATAL)")
        return SimpleNamespace(engine="fake")
    return load


def make_process(step: str):
    def process(state, cfg, split, index, tmp, writer):
        log(f"begin {step} {split} {index} {os.getpid()}")
        n_try = attempt(cfg, step, split, index)
        for spec in filter(None, os.environ.get("FAKE_WORKER_FAIL", "").split(",")):
            where, _, times = spec.rpartition(":")
            if where == f"{step}:{split}/{index}" and n_try <= int(times):
                raise RuntimeError(f"injected failure {n_try}/{times} (FAKE_WORKER_FAIL)")
        if os.environ.get("FAKE_WORKER_NOISE"):
            protocol._event_stream().write(f"fake worker chatter for {split}/{index}\n{{not json\n")
        delay = float(os.environ.get("FAKE_WORKER_DELAY", "0"))
        meta = STEP_FUNCS[step](cfg, split, index, tmp, delay)
        log(f"commit {step} {split} {index} {os.getpid()}")
        return {**meta, "model": {"id": "fake", "revision": None}}
    return process


def fake_sft(cfg, split, index, tmp, delay):
    demos = read_jsonl(cfg.data["prepared"]["demonstrations"])
    progress = Progress("all", 0, len(demos), "steps", every=0)
    for _ in demos:
        time.sleep(delay)
        progress.advance()
    (tmp / "fake-model.json").write_text(json.dumps({"fake": True, "demonstrations": len(demos)}))
    return {"prompts": len(demos), "kept": len(demos), "demonstrations": len(demos)}


def fake_sample(cfg, split, index, tmp, delay):
    s = cfg.section("sampling")
    n = cfg.responses(split)
    rows = cfg.shard_rows(split, index)
    progress = Progress(split, index, len(rows), "prompts", every=0)
    out, kept = [], 0
    for row in rows:
        time.sleep(delay)
        words = len(row["prompt"].split())
        if words > s["maxPromptTokens"]:
            out.append({"id": row["id"], "prompt": row["prompt"], "skipped": f"{words} prompt tokens > {s['maxPromptTokens']}"})
        else:
            kept += 1
            responses = []
            for j in range(n):
                text = f" reply {j} to prompt {row['id']}, {int(unit_hash('len', row['id'], j) * 1000)}"
                if j % 3 == 0:
                    text += "\n\nHuman: and then?\n\nAssistant: more"
                responses.append(text)
            out.append({"id": row["id"], "prompt": row["prompt"], "responses": responses})
        progress.advance()
    write_jsonl(tmp / "responses.jsonl", out)
    return {"prompts": len(rows), "kept": kept, "responses_per_prompt": n}


def fake_annotate(cfg, split, index, tmp, delay):
    n = cfg.responses(split)
    rows = read_jsonl(cfg.shard_dir("sample", split, index) / "responses.jsonl")
    kept = [r for r in rows if "responses" in r]
    progress = Progress(split, index, max(1, len(kept)), "prompts", every=0)
    lines, rewards = [], array("f")
    for r in kept:
        time.sleep(delay)
        cut = [cut_at_human(x) for x in r["responses"]]
        scores = [reward_of(r["prompt"], x) for x in cut]
        order = sorted(range(n), key=lambda j: scores[j]) if split == "train" else list(range(n))
        lines.append({"id": r["id"], "prompt": r["prompt"], "responses": [cut[j] for j in order], "order": order})
        rewards.extend(scores[j] for j in order)
        progress.advance()
    write_jsonl(tmp / "responses.jsonl", lines)
    save_npy(tmp / "rewards.npy", rewards, (len(kept), n))
    return {"prompts": len(rows), "kept": len(kept), "responses_per_prompt": n, "rank_sorted": split == "train"}


def fake_embed(cfg, split, index, tmp, delay):
    n = cfg.responses(split)
    dim = int(os.environ.get("FAKE_WORKER_DIM", "8"))
    rows = read_jsonl(cfg.shard_dir("annotate", split, index) / "responses.jsonl")
    progress = Progress(split, index, max(1, len(rows)), "prompts", every=0)
    values = array("f")
    for r in rows:
        time.sleep(delay)
        for x in r["responses"]:
            reward = reward_of(r["prompt"], x)
            values.append(reward + 0.1 * (unit_hash("noise", r["id"], x) - 0.5))
            values.extend(math.sin(7 * unit_hash("emb", r["id"], x, d)) for d in range(1, dim))
        progress.advance()
    save_npy(tmp / "embeddings.npy", values, (len(rows), n, dim))
    return {"prompts": len(rows), "kept": len(rows), "responses_per_prompt": n, "dim": dim}


STEP_FUNCS = {"sft": fake_sft, "sample": fake_sample, "annotate": fake_annotate, "embed": fake_embed}


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in STEPS:
        print(f"usage: fake_worker.py {{{','.join(STEPS)}}} --config RUN_CONFIG --stdin", file=sys.stderr)
        sys.exit(2)
    step = sys.argv[1]
    sys.exit(run_worker(step, make_load(step), make_process(step), sys.argv[2:]))

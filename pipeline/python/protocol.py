"""The worker side of the pipeline protocol; standard library only.

A worker is started as

    python worker.py STEP --config OUT/run/config.json (--stdin | --shards LIST | --rank R --world-size W)

and writes JSON lines on stdout, one event each (src/core/pipelineProtocol.ts is the other side):

    {"event": "start", "step": ..., "pid": ..., "device": ..., "protocol": 1}   models loaded, ready
    {"event": "progress", "split": ..., "shard": ..., "done": n, "total": m, "unit": ...}
    {"event": "shard_done", "split": ..., "shard": ..., "prompts": n, "kept": k, "seconds": s}
    {"event": "error", "message": ..., "split"?: ..., "shard"?: ..., "fatal": bool, "traceback": ...}

Where shards come from:
  --stdin          the orchestrator hands one shard per line, {"split": "train", "shard": 3}; EOF ends the worker.
  --shards LIST    e.g. "train:0-3,test:1" or "all": an explicit list (shards already done are skipped).
  --rank/--world-size (or RANK/WORLD_SIZE, SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT from the environment):
                   every shard whose position in the step's list ≡ rank (mod world size), skipping done ones.
                   This is how torchrun, `accelerate launch` or a Slurm array runs the steps.

Every shard is written into a private temporary folder and committed by renaming it to its final
name after its done.json is written: a shard folder either holds complete output or does not exist,
so a killed worker never leaves a half-written shard behind and any rerun resumes where it stopped.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import socket
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any, Callable, Iterator

PROTOCOL_VERSION = 1
STEPS = ("sft", "sample", "annotate", "embed")

_events = None  # the real stdout, kept for events only


def _event_stream():
    """Events go to the original stdout; fd 1 is pointed at stderr so stray prints of libraries
    (tqdm, warnings, print) never corrupt the protocol."""
    global _events
    if _events is None:
        try:
            _events = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
            sys.stdout.flush()
            os.dup2(2, 1)
            sys.stdout = sys.stderr
        except OSError:  # no real fds (e.g. embedded): use stdout as it is
            _events = sys.stdout
    return _events


def emit(event: str, **fields: Any) -> None:
    stream = _event_stream()
    stream.write(json.dumps({"event": event, **fields}, ensure_ascii=False) + "\n")
    stream.flush()


class Progress:
    """Emits `progress` events for one shard, at most one a second (and always the last)."""

    def __init__(self, split: str, shard: int, total: int, unit: str, every: float = 1.0):
        self.split, self.shard, self.total, self.unit, self.every = split, shard, max(1, total), unit, every
        self.done = 0
        self._last = 0.0

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if now - self._last >= self.every or self.done >= self.total:
            self._last = now
            emit("progress", split=self.split, shard=self.shard, done=self.done, total=self.total, unit=self.unit)


# --------------------------------------------------------------------------------------------
# The run config and the output layout (src/cli/pipeline/layout.ts mirrors it).


class RunConfig:
    """OUT/run/config.json, written by `reward-lab pipeline run`: the validated config with
    absolute paths, the shard plan and each step's settings fingerprint."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        with open(self.path, encoding="utf-8") as f:
            self.data = json.load(f)
        if self.data.get("protocol") != PROTOCOL_VERSION:
            raise ValueError(f"{self.path}: protocol {self.data.get('protocol')!r}, this worker speaks {PROTOCOL_VERSION}")
        self.config: dict = self.data["config"]
        self.out = Path(self.data["outputDir"])
        self._prompts: dict[str, list[dict]] = {}

    def section(self, name: str) -> dict:
        return self.config[name]

    def model(self, role: str) -> dict:
        return self.config["models"][role]

    def responses(self, split: str) -> int:
        return int(self.data["responses"][split])

    def shards(self, step: str) -> list[tuple[str, int]]:
        if step == "sft":
            return [("all", 0)]
        return [(split, i) for split in ("train", "test") for i in range(len(self.data["shards"][split]))]

    def shard_rows(self, split: str, index: int) -> list[dict]:
        start, end = self.data["shards"][split][index]
        return self.prompts(split)[start:end]

    def prompts(self, split: str) -> list[dict]:
        if split not in self._prompts:
            self._prompts[split] = read_jsonl(self.data["prepared"][split])
        return self._prompts[split]

    def fingerprint(self, step: str) -> str:
        return self.data["fingerprints"][step]

    def shard_dir(self, step: str, split: str, index: int) -> Path:
        if step == "sft":
            return self.out / "sft" / "model"
        return self.out / step / split / f"shard-{index:05d}"

    def is_done(self, step: str, split: str, index: int) -> bool:
        marker = self.shard_dir(step, split, index) / "done.json"
        try:
            with open(marker, encoding="utf-8") as f:
                return json.load(f).get("fingerprint") == self.fingerprint(step)
        except (OSError, ValueError):
            return False


def read_jsonl(path: str | os.PathLike) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def write_jsonl(path: str | os.PathLike, rows) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def shard_seed(base: int, *parts: Any) -> int:
    """A 31-bit seed from the base seed and a path of names/numbers: the same shard gets the same
    seed whichever worker or machine runs it."""
    h = hashlib.sha256(json.dumps([base, *parts]).encode()).digest()
    return int.from_bytes(h[:4], "little") & 0x7FFFFFFF


def cut_at_human(response: str) -> str:
    """The response up to the first "\\n\\nHuman" (the model starting the next user turn)."""
    at = response.find("\n\nHuman")
    return response if at < 0 else response[:at]


def to_messages(text: str) -> list[dict]:
    """An "Human: …\\n\\nAssistant: …" dialogue as chat messages, for reward models that expect
    their tokenizer's chat template."""
    messages: list[dict] = []
    rest = "\n\n" + text.lstrip("\n") if not text.startswith("\n\n") else text
    markers = (("\n\nHuman:", "user"), ("\n\nAssistant:", "assistant"))
    while rest:
        starts = [(rest.find(m), m, role) for m, role in markers if rest.find(m) >= 0]
        if not starts:
            if messages:
                messages[-1]["content"] += rest
            else:
                messages.append({"role": "user", "content": rest.strip()})
            break
        at, marker, role = min(starts)
        if at > 0 and messages:
            messages[-1]["content"] += rest[:at]
        rest = rest[at + len(marker):]
        nxt = [rest.find(m) for m, _ in markers if rest.find(m) >= 0]
        end = min(nxt) if nxt else len(rest)
        messages.append({"role": role, "content": rest[:end].strip()})
        rest = rest[end:]
    return messages


class ShardWriter:
    """A shard's output folder, committed atomically:

        with ShardWriter(cfg, step, split, index) as tmp:
            ...write files into tmp...
            writer.meta.update(kept=...)

    On success done.json is written into the folder, which is then renamed to its final name.
    On failure the temporary folder is removed."""

    def __init__(self, cfg: RunConfig, step: str, split: str, index: int, commit: bool = True):
        self.cfg, self.step, self.split, self.index, self.commit = cfg, step, split, index, commit
        self.final = cfg.shard_dir(step, split, index)
        self.tmp = self.final.with_name(f"{self.final.name}.tmp-{socket.gethostname()}-{os.getpid()}")
        self.meta: dict[str, Any] = {}
        self.started = time.time()

    def __enter__(self) -> Path:
        if not self.commit:  # e.g. a non-zero rank of a distributed SFT: rank 0 writes the output
            self.tmp = Path(tempfile.mkdtemp(prefix=f"{self.step}-rank-"))
            return self.tmp
        self.final.parent.mkdir(parents=True, exist_ok=True)
        # Leftovers of a killed attempt at this shard (this worker is the one handed it now).
        for stale in self.final.parent.glob(f"{self.final.name}.tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)
        self.tmp.mkdir()
        return self.tmp

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is not None or not self.commit:
            shutil.rmtree(self.tmp, ignore_errors=True)
            return False
        done = {
            "step": self.step,
            "split": self.split,
            "shard": self.index,
            "fingerprint": self.cfg.fingerprint(self.step),
            "seconds": round(time.time() - self.started, 3),
            "finishedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "host": socket.gethostname(),
            "pid": os.getpid(),
            **self.meta,
        }
        marker = self.tmp / "done.json"
        with open(marker.with_suffix(".partial"), "w", encoding="utf-8") as f:
            json.dump(done, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(marker.with_suffix(".partial"), marker)
        if self.final.exists():
            # A stale folder (other settings, or no done.json): replaced by this complete one.
            shutil.rmtree(self.final)
        os.replace(self.tmp, self.final)
        return False


# --------------------------------------------------------------------------------------------
# The worker loop.


def parse_shard_list(text: str, cfg: RunConfig, step: str) -> list[tuple[str, int]]:
    """"train:0-3,test:1" → [(train,0..3), (test,1)]; "all" → every shard of the step."""
    if text == "all":
        return cfg.shards(step)
    out: list[tuple[str, int]] = []
    for part in text.split(","):
        split, _, rng = part.partition(":")
        lo, _, hi = rng.partition("-")
        out.extend((split, i) for i in range(int(lo), int(hi or lo) + 1))
    return out


def assigned_shards(args: argparse.Namespace, cfg: RunConfig, step: str) -> Iterator[tuple[str, int]]:
    if args.stdin:
        for line in sys.stdin:
            if line.strip():
                req = json.loads(line)
                yield req["split"], int(req["shard"])
        return
    if args.shards:
        shards = parse_shard_list(args.shards, cfg, step)
    else:
        rank = args.rank if args.rank is not None else int(os.environ.get("RANK", os.environ.get("SLURM_ARRAY_TASK_ID", "0")))
        world = args.world_size if args.world_size is not None else int(
            os.environ.get("WORLD_SIZE", os.environ.get("SLURM_ARRAY_TASK_COUNT", "1"))
        )
        shards = [s for i, s in enumerate(cfg.shards(step)) if i % world == rank]
    for split, index in shards:
        if not cfg.is_done(step, split, index):
            yield split, index


def describe_device() -> str:
    try:
        import torch

        if torch.cuda.is_available():
            return f"cuda:{torch.cuda.current_device()} {torch.cuda.get_device_name()}"
        return "cpu"
    except ImportError:
        return "cpu (no torch)"


def run_worker(
    step: str,
    load: Callable[[RunConfig], Any],
    process: Callable[[Any, RunConfig, str, int, Path, ShardWriter], dict],
    argv: list[str] | None = None,
) -> int:
    """Loads the models once, then processes shards one at a time. A failing shard is reported
    and the worker goes on with the next one (the orchestrator decides on retries); a failure
    outside any shard is fatal."""
    ap = argparse.ArgumentParser(prog=f"worker.py {step}")
    ap.add_argument("--config", required=True, help="OUT/run/config.json, written by `reward-lab pipeline run`")
    src = ap.add_mutually_exclusive_group()
    src.add_argument("--stdin", action="store_true", help="take shards from stdin, one JSON object per line")
    src.add_argument("--shards", help='e.g. "train:0-3,test:1" or "all"')
    ap.add_argument("--rank", type=int)
    ap.add_argument("--world-size", type=int)
    args = ap.parse_args(argv)
    _event_stream()
    try:
        cfg = RunConfig(args.config)
        state = load(cfg)
    except Exception as e:  # noqa: BLE001 - reported to the orchestrator, then fatal
        emit("error", message=f"{step} worker failed to start: {type(e).__name__}: {e}", fatal=True, traceback=traceback.format_exc())
        return 1
    emit("start", step=step, pid=os.getpid(), device=describe_device(), protocol=PROTOCOL_VERSION,
         engine=getattr(state, "engine", None) or "transformers")
    failures = 0
    for split, index in assigned_shards(args, cfg, step):
        started = time.time()
        # Under torchrun/accelerate the SFT step runs on every rank; only global rank 0 writes.
        writer = ShardWriter(cfg, step, split, index, commit=step != "sft" or os.environ.get("RANK", "0") == "0")
        try:
            with writer as tmp:
                writer.meta.update(process(state, cfg, split, index, tmp, writer) or {})
        except Exception as e:  # noqa: BLE001 - one shard's failure is the orchestrator's to retry
            failures += 1
            emit("error", split=split, shard=index, message=f"{type(e).__name__}: {e}", fatal=False, traceback=traceback.format_exc())
            continue
        emit("shard_done", split=split, shard=index, prompts=int(writer.meta.get("prompts", 0)),
             kept=int(writer.meta.get("kept", writer.meta.get("prompts", 0))), seconds=round(time.time() - started, 3))
    return 0 if failures == 0 or args.stdin else 1

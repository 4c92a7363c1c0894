"""Builds everything the GPU smoke test needs, locally and without downloads:

  WORK/train.jsonl, test.jsonl, demos.jsonl   fixture prompts (one train prompt far over 450 tokens)
  WORK/models/tokenizer    a byte-level BPE tokenizer trained on the fixtures with `tokenizers`
  WORK/models/gen          a tiny random Llama-style causal LM (generator, SFT base, and embedder)
  WORK/models/rm           a tiny random Llama-style sequence classifier with one logit (golden RM)
  WORK/smoke.json          the pipeline config (all four steps, every visible GPU)
  WORK/spec.json           a small experiment to run on the packed result

    python make_tiny.py WORK [--fake]

--fake writes the fixtures and a config that runs the protocol test double (fake_worker.py)
instead of models: a dry run of run.sh on a machine without torch.
"""

from __future__ import annotations

import json
import os
import random
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SUBJECTS = ["a bicycle", "bread", "a garden", "a resume", "a budget", "a tent", "coffee", "a bookshelf", "a cat", "a poem"]
VERBS = ["fix", "make", "plan", "clean", "improve", "choose", "store", "describe"]


def fixtures(rng: random.Random) -> tuple[list[str], list[str], list[dict]]:
    questions = [f"How do I {v} {s}?" for v in VERBS for s in SUBJECTS]
    rng.shuffle(questions)
    train = questions[:40]
    train.insert(7, "Please summarise this: " + " ".join(rng.choice(SUBJECTS).split()[-1] for _ in range(600)))
    test = questions[40:48]
    demos = [{"prompt": q, "response": f"Start by looking at {q.split()[-1].rstrip('?')} closely, then take one small step at a time."}
             for q in questions[48:80]]
    return train, test, demos


def write_jsonl(path: Path, rows) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def build_tokenizer(texts: list[str], where: Path):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    try:
        from transformers import PreTrainedTokenizerFast as HFTokenizer
    except ImportError:  # transformers 5 names the tokenizers-backed class TokenizersBackend
        from transformers import TokenizersBackend as HFTokenizer

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=600, special_tokens=["<pad>", "<s>", "</s>", "<unk>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer)
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", tok.token_to_id("<s>"))])
    hf = HFTokenizer(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>", unk_token="<unk>")
    hf.save_pretrained(where)
    return hf


def build_models(work: Path, train: list[str], test: list[str], demos: list[dict]) -> list:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM, LlamaForSequenceClassification

    torch.manual_seed(0)
    template = "Human: {}\n\nAssistant:"
    corpus = [template.format(p) for p in train + test] + [template.format(d["prompt"]) + " " + d["response"] for d in demos]
    tok = build_tokenizer(corpus * 4, work / "models" / "tokenizer")
    config = dict(vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                  num_key_value_heads=2, max_position_embeddings=1024, bos_token_id=tok.bos_token_id,
                  eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id, tie_word_embeddings=True)
    gen = LlamaForCausalLM(LlamaConfig(**config))
    gen.generation_config.pad_token_id = tok.pad_token_id
    gen.save_pretrained(work / "models" / "gen")
    tok.save_pretrained(work / "models" / "gen")
    rm = LlamaForSequenceClassification(LlamaConfig(**config, num_labels=1))
    rm.save_pretrained(work / "models" / "rm")
    tok.save_pretrained(work / "models" / "rm")
    print(f"tokenizer ({len(tok)} tokens) and tiny models in {work / 'models'}")
    return list(range(torch.cuda.device_count())) or ["cpu"]


def main(work: Path, fake: bool) -> None:
    rng = random.Random(0)
    work.mkdir(parents=True, exist_ok=True)
    train, test, demos = fixtures(rng)
    write_jsonl(work / "train.jsonl", ({"prompt": p} for p in train))
    write_jsonl(work / "test.jsonl", ({"prompt": p} for p in test))
    write_jsonl(work / "demos.jsonl", demos)
    gpus = [0] if fake else build_models(work, train, test, demos)
    worker = "fake_worker.py" if fake else "worker.py"
    smoke = {
        "name": "gpu-smoke",
        "task": "helpful",
        "models": {
            "generator": {"id": "models/gen", "tag": "tinyllama"},
            "goldenRm": {"id": "models/rm", "tag": "tinyrm"},
            "embedder": {"id": "models/gen", "tag": "tinyllama"},
        },
        "prompts": {"train": {"path": "train.jsonl"}, "test": {"path": "test.jsonl"}},
        "sft": {"enabled": True, "demonstrations": {"path": "demos.jsonl"}, "batchSize": 8},
        "sampling": {"trainResponses": 10, "testResponses": 50, "maxNewTokens": 32, "batchSequences": 64},
        "annotate": {"batchSize": 64},
        "embed": {"batchSize": 64},
        "seed": 0,
        "outputDir": "out",
        "gpus": gpus,
        "python": sys.executable,
        "worker": str(REPO / "pipeline" / "python" / worker),
        "shardResponses": 100,
    }
    (work / "smoke.json").write_text(json.dumps(smoke, indent=2))
    spec = {
        "annotation": {"beta": 5, "budget": 40, "scale": {"kind": "std"}},
        "model": {"objective": "clf-mlp", "hidden": [32], "training": {"batchSize": 64, "epochs": 5}},
        "evaluation": {"repeats": 10, "heldOutPairs": 50, "bonN": [1, 2, 5, 10, 50]},
        "seeds": [0],
    }
    (work / "spec.json").write_text(json.dumps(spec, indent=2))
    print(f"wrote fixtures ({len(train)} train, {len(test)} test prompts, {len(demos)} demonstrations) and "
          f"{work / 'smoke.json'} (worker {worker}, gpus {gpus})")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--fake"]
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    main(Path(os.path.abspath(args[0])), fake="--fake" in sys.argv[1:])

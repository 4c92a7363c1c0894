"""Step 1, SFT (method.md §7.1, optional): LoRA (r 32, α 32, dropout 0) on the generator with the
demonstrations, lr 5e-5, 2 epochs, loss on the response only (prompt tokens are masked out of the
labels). transformers' Trainer runs it, so `accelerate launch`/`torchrun worker.py sft …` trains
data-parallel, and a checkpoint per epoch lets an interrupted run resume from the last epoch.

Output (OUT/sft/model): the merged model and its tokenizer, which the sample step loads as the
generator, and adapter/ with the LoRA weights alone.
"""

from __future__ import annotations

from types import SimpleNamespace

import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM, Trainer, TrainerCallback, TrainingArguments
from transformers.trainer_utils import get_last_checkpoint

import hf
from protocol import Progress, read_jsonl


def load(cfg):
    return SimpleNamespace(engine="transformers")  # the model is loaded with the (single) shard


def encode(tok, prompt: str, response: str, max_length: int) -> dict | None:
    """Prompt and response tokenized apart and joined, so the label mask falls exactly on the
    boundary; None when the prompt leaves no room for the response."""
    if response[:1] not in (" ", "\n"):
        response = " " + response
    p = tok(prompt)["input_ids"]
    r = tok(response, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
    if len(p) >= max_length:
        return None
    ids = (p + r)[:max_length]
    return {"input_ids": ids, "labels": ([-100] * len(p) + r)[:max_length]}


def collate(pad_id: int):
    def fn(batch: list[dict]) -> dict:
        width = max(len(b["input_ids"]) for b in batch)
        pad = lambda xs, v: xs + [v] * (width - len(xs))  # noqa: E731
        return {
            "input_ids": torch.tensor([pad(b["input_ids"], pad_id) for b in batch]),
            "labels": torch.tensor([pad(b["labels"], -100) for b in batch]),
            "attention_mask": torch.tensor([pad([1] * len(b["input_ids"]), 0) for b in batch]),
        }
    return fn


class ReportProgress(TrainerCallback):
    def __init__(self):
        self.progress = None

    def on_step_end(self, args, state, control, **kwargs):
        if not state.is_world_process_zero:
            return
        if self.progress is None:
            self.progress = Progress("all", 0, state.max_steps, "steps")
            self.progress.done = state.global_step - 1
        self.progress.advance(state.global_step - self.progress.done)


def process_shard(state, cfg, split, index, tmp, writer):
    s = cfg.section("sft")
    ref = cfg.model("generator")
    tok = hf.tokenizer(ref, padding_side="right")
    demos = read_jsonl(cfg.data["prepared"]["demonstrations"])
    examples = [x for x in (encode(tok, d["prompt"], d["response"], s["maxLength"]) for d in demos) if x is not None]
    if not examples:
        raise ValueError(f"none of the {len(demos)} demonstrations fits sft.maxLength = {s['maxLength']} tokens")
    model = hf.from_pretrained(AutoModelForCausalLM, ref, train=True)
    lora = s["lora"]
    model = get_peft_model(model, LoraConfig(r=lora["r"], lora_alpha=lora["alpha"], lora_dropout=lora["dropout"],
                                             target_modules=lora["targetModules"], task_type="CAUSAL_LM"))
    checkpoints = cfg.out / "sft" / "checkpoints"
    on_gpu = torch.cuda.is_available()
    args = TrainingArguments(
        output_dir=str(checkpoints), num_train_epochs=s["epochs"], learning_rate=s["lr"],
        per_device_train_batch_size=s["batchSize"], gradient_accumulation_steps=s["gradientAccumulation"],
        lr_scheduler_type="linear", weight_decay=0.0, logging_steps=10, save_strategy="epoch", save_total_limit=1,
        report_to="none", seed=cfg.config["seed"], bf16=on_gpu and ref["dtype"] == "bfloat16",
        fp16=on_gpu and ref["dtype"] == "float16", remove_unused_columns=False, disable_tqdm=True,
        use_cpu=not on_gpu,
    )
    trainer = Trainer(model=model, args=args, train_dataset=examples, data_collator=collate(tok.pad_token_id),
                      callbacks=[ReportProgress()])
    resume = get_last_checkpoint(str(checkpoints)) if checkpoints.is_dir() else None
    result = trainer.train(resume_from_checkpoint=resume)
    if not trainer.is_world_process_zero():
        return {}
    model.save_pretrained(tmp / "adapter")
    merged = model.merge_and_unload()
    merged.save_pretrained(tmp)
    tok.save_pretrained(tmp)
    return {"prompts": len(demos), "kept": len(examples), "demonstrations": len(demos), "used": len(examples),
            "steps": trainer.state.global_step, "train_loss": float(result.training_loss),
            "resumed_from": resume, "model": hf.describe(ref, model)}

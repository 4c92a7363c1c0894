"""Unit tests of protocol.py (standard library only; run by src/cli/pipeline/python.test.ts):

    python3 -m unittest discover -s pipeline/python -p 'test_*.py'
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import protocol  # noqa: E402
from protocol import RunConfig, ShardWriter, cut_at_human, parse_shard_list, shard_seed, to_messages  # noqa: E402


def make_run(tmp: Path) -> RunConfig:
    (tmp / "prepare").mkdir()
    (tmp / "prepare" / "train.jsonl").write_text("".join(json.dumps({"id": i, "prompt": f"p{i}"}) + "\n" for i in range(5)))
    (tmp / "prepare" / "test.jsonl").write_text(json.dumps({"id": 0, "prompt": "t"}) + "\n")
    (tmp / "run").mkdir()
    data = {
        "protocol": protocol.PROTOCOL_VERSION, "outputDir": str(tmp), "config": {"seed": 0},
        "prepared": {"train": str(tmp / "prepare" / "train.jsonl"), "test": str(tmp / "prepare" / "test.jsonl")},
        "shards": {"train": [[0, 3], [3, 5]], "test": [[0, 1]]}, "responses": {"train": 2, "test": 3},
        "fingerprints": {"sft": "f0", "sample": "f1", "annotate": "f2", "embed": "f3"},
    }
    (tmp / "run" / "config.json").write_text(json.dumps(data))
    return RunConfig(tmp / "run" / "config.json")


class ProtocolTest(unittest.TestCase):
    def test_cut_at_human(self):
        self.assertEqual(cut_at_human(" Sure.\n\nHuman: thanks\n\nAssistant: ok"), " Sure.")
        self.assertEqual(cut_at_human(" No turn here.\nHuman: x"), " No turn here.\nHuman: x")
        self.assertEqual(cut_at_human("\n\nHuman"), "")

    def test_to_messages(self):
        self.assertEqual(
            to_messages("\n\nHuman: hi\n\nAssistant: hello\n\nHuman: more?\n\nAssistant: yes, more"),
            [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"},
             {"role": "user", "content": "more?"}, {"role": "assistant", "content": "yes, more"}],
        )
        self.assertEqual(to_messages("Human: q\n\nAssistant: a"),
                         [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}])

    def test_shard_seed(self):
        a = shard_seed(0, "sample", "train", 17)
        self.assertEqual(a, shard_seed(0, "sample", "train", 17))
        self.assertNotEqual(a, shard_seed(1, "sample", "train", 17))
        self.assertNotEqual(a, shard_seed(0, "sample", "train", 17, 1))
        self.assertTrue(0 <= a < 2**31)

    def test_shard_lists_and_rows(self):
        with tempfile.TemporaryDirectory() as d:
            cfg = make_run(Path(d))
            self.assertEqual(parse_shard_list("train:0-1,test:0", cfg, "sample"), [("train", 0), ("train", 1), ("test", 0)])
            self.assertEqual(parse_shard_list("all", cfg, "embed"), [("train", 0), ("train", 1), ("test", 0)])
            self.assertEqual(parse_shard_list("all", cfg, "sft"), [("all", 0)])
            self.assertEqual([r["id"] for r in cfg.shard_rows("train", 1)], [3, 4])
            self.assertEqual(cfg.shard_dir("sample", "test", 0), Path(d) / "sample" / "test" / "shard-00000")
            self.assertEqual(cfg.shard_dir("sft", "all", 0), Path(d) / "sft" / "model")

    def test_shard_writer_commits_atomically(self):
        with tempfile.TemporaryDirectory() as d:
            cfg = make_run(Path(d))
            final = cfg.shard_dir("sample", "train", 0)
            stale = final.with_name(final.name + ".tmp-otherhost-1")
            stale.mkdir(parents=True)
            with self.assertRaises(RuntimeError):
                with ShardWriter(cfg, "sample", "train", 0) as tmp:
                    (tmp / "responses.jsonl").write_text("half")
                    raise RuntimeError("killed")
            self.assertFalse(final.exists())
            self.assertEqual(list(final.parent.iterdir()), [], "the failed attempt and the stale folder are gone")
            self.assertFalse(cfg.is_done("sample", "train", 0))
            w = ShardWriter(cfg, "sample", "train", 0)
            with w as tmp:
                (tmp / "responses.jsonl").write_text("{}\n")
                w.meta.update(prompts=3, kept=3)
            done = json.loads((final / "done.json").read_text())
            self.assertEqual((done["step"], done["split"], done["shard"], done["fingerprint"], done["kept"]), ("sample", "train", 0, "f1", 3))
            self.assertTrue(cfg.is_done("sample", "train", 0))
            self.assertEqual(sorted(p.name for p in final.parent.iterdir()), ["shard-00000"])
            # Another step's fingerprint makes it not done (stale).
            cfg.data["fingerprints"]["sample"] = "changed"
            self.assertFalse(cfg.is_done("sample", "train", 0))


if __name__ == "__main__":
    unittest.main()

"""Entry point of the pipeline's GPU workers: `python worker.py STEP --config OUT/run/config.json ...`.

STEP is one of sft, sample, annotate, embed; the options are protocol.run_worker's. Each step's
module is imported only when asked for, so `sample` never imports peft and a missing package
fails only the step that needs it.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from protocol import STEPS, emit, run_worker  # noqa: E402


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in STEPS:
        print(f"usage: worker.py {{{','.join(STEPS)}}} --config RUN_CONFIG (--stdin | --shards LIST | --rank R --world-size W)",
              file=sys.stderr)
        return 2
    step = argv[0]
    try:
        module = importlib.import_module(step)
    except Exception as e:  # noqa: BLE001 - e.g. torch or transformers missing: tell the orchestrator why
        emit("error", message=f"cannot import the {step} worker: {type(e).__name__}: {e}", fatal=True,
             traceback=traceback.format_exc())
        return 1
    return run_worker(step, module.load, module.process_shard, argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env bash
# Real-GPU smoke test of the companion pipeline (issue 6). On a machine with an NVIDIA GPU,
# torch, transformers, peft, tokenizers and numpy, and no network:
#   1. builds tiny random models locally (make_tiny.py: a Llama-style causal LM, a tokenizer
#      trained on the fixture prompts, a one-logit sequence classifier as golden RM),
#   2. runs all four steps for real through the CLI (SFT, sampling, annotation, embeddings),
#      checks that a rerun resumes with nothing left to do, verifies and packs,
#   3. runs an experiment on the packed dataset with `reward-lab run`.
#
# Node: a machine without Node gets it carried. On a machine WITH Node, first run
#   pipeline/gpu-smoke/bundle.sh     (→ pipeline/gpu-smoke/.carry/{node.xz,reward-lab.mjs.xz}, ~30 MB)
# and carry that folder (device tool: carry ["pipeline/gpu-smoke/.carry"]). Where Node and
# node_modules exist, the script uses them instead.
#
# Environment: SMOKE_DIR (work folder; default a new temporary one), PYTHON (default python3),
# OUT (when set, the manifest, result, status and logs are copied there), SMOKE_FAKE=1 (dry run
# with the protocol test double instead of models, for machines without torch).
set -euo pipefail
cd "$(dirname "$0")/../.."
HERE=pipeline/gpu-smoke
CARRY=$HERE/.carry
PY=${PYTHON:-python3}
WORK=${SMOKE_DIR:-$(mktemp -d /tmp/reward-lab-smoke.XXXXXX)}
mkdir -p "$WORK"

unxz() { "$PY" -c "import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], 'wb'))" "$1" "$2"; }
if [ -f "$CARRY/reward-lab.mjs.xz" ]; then
  if [ -z "${NODE:-}" ]; then
    if [ -f "$CARRY/node.xz" ]; then NODE=$WORK/node; unxz "$CARRY/node.xz" "$NODE"; chmod +x "$NODE"
    else NODE=$(command -v node); fi
  fi
  unxz "$CARRY/reward-lab.mjs.xz" "$WORK/reward-lab.mjs"
  CLI=("$NODE" "$WORK/reward-lab.mjs")
elif command -v node >/dev/null && [ -d node_modules ]; then
  NODE=$(command -v node)
  CLI=("$NODE" src/cli/bin.mjs)
else
  echo "no Node here: run pipeline/gpu-smoke/bundle.sh on a machine with Node and carry $CARRY" >&2
  exit 2
fi
step() { printf '\n=== %s\n' "$*"; }

step "machine"
"$NODE" --version
if [ "${SMOKE_FAKE:-}" = 1 ]; then
  "$PY" --version
  "$PY" $HERE/make_tiny.py "$WORK" --fake
else
  nvidia-smi -L || true
  "$PY" -c "import torch, transformers, peft, tokenizers, numpy
print('python', __import__('sys').version.split()[0], '| torch', torch.__version__, '| cuda', torch.version.cuda, '| transformers', transformers.__version__, '| peft', peft.__version__, '| tokenizers', tokenizers.__version__)
print('GPUs:', [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())])
try:
    import vllm; print('vllm', vllm.__version__)
except ImportError:
    print('vllm: not installed (sampling uses transformers generate)')"
  step "tiny models and fixtures (no downloads)"
  "$PY" $HERE/make_tiny.py "$WORK"
fi
CFG=$WORK/smoke.json

step "plan"
"${CLI[@]}" pipeline plan "$CFG"
step "run (all steps)"
start=$(date +%s)
"${CLI[@]}" pipeline run "$CFG"
echo "run took $(( $(date +%s) - start ))s"
step "run again: everything is done, nothing reruns"
"${CLI[@]}" pipeline run "$CFG" 2>&1 | tee "$WORK/rerun.txt"
grep -q "embed: all .* already done" "$WORK/rerun.txt"
step "status"
"${CLI[@]}" pipeline status "$CFG" | tee "$WORK/status.txt"
step "verify"
"${CLI[@]}" pipeline verify "$CFG"
step "pack"
"${CLI[@]}" pipeline pack "$CFG"
"${CLI[@]}" pipeline verify "$CFG"
step "a sample of what was made"
"$PY" - "$WORK/out" <<'EOF'
import json, sys
out = sys.argv[1]
row = json.loads(open(f"{out}/annotate/train/shard-00000/responses.jsonl").readline())
print("prompt:", repr(row["prompt"][:80]))
print("best response (cut):", repr(row["responses"][-1][:120]))
m = json.load(open(f"{out}/packed/manifest.json"))
print("manifest counts:", json.dumps(m["counts"]))
print("models:", json.dumps(m["models"]))
EOF
step "experiment on the packed dataset"
"${CLI[@]}" run --spec "$WORK/spec.json" --data "$WORK/out/packed/arrow" --backend cpu --out "$WORK/result.json"
"${CLI[@]}" run --spec "$WORK/spec.json" --data "$WORK/out/packed/npy" --backend cpu --quiet --out "$WORK/result-npy.json"

if [ -n "${OUT:-}" ]; then
  mkdir -p "$OUT"
  cp "$WORK/out/packed/manifest.json" "$WORK/result.json" "$WORK/status.txt" "$WORK/smoke.json" "$OUT/"
  cp -r "$WORK/out/logs" "$OUT/logs"
fi
step "smoke test passed ($WORK)"

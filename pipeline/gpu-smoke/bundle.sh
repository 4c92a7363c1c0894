#!/usr/bin/env bash
# Run on a machine WITH Node (e.g. the development machine), before carrying the tree to a GPU
# machine that has none. Writes pipeline/gpu-smoke/.carry/ (git-ignored, ~30 MB):
#   reward-lab.mjs.xz  the CLI bundled into one file with esbuild (no node_modules needed)
#   node.xz            this machine's Node binary
# Both are xz-compressed (run.sh unpacks them with Python's lzma into its work folder); the
# bundle stays compressed here so linters never read it.
# Then carry that folder, e.g. with the device tool: carry ["pipeline/gpu-smoke/.carry"].
set -euo pipefail
cd "$(dirname "$0")/../.."
CARRY=pipeline/gpu-smoke/.carry
mkdir -p "$CARRY"
# The experiment runs on tfjs's cpu backend there (the wasm backend's .wasm files are not bundled).
npx esbuild src/cli/main.ts --bundle --platform=node --format=esm --target=node20 --log-level=warning \
  --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" \
  | xz -T0 -6 > "$CARRY/reward-lab.mjs.xz"
xz -T0 -4 -c "$(command -v node)" > "$CARRY/node.xz"
ls -la "$CARRY"
du -sh "$CARRY"

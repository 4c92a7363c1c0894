#!/usr/bin/env bash
# Run on a machine WITH Node and npm (e.g. the development machine), before carrying the tree to
# a GPU machine that has neither and no network. Writes pipeline/gpu-smoke/.carry/ (git-ignored,
# ~35 MB), used by gpu-smoke/run.sh (issue 6) and src/cli/bench/gpu-bench.sh (issue 7):
#   reward-lab.mjs.xz  the CLI bundled into one file with esbuild (no node_modules needed)
#   node.xz            this machine's Node binary
#   webgpu.tar.xz      the `webgpu` npm package (Dawn for Node), linux-x64 binary only
#   gl/*.deb           Debian's Vulkan loader and glvnd libraries, unpacked there with dpkg -x
# Everything is xz-compressed (unpacked there with Python's lzma), so linters never read it.
# Then carry that folder, e.g. with the device tool: carry ["pipeline/gpu-smoke/.carry"].
set -euo pipefail
cd "$(dirname "$0")/../.."
CARRY=pipeline/gpu-smoke/.carry
mkdir -p "$CARRY/gl"
# The bundle runs tfjs on cpu or webgpu there (the wasm backend's .wasm files are not bundled);
# the browser bench (playwright-core, vite) and Dawn's native module stay outside it.
npx esbuild src/cli/main.ts --bundle --platform=node --format=esm --target=node20 --log-level=warning \
  --external:webgpu "--external:*/benchBrowser.ts" \
  --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" \
  | xz -T0 -6 > "$CARRY/reward-lab.mjs.xz"
xz -T0 -4 -c "$(command -v node)" > "$CARRY/node.xz"
tar -C node_modules -cf - webgpu/package.json webgpu/index.js webgpu/dist/linux-x64 | xz -T0 -6 > "$CARRY/webgpu.tar.xz"
if ! ls "$CARRY"/gl/libvulkan1_*.deb >/dev/null 2>&1; then
  lists=$(mktemp -d)
  o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 "-oDir::State::Lists=$lists")
  mkdir -p "$lists/partial"
  apt-get "${o[@]}" update -qq
  (cd "$CARRY/gl" && apt-get "${o[@]}" download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
fi
ls -la "$CARRY" "$CARRY/gl"
du -sh "$CARRY"

#!/usr/bin/env bash
# The GPU benchmark (issue 7) for a machine with an NVIDIA GPU, PyTorch with CUDA, and no network
# and no Node. First, on a machine with Node and npm, run pipeline/gpu-smoke/bundle.sh and carry
# pipeline/gpu-smoke/.carry (device tool: carry ["pipeline/gpu-smoke/.carry"]). It holds Node,
# the bundled CLI, the `webgpu` package (Dawn) and Debian's Vulkan loader + glvnd libraries.
# Then, from the repository root there:  OUT=/some/dir bash src/cli/bench/gpu-bench.sh [bench args…]
# It runs `reward-lab bench` on Node + Dawn WebGPU with the PyTorch CUDA comparison in the same
# run and writes $OUT/bench-gpu.json. Extra arguments go to `reward-lab bench`.
set -euo pipefail
cd "$(dirname "$0")/../../.."
CARRY=pipeline/gpu-smoke/.carry
PY=${PYTHON:-python3}
WORK=${BENCH_DIR:-$(mktemp -d /tmp/reward-lab-bench.XXXXXX)}
OUT=${OUT:-$WORK}
mkdir -p "$WORK/node_modules" "$OUT"

unxz() { "$PY" -c "import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], 'wb'))" "$1" "$2"; }
unxz "$CARRY/node.xz" "$WORK/node" && chmod +x "$WORK/node"
unxz "$CARRY/reward-lab.mjs.xz" "$WORK/reward-lab.mjs"
unxz "$CARRY/webgpu.tar.xz" "$WORK/webgpu.tar" && tar -C "$WORK/node_modules" -xf "$WORK/webgpu.tar"
# Dawn needs a Vulkan loader; the NVIDIA image ships the driver's ICD but not the loader.
if ! ldconfig -p | grep -q libvulkan.so.1; then
  for f in "$CARRY"/gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
export VK_DRIVER_FILES=${VK_DRIVER_FILES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}
export __EGL_VENDOR_LIBRARY_FILENAMES=${__EGL_VENDOR_LIBRARY_FILENAMES:-/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json}

nvidia-smi -L || true
"$WORK/node" --version
"$WORK/node" "$WORK/reward-lab.mjs" bench --backends node:webgpu --compare-torch --python "$PY" \
  --torch-script src/cli/bench/torch_reference.py --json "$OUT/bench-gpu.json" "$@"

#!/bin/sh
# Which package index pip should take torch from, printed as pip options (empty: pip's default).
#
#   TORCH_INDEX=URL        that index, e.g. https://download.pytorch.org/whl/cu126 for a given CUDA
#   Linux, no nvidia-smi   PyTorch's CPU wheel index: a ~200 MB CPU build instead of the default
#                          Linux wheel from PyPI, which is built for CUDA and pulls ~3 GB of nvidia-* packages
#   Linux with nvidia-smi  nothing: PyPI's default Linux wheel is the CUDA build
#   macOS, Windows         nothing: PyPI's wheels there have no CUDA
#
# The index is added with --extra-index-url, so pip still sees PyPI and any local mirror: the pinned
# version's CPU build (2.13.0+cpu) sorts above the plain one, so pip picks it where the CPU index is
# reachable, and falls back to what it can reach where it is not.
# Usage: pip install --no-deps torch $(sh scripts/torch_index.sh)   (then its dependencies from PyPI)
CPU_INDEX=https://download.pytorch.org/whl/cpu
if [ -n "${TORCH_INDEX:-}" ]; then
    echo "torch: using TORCH_INDEX=$TORCH_INDEX" >&2
    echo "--extra-index-url $TORCH_INDEX"
elif [ "$(uname -s)" != "Linux" ]; then
    echo "torch: $(uname -s), PyPI's default wheel (no CUDA build there)" >&2
elif command -v nvidia-smi >/dev/null 2>&1; then
    echo "torch: nvidia-smi found, PyPI's default (CUDA) wheel" >&2
else
    echo "torch: no NVIDIA GPU (no nvidia-smi), the CPU build from $CPU_INDEX" >&2
    echo "--extra-index-url $CPU_INDEX"
fi

#!/usr/bin/env bash
# Set up a fresh machine, build whistle, and run the main job: a small
# local network of stations that take cases and share them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc 2>/dev/null || echo 2)" >/dev/null
exec bash scripts/demo.sh build/agent/whistle

#!/usr/bin/env bash
# The main job: installs what it needs, builds a release ice-server and runs it in the foreground
# with working defaults (UDP 7337 on all addresses, the default key directory, /status and /metrics
# on 127.0.0.1). Extra arguments go to the ice-server, e.g. --port 7447 or --keys-dir ./keys.
# Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
icebreaker_install_deps build

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
mkdir -p build
if [ ! -f build/release/CMakeCache.txt ]; then
  echo "== configuring build/release"
  cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DICEBREAKER_BUILD_TESTS=OFF "${launcher[@]}" \
    > build/release.configure.log 2>&1 || { cat build/release.configure.log; exit 1; }
fi
echo "== building ice-server and tools (build/release)"
cmake --build build/release -j"$(nproc)" --target ice-server ice-keygen | tail -n 1

echo "== starting ice-server; register a domain with:"
echo "   build/release/tools/ice-keygen/ice-keygen --keypair domain.key --keys-dir <the key directory below>"
exec build/release/ice-server/ice-server "$@"

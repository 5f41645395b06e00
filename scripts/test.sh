#!/usr/bin/env bash
# The one test command: installs what it needs, builds the Qt 6, Qt 5 and sanitizer flavours and
# runs every test of each (the sanitizer flavour also runs the fuzzers), then, as root, builds the
# Debian packages and checks them installed (scripts/package-test.sh). Exits non-zero on any
# failure. Usage: scripts/test.sh [qt6|qt5|sanitize|packages ...]   (default: all four)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
icebreaker_install_deps test

jobs=$(nproc)
flavours=("$@")
explicit=${#flavours[@]}
[ ${#flavours[@]} -gt 0 ] || flavours=(qt6 qt5 sanitize packages)

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)

declare -A summary
failed=0

run_flavour() {
  local name=$1; shift
  local dir=build/$name
  echo
  echo "================ flavour $name ================"
  local start=$SECONDS
  cmake -S . -B "$dir" -G Ninja "${launcher[@]}" "$@" >"$dir.configure.log" 2>&1 \
    || { cat "$dir.configure.log"; return 1; }
  # The whole build log on failure, so the compiler's error is in the CI log; one line otherwise.
  if ! cmake --build "$dir" -j"$jobs" >"$dir.build.log" 2>&1; then
    cat "$dir.build.log"
    echo "build of flavour $name failed (log above, also in $dir.build.log)" >&2
    return 1
  fi
  tail -n 1 "$dir.build.log"
  local rc=0
  # Everything but the NAT testbed in parallel; the testbed alone afterwards, verbosely, because
  # its timing matters and its tables belong in the log.
  ctest --test-dir "$dir" --output-on-failure -j"$jobs" --timeout 1800 -LE nat 2>&1 | tee "$dir.ctest.log" || rc=$?
  local counts
  counts=$(grep -E 'tests passed|tests failed' "$dir.ctest.log" | tail -n 1)
  # libFuzzer's own count line ("Done N runs in S second(s)") of each fuzz target.
  grep -hE '^[a-z_]+: Done [0-9]+ runs' "$dir"/Testing/Temporary/LastTest*.log 2>/dev/null | sed 's/^/  libFuzzer /' || true
  if ctest --test-dir "$dir" -N -L nat | grep -q 'Total Tests: [1-9]'; then
    ctest --test-dir "$dir" -V -L nat --timeout 1800 2>&1 | tee "$dir.nat.log" || rc=$?
    counts="$counts; NAT testbed: $(grep -E 'tests passed|tests failed' "$dir.nat.log" | tail -n 1)"
  fi
  summary[$name]="$counts ($((SECONDS - start)) s)"
  return $rc
}

mkdir -p build
for flavour in "${flavours[@]}"; do
  case $flavour in
    qt6)
      # The NAT testbed needs root (network namespaces, nftables); CI runs as root.
      nat=OFF
      if [ "$(id -u)" -eq 0 ]; then nat=ON; else echo "note: not root, so the NAT testbed is not built or run"; fi
      run_flavour qt6 -DCMAKE_BUILD_TYPE=RelWithDebInfo -DICEBREAKER_QT_MAJOR=6 -DICEBREAKER_MAN_PAGES=ON -DICEBREAKER_NAT_TESTBED=$nat || failed=1 ;;
    qt5) run_flavour qt5 -DCMAKE_BUILD_TYPE=RelWithDebInfo -DICEBREAKER_QT_MAJOR=5 -DICEBREAKER_MAN_PAGES=ON || failed=1 ;;
    sanitize)
      # ASan + UBSan over the whole suite; clang also builds the libFuzzer targets.
      export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
      export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
      CC=clang-14 CXX=clang++-14 run_flavour sanitize -DCMAKE_BUILD_TYPE=Debug -DICEBREAKER_QT_MAJOR=6 \
        -DICEBREAKER_SANITIZE=ON -DICEBREAKER_BUILD_FUZZERS=ON || failed=1 ;;
    packages)
      # Installs and purges the packages on this machine, so root only; its last line is the summary.
      if [ "$(id -u)" -ne 0 ]; then
        summary[packages]="not run: needs root (dpkg -i)"
        [ "$explicit" -eq 0 ] || failed=1
        continue
      fi
      echo
      echo "================ flavour packages ================"
      start=$SECONDS
      rc=0
      scripts/package-test.sh 2>&1 | tee build/packages.log || rc=$?
      summary[packages]="$(tail -n 1 build/packages.log | sed 's/^packages: //') ($((SECONDS - start)) s)"
      [ $rc -eq 0 ] || { summary[packages]="FAILED: ${summary[packages]}"; failed=1; } ;;
    *) echo "unknown flavour '$flavour' (qt6, qt5, sanitize, packages)" >&2; exit 2 ;;
  esac
done

echo
echo "================ summary ================"
for flavour in "${flavours[@]}"; do
  printf '%-9s %s\n' "$flavour" "${summary[$flavour]:-did not reach ctest}"
done
exit $failed

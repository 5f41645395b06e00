#!/usr/bin/env bash
# Formats the C++ sources with the repository's .clang-format, or checks them.
#
# Usage: scripts/format.sh [--check] [FILE...]
#   (default)  rewrite every tracked *.h / *.cpp (or the FILEs given) in place
#   --check    change nothing; list the files clang-format would change and the house rules of
#              docs/style.md they break (test class names, slots keywords); exit 1 if any
# clang-format 14 is the reference (other versions wrap some lines differently):
#   apt-get install clang-format-14
set -euo pipefail

cd "$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"

check=0
if [[ ${1:-} == --check ]]; then
    check=1
    shift
fi
case "${1:-}" in
    -h | --help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "format.sh: unknown option $1" >&2; exit 2 ;;
esac

clang_format=$(command -v clang-format-14 || command -v clang-format || true)
if [[ -z $clang_format ]]; then
    echo "format.sh: clang-format not found; install it with: apt-get install clang-format-14" >&2
    exit 2
fi
version=$("$clang_format" --version | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -1)
[[ ${version%%.*} == 14 ]] || echo "format.sh: warning: clang-format $version, the style was fitted with 14" >&2

if (($#)); then
    files=("$@")
else
    mapfile -t files < <(git ls-files '*.h' '*.cpp')
fi

if ((!check)); then
    printf '%s\0' "${files[@]}" | xargs -0 -n 20 -P 2 "$clang_format" -i --style=file
    echo "format.sh: formatted ${#files[@]} files; review with: git diff --stat"
    exit 0
fi

status=0
differ=0
for f in "${files[@]}"; do
    if ! "$clang_format" --style=file "$f" | cmp -s - "$f"; then
        changed=$("$clang_format" --style=file "$f" | diff "$f" - | grep -c '^[<>]' || true)
        echo "$f: $changed lines would change"
        differ=$((differ + 1))
    fi
done
((differ == 0)) || { echo "format.sh: $differ files differ from .clang-format (run scripts/format.sh)"; status=1; }

# House rules clang-format cannot see (docs/style.md).
tests=()
for f in "${files[@]}"; do [[ $f == tests/*tst_*.cpp ]] && tests+=("$f"); done
if ((${#tests[@]})); then
    # The test class is the one QTEST_*MAIN names; helper classes in the same file are free.
    bad_names=$(grep -nE 'QTEST_[A-Z_]*MAIN\(' "${tests[@]}" | grep -vE 'MAIN\(tst_[A-Z][A-Za-z0-9]*\)' || true)
    if [[ -n $bad_names ]]; then
        echo "test classes not named tst_<Name> (docs/style.md):"
        echo "$bad_names" | sed 's/^/  /'
        status=1
    fi
fi
bad_keywords=$(grep -nE '^\s*((public|protected|private)\s+slots|signals)\s*:|^\s*emit\s' "${files[@]}" || true)
if [[ -n $bad_keywords ]]; then
    echo "slots/signals/emit instead of Q_SLOTS/Q_SIGNALS/Q_EMIT (docs/style.md):"
    echo "$bad_keywords" | sed 's/^/  /'
    status=1
fi
exit $status

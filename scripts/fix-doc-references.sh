#!/usr/bin/env bash
# Points every citation of the protocol notes and design notes that lived outside the repository
# (protocol/overte-ice.md, ../shared/DESIGN.md, ../shared/STYLE.md, "protocol 4.2") at the in-repo
# docs (docs/protocol.md, docs/design.md, docs/style.md), then lists what a person must reword:
# "issue N", "task N" and "item N" references, and any path that still leaves the repository.
#
# Usage: scripts/fix-doc-references.sh [--dry-run]
#   Rewrites tracked text files in place (review with `git diff`); --dry-run only lists.
# Section numbers and quirk IDs (2.4, section 6, Q10) are the same in docs/protocol.md, so only
# the file name changes. Running it twice changes nothing the second time.
set -euo pipefail

cd "$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"
self=scripts/fix-doc-references.sh
dry_run=0
case "${1:-}" in
    --dry-run) dry_run=1 ;;
    "") ;;
    *) echo "usage: $0 [--dry-run]" >&2; exit 2 ;;
esac

for doc in docs/protocol.md docs/design.md; do
    [[ -f $doc ]] || { echo "fix-doc-references: $doc is missing; merge the docs branch first" >&2; exit 1; }
done
# A bare DESIGN.md / STYLE.md means the shared one only while the repository has none of its own.
for bare in DESIGN.md STYLE.md; do
    if git ls-files --error-unmatch "$bare" >/dev/null 2>&1; then
        echo "fix-doc-references: the repository has its own $bare; bare citations are ambiguous" >&2
        exit 1
    fi
done

# Tracked text files, without this script (its patterns would rewrite themselves) and the two docs
# that replace the shared notes.
mapfile -t files < <(git ls-files -z | xargs -0 grep -Il '' -- 2>/dev/null \
    | grep -v -x -e "$self" -e docs/protocol.md -e docs/design.md || true)

# One perl program for the rewrite; the order of the substitutions does not matter because no
# replacement matches another pattern.
#  1. any path ending in overte-ice.md (protocol/, ../shared/protocol/, shared/protocol/, bare)
#  2. any path ending in DESIGN.md or STYLE.md (../shared/DESIGN.md, bare DESIGN.md)
#  3. "protocol 4.2", "protocol section 6", "protocol quirk Q3": the notes cited by short name
read -r -d '' rewrite <<'PERL' || true
s{(?:[\w.~-]*/)*overte-ice\.md}{docs/protocol.md}g;
s{(?:[\w.~-]*/)*DESIGN\.md}{docs/design.md}g;
s{(?:[\w.~-]*/)*STYLE\.md}{docs/style.md}g;
s{(?<![\w/.-])protocol (?=(?:sections? |quirks? )?(?:[0-9]+(?:\.[0-9]+)*|Q[0-9]+)\b)}{docs/protocol.md }g;
PERL

pattern='overte-ice\.md|DESIGN\.md|STYLE\.md|(^|[^[:alnum:]_/.-])protocol (sections? |quirks? )?([0-9]|Q[0-9])'
mapfile -t touched < <(printf '%s\0' "${files[@]}" | xargs -0 grep -l -E "$pattern" -- 2>/dev/null || true)

if ((${#touched[@]})); then
    echo "== citations to rewrite (${#touched[@]} files)"
    printf '%s\0' "${touched[@]}" | xargs -0 grep -n -E "$pattern" -- | sed 's/^/  /'
    if ((!dry_run)); then
        printf '%s\0' "${touched[@]}" | xargs -0 perl -pi -e "$rewrite"
        echo "   rewritten; review with: git diff --stat && git diff"
    fi
else
    echo "== no citations left to rewrite"
fi

# Lines made longer by the rewrite may now pass the column limit; list them for a manual rewrap.
if ((!dry_run)) && ((${#touched[@]})); then
    long=$(printf '%s\0' "${touched[@]}" | xargs -0 awk 'length($0) > 120 && /docs\/(protocol|design|style)\.md/ \
        { printf "  %s:%d: %d columns\n", FILENAME, FNR, length($0) }')
    [[ -z $long ]] || { echo "== rewritten lines now over 120 columns (scripts/format.sh rewraps comments; rewrap the rest by hand)"; echo "$long"; }
fi

echo "== issue/task/item references to reword by hand (a commit message may name an issue; code may not)"
printf '%s\0' "${files[@]}" | xargs -0 grep -n -i -E '\b(issue|task)s? ?#?[0-9]+|\bitems? [0-9]+' -- \
    | grep -v -e '^docs/protocol.md:' | sed 's/^/  /' || echo "  none"

echo "== paths that still point outside the repository"
printf '%s\0' "${files[@]}" | xargs -0 grep -n -E '\.\./shared|/work/|shared/(protocol|tools|DESIGN|STYLE)' -- \
    | sed 's/^/  /' || echo "  none"

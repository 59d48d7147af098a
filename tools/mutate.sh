#!/usr/bin/env bash
# tools/mutate.sh - mutation run over the money path: does a test catch each slip?
#
# Applies the one-line mutations of tools/mutations.txt (credit, yield, area, assess, the CSV
# writer and the export, the kernel's coverage and accumulators) one at a time to a scratch copy of
# the working tree (never to the tree itself), rebuilds incrementally, runs the CTest suites the
# record names, records whether one failed (CAUGHT, and by which) or all passed (SURVIVED),
# restores the file and goes on. Prints a table and the share caught. A benchmark-like run, not
# part of CI; its last measured result is in docs/benchmarks.md.
#
#   tools/mutate.sh [--list FILE] [--only ID,ID,...] [--source DIR] [--dir DIR] [--keep]
#                   [--all-suites] [--jobs N] [--timeout S] [--out FILE]
#
#   --list FILE    the mutations (default tools/mutations.txt; the format is in its header)
#   --only IDS     only these mutations
#   --source DIR   the git checkout whose tests and sources are mutated (default: this one; give
#                  an older checkout, e.g. a `git worktree add --detach`, to see what its tests
#                  caught)
#   --dir DIR      the scratch directory (default: a fresh one under $TMPDIR); reusing one skips
#                  the first full build
#   --keep         keep the scratch directory (removed at the end by default unless --dir)
#   --all-suites   run every suite of a record even after one has caught it (slower; shows
#                  which suites catch what)
#   --jobs N       build jobs (default 2)
#   --timeout S    per-suite CTest timeout in seconds (default 600)
#   --out FILE     also write the table as tab-separated values
#
# Exit status: 0 when every mutation was caught, 1 when one survived, 2 on a usage or setup error
# (baseline suites failing, a build failing, a record that does not apply).
# A mutation whose pattern no longer matches exactly one line is STALE; one that does not build is
# NOBUILD; neither counts in the share.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
list="$here/tools/mutations.txt"
source_dir=$here
only=""
dir=""
keep=0
all_suites=0
jobs=2
timeout=600
out=""

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
    case "$1" in
    --list) list=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --source) source_dir=$(cd "$2" && pwd); shift 2 ;;
    --dir) dir=$2; keep=1; shift 2 ;;
    --keep) keep=1; shift ;;
    --all-suites) all_suites=1; shift ;;
    --jobs) jobs=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) usage ;;
    *) echo "mutate: unknown argument '$1'" >&2; usage ;;
    esac
done
[ -f "$list" ] || { echo "mutate: no mutation list '$list'" >&2; exit 2; }
list=$(cd "$(dirname "$list")" && pwd)/$(basename "$list")

# ---- the records: parallel arrays ----
ids=() files=() finds=() repls=() whys=() suitess=()
parse() {
    local line key val id="" file="" find="" repl="" why="" suites="" have=0
    flush() {
        if [ $have -eq 1 ]; then
            if [ -z "$id" ] || [ -z "$file" ] || [ -z "$find" ] || [ -z "$suites" ]; then
                echo "mutate: record '$id' in $list lacks id, file, find or suites" >&2
                exit 2
            fi
            ids+=("$id"); files+=("$file"); finds+=("$find"); repls+=("$repl")
            whys+=("$why"); suitess+=("$suites")
        fi
        id="" file="" find="" repl="" why="" suites="" have=0
    }
    while IFS= read -r line || [ -n "$line" ]; do
        case "$line" in
        '#'*) continue ;;
        '') flush; continue ;;
        esac
        key=${line%%:*}
        val=${line#*:}
        val=${val#"${val%%[![:space:]]*}"}
        have=1
        case "$key" in
        id) id=$val ;;
        file) file=$val ;;
        find) find=$val ;;
        replace) repl=$val ;;
        why) why=$val ;;
        suites) suites=$val ;;
        *) echo "mutate: unknown key '$key' in $list" >&2; exit 2 ;;
        esac
    done <"$list"
    flush
}
parse
[ ${#ids[@]} -gt 0 ] || { echo "mutate: no mutation in $list" >&2; exit 2; }

selected() { # id -> 0 when it is to be run
    [ -z "$only" ] && return 0
    case ",$only," in *",$1,"*) return 0 ;; esac
    return 1
}

# ---- the scratch copy ----
if [ -z "$dir" ]; then
    dir=$(mktemp -d "${TMPDIR:-/tmp}/parus-mutate.XXXXXX")
fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
tree="$dir/tree"
build="$dir/build"
log="$dir/log"
mkdir -p "$tree" "$log"
cleanup() {
    if [ $keep -eq 0 ]; then rm -rf "$dir"; else echo "mutate: scratch kept in $dir" >&2; fi
}
trap cleanup EXIT

echo "mutate: copying the working tree of $source_dir to $tree" >&2
# tracked and untracked-but-not-ignored files, as they are now (uncommitted edits included)
# into a staging copy, then only the files whose content differs into the scratch tree, with a
# fresh mtime: a reused scratch build rebuilds what changed (a copied file may be older than the
# object built from another version of it), and only that. This also undoes a file left mutated
# by an interrupted run.
rm -rf "$dir/stage"
mkdir -p "$dir/stage"
(cd "$source_dir" && git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
    tar --null -T - -cf -) | tar -C "$dir/stage" -xf -
(cd "$dir/stage" && find . -type f -print0) | while IFS= read -r -d '' f; do
    if ! cmp -s "$dir/stage/$f" "$tree/$f"; then
        mkdir -p "$(dirname "$tree/$f")"
        cp "$dir/stage/$f" "$tree/$f"
    fi
done
rm -rf "$dir/stage"

data_dir=$(sed -n 's/^PARUS_DATA_DIR:PATH=//p' "$here/build/CMakeCache.txt" 2>/dev/null || true)
[ -n "$data_dir" ] || data_dir="$here/../shared/data"
echo "mutate: configuring and building $build (first time: a full build)" >&2
if ! cmake -S "$tree" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DPARUS_DATA_DIR="$data_dir" >"$log/configure.txt" 2>&1 ||
   ! cmake --build "$build" -j "$jobs" >"$log/build.txt" 2>&1; then
    echo "mutate: the unmutated tree does not build; see $log" >&2
    exit 2
fi

run_suite() { # suite -> 0 passed, 1 failed, 2 skipped or not run
    local s=$1 rc=0 f="$log/ctest-$2-$1.txt"
    (cd "$build" && ctest -R "^$s\$" --timeout "$timeout" --output-on-failure) >"$f" 2>&1 || rc=$?
    if [ $rc -ne 0 ]; then return 1; fi
    if grep -q "No tests were found" "$f"; then
        echo "mutate: no CTest suite named '$s'" >&2
        return 2
    fi
    if grep -q "Not Run\|\*\*\*Skipped" "$f"; then return 2; fi
    return 0
}

# ---- baseline: every suite named must pass unmutated ----
all=()
for i in "${!ids[@]}"; do
    selected "${ids[$i]}" || continue
    for s in ${suitess[$i]}; do
        case " ${all[*]-} " in *" $s "*) ;; *) all+=("$s") ;; esac
    done
done
echo "mutate: baseline: ${all[*]}" >&2
for s in "${all[@]}"; do
    t0=$(date +%s)
    if ! run_suite "$s" base; then
        echo "mutate: suite '$s' does not pass (or is skipped) on the unmutated tree; see" \
             "$log/ctest-base-$s.txt" >&2
        exit 2
    fi
    echo "mutate:   $s passes ($(( $(date +%s) - t0 )) s)" >&2
done

# ---- the mutations ----
apply() { # file find replace -> writes the mutated file; 0 when exactly one line matched
    awk -v pat="$2" -v rep="$3" '
        { i = index($0, pat)
          if (i > 0) { n++; $0 = substr($0, 1, i - 1) rep substr($0, i + length(pat)) }
          print }
        END { exit n == 1 ? 0 : 3 }' "$1" >"$1.mutant"
}

results=()
n_caught=0 n_survived=0 n_other=0
for i in "${!ids[@]}"; do
    id=${ids[$i]}
    selected "$id" || continue
    f="$tree/${files[$i]}"
    result="" by=""
    t0=$(date +%s)
    if [ ! -f "$f" ] || ! apply "$f" "${finds[$i]}" "${repls[$i]}"; then
        rm -f "$f.mutant"
        result=STALE
    else
        cp -p "$f" "$f.orig"
        mv "$f.mutant" "$f"
        targets=()
        for s in ${suitess[$i]}; do targets+=(--target "test_$s"); done
        if ! cmake --build "$build" -j "$jobs" "${targets[@]}" >"$log/build-$id.txt" 2>&1; then
            result=NOBUILD
        else
            result=SURVIVED
            for s in ${suitess[$i]}; do
                src=0
                run_suite "$s" "$id" || src=$?
                if [ $src -eq 1 ]; then
                    result=CAUGHT
                    by="${by:+$by,}$s"
                    [ $all_suites -eq 1 ] || break
                fi
            done
        fi
        # restore: a fresh mtime, so the next build recompiles the file
        mv "$f.orig" "$f"
        touch "$f"
    fi
    case $result in
    CAUGHT) n_caught=$((n_caught + 1)) ;;
    SURVIVED) n_survived=$((n_survived + 1)) ;;
    *) n_other=$((n_other + 1)) ;;
    esac
    secs=$(( $(date +%s) - t0 ))
    results+=("$id	${files[$i]}	$result	${by:--}	${whys[$i]}")
    printf 'mutate: %-4s %-16s %-8s %-20s %3ss  %s\n' "$id" "${files[$i]#src/}" "$result" \
        "${by:--}" "$secs" "${whys[$i]}" >&2
done
# the restored files rebuilt, so a kept scratch build is the unmutated one again
cmake --build "$build" -j "$jobs" >"$log/build-restore.txt" 2>&1 || true

printf '\n| id | file | result | caught by | mutation |\n|---|---|---|---|---|\n'
for r in "${results[@]}"; do
    IFS=$'\t' read -r a b c d e <<<"$r"
    printf '| %s | %s | %s | %s | %s |\n' "$a" "$b" "$c" "$d" "$e"
done
n=$((n_caught + n_survived))
if [ $n -gt 0 ]; then
    printf '\ncaught %d of %d (%s %%)' "$n_caught" "$n" \
        "$(awk -v c=$n_caught -v n=$n 'BEGIN { printf "%.1f", 100 * c / n }')"
else
    printf '\ncaught 0 of 0'
fi
[ $n_other -eq 0 ] || printf '; %d stale or not building (not counted)' "$n_other"
printf '\n'
if [ -n "$out" ]; then
    printf 'id\tfile\tresult\tcaught_by\tmutation\n' >"$out"
    printf '%s\n' "${results[@]}" >>"$out"
fi
[ $n_other -eq 0 ] || exit 2
[ $n_survived -eq 0 ] || exit 1
exit 0

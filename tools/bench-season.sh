#!/usr/bin/env bash
# tools/bench-season.sh - a whole season through parus, stage by stage, each against its floor,
# and a projection to a national run (issue 14, item 1).
#
#   tools/bench-season.sh [--size 10980] [--dates 36] [--parcels N] [--threads 2]
#                         [--rounds 100] [--dir out/bench-season] [--seed 101]
#
# One synthetic season (parus-synth: every band, DEFLATE, one registered parcel per 840 px, so
# >= 140,000 parcels on a full tile; generated once and cached in DIR) goes through what a bank
# runs: the parcels loaded and their truth crops declared as labels, `parus nightly --no-assess`
# over an inbox of the season's tiles, `parus train --season` (the default features, --rounds),
# `parus assess` with that model, `parus export`. Each stage: wall and CPU seconds and peak RSS
# (GNU time) and peak private memory (RssAnon, sampled), and its floor measured in the same run: for the ingest, decoding every band of
# every tile once (`gdalinfo -checksum`, one process per tile, the same thread count); for the
# season's stages, reading the stored observations once (parus-bench-season-walk on the same
# store, warm cache). The store's bytes per observation are file size over row count.
# The projection scales the measured per-unit costs linearly (national: 9,000,000 parcels,
# 400 tiles a night, 73 dates a season); assessment memory is its peak above a command that holds
# no season (`parcels crops`), per parcel, as if it kept growing with parcels (the peak RSS counts
# the store pages the season walk maps, up to 2 GB or PARUS_STORE_MMAP_MB; the private memory does
# not). A small season's fixed costs (training's above all) make its
# per-unit figures too high: project from a full tile. Read the ratios, not the seconds:
# the machine is shared. Needs GNU time, gdalinfo, sqlite3, awk.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
size=10980
dates=36
parcels=""
threads=2
rounds=100
dir=out/bench-season
seed=101
while [ $# -gt 0 ]; do
    case "$1" in
    --size) size=$2; shift 2 ;;
    --dates) dates=$2; shift 2 ;;
    --parcels) parcels=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    -h | --help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench-season: unknown option '$1'" >&2; exit 2 ;;
    esac
done
build=${BUILD_DIR:-build}
for b in parus parus-synth parus-bench-season-walk; do
    [ -x "$build/$b" ] || { echo "bench-season: $build/$b not found: build first" >&2; exit 1; }
done
for c in gdalinfo sqlite3 awk; do
    command -v "$c" >/dev/null || { echo "bench-season: needs $c" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "bench-season: needs GNU time (/usr/bin/time)" >&2; exit 1; }
parcels=${parcels:-$(( size * size / 840 ))}
scene="$dir/scene-$size-$dates-$seed"
work="$dir/run-$size-$dates-$seed"
season=2024-03-01/2024-12-31
parus="$build/parus"

if [ ! -f "$scene/done" ]; then
    echo "bench-season: generating $dates dates of a $size x $size tile, $parcels parcels (once)" >&2
    rm -rf "$scene"
    mkdir -p "$dir"
    "$build/parus-synth" --out "$scene" --size "$size" --dates "$dates" --seed "$seed" \
        --parcels "$parcels" --parcels-format gpkg --quiet
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; print "parcel_id,crop"; next }
        { print $c["parcel_id"] "," $c["crop"] }' "$scene/truth/parcels_truth.csv" >"$scene/labels.csv"
    touch "$scene/done"
fi
rm -rf "$work"
mkdir -p "$work/inbox" "$work/done"
db="$work/parus.db"
ln "$scene"/*.tif "$work/inbox/" 2>/dev/null || cp "$scene"/*.tif "$work/inbox/"
n_tiles=$(ls "$scene"/*.tif | wc -l)
tile_bytes=$(cat "$scene"/*.tif | wc -c)

# stage NAME CMD...: run under GNU time; one line "NAME wall cpu rss_kb" into $work/stages
: >"$work/stages"
# The peak private (anonymous) memory of a stage's process, in KB: its RssAnon, sampled every
# 0.1 s (a peak shorter than that can be missed) while pid (GNU time) runs; GNU time's peak RSS
# also counts the pages of the store that the season walk maps, which are the page cache's.
peak_anon() {
    local pid=$1 peak=0 c a
    while kill -0 "$pid" 2>/dev/null; do
        for c in $(pgrep -P "$pid" 2>/dev/null); do
            a=$(awk '/^RssAnon:/ { print $2 }' "/proc/$c/status" 2>/dev/null || true)
            if [ -n "$a" ] && [ "$a" -gt "$peak" ]; then peak=$a; fi
        done
        sleep 0.1
    done
    echo "$peak"
}

stage() {
    local name=$1 rc=0 pid anon
    shift
    /usr/bin/time -f "%e %U %S %M" -o "$work/time.$name" "$@" >"$work/out.$name" 2>&1 &
    pid=$!
    anon=$(peak_anon "$pid")
    wait "$pid" || rc=$?
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 8 ]; then
        echo "bench-season: stage $name failed (exit $rc):" >&2
        tail -5 "$work/out.$name" >&2
        exit 1
    fi
    # GNU time's last line (a non-zero exit adds one before it)
    tail -n 1 "$work/time.$name" |
        awk -v n="$name" -v anon="$anon" \
            '{ printf "%s %.2f %.2f %d %d\n", n, $1, $2 + $3, $4, anon }' >>"$work/stages"
}

# the ingest's floor: every band of every tile decoded once, $threads tiles at a time
decode_all() {
    ls "$scene"/*.tif | xargs -P "$threads" -n 1 gdalinfo -checksum >/dev/null
}

stage load "$parus" --db "$db" -q parcels load "$scene/parcels.gpkg"
stage labels "$parus" --db "$db" -q parcels crops --season "$season" "$scene/labels.csv"
stage decode_floor bash -c "$(declare -f decode_all); scene='$scene' threads='$threads' decode_all"
stage ingest "$parus" --db "$db" -q nightly --inbox "$work/inbox" --done "$work/done" --settle 0 \
    --no-assess --threads "$threads"
stage read_floor "$build/parus-bench-season-walk" "$db"
stage train "$parus" --db "$db" -q train --season "$season" --rounds "$rounds" \
    --threads "$threads" --out "$work/crop.model"
stage assess "$parus" --db "$db" -q assess --season "$season" --model "$work/crop.model" \
    --threads "$threads"
stage export "$parus" --db "$db" -q export --season "$season" --out "$work/limits.csv" \
    --parcels "$work/parcels.csv"

n_parcels=$(sqlite3 "$db" "SELECT count(*) FROM parcels")
n_obs=$(sqlite3 "$db" "SELECT count(*) FROM observations")
db_bytes=$(sqlite3 "$db" "PRAGMA page_count" | awk -v ps="$(sqlite3 "$db" "PRAGMA page_size")" \
    '{ print $1 * ps }')
# the warm walk (the second of the bench's three) is the read floor
read_s=$(grep -m 2 '^season 2024-03-01/2024-12-31' "$work/out.read_floor" | tail -1 |
    sed -E 's/.* in ([0-9.]+) s:.*/\1/')

awk -v size="$size" -v dates="$dates" -v tiles="$n_tiles" -v parcels="$n_parcels" \
    -v obs="$n_obs" -v dbb="$db_bytes" -v tb="$tile_bytes" -v read_s="$read_s" \
    -v threads="$threads" '
    { wall[$1] = $2; cpu[$1] = $3; rss[$1] = $4; anon[$1] = $5; order[++n] = $1 }
    END {
        printf "season: %d x %d px, %d dates (%d tiles, %.1f GB), %d parcels, %d observations, %d threads\n",
            size, size, dates, tiles, tb / 1e9, parcels, obs, threads
        printf "\n%-13s %9s %9s %9s %9s  %-30s %s\n", "stage", "wall s", "cpu s", "peak MB", "anon MB", "floor", "ratio (wall)"
        for (i = 1; i <= n; i++) {
            s = order[i]; fl = ""; ratio = ""
            if (s == "ingest") { fl = sprintf("decode %.2f s", wall["decode_floor"]); ratio = sprintf("%.2f x", wall[s] / wall["decode_floor"]) }
            if (s == "train" || s == "assess" || s == "export") {
                fl = sprintf("read observations %.2f s", read_s); ratio = sprintf("%.2f x", wall[s] / read_s) }
            printf "%-13s %9.2f %9.2f %9.1f %9.1f  %-30s %s\n", s, wall[s], cpu[s], rss[s] / 1024, anon[s] / 1024, fl, ratio
        }
        bpo = dbb / obs
        printf "\nstore: %.1f MB, %.0f bytes per observation (file size / observations)\n", dbb / 1e6, bpo
        # per-unit costs, then a national run: 9,000,000 parcels, 400 tiles a night, 73 dates
        ingest_tile = wall["ingest"] / tiles; parcel_per_tile = parcels
        assess_parcel = wall["assess"] / parcels; train_parcel = wall["train"] / parcels
        # the part of the assessment peak above a command that holds no season (the labels)
        mem_parcel_kb = (rss["assess"] - rss["labels"]) / parcels
        anon_parcel_kb = (anon["assess"] - anon["labels"]) / parcels
        printf "\nper unit: ingest %.2f s a tile of %d parcels; assessment %.3f ms a parcel (%.1f KB of peak RSS, %.2f KB of private memory above the base); training %.3f ms a parcel\n",
            ingest_tile, parcels, 1000 * assess_parcel, mem_parcel_kb, anon_parcel_kb, 1000 * train_parcel
        N = 9000000; T = 400; D = 73
        scale_obs = (N / parcels) * (D / dates)
        printf "national projection (9,000,000 parcels, 400 tiles a night, 73 dates; linear in the measured units):\n"
        printf "  nightly ingest   %.1f h (400 tiles at %.2f s; a tile of this size and parcel density)\n", T * ingest_tile / 3600, ingest_tile
        printf "  assessment       %.1f h, private memory %.1f GB if it kept growing with parcels at the measured rate\n", N * assess_parcel * (D / dates) / 3600, anon["assess"] / 1e6 + N * anon_parcel_kb / 1e6
        printf "  training         %.1f h (all parcels as labels)\n", N * train_parcel * (D / dates) / 3600
        printf "  store            %.0f GB for the season (%.0f bytes x %.0f observations)\n", bpo * obs * scale_obs / 1e9, bpo, obs * scale_obs
    }' "$work/stages" | tee "$work/report.txt"

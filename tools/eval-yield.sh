#!/usr/bin/env bash
# tools/eval-yield.sh - calibrate the yield model on the harvests of synthetic seasons and check
# it, and its P10, on seasons it never saw (issue 12's figures: RMSE <= 10 % of the mean yield per
# major crop; the true yield below the P10 for 10 % +- 3 % of parcels).
#
#   tools/eval-yield.sh [--calibrate 21] [--check 31,32,33] [--size PX] [--cal-size PX]
#                       [--dates N] [--clouds F] [--drought auto|yes|no] [--model-seed 11]
#                       [--keep DIR]
#
# First a crop model, as a bank trains one on a previous season: season --model-seed (768 px)
# made, its truth crops declared, `parus train --rounds 60` (--model-seed 0: none, the crop
# calendars' nearest match). Each season: build/parus-synth --weather (--size PX, --dates N, the
# seed, --clouds F), its parcels loaded, the truth's crops declared, ingested, assessed with the
# model. Harvests whose crop the model got wrong are not fitted, and are scored apart by the
# check (its "below P10" line gives both shares). The calibration
# season (--cal-size, default 1536 px) gives `parus calibrate yield --harvests
# truth/harvests.csv`; each check season is assessed again with the calibrated table and scored
# with `parus calibrate yield --check` against its own truth/harvests.csv, and with the shipped
# (uncalibrated) table for comparison. Prints the calibration report, each check season's lines and
# the pooled share of harvests below the P10 over the check seasons, per crop and in all.
# Needs awk. CPU: about a minute a 1024 px season on one core.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build="${BUILD_DIR:-$here/build}"
parus="$build/parus"
synth="$build/parus-synth"
cal_seeds="21"
check_seeds="31,32,33"
size=1024
cal_size=1536
dates=24
clouds=0.2
drought=auto
model_seed=11
keep=""
while [ $# -gt 0 ]; do
    case "$1" in
    --calibrate) cal_seeds="$2"; shift 2 ;;
    --check) check_seeds="$2"; shift 2 ;;
    --size) size="$2"; shift 2 ;;
    --cal-size) cal_size="$2"; shift 2 ;;
    --dates) dates="$2"; shift 2 ;;
    --clouds) clouds="$2"; shift 2 ;;
    --drought) drought="$2"; shift 2 ;;
    --model-seed) model_seed="$2"; shift 2 ;;
    --keep) keep="$2"; shift 2 ;;
    -h | --help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "eval-yield: unknown option '$1'" >&2; exit 2 ;;
    esac
done
for b in "$parus" "$synth"; do
    [ -x "$b" ] || { echo "eval-yield: '$b' not found: build first (tools/setup.sh)" >&2; exit 1; }
done
work=${keep:-$(mktemp -d)}
mkdir -p "$work"
[ -n "$keep" ] || trap 'rm -rf "$work"' EXIT
season=2024-03-01/2024-10-31

# make SEED DIR PX: a season generated, loaded, its truth crops declared, ingested, assessed
make_season() {
    local s=$1 d=$2 px=$3
    if [ -s "$d/done" ]; then return 0; fi
    rm -rf "$d"
    mkdir -p "$d"
    "$synth" --out "$d/scene" --size "$px" --dates "$dates" --seed "$s" --clouds "$clouds" \
        --weather --drought "$drought" --quiet --crops "$here/data-samples/crops.csv"
    "$parus" --db "$d/parus.db" -q parcels load "$d/scene/parcels.geojson" 2>/dev/null || [ $? -eq 8 ]
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; print "parcel_id,crop"; next }
             $c["valid"] == 1 { print $c["parcel_id"] "," $c["crop"] }' \
        "$d/scene/truth/parcels_truth.csv" >"$d/crops.csv"
    "$parus" --db "$d/parus.db" -q parcels crops --season "$season" "$d/crops.csv"
    "$parus" --db "$d/parus.db" -q ingest --threads 2 "$d"/scene/*.tif || [ $? -eq 8 ]
    # the harvests, in the season parus assesses
    awk -F, -v s="$season" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "season") c = i; print; next }
                            { $c = s; print }' OFS=, "$d/scene/truth/harvests.csv" >"$d/harvests.csv"
    echo 1 >"$d/done"
}

assess() { # DB [CROPS]
    local model=(--no-model)
    [ "$model_seed" -gt 0 ] && model=(--model "$work/crop.model")
    "$parus" --db "$1" -q assess --season "$season" "${model[@]}" --threads 2 \
        --crops "${2:-$here/data-samples/crops.csv}" >/dev/null || [ $? -eq 8 ]
}

if [ "$model_seed" -gt 0 ] && [ ! -s "$work/crop.model" ]; then
    make_season "$model_seed" "$work/model" 768
    "$parus" --db "$work/model/parus.db" -q train --season "$season" --rounds 60 --threads 2 \
        --out "$work/crop.model"
fi

IFS=, read -r -a cal_list <<<"$cal_seeds"
IFS=, read -r -a check_list <<<"$check_seeds"
[ ${#cal_list[@]} -eq 1 ] || { echo "eval-yield: one calibration seed (one store)" >&2; exit 2; }

c="$work/cal-${cal_list[0]}"
make_season "${cal_list[0]}" "$c" "$cal_size"
assess "$c/parus.db"
echo "== calibration: seed ${cal_list[0]}, $cal_size px, $dates dates, clouds $clouds"
grep -c . "$c/scene/truth/weather_events.csv" >/dev/null 2>&1 &&
    sed 1d "$c/scene/truth/weather_events.csv" | sed 's/^/   weather event: /'
"$parus" --db "$c/parus.db" calibrate yield --harvests "$c/harvests.csv" \
    --out "$work/calibrated.csv" || [ $? -eq 8 ]

: >"$work/pooled"
for s in "${check_list[@]}"; do
    [ -n "$s" ] || continue
    d="$work/check-$s"
    make_season "$s" "$d" "$size"
    echo "== check: seed $s, $size px"
    sed 1d "$d/scene/truth/weather_events.csv" | sed 's/^/   weather event: /'
    for t in shipped calibrated; do
        if [ $t = shipped ]; then assess "$d/parus.db"; else assess "$d/parus.db" "$work/calibrated.csv"; fi
        echo "-- $t table"
        out=$("$parus" --db "$d/parus.db" calibrate yield --check --harvests "$d/harvests.csv" 2>&1) || true
        echo "$out"
        echo "$out" | awk -v t=$t '$2 == "n" { print t, $1, $3, $0 }' >>"$work/pooled"
    done
done
echo "== pooled over the check seasons (share of harvests below the P10)"
awk '{
        t = $1; crop = $2; n = $3
        for (i = 1; i <= NF; i++) if ($i == "P10") { share = $(i + 1); break }
        for (i = 1; i <= NF; i++) if ($i == "RMSE") { rmse = $(i + 1); pct = $(i + 2) }
        gsub(/[()]/, "", pct)
        k = t SUBSEP crop; N[k] += n; B[k] += n * share / 100; R[k] += n * pct; T[t] += n; TB[t] += n * share / 100
        crops[crop] = 1; tables[t] = 1
    }
    END {
        for (t in tables) {
            printf "%-10s all crops: %d harvests, %.1f %% below the P10\n", t, T[t], 100 * TB[t] / T[t]
            for (c in crops) { k = t SUBSEP c; if (N[k] > 0)
                printf "%-10s   %-14s %5d harvests, below P10 %5.1f %%, RMSE %5.1f %% of the mean (mean over seasons)\n", t, c, N[k], 100 * B[k] / N[k], R[k] / N[k] }
        }
    }' "$work/pooled" | sort

#!/usr/bin/env bash
# tools/eval-yield.sh - calibrate the yield model on the harvests of synthetic seasons and check
# it, and its P10, on seasons it never saw (issue 12's figures: RMSE <= 10 % of the mean yield per
# major crop; the true yield below the P10 for 10 % +- 3 % of parcels).
#
#   tools/eval-yield.sh [--calibrate 21,...,26] [--calibrate-drought no,no,yes,yes,yes,yes]
#                       [--check 31,32,33,34] [--check-drought yes,no,yes,no] [--size PX]
#                       [--cal-size PX] [--dates N] [--clouds F] [--drought auto|yes|no]
#                       [--model-seed 11] [--keep DIR]
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
cal_seeds="21,22,23,24,25,26"
cal_drought="no,no,yes,yes,yes,yes"
check_seeds="31,32,33,34"
check_drought="yes,no,yes,no"
size=1024
cal_size=768
dates=24
clouds=0.2
drought=auto
model_seed=11
keep=""
while [ $# -gt 0 ]; do
    case "$1" in
    --calibrate) cal_seeds="$2"; shift 2 ;;
    --calibrate-drought) cal_drought="$2"; shift 2 ;;
    --check) check_seeds="$2"; shift 2 ;;
    --check-drought) check_drought="$2"; shift 2 ;;
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

# make SEED DIR PX [ORIGIN_LON PREFIX DROUGHT]: a region generated into DIR/scene-SEED (its
# parcel and farmer ids prefixed, so that regions share one store), loaded into DIR/parus.db,
# its truth crops declared, ingested, its weather imported
make_region() {
    local s=$1 d=$2 px=$3 lon=${4:-114.5} pre=${5:-} dr=${6:-$drought} sc="$2/scene-$1"
    if [ -s "$sc/done" ]; then return 0; fi
    rm -rf "$sc"
    mkdir -p "$d"
    "$synth" --out "$sc" --size "$px" --dates "$dates" --seed "$s" --clouds "$clouds" \
        --origin "$lon,36.5" --weather --drought "$dr" --quiet \
        --crops "$here/data-samples/crops.csv"
    if [ -n "$pre" ]; then
        sed -i "s/\"parcel_id\": \"/\"parcel_id\": \"$pre/; s/\"farmer_id\": \"/\"farmer_id\": \"$pre/" \
            "$sc/parcels.geojson"
    fi
    "$parus" --db "$d/parus.db" -q parcels load "$sc/parcels.geojson" 2>/dev/null || [ $? -eq 8 ]
    awk -F, -v p="$pre" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; print "parcel_id,crop"; next }
             $c["valid"] == 1 { print p $c["parcel_id"] "," $c["crop"] }' \
        "$sc/truth/parcels_truth.csv" >"$sc/crops.csv"
    "$parus" --db "$d/parus.db" -q parcels crops --season "$season" "$sc/crops.csv"
    "$parus" --db "$d/parus.db" -q ingest --threads 2 "$sc"/*.tif || [ $? -eq 8 ]
    "$parus" --db "$d/parus.db" -q weather import "$sc"/weather/*.tif >/dev/null
    # the harvests, in the season parus assesses
    awk -F, -v s="$season" -v p="$pre" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "season") c = i; print; next }
                            { $c = s; $1 = p $1; print }' OFS=, "$sc/truth/harvests.csv" >"$sc/harvests.csv"
    echo 1 >"$sc/done"
}

assess() { # DB [CROPS]
    local model=(--no-model)
    [ "$model_seed" -gt 0 ] && model=(--model "$work/crop.model")
    "$parus" --db "$1" -q assess --season "$season" "${model[@]}" --threads 2 \
        --crops "${2:-$here/data-samples/crops.csv}" >/dev/null || [ $? -eq 8 ]
}

if [ "$model_seed" -gt 0 ] && [ ! -s "$work/crop.model" ]; then
    make_region "$model_seed" "$work/model" 768
    "$parus" --db "$work/model/parus.db" -q train --season "$season" --rounds 60 --threads 2 \
        --out "$work/crop.model"
fi

IFS=, read -r -a cal_list <<<"$cal_seeds"
IFS=, read -r -a cal_dr <<<"$cal_drought"
IFS=, read -r -a check_list <<<"$check_seeds"
IFS=, read -r -a check_dr <<<"$check_drought"

# the calibration regions, side by side (0.3 degrees apart) in one store
c="$work/cal"
i=0
for s in "${cal_list[@]}"; do
    lon=$(awk -v i=$i 'BEGIN { printf "%.2f", 114.5 + 0.3 * i }')
    make_region "$s" "$c" "$cal_size" "$lon" "R$s-" "${cal_dr[$i]:-$drought}"
    i=$((i + 1))
done
assess "$c/parus.db"
echo "== calibration: seeds $cal_seeds ($cal_size px each, side by side), $dates dates, clouds $clouds"
for s in "${cal_list[@]}"; do
    sed 1d "$c/scene-$s/truth/weather_events.csv" | sed "s/^/   seed $s weather event: /"
done
head -1 "$c/scene-${cal_list[0]}/harvests.csv" >"$c/harvests.csv"
for s in "${cal_list[@]}"; do sed 1d "$c/scene-$s/harvests.csv"; done >>"$c/harvests.csv"
"$parus" --db "$c/parus.db" calibrate yield --harvests "$c/harvests.csv" \
    --out "$work/calibrated.csv" 2>&1 | grep -v "skipped:" || true

: >"$work/pooled"
: >"$work/pooled-all"
i=0
for s in "${check_list[@]}"; do
    d="$work/check-$s"
    make_region "$s" "$d" "$size" 114.5 "" "${check_dr[$i]:-$drought}"
    i=$((i + 1))
    echo "== check: seed $s, $size px"
    sed 1d "$d/scene-$s/truth/weather_events.csv" | sed 's/^/   weather event: /'
    for t in shipped calibrated; do
        if [ $t = shipped ]; then assess "$d/parus.db"; else assess "$d/parus.db" "$work/calibrated.csv"; fi
        echo "-- $t table"
        out=$("$parus" --db "$d/parus.db" calibrate yield --check --harvests "$d/scene-$s/harvests.csv" 2>&1 |
            grep -v "skipped:") || true
        echo "$out"
        echo "$out" | awk -v t=$t '$2 == "n" { print t, $1, $3, $0 }' >>"$work/pooled"
        echo "$out" | awk -v t=$t '/^below P10:/ { print t, "ALL", $0 }' >>"$work/pooled-all"
    done
done
echo "== pooled over the check seasons (share of harvests below the P10)"
awk '{
        t = $1; crop = $2; n = $3; u = 0
        for (i = 1; i <= NF; i++) if ($i == "vouched)") u = $(i - 2)
        n -= u
        for (i = 1; i <= NF; i++) if ($i == "P10") { share = $(i + 1); break }
        for (i = 1; i <= NF; i++) if ($i == "RMSE") { rmse = $(i + 1); pct = $(i + 2) }
        gsub(/[()]/, "", pct)
        k = t SUBSEP crop; N[k] += n; U[k] += u; B[k] += n * share / 100; R[k] += (n + u) * pct
        M[k] += n + u; T[t] += n; TU[t] += u; TB[t] += n * share / 100
        crops[crop] = 1; tables[t] = 1
    }
    END {
        for (t in tables) {
            printf "%-10s all crops: %d harvests with a P10, %.1f %% below it; %d not vouched for\n", t, T[t], 100 * TB[t] / T[t], TU[t]
            for (c in crops) { k = t SUBSEP c; if (M[k] > 0)
                printf "%-10s   %-14s %5d harvests, below P10 %5.1f %% (%d not vouched), RMSE %5.1f %% of the mean (mean over seasons)\n", t, c, N[k], N[k] ? 100 * B[k] / N[k] : 0, U[k], R[k] / M[k] }
        }
    }' "$work/pooled" | sort
# every harvest, misclassified ones included (the "below P10:" line of each check)
awk '{ t = $1; p = $5; n = $9; N[t] += n; B[t] += n * p / 100 }
     END { for (t in N) printf "%-10s every harvest (misclassified included): %d, %.1f %% below the P10\n", t, N[t], 100 * B[t] / N[t] }' \
    "$work/pooled-all" | sort

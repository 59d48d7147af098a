#!/usr/bin/env bash
# tools/bench-synth-classify.sh - the synthetic crop-type benchmark (issue 5, item 7), end to end
# through the real pipeline: two synthetic seasons from the generator with different seeds (other
# fields, other crops, other clouds), each registered and ingested into its own store; the crops
# of the first season's parcels (the generator's truth) are the training labels, a model is
# trained from that store, and the second season's parcels are classified from theirs. The truth
# of the second season is loaded as the declared crops, so `parus classify` prints the share of
# parcels whose crop agrees: the overall accuracy on parcels it has never seen. A per-class table
# follows from the store.
#
#   tools/bench-synth-classify.sh [--size 1536] [--dates 24] [--clouds 0.2] [--seeds 101,202]
#                                 [--dir out/synth-classify] [--rounds 300] [--vars A,B,...]
#                                 [--learner trees|tcnn|ensemble] [--radar]
#                                 [--cloud-model legacy|mean]
#
# --radar: the seasons carry Sentinel-1 tiles too (6-day revisit) and the model uses the radar
# variables (`train --radar auto`); without it the model is optical only (`--radar no`).
# --cloud-model mean: --clouds is the dates' mean cover (a monsoon season: 0.5), see docs/synth.md.
#
# Target: overall accuracy >= 0.95 with clouds on.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
size=1536
dates=24
clouds=0.2
seeds=101,202
dir=out/synth-classify
rounds=300
vars=
learner=trees
radar=0
cloud_model=legacy
while [ $# -gt 0 ]; do
    case "$1" in
    --size) size=$2; shift 2 ;;
    --dates) dates=$2; shift 2 ;;
    --clouds) clouds=$2; shift 2 ;;
    --seeds) seeds=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --vars) vars=$2; shift 2 ;;
    --learner) learner=$2; shift 2 ;;
    --radar) radar=1; shift ;;
    --cloud-model) cloud_model=$2; shift 2 ;;
    *) echo "usage: tools/bench-synth-classify.sh [--size N] [--dates N] [--clouds F]" \
            "[--seeds A,B] [--dir DIR] [--rounds N] [--vars A,B,...] [--learner L] [--radar]" \
            "[--cloud-model legacy|mean]" >&2
       exit 2 ;;
    esac
done
build=${BUILD_DIR:-build}
[ -x "$build/parus" ] || tools/setup.sh build >/dev/null
parus="$build/parus"
season=2024-03-01/2024-10-31
train_seed=${seeds%,*}
test_seed=${seeds#*,}

season_store() { # seed -> dir/seed-N with parus.db ingested and labels.csv
    local seed=$1 d="$dir/seed-$1"
    if [ ! -f "$d/done" ]; then
        rm -rf "$d"
        mkdir -p "$d"
        "$build/parus-synth" --out "$d/scene" --size "$size" --dates "$dates" --seed "$seed" \
            --clouds "$clouds" --cloud-model "$cloud_model" --quiet \
            $([ "$radar" = 1 ] && echo --radar --radar-revisit 6)
        "$parus" --db "$d/parus.db" -q parcels load "$d/scene/parcels.geojson" || [ $? -eq 8 ]
        "$parus" --db "$d/parus.db" -q ingest "$d/scene"/*.tif
        # the truth's crop of every parcel the store holds (valid = 1: registered)
        awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; print "parcel_id,crop"; next }
                 $col["valid"] == 1 { print $col["parcel_id"] "," $col["crop"] }' \
            "$d/scene/truth/parcels_truth.csv" > "$d/labels.csv"
        "$parus" --db "$d/parus.db" -q parcels crops "$d/labels.csv" --season "$season"
        touch "$d/done"
    fi
}

t0=$(date +%s.%N)
season_store "$train_seed"
season_store "$test_seed"
t1=$(date +%s.%N)
train="$dir/seed-$train_seed"
test="$dir/seed-$test_seed"
echo "seasons: $size x $size px, $dates dates, clouds $clouds; train seed $train_seed" \
     "($(($(wc -l < "$train/labels.csv") - 1)) parcels), test seed $test_seed" \
     "($(($(wc -l < "$test/labels.csv") - 1)) parcels); generated and ingested in" \
     "$(printf '%.0f' "$(echo "$t1 - $t0" | bc)") s"
"$parus" --db "$train/parus.db" train --season "$season" --rounds "$rounds" \
    ${vars:+--vars "$vars"} $([ -z "$vars" ] && [ "$radar" = 0 ] && echo --radar no) --learner "$learner" --out "$dir/model"
"$parus" --db "$test/parus.db" classify --season "$season" --model "$dir/model"
echo
echo "per class on the test season (recall = agreeing / declared):"
sqlite3 -column -header "$test/parus.db" "
    SELECT declared_crop AS crop, COUNT(*) AS parcels,
           SUM(agrees = 1) AS agree, printf('%.3f', AVG(agrees = 1)) AS recall
    FROM assessments WHERE season = '$season' AND declared_crop IS NOT NULL
    GROUP BY declared_crop ORDER BY declared_crop;"
sqlite3 "$test/parus.db" "
    SELECT printf('overall accuracy %.4f over %d parcels with a crop (%d not classified)',
                  AVG(agrees = 1), COUNT(*),
                  (SELECT COUNT(*) FROM assessments WHERE season = '$season' AND method = 'none'))
    FROM assessments WHERE season = '$season' AND agrees IS NOT NULL AND agrees >= 0;"

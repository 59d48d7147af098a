#!/usr/bin/env bash
# tools/eval-haircut.sh - score parus's area haircut (AREA_MISMATCH) and health grades (POOR,
# FAIR) against the generator's truth, on synthetic seasons and on the committed sample season.
#
#   tools/eval-haircut.sh [--seeds 7,8,9] [--sample] [--model-seed N] [--rounds R] [--size PX]
#                         [--learner trees|tcnn|ensemble] [--keep DIR]
#
# First a crop model: season --model-seed (default 11, 768 px, as tests/test_crop_e2e.c) made,
# ingested and trained on its truth crops (`parus train --rounds R`, default 60), as a bank
# would train on a previous season (--learner: the classifier's learner, default trees). Then
# per season: build/parus-synth (--size PX, 12 dates, the
# seed), `parus parcels load`, the truth's crops declared (`parcels crops`), `parus ingest`,
# `parus assess` with that model, and the stored results compared with
# truth/parcels_truth.csv. --sample scores data-samples/season/ with its declared_crops.csv and
# a model trained on them (100 rounds, as tools/demo.sh: the sample has red, NIR and SCL only).
# --model-seed 0: no model (`assess --no-model`, the crop calendars' nearest match).
#
# The truth (docs/method.md, sections 9 and 10):
#   AREA_MISMATCH is right when the parcel's truly planted area, planted_fraction x
#     true_area_m2, differs from its declared area by more than the policy's area_tolerance
#     (0.1); scored over the valid parcels (truth valid = 1) that have a result.
#   POOR is right when the truth names a cause (weak_cause not empty: vigour, event, partial,
#     unplanted); FAIR is right likewise; POOR recall = right POORs over the parcels with a
#     cause. docs/synth.md defines weak_cause. A tile the ingest sets aside (exit 8) is left out
#     with its reason on stderr, and the season is scored without it.
# Prints one line per season and the totals, then the crop type the model gave against the
# truth's crop (overall accuracy and macro-F1 over the valid parcels with a model crop). Needs sqlite3 and awk. CPU on one core: about 5 s
# a 512 px season, and some 20 s for the model.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build="${BUILD_DIR:-$here/build}"
parus="$build/parus"
synth="$build/parus-synth"
seeds="7,8,9"
sample=0
model_seed=11
rounds=60
size=512
keep=""
learner=trees
while [ $# -gt 0 ]; do
    case "$1" in
    --seeds) seeds="$2"; shift 2 ;;
    --seeds=*) seeds="${1#*=}"; shift ;;
    --sample) sample=1; shift ;;
    --model-seed) model_seed="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --size) size="$2"; shift 2 ;;
    --keep) keep="$2"; shift 2 ;;
    --learner) learner="$2"; shift 2 ;;
    -h | --help) sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "eval-haircut: unknown option '$1'" >&2; exit 2 ;;
    esac
done
for b in "$parus" "$synth"; do
    [ -x "$b" ] || { echo "eval-haircut: '$b' not found: build first (tools/setup.sh)" >&2; exit 1; }
done
command -v sqlite3 >/dev/null || { echo "eval-haircut: sqlite3 is needed" >&2; exit 1; }

work=${keep:-$(mktemp -d)}
mkdir -p "$work"
[ -n "$keep" ] || trap 'rm -rf "$work"' EXIT
season=2024-03-01/2024-10-31

# score NAME DIR TRUTH_CSV DB: one line of figures, and the counts appended to $work/totals
score() {
    local name=$1 truth=$3 db=$4
    sqlite3 -separator , "$db" "SELECT parcel_id, COALESCE(credit_reasons, ''), health_class
                                FROM parcel_results WHERE season = '$season'" |
        awk -F, -v name="$name" -v tol=0.1 '
        FNR == 1 && NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
        NR == FNR {
            id = $col["parcel_id"]; valid[id] = $col["valid"]
            d = $col["declared_area_mu"] * 2000 / 3; p = $col["planted_fraction"] * $col["true_area_m2"]
            rel = d > 0 ? (p - d) / d : 0; mm[id] = (rel > tol || rel < -tol)
            wc[id] = ("weak_cause" in col) ? $col["weak_cause"] : "?"
            next
        }
        {
            id = $1; if (!(id in valid) || valid[id] != 1) next
            flag = index($2, "AREA_MISMATCH") > 0
            tp += flag && mm[id]; fp += flag && !mm[id]; fn += !flag && mm[id]
            if (wc[id] == "?") next # a truth without weak_cause: grades not scored
            cause = wc[id] != ""; nc += cause
            if ($3 == "poor") { np++; if (cause) pt++ }
            if ($3 == "fair") { nf++; if (cause) ft++ }
        }
        END {
            printf "%-10s AREA_MISMATCH %3d flagged, %3d right, %3d missed: precision %.3f recall %.3f", \
                name, tp + fp, tp, fn, tp / (tp + fp > 0 ? tp + fp : 1), tp / (tp + fn > 0 ? tp + fn : 1)
            printf "  POOR %3d, %3d right (%.3f, recall %.3f of %d)  FAIR %3d, %3d right (%.3f)\n", \
                np, pt, pt / (np > 0 ? np : 1), pt / (nc > 0 ? nc : 1), nc, nf, ft, ft / (nf > 0 ? nf : 1)
            print tp + 0, fp + 0, fn + 0, np + 0, pt + 0, nf + 0, ft + 0, nc + 0 > "/dev/stderr"
        }' "$truth" - 2>>"$work/totals"
}

# assess DB: the season, with the model (or without one)
assess() {
    if [ "$model_seed" -gt 0 ]; then
        "$parus" --db "$1" -q assess --season "$season" --model "$work/crop.model" --threads 1
    else
        "$parus" --db "$1" -q assess --season "$season" --no-model --threads 1
    fi
}

# make SEED DIR: a season generated, loaded, its truth crops declared, ingested
make_season() {
    local s=$1 d=$2 px=${3:-$size}
    rm -rf "$d"
    mkdir -p "$d"
    "$synth" --out "$d/scene" --size "$px" --dates 12 --seed "$s" --quiet \
        --crops "$here/data-samples/crops.csv"
    "$parus" --db "$d/parus.db" -q parcels load "$d/scene/parcels.geojson" 2>/dev/null || [ $? -eq 8 ]
    awk -F, 'NR == 1 { print "parcel_id,crop" } NR > 1 && $8 == 1 { print $1 "," $4 }' \
        "$d/scene/truth/parcels_truth.csv" >"$d/crops.csv"
    "$parus" --db "$d/parus.db" -q parcels crops --season "$season" "$d/crops.csv"
    # exit 8: a tile set aside (its reason on stderr); the season goes on without it
    "$parus" --db "$d/parus.db" -q ingest --threads 1 "$d"/scene/*.tif || [ $? -eq 8 ]
}

if [ "$model_seed" -gt 0 ] && [ ! -s "$work/crop.model" ]; then
    make_season "$model_seed" "$work/model" 768
    "$parus" --db "$work/model/parus.db" -q train --season "$season" --rounds "$rounds" \
        --learner "$learner" --threads 1 --out "$work/crop.model"
fi

: >"$work/totals"
: >"$work/crops"
IFS=, read -r -a seed_list <<<"$seeds"
for s in "${seed_list[@]}"; do
    [ -n "$s" ] || continue
    d="$work/seed-$s"
    make_season "$s" "$d"
    assess "$d/parus.db"
    score "seed $s" "$d" "$d/scene/truth/parcels_truth.csv" "$d/parus.db"
    # the crop the model gave, beside the truth's (valid parcels), for the crop figures
    sqlite3 -separator , "$d/parus.db" "SELECT parcel_id, crop FROM parcel_results
                                        WHERE season = '$season' AND crop_method = 'model'" |
        awk -F, 'NR == FNR { if (FNR > 1 && $8 == 1) truth[$1] = $4; next }
                 $1 in truth { print truth[$1] "," $2 }' "$d/scene/truth/parcels_truth.csv" - \
        >>"$work/crops"
done
if [ "$sample" -eq 1 ]; then
    d="$work/sample"
    rm -rf "$d"
    mkdir -p "$d"
    src="$here/data-samples/season"
    "$parus" --db "$d/parus.db" -q parcels load "$src/parcels.geojson" 2>/dev/null || [ $? -eq 8 ]
    "$parus" --db "$d/parus.db" -q parcels crops --season "$season" "$src/declared_crops.csv"
    "$parus" --db "$d/parus.db" -q ingest --threads 1 "$src"/*.tif
    if [ "$model_seed" -gt 0 ]; then
        # the sample has red, NIR and SCL only: a model of another season's seven bands would
        # call every parcel one class, so it gets its own, trained as tools/demo.sh does
        "$parus" --db "$d/parus.db" -q train --season "$season" --rounds 100 --threads 1 \
            --out "$d/crop.model"
        "$parus" --db "$d/parus.db" -q assess --season "$season" --model "$d/crop.model" \
            --threads 1
    else
        assess "$d/parus.db"
    fi
    score "sample" "$d" "$src/truth/parcels_truth.csv" "$d/parus.db"
fi
[ -s "$work/crops" ] && awk -F, '
    { n++; right += $1 == $2; tp[$1] += $1 == $2; sup[$1]++; pred[$2]++ }
    END { for (c in sup) { p = pred[c] ? tp[c] / pred[c] : 0; r = tp[c] / sup[c]
                           f += p + r > 0 ? 2 * p * r / (p + r) : 0; k++ }
          printf "crop type  %d parcels: overall accuracy %.3f macro-F1 %.3f (%d classes)\n", \
              n, right / n, f / k, k }' "$work/crops"
awk '{ tp += $1; fp += $2; fn += $3; np += $4; pt += $5; nf += $6; ft += $7; nc += $8 }
     END { if (NR > 1)
         printf "%-10s AREA_MISMATCH %3d flagged, %3d right, %3d missed: precision %.3f recall %.3f  POOR %3d, %3d right (%.3f, recall %.3f of %d)  FAIR %3d, %3d right (%.3f)\n", \
             "all", tp + fp, tp, fn, tp / (tp + fp > 0 ? tp + fp : 1), tp / (tp + fn > 0 ? tp + fn : 1), \
             np, pt, pt / (np > 0 ? np : 1), pt / (nc > 0 ? nc : 1), nc, nf, ft, ft / (nf > 0 ? nf : 1) }' "$work/totals"

#!/usr/bin/env bash
# tools/eval-radar-events.sh - score `parus assess`'s flood and sudden-loss flags against the
# generator's truth, optical alone and with the radar rules (--radar-floods --radar-losses), end
# to end through the CLI: the crop model, the radar peer reference and the store as a user runs
# them (docs/method.md, section 9). Optical alone is `--no-radar-floods`; with radar, the default
# radar floods and the radar losses asked for.
#
#   tools/eval-radar-events.sh [--train-seed 1] [--seeds 5,6,7,8] [--clouds 0.5] [--size 512]
#                              [--dates 24] [--rounds 100] [--keep DIR]
#
# The train seed's season (truth crops as declared crops) trains the crop model (`parus train
# --season`, radar variables included); each test seed's season is generated with
# `--radar --radar-revisit 6 --cloud-model mean --clouds C`, loaded, ingested, and assessed with
# that model twice. A flag is right when its first day lies within 10 days (one optical revisit)
# of a true event's first day of its kind on that parcel ("dated"); "any" counts a flag right
# when its days overlap the event's within 10 days. Needs sqlite3 and awk.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build="${BUILD_DIR:-$here/build}"
parus="$build/parus"
synth="$build/parus-synth"
train_seed=1
seeds="5,6,7,8"
clouds=0.5
size=512
dates=24
rounds=100
keep=""
while [ $# -gt 0 ]; do
    case "$1" in
    --train-seed) train_seed="$2"; shift 2 ;;
    --seeds) seeds="$2"; shift 2 ;;
    --clouds) clouds="$2"; shift 2 ;;
    --size) size="$2"; shift 2 ;;
    --dates) dates="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --keep) keep="$2"; shift 2 ;;
    -h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "eval-radar-events: unknown option '$1'" >&2; exit 2 ;;
    esac
done
for b in "$parus" "$synth"; do
    [ -x "$b" ] || { echo "eval-radar-events: '$b' not found: build first (tools/setup.sh)" >&2; exit 1; }
done
command -v sqlite3 >/dev/null || { echo "eval-radar-events: sqlite3 is needed" >&2; exit 1; }

work=${keep:-$(mktemp -d)}
mkdir -p "$work"
[ -n "$keep" ] || trap 'rm -rf "$work"' EXIT
season=2024-03-01/2024-10-31

season_store() { # seed -> $work/sN with parus.db, truth crops declared
    local d="$work/s$1"
    [ -f "$d/done" ] && return 0
    rm -rf "$d"; mkdir -p "$d"
    "$synth" --out "$d/scene" --size "$size" --dates "$dates" --seed "$1" --quiet \
        --crops "$here/data-samples/crops.csv" \
        --radar --radar-revisit 6 --cloud-model mean --clouds "$clouds"
    "$parus" --db "$d/p.db" -q parcels load "$d/scene/parcels.geojson" || [ $? -eq 8 ]
    "$parus" --db "$d/p.db" -q ingest "$d/scene"/*.tif
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; print "parcel_id,crop"; next }
             $col["valid"] == 1 { print $col["parcel_id"] "," $col["crop"] }' \
        "$d/scene/truth/parcels_truth.csv" >"$d/labels.csv"
    "$parus" --db "$d/p.db" -q parcels crops "$d/labels.csv" --season "$season"
    touch "$d/done"
}

# score DB TRUTH -> "<KIND> tp_dated fp_dated fn tp_any events" per kind (WATER, SUDDEN_LOSS)
score() {
    sqlite3 -separator ' ' "$1" \
        "SELECT flag, parcel_id, first_date, last_date FROM parcel_flags
         WHERE season = '$season' AND flag IN ('FLOOD', 'WATER_OFF_SEASON', 'SUDDEN_LOSS')" |
        awk -v truth="$2" '
        function day(s,  y, m, d) { y = substr(s, 1, 4); m = substr(s, 6, 2); d = substr(s, 9, 2)
            return mktime(y " " m " " d " 12 00 00") / 86400 }
        BEGIN { FS = ","
            while ((getline line < truth) > 0) {
                split(line, f, ","); if (f[1] == "parcel_id") continue
                k = (f[2] == "flood" ? "WATER" : "SUDDEN_LOSS")
                n[k]++; p[k, n[k]] = f[1]; a[k, n[k]] = day(f[3]); b[k, n[k]] = day(f[4] == "" ? f[3] : f[4])
            }
            FS = " " }
        { k = ($1 == "SUDDEN_LOSS" ? "SUDDEN_LOSS" : "WATER"); hit = 0; any = 0
          for (i = 1; i <= n[k]; i++) {
              if (p[k, i] != $2) continue
              if (day($3) - a[k, i] <= 10 && a[k, i] - day($3) <= 10) { hit = 1; seen[k, i] = 1 }
              if (day($3) <= b[k, i] + 10 && day($4) >= a[k, i] - 10) any = 1
          }
          if (hit) tp[k]++; else fp[k]++
          if (any) ta[k]++ }
        END { for (k in n) { fn = 0; for (i = 1; i <= n[k]; i++) if (!seen[k, i]) fn++
                  printf "%s %d %d %d %d %d\n", k, tp[k], fp[k], fn, ta[k], n[k] } }' | sort
}

season_store "$train_seed"
"$parus" --db "$work/s$train_seed/p.db" -q train --season "$season" --rounds "$rounds" \
    --threads 1 --out "$work/model"
echo "train seed $train_seed; test seeds $seeds; $size px, $dates dates, clouds $clouds (mean)"
echo "seed kind        | optical: tp  fp  fn any | +radar: tp  fp  fn any   (of N events)"
IFS=, read -ra list <<<"$seeds"
tot=""
for s in "${list[@]}"; do
    season_store "$s"
    d="$work/s$s"
    "$parus" --db "$d/p.db" -q assess --season "$season" --model "$work/model" \
        --no-radar-floods >/dev/null
    score "$d/p.db" "$d/scene/truth/events.csv" >"$d/opt.txt"
    "$parus" --db "$d/p.db" -q assess --season "$season" --model "$work/model" --radar-floods \
        --radar-losses >/dev/null
    score "$d/p.db" "$d/scene/truth/events.csv" >"$d/rad.txt"
    join "$d/opt.txt" "$d/rad.txt" | awk -v s="$s" '{ printf "%4s %-11s |        %3d %3d %3d %3d |       %3d %3d %3d %3d   (%d)\n", s, $1, $2, $3, $4, $5, $7, $8, $9, $10, $6 }'
    tot="$tot$(join "$d/opt.txt" "$d/rad.txt")"$'\n'
done
# joined columns: kind, optical tp fp fn any n, radar tp fp fn any n
printf '%s' "$tot" | awk '$1 != "" { for (i = 2; i <= 11; i++) t[$1, i] += $i; k[$1] = 1 }
    END { for (x in k) {
        printf "all  %-11s | recall %.3f precision %.3f (any %.3f) | recall %.3f precision %.3f (any %.3f)\n", x,
            1 - t[x,4] / t[x,6], t[x,2] / (t[x,2] + t[x,3] + 1e-9), t[x,5] / (t[x,2] + t[x,3] + 1e-9),
            1 - t[x,9] / t[x,11], t[x,7] / (t[x,7] + t[x,8] + 1e-9), t[x,10] / (t[x,7] + t[x,8] + 1e-9) } }'

#!/usr/bin/env bash
# tools/eval-outliers.sh - score the season's outlier rule (observations left out because they
# contradict their parcel's series and their neighbours: docs/method.md, section 6a) against the
# generator's truth, and what leaving them out changes downstream.
#
#   tools/eval-outliers.sh [--seeds 4,5,6] [--glitches F] [--dates N] [--size PX] [--keep DIR]
#
# Per seed: build/parus-synth --glitches F (default 0.03: 3 % of the parcel-dates get an
# artefact the cloud mask misses, truth/glitches.csv), `parus parcels load`, `parus ingest`, then
# `parus assess --no-model` twice: with the rule (the default) and with `[season] outliers = off`.
# Scored:
#   right      outliers that are glitches of the truth (the rest are mostly real bad values the
#              truth does not name: cloud fringes the mask missed; "wrong" counts those whose
#              NDVI is within 0.1 of the parcel's true NDVI that day, i.e. good values left out)
#   glitches   glitches that change the parcel's NDVI by 0.15 or more and whose observation is
#              clear (valid fraction >= 0.6); "judgeable" those with a clear observation within
#              the rule's 15 days on each side; recall is given over both
#   events     FLOOD and SUDDEN_LOSS flags against truth/events.csv (a flag is right when its
#              dates lie within 15 days of a true event of its kind on that parcel), rule on/off
#   limits     the total of the season's limits, rule on/off
# Needs sqlite3 and awk. About 10 s a seed at 512 px, 24 dates.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build="${BUILD_DIR:-$here/build}"
parus="$build/parus"
synth="$build/parus-synth"
seeds="4,5,6"
glitches=0.03
dates=24
size=512
keep=""
while [ $# -gt 0 ]; do
    case "$1" in
    --seeds) seeds="$2"; shift 2 ;;
    --glitches) glitches="$2"; shift 2 ;;
    --dates) dates="$2"; shift 2 ;;
    --size) size="$2"; shift 2 ;;
    --keep) keep="$2"; shift 2 ;;
    -h | --help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "eval-outliers: unknown option '$1'" >&2; exit 2 ;;
    esac
done
for b in "$parus" "$synth"; do
    [ -x "$b" ] || { echo "eval-outliers: '$b' not found: build first (tools/setup.sh)" >&2; exit 1; }
done
command -v sqlite3 >/dev/null || { echo "eval-outliers: sqlite3 is needed" >&2; exit 1; }

work=${keep:-$(mktemp -d)}
mkdir -p "$work"
[ -n "$keep" ] || trap 'rm -rf "$work"' EXIT
season=2024-03-01/2024-10-31
printf '[season]\noutliers = off\n' >"$work/off.ini"

# events DB: "<flag> <tp> <fp>" and "<kind> <fn>" lines of a store against the truth
events() {
    sqlite3 -separator ' ' "$1" \
        "SELECT flag, parcel_id, first_date, last_date FROM parcel_flags
         WHERE season = '$season' AND flag IN ('FLOOD', 'SUDDEN_LOSS')" |
        awk -v truth="$2" '
        function day(s,  y, m, d) { y = substr(s, 1, 4); m = substr(s, 6, 2); d = substr(s, 9, 2)
            return (y * 372 + m * 31 + d) }  # monotone, enough for a 15-day window in one season
        BEGIN { FS = ","
            while ((getline line < truth) > 0) {
                split(line, f, ","); if (f[1] == "parcel_id") continue
                k = (f[2] == "flood" ? "FLOOD" : "SUDDEN_LOSS")
                n[k]++; p[k, n[k]] = f[1]; a[k, n[k]] = day(f[3]); b[k, n[k]] = day(f[4] == "" ? f[3] : f[4])
            }
            FS = " " }
        { hit = 0
          for (i = 1; i <= n[$1]; i++)
              if (p[$1, i] == $2 && day($3) <= b[$1, i] + 15 && day($4) >= a[$1, i] - 15) { hit = 1; seen[$1, i] = 1 }
          if (hit) tp[$1]++; else fp[$1]++ }
        END { for (k in n) { fn = 0; for (i = 1; i <= n[k]; i++) if (!seen[k, i]) fn++
                  printf "%s %d %d %d\n", k, tp[k], fp[k], fn } }'
}

echo "seed outliers right wrong | glitches judgeable found(judgeable) | FLOOD tp/fp/fn on;off | SUDDEN_LOSS tp/fp/fn on;off | limit_cny on;off"
IFS=, read -ra list <<<"$seeds"
for s in "${list[@]}"; do
    d="$work/s$s"
    rm -rf "$d"
    mkdir -p "$d"
    "$synth" --out "$d/scene" --size "$size" --dates "$dates" --seed "$s" --glitches "$glitches" \
        --quiet --crops "$here/data-samples/crops.csv"
    "$parus" --db "$d/p.db" -q parcels load "$d/scene/parcels.geojson" 2>/dev/null || [ $? -eq 8 ]
    "$parus" --db "$d/p.db" -q ingest --threads 1 "$d"/scene/*.tif 2>/dev/null || [ $? -eq 8 ]
    cp "$d/p.db" "$d/off.db"
    "$parus" --db "$d/p.db" -q assess --season "$season" --no-model --threads 1 >/dev/null
    "$parus" --config "$work/off.ini" --db "$d/off.db" -q assess --season "$season" --no-model \
        --threads 1 >/dev/null
    # the clear observations (parcel, date, NDVI), the outliers, the truth
    sqlite3 -separator ',' "$d/p.db" \
        "SELECT p.id, t.date, o.ndvi_mean FROM observations o JOIN parcels p ON p.num = o.parcel_num
         JOIN tiles t ON t.id = o.tile_id WHERE o.valid_fraction >= 0.6 AND o.ndvi_mean IS NOT NULL
         ORDER BY p.id, t.date" >"$d/clear.csv"
    sqlite3 -separator ',' "$d/p.db" \
        "SELECT parcel_id, date FROM observation_outliers WHERE season = '$season'" >"$d/out.csv"
    scores=$(awk -F, -v out="$d/out.csv" -v gl="$d/scene/truth/glitches.csv" \
        -v tr="$d/scene/truth/parcel_ndvi.csv" '
        function day(s,  y, m, d) { y = substr(s, 1, 4); m = substr(s, 6, 2); d = substr(s, 9, 2)
            return (y * 372 + m * 31 + d) }
        function absv(x) { return x < 0 ? -x : x }
        BEGIN { while ((getline l < out) > 0) { split(l, f, ","); o[f[1] "," f[2]] = 1; n_out++ }
                while ((getline l < gl) > 0) { split(l, f, ","); if (f[1] == "parcel_id") continue
                    g[f[1] "," f[2]] = absv(f[6] - f[5]) }
                while ((getline l < tr) > 0) { split(l, f, ","); if (f[1] == "parcel_id") continue
                    t[f[1] "," f[2]] = f[4] } }
        { k = $1 "," $2; pid[NR] = $1; dt[NR] = $2; v[NR] = $3; key[NR] = k }
        END {
            for (i = 1; i <= NR; i++) {
                k = key[i]
                if (k in o) { if (k in g) right++; else if (absv(v[i] - t[k]) < 0.1) wrong++ }
                if (!(k in g) || g[k] < 0.15) continue
                n_gl++; found += (k in o)
                if (i > 1 && i < NR && pid[i - 1] == pid[i] && pid[i + 1] == pid[i] &&
                    day(dt[i]) - day(dt[i - 1]) <= 15 && day(dt[i + 1]) - day(dt[i]) <= 15) {
                    n_j++; found_j += (k in o) }
            }
            printf "%d %d %d | %d %d %d(%d)", n_out, right, wrong, n_gl, n_j, found, found_j
        }' "$d/clear.csv")
    on=$(events "$d/p.db" "$d/scene/truth/events.csv" | sort | awk '{printf "%s %s/%s/%s ", $1, $2, $3, $4}')
    off=$(events "$d/off.db" "$d/scene/truth/events.csv" | sort | awk '{printf "%s %s/%s/%s ", $1, $2, $3, $4}')
    lim_on=$(sqlite3 "$d/p.db" "SELECT sum(limit_cny) FROM limits WHERE season = '$season'")
    lim_off=$(sqlite3 "$d/off.db" "SELECT sum(limit_cny) FROM limits WHERE season = '$season'")
    echo "$s $scores | on: $on| off: $off| $lim_on;$lim_off" | tee -a "$work/lines"
done
awk '{ n_out += $2; right += $3; wrong += $4; n_gl += $6; n_j += $7; split($8, a, /[()]/); f += a[1]; fj += a[2] }
     END { printf "total: %d outliers, %d glitches (precision %.3f), %d good values left out (%.3f); recall %.3f of %d glitches, %.3f of %d judgeable\n",
           n_out, right, n_out ? right / n_out : 0, wrong, n_out ? wrong / n_out : 0, n_gl ? f / n_gl : 0, n_gl, n_j ? fj / n_j : 0, n_j }' "$work/lines"

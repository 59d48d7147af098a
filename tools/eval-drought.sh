#!/usr/bin/env bash
# tools/eval-drought.sh - the DROUGHT flag against the generator's droughts (issue 12's figure:
# flagged seasons' precision and recall >= 0.9; no drought flag in a season of normal rain), or
# with --event frost the FROST flag against its late frosts, with --event waterlog the
# WATERLOGGING flag against its waterlogging rainstorms.
#
#   tools/eval-drought.sh [--event drought|frost|waterlog] [--seeds 41,...] [--drought yes,no,...]
#                         [--size PX] [--dates N] [--clouds F] [--model-seed 11] [--keep DIR]
#
# Each seed: build/parus-synth --weather (--size PX, --dates N, --clouds F, --drought as listed,
# auto when the list is shorter), its parcels loaded, the truth's crops declared, ingested, its
# weather imported, assessed (with a crop model trained on season --model-seed at 768 px, as
# tools/eval-yield.sh does; 0: none). A season is flagged when any parcel carries DROUGHT (FROST,
# WATERLOGGING).
# Prints per season the generator's event (truth/weather_events.csv), the parcels flagged, and the
# parcel-level precision and recall against truth/harvests.csv (drought: its drought column, a
# parcel whose crop's canopy was in the window; frost: frost_days > 0; waterlog: every registered
# parcel, true when truth/events.csv has a waterlog row for it); then the seasons' confusion
# table, precision and recall. --drought lists the events forced per seed (yes, no, auto) for
# whichever --event is judged; the others are left as parus-synth's defaults (drought and heat
# wave drawn, frost and waterlogging off).
# Needs gawk. CPU: about 20 s a 512 px season on one core.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build="${BUILD_DIR:-$here/build}"
parus="$build/parus"
synth="$build/parus-synth"
seeds="41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56"
droughts="yes,no,yes,no,yes,no,yes,no,yes,no,yes,no,yes,no,yes,no"
size=512
dates=24
clouds=0.2
model_seed=11
keep=""
event=drought
while [ $# -gt 0 ]; do
    case "$1" in
    --event) event="$2"; shift 2 ;;
    --seeds) seeds="$2"; shift 2 ;;
    --drought) droughts="$2"; shift 2 ;;
    --size) size="$2"; shift 2 ;;
    --dates) dates="$2"; shift 2 ;;
    --clouds) clouds="$2"; shift 2 ;;
    --model-seed) model_seed="$2"; shift 2 ;;
    --keep) keep="$2"; shift 2 ;;
    -h | --help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "eval-drought: unknown option '$1'" >&2; exit 2 ;;
    esac
done
for b in "$parus" "$synth"; do
    [ -x "$b" ] || { echo "eval-drought: '$b' not found: build first (tools/setup.sh)" >&2; exit 1; }
done
case "$event" in
drought) flag=DROUGHT col=7 ;;
frost) flag=FROST col=9 ;;
waterlog) flag=WATERLOGGING col=2 ;;
*) echo "eval-drought: --event must be drought, frost or waterlog" >&2; exit 2 ;;
esac
command -v gawk >/dev/null || { echo "eval-drought: needs gawk" >&2; exit 1; }
work=${keep:-$(mktemp -d)}
mkdir -p "$work"
[ -n "$keep" ] || trap 'rm -rf "$work"' EXIT
season=2024-03-01/2024-10-31
crops="$here/data-samples/crops.csv"

# season SEED DIR PX DROUGHT: generated, loaded, crops declared, ingested, weather imported
make_season() {
    local s=$1 d=$2 px=$3 dr=$4 sc="$2/scene"
    if [ -s "$d/done" ]; then return 0; fi
    rm -rf "$d"
    mkdir -p "$d"
    "$synth" --out "$sc" --size "$px" --dates "$dates" --seed "$s" --clouds "$clouds" \
        --weather --$event "$dr" --quiet --crops "$crops"
    "$parus" --db "$d/parus.db" -q parcels load "$sc/parcels.geojson" 2>/dev/null || [ $? -eq 8 ]
    gawk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; print "parcel_id,crop"; next }
        { print $c["parcel_id"] "," $c["crop"] }' "$sc/truth/parcels_truth.csv" >"$d/crops.csv"
    "$parus" --db "$d/parus.db" -q parcels crops --season "$season" "$d/crops.csv" 2>/dev/null ||
        [ $? -eq 8 ]
    "$parus" --db "$d/parus.db" -q ingest --threads 2 "$sc"/*.tif || [ $? -eq 8 ]
    "$parus" --db "$d/parus.db" -q weather import "$sc"/weather/*.tif >/dev/null
    # the parcels judged and their truth, one column: harvests.csv, or for waterlogging every
    # registered parcel with 1 where events.csv has its waterlog row
    if [ "$event" = waterlog ]; then
        gawk -F, 'FNR == NR { if ($2 == "waterlog") w[$1] = 1; next }
            FNR == 1 { print "parcel_id,waterlog"; next } { print $1 "," ($1 in w ? 1 : 0) }' \
            "$sc/truth/events.csv" "$sc/truth/parcels_truth.csv" >"$d/truth.csv"
    else
        cp "$sc/truth/harvests.csv" "$d/truth.csv"
    fi
    echo 1 >"$d/done"
}

model=(--no-model)
if [ "$model_seed" -gt 0 ]; then
    if [ ! -s "$work/crop.model" ]; then
        make_season "$model_seed" "$work/model" 768 auto
        "$parus" --db "$work/model/parus.db" -q train --season "$season" --rounds 60 --threads 2 \
            --crops "$crops" --out "$work/crop.model" >/dev/null
    fi
    model=(--model "$work/crop.model")
fi

IFS=, read -r -a seed_list <<<"$seeds"
IFS=, read -r -a dr_list <<<"$droughts"
printf '%-6s %-26s %8s %8s %6s %6s\n' seed "generator's $event" flagged "truth" P R
: >"$work/seasons"
for i in "${!seed_list[@]}"; do
    s=${seed_list[$i]}
    d="$work/s$s"
    make_season "$s" "$d" "$size" "${dr_list[$i]:-auto}"
    "$parus" --db "$d/parus.db" -q assess --season "$season" "${model[@]}" --threads 2 \
        --crops "$crops" >/dev/null || [ $? -eq 8 ]
    ev=$(gawk -F, -v e="$event" '$1 == e { print $2 "/" $3 " " $4 }' "$d/scene/truth/weather_events.csv")
    sqlite3 -csv "$d/parus.db" "SELECT parcel_id, flags FROM parcel_results" >"$d/flags.csv"
    gawk -F, -v seed="$s" -v ev="${ev:--}" -v col="$col" -v flag="$flag" \
        'FNR == NR { if (FNR > 1) t[$1] = $col > 0; next }
        $1 in t { f = $2 ~ ("(^|;)" flag "(;|$)"); nf += f; nt += t[$1]; tp += f && t[$1] }
        END { printf "%-6s %-26s %8d %8d %6s %6s\n", seed, ev, nf, nt,
                  nf ? sprintf("%.2f", tp / nf) : "-", nt ? sprintf("%.2f", tp / nt) : "-"
              print seed, (ev != "-"), (nf > 0) >> "'"$work/seasons"'" }' \
        "$d/truth.csv" "$d/flags.csv"
done
gawk -v e="$event" '{ tp += $2 && $3; fp += !$2 && $3; fn += $2 && !$3; tn += !$2 && !$3 }
    END { printf "\nseasons: %d with a %s, %d without; flagged: %d of them, %d of the others\n",
              tp + fn, e, fp + tn, tp, fp
          printf "season precision %s, recall %s\n", tp + fp ? sprintf("%.2f", tp / (tp + fp)) : "-",
              tp + fn ? sprintf("%.2f", tp / (tp + fn)) : "-" }' "$work/seasons"

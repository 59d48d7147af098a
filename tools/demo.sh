#!/usr/bin/env bash
# tools/demo.sh - the whole mission over data-samples/: register the sample parcels and the crops
# their farmers declared, run the nightly job over an inbox holding the season's tiles (it ingests
# them and assesses the season), train a crop model on the declarations, assess the season with
# it (crop, health, planted area, yield, value, credit), print the credit table, write the credit
# desk's CSV and one parcel's chart, and answer an analyst's query.
# Run it through `tools/setup.sh demo`, which installs and builds first. Writes out/demo/.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
parus="${BUILD_DIR:-build}/parus"
out=out/demo
rm -rf "$out"
mkdir -p "$out"
db="$out/parus.db"
season=2024-03-01/2024-10-31

tiles=(data-samples/season/*.tif)
step() { printf '\n== %s\n$ %s\n' "$1" "${*:2}"; }

# the configuration a cron job would use: the store, the tables and the season
cat > "$out/parus.ini" <<EOF
[store]
db = parus.db

[tables]
crops = ../../data-samples/crops.csv
policy = ../../data-samples/policy.ini

[season]
window = $season
EOF
p() { "$parus" --config "$out/parus.ini" "$@"; }

step "load the sample parcels" parus parcels load data-samples/season/parcels.geojson
p parcels load data-samples/season/parcels.geojson || [ $? -eq 8 ]

step "the crops the farmers declared for the season" \
    parus parcels crops data-samples/season/declared_crops.csv
p parcels crops data-samples/season/declared_crops.csv

step "what parus sees in the first tile" parus info "${tiles[0]}"
p info "${tiles[0]}"

mkdir -p "$out/inbox"
cp "${tiles[@]}" "$out/inbox/"
step "the nightly job over an inbox of the season's ${#tiles[@]} tiles (ingest, then assess)" \
    parus nightly --inbox "$out/inbox" --done "$out/done" --settle 0
p nightly --inbox "$out/inbox" --done "$out/done" --settle 0

step "run it again: nothing new" parus nightly --inbox "$out/inbox" --settle 0
rc=0
p nightly --inbox "$out/inbox" --done "$out/done" --settle 0 || rc=$?
echo "exit code $rc (9: nothing new)"

step "train a crop model on the declared crops (the store's season features)" \
    parus train --season "$season" --out "$out/crop.model"
p train --season "$season" --rounds 100 --out "$out/crop.model"

step "assess the season with the model: crop, health, area, yield, value, credit" \
    parus assess --model "$out/crop.model"
p assess --model "$out/crop.model"

step "the credit desk's CSV, the parcels and a GeoPackage for QGIS" \
    parus export --out "$out/limits.csv" --parcels "$out/parcels.csv" --gpkg "$out/parcels.gpkg"
p export --out "$out/limits.csv" --parcels "$out/parcels.csv" --gpkg "$out/parcels.gpkg"

printf '\n== the credit table (first 15 farmers of %s)\n' "$out/limits.csv"
# the CSV starts with a UTF-8 byte order mark and ends its records with CRLF
sed -e '1s/^\xEF\xBB\xBF//' -e 's/\r$//' "$out/limits.csv" |
    awk -F, 'NR <= 16 { printf "%-9s %10s %-4s %8s %8s %-13s %-6s %s\n", $1, $3, $4, $7, $8, $9, $13, $15 }'

parcel=$(sqlite3 "$db" "SELECT parcel_id FROM parcel_flags WHERE flag = 'SUDDEN_LOSS'
                        ORDER BY parcel_id LIMIT 1" 2>/dev/null || true)
[ -n "$parcel" ] || parcel=$(sqlite3 "$db" "SELECT id FROM parcels ORDER BY id LIMIT 1")
step "an analyst's query, with a chart" parus query "$parcel" --chart "$out/$parcel.png"
p query "$parcel" --chart "$out/$parcel.png"

printf '\nstore %s, credit CSV %s, chart %s\n' "$db" "$out/limits.csv" "$out/$parcel.png"

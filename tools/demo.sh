#!/usr/bin/env bash
# tools/demo.sh - the main job over data-samples/, as far as the pipeline goes today: load the
# sample parcels, inspect a sample tile, run the nightly job over an inbox holding the season's
# tiles (and again: nothing new), and print what was stored.
# Run it through `tools/setup.sh demo`, which installs and builds first. Writes out/demo/.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
parus="${BUILD_DIR:-build}/parus"
out=out/demo
rm -rf "$out"
mkdir -p "$out"
db="$out/parus.db"

tiles=(data-samples/season/*.tif)
step() { printf '\n== %s\n$ %s\n' "$1" "${*:2}"; }

step "load the sample parcels" parus --db "$db" parcels load data-samples/season/parcels.geojson
"$parus" --db "$db" parcels load data-samples/season/parcels.geojson || [ $? -eq 8 ]

step "what parus sees in the first tile" parus info "${tiles[0]}"
"$parus" info "${tiles[0]}"

mkdir -p "$out/inbox"
cp "${tiles[@]}" "$out/inbox/"
step "the nightly job over an inbox of the season's ${#tiles[@]} tiles" \
    parus --db "$db" nightly --inbox "$out/inbox" --done "$out/done" --settle 0
"$parus" --db "$db" nightly --inbox "$out/inbox" --done "$out/done" --settle 0

step "run it again: nothing new" parus --db "$db" nightly --inbox "$out/inbox" --settle 0
rc=0
"$parus" --db "$db" nightly --inbox "$out/inbox" --done "$out/done" --settle 0 || rc=$?
echo "exit code $rc (9: nothing new)"

step "what the store holds" parus --db "$db" store info
"$parus" --db "$db" store info
"$parus" --db "$db" store tiles

first=$(sqlite3 "$db" "SELECT id FROM parcels ORDER BY id LIMIT 1" 2>/dev/null || true)
if [ -n "$first" ]; then
    step "one parcel and its season" parus --db "$db" parcels show "$first"
    "$parus" --db "$db" parcels show "$first"
fi
printf '\nstore written to %s\n' "$db"

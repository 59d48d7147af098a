#!/usr/bin/env bash
# tools/bench-kernel.sh - the kernel benchmark, in one run:
# generate (once, cached) a full 10980 x 10980 Sentinel-2 L2A tile with B04, B08 and SCL
# (DEFLATE, 512 x 512 tiles) and >= 140,000 parcels in lon/lat, register the parcels in a store,
# then time GDAL's decode floor and `parus ingest` with 1 and 2 threads (parus-bench-kernel).
# With --radar the tile is instead a Sentinel-1 tile of the radar tile contract with two bands,
# VV and VH (Float32 linear sigma0, DEFLATE, 512 x 512 tiles), cut from the generator's --radar
# scene, over the same parcels.
#
#   tools/bench-kernel.sh [--radar] [--threads 1,2] [--repeat 3] [--size 10980] [--dir out/bench]
#
# Everything is measured in the same run on the same machine, so read the ratios, not the
# seconds. Targets: ingest <= 1.3 x the floor (radar: 1.5 x), peak RSS <= 200 MB.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
threads=1,2
repeat=3
size=10980
dir=out/bench
radar=0
while [ $# -gt 0 ]; do
    case "$1" in
    --radar) radar=1; shift ;;
    --threads) threads=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    *) echo "usage: tools/bench-kernel.sh [--radar] [--threads 1,2] [--repeat N] [--size N]" \
            "[--dir DIR]" >&2
       exit 2 ;;
    esac
done
build=${BUILD_DIR:-build}
[ -x "$build/parus-bench-kernel" ] || tools/setup.sh build >/dev/null

scene="$dir/scene-$size"
[ "$radar" = 1 ] && scene="$dir/radar-$size"
if [ ! -f "$scene/done" ]; then
    echo "bench: generating a $size x $size tile and its parcels in $scene (once)" >&2
    rm -rf "$scene"
    mkdir -p "$dir"
    # one registered parcel per 840 px gives >= 140,000 parcels on a full tile
    parcels=$(( size * size / 840 ))
    extra=()
    [ "$radar" = 1 ] && extra=(--radar)
    "$build/parus-synth" --out "$scene" --size "$size" --dates 1 --start 2024-07-15 \
        --bands B04,B08,SCL --parcels "$parcels" --parcels-format gpkg --no-truth --quiet \
        "${extra[@]}"
    if [ "$radar" = 1 ]; then
        # the two-band tile: VV and VH (the generator adds ANGLE), metadata and unit types kept
        mkdir -p "$scene/s1"
        gdal_translate -q -b 1 -b 2 -co TILED=YES -co BLOCKXSIZE=512 -co BLOCKYSIZE=512 \
            -co COMPRESS=DEFLATE "$(ls "$scene"/S1A_*.tif | head -n 1)" \
            "$scene/s1/S1A_IW_GRDH_bench_VV_VH.tif"
    fi
    touch "$scene/done"
fi
tile=$(ls "$scene"/*.tif | head -n 1)
target=1.3
if [ "$radar" = 1 ]; then
    tile="$scene/s1/S1A_IW_GRDH_bench_VV_VH.tif"
    target=1.5
fi
if [ ! -f "$scene/base.db" ]; then
    # the generator writes a few invalid parcels on purpose: they are set aside (exit 8)
    "$build/parus" --db "$scene/base.db" -q parcels load "$scene/parcels.gpkg" \
        2>"$scene/load.log" || [ $? -eq 8 ]
    echo "parcels set aside at load: $(grep -c 'set aside' "$scene/load.log")"
fi
echo "parcels registered: $(sqlite3 "$scene/base.db" 'SELECT count(*) FROM parcels')"
exec "$build/parus-bench-kernel" --tile "$tile" --db "$scene/base.db" --parus "$build/parus" \
    --threads "$threads" --repeat "$repeat" --parcels "$scene/parcels.gpkg" --target "$target"

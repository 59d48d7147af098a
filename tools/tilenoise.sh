#!/bin/sh
# tilenoise.sh - the damaged-block check's noise figures on real, synthetic and damaged scenes,
# and the tiles `parus ingest` refuses on clean synthetic seasons (a measurement, not CI).
#
#   tools/tilenoise.sh [BUILD_DIR] [DATA_DIR] [WORK_DIR] [SEEDS]
#
# BUILD_DIR (default build) holds parus, parus-synth and parus-tilenoise; DATA_DIR (default
# ../shared/data) the real scenes (data/README.md); WORK_DIR (default a new temporary directory,
# removed at the end) takes the seasons; SEEDS (default "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16
# 17 18 19 20") the synthetic seeds, each --size 512 --dates 24 as in docs/method.md §2.
#
# It prints, per kind of window (real scenes whole, real villages, synthetic through the kernel's
# pixels, synthetic whole, damaged), the number of windows and the distribution of the noise
# ratio (max, p99.9, p99) and of |corr(red step, NIR step)| among windows with ratio >= 0.85,
# then per seed the tiles refused as damaged-block by `parus ingest`. Per-window figures are kept
# in WORK_DIR/windows.txt (columns: kind tag block row col n sd ratio corr lag2 step).
# About 10 minutes on 2 cores for 20 seeds.
set -eu
BUILD=${1:-build}
DATA=${2:-../shared/data}
WORK=${3:-}
SEEDS=${4:-"1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20"}
T="$BUILD/parus-tilenoise"
P="$BUILD/parus"
S="$BUILD/parus-synth"
keep=1
if [ -z "$WORK" ]; then
    WORK=$(mktemp -d)
    keep=0
fi
OUT="$WORK/windows.txt"
: >"$OUT"

# measure KIND TAG ARGS...: per-window figures, prefixed with the kind
measure() {
    kind=$1
    shift
    "$T" measure "$@" | sed "s/^/$kind /" >>"$OUT"
}

# ---- real scenes ----
if [ -d "$DATA/s2-havelland" ]; then
    H="$DATA/s2-havelland/S2_L1C_T33UUU_20170216_10m_B02-B03-B04-B08.tif"
    measure real --tag havelland --red "$H:3" --nir "$H:4" --scale 0.0001
    ogr2ogr -f GeoJSON -where "fclass = 'residential'" "$WORK/residential.geojson" \
        "$DATA/s2-havelland/parcels_osm_landuse_utm33n.geojson"
    measure village --tag havelland-residential --red "$H:3" --nir "$H:4" --scale 0.0001 \
        --parcels "$WORK/residential.geojson"
fi
if [ -d "$DATA/landsat8-alabama" ]; then
    L="$DATA/landsat8-alabama"
    measure real --tag landsat --red "$L/l8_B4.tif" --nir "$L/l8_B5.tif" --scale 0.00002 \
        --offset -0.1 --mask "$L/l8_BQA.tif" --mask-kind bqa
fi
if [ -d "$DATA/cbers4-cerrado" ]; then
    for f in "$DATA"/cbers4-cerrado/CBERS-4_AWFI_022024_B15_*.tif; do
        d=${f##*_B15_}
        d=${d%.tif}
        C="$DATA/cbers4-cerrado/CBERS-4_AWFI_022024"
        measure real --tag "cbers-$d" --red "${C}_B15_$d.tif" --nir "${C}_B16_$d.tif" \
            --scale 0.0001 --mask "${C}_CMASK_$d.tif" --mask-kind cmask
    done
fi

# ---- synthetic seasons: clean, the test's random window, damaged DEFLATE blocks ----
for s in $SEEDS; do
    D="$WORK/s$s"
    [ -f "$D/parcels.geojson" ] ||
        "$S" --out "$D" --size 512 --dates 24 --seed "$s" --quiet --no-truth
    k=0
    for f in "$D"/S2B_*.tif; do
        b=$(basename "$f" .tif)
        # B04 red is band 3, B08 NIR band 4, SCL band 7; L2A: (DN - 1000) / 10000
        A="--red $f:3 --nir $f:4 --scale 0.0001 --offset -0.1 --mask $f:7 --mask-kind scl"
        # shellcheck disable=SC2086
        measure synth --tag "s$s-$b" $A --parcels "$D/parcels.geojson"
        # shellcheck disable=SC2086
        measure synth-whole --tag "s$s-$b" $A
        k=$((k + 1))
        # every fourth date: the test's random window, and a damaged red or NIR block
        [ $((k % 4)) -eq 0 ] || continue
        mkdir -p "$WORK/bad/s$s-$k-rnd"
        rnd="$WORK/bad/s$s-$k-rnd/$b.tif"
        "$T" random "$f" "$rnd" 3 4
        R="--red $rnd:3 --nir $rnd:4 --scale 0.0001 --offset -0.1"
        # shellcheck disable=SC2086
        "$T" measure --tag "s$s-$b" $R --mask "$rnd:7" --mask-kind scl |
            awk '$3 >= 128 && $3 < 256 && $4 >= 128 && $4 < 256' | sed 's/^/random /' >>"$OUT"
        for band in 3 4; do
            mkdir -p "$WORK/bad/s$s-$k-b$band"
            dmg="$WORK/bad/s$s-$k-b$band/$b.tif"
            # 64 random bytes over the block, at seeded places until GDAL decodes it silently
            try=0
            while [ $try -lt 20 ]; do
                "$T" damage "$f" "$dmg" "$((s * 1000 + k * 20 + try + band * 100000))" "$band" 64 \
                    >/dev/null
                "$T" measure --red "$dmg:3" --nir "$dmg:4" >/dev/null 2>&1 && break
                try=$((try + 1))
            done
            if [ $try -eq 20 ]; then
                rm -rf "$WORK/bad/s$s-$k-b$band"
                continue
            fi
            "$T" measure --tag "s$s-$b" --red "$f:3" --nir "$f:4" --scale 0.0001 --offset -0.1 \
                --mask "$f:7" --mask-kind scl --parcels "$D/parcels.geojson" >"$WORK/clean.txt"
            "$T" measure --tag "s$s-$b-b$band" --red "$dmg:3" --nir "$dmg:4" \
                --scale 0.0001 --offset -0.1 --mask "$dmg:7" --mask-kind scl \
                --parcels "$D/parcels.geojson" >"$WORK/dmg.txt"
            # the windows the damage changed
            awk 'NR == FNR { seen[$3 " " $4 " " $6 " " $7] = 1; next }
                 !(($3 " " $4 " " $6 " " $7) in seen)' "$WORK/clean.txt" "$WORK/dmg.txt" |
                sed 's/^/deflate /' >>"$OUT"
        done
    done
done

# ---- summary ----
echo "kind windows ratio_max ratio_p99.9 ratio_p99 n_ratio>=0.85 |corr|_max_among_those"
for kind in real village synth synth-whole random deflate; do
    awk -v k="$kind" '$1 == k { print $8, ($9 < 0 ? -$9 : $9) }' "$OUT" | sort -g >"$WORK/r.txt"
    awk -v k="$kind" '
        { r[NR] = $1; if ($1 >= 0.85) { nn++; if ($2 > cm) cm = $2 } }
        END {
            if (NR == 0) { print k, 0; exit }
            i999 = int(0.999 * NR); if (i999 < 1) i999 = 1
            i99 = int(0.99 * NR); if (i99 < 1) i99 = 1
            printf "%s %d %.3f %.3f %.3f %d %.3f\n", k, NR, r[NR], r[i999], r[i99], nn, cm
        }' "$WORK/r.txt"
done

echo "seed tiles refused as damaged-block by parus ingest"
for s in $SEEDS; do
    D="$WORK/s$s"
    db="$WORK/s$s.db"
    rm -f "$db"
    "$P" --db "$db" parcels load "$D/parcels.geojson" >/dev/null 2>&1 || true
    "$P" --db "$db" ingest "$D"/S2B_*.tif >/dev/null 2>"$WORK/ingest.err" || true
    echo "$s $(grep -c damaged-block "$WORK/ingest.err" || true)"
    rm -f "$db" "$db"-*
done
echo "damaged tiles (the test's random window; 64 bytes over a red or NIR DEFLATE block):"
echo "the verdict of parus ingest (the seed's parcels loaded)"
for c in "$WORK"/bad/*; do
    s=$(basename "$c")
    s=${s%%-*}
    db="$WORK/bad.db"
    rm -f "$db" "$db"-*
    "$P" --db "$db" parcels load "$WORK/$s/parcels.geojson" >/dev/null 2>&1 || true
    if "$P" --db "$db" ingest "$c"/*.tif >/dev/null 2>"$WORK/ingest.err"; then
        echo "$(basename "$c") accepted"
    else
        echo "$(basename "$c") $(grep -o 'implausible: [a-z-]*[^(]*([^:]*: [^:]*' "$WORK/ingest.err" ||
            head -c 160 "$WORK/ingest.err")"
    fi
done | tee "$WORK/bad.txt" | sed 's/^/  /'
echo "damaged verdicts: $(grep -c accepted "$WORK/bad.txt" || true) accepted of $(wc -l <"$WORK/bad.txt")"
rm -f "$WORK/bad.db" "$WORK/bad.db"-*
[ "$keep" -eq 1 ] || rm -rf "$WORK"

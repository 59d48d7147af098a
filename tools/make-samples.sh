#!/usr/bin/env bash
# tools/make-samples.sh - regenerate the committed sample season, data-samples/season/, with
# parus-synth: 12 dates of 512 x 512 px over a few hundred registered parcels, with ground truth.
#
# The sample keeps red, NIR and SCL so that twelve dates fit the repository's 10 MB budget (a
# smallholder landscape is mostly field edges and compresses to ~11 bits a pixel a band); every
# band comes back with `--bands` left out. Build first (tools/setup.sh), then run from anywhere.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
synth="${BUILD_DIR:-build}/parus-synth"
if [ ! -x "$synth" ]; then
    echo "make-samples: '$synth' not found: build first (tools/setup.sh) or set BUILD_DIR" >&2
    exit 1
fi

out=data-samples/season
rm -rf "$out"
"$synth" --out "$out" --size 512 --dates 12 --parcels auto --seed 42 --year 2024 \
    --clouds 0.2 --bands B04,B08,SCL --deflate-level 12 --crops data-samples/crops.csv

kb=$(du -sk data-samples | cut -f1)
echo "data-samples: ${kb} KiB"
if [ "$kb" -ge 10240 ]; then
    echo "make-samples: data-samples is over the 10 MB budget" >&2
    exit 1
fi

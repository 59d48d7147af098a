#!/usr/bin/env bash
# tools/setup.sh - set up a fresh Debian 12 machine for parus, build it, and run the demo or the
# tests. Idempotent: packages already installed are not touched, and `apt-get update` runs only
# when something is missing; an optional package (a CJK font for the charts, Slurm and munge for
# the Slurm test, a PostgreSQL server and PostGIS for the server store's tests, PgBouncer for the
# pooler's) that cannot be installed is a warning, not a failure.
#
#   tools/setup.sh demo    install, build, run the main job over data-samples/ (tools/demo.sh)
#   tools/setup.sh test    install, build, run the whole test suite (ctest)
#   tools/setup.sh build   install and build only
#
# Environment: BUILD_DIR (default build), CI=true (warnings are errors), PARUS_SANITIZE
# (e.g. address,undefined), PARUS_DATA_DIR (real data for the real-data tests), JOBS.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
action=${1:-build}
build_dir=${BUILD_DIR:-build}
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}

# netcdf-bin: ncgen, which the weather tests use to write their NetCDF fixtures from CDL
packages=(build-essential cmake pkg-config libgdal-dev gdal-bin libproj-dev proj-bin
          libtiff-dev libsqlite3-dev sqlite3 libpq-dev libcmocka-dev libinih-dev libxgboost-dev libcairo2-dev clang-format
          netcdf-bin)
# Wanted but not needed, each group installed apart so that one that cannot be installed keeps
# none of the others out. A failure is a warning (what it costs after the '|'), and the tests
# that need the group skip (exit 77) with a message naming what is missing.
optional=(
    # a CJK font, so that charts draw Chinese names (the chart test that checks it skips)
    "fonts-wqy-zenhei|Chinese text in charts will draw as boxes"
    # tests/slurm/test_slurm.sh starts its own munged, slurmctld and slurmd (ctest -L slurm)
    "slurm-wlm munge|the Slurm test will skip"
    # a PostgreSQL server with PostGIS for the server store's tests (ctest -L pg: tools/pg-server.sh
    # starts one of its own); the client library, libpq-dev, is needed to build and is above
    "postgresql postgresql-15-postgis-3|the PostgreSQL store's tests will skip"
    # PgBouncer in front of that server (ctest -R pgbouncer: tools/pg-server.sh pooler starts
    # one of its own; tools/bench-pg.sh query times parus through it)
    "pgbouncer|the PgBouncer test will skip"
)

missing_of() { # package... -> the ones not installed
    local p
    for p in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
            echo "$p"
        fi
    done
}
mapfile -t missing < <(missing_of "${packages[@]}")
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
updated=false
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}" >&2
    $sudo apt-get update -qq
    updated=true
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >&2
fi
for group in "${optional[@]}"; do
    read -ra wanted <<<"${group%%|*}"
    mapfile -t missing_optional < <(missing_of "${wanted[@]}")
    [ ${#missing_optional[@]} -gt 0 ] || continue
    echo "setup: installing ${missing_optional[*]} (optional)" >&2
    if ! { { $updated || timeout 300 $sudo apt-get update -qq; } && updated=true &&
           DEBIAN_FRONTEND=noninteractive timeout 600 $sudo apt-get install -y -qq \
               --no-install-recommends "${missing_optional[@]}" >&2; }; then
        echo "setup: warning: could not install ${missing_optional[*]} (optional:" \
             "${group#*|})" >&2
    fi
done

cmake_args=(-S . -B "$build_dir" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}")
if [ "${CI:-}" = "true" ]; then cmake_args+=(-DPARUS_WERROR=ON); fi
if [ -n "${PARUS_SANITIZE:-}" ]; then cmake_args+=(-DPARUS_SANITIZE="$PARUS_SANITIZE"); fi
if [ -n "${PARUS_DATA_DIR:-}" ]; then cmake_args+=(-DPARUS_DATA_DIR="$PARUS_DATA_DIR"); fi
cmake "${cmake_args[@]}" >/dev/null
cmake --build "$build_dir" -j "$jobs"

case "$action" in
build) ;;
demo) BUILD_DIR="$build_dir" exec "$here/tools/demo.sh" ;;
test)
    cd "$build_dir"
    exec ctest --output-on-failure -j "$jobs" ;;
*)
    echo "usage: tools/setup.sh [demo|test|build]" >&2
    exit 2 ;;
esac

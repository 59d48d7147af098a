#!/usr/bin/env bash
# tools/setup.sh - set up a fresh Debian 12 machine for parus, build it, and run the demo or the
# tests. Idempotent: packages already installed are not touched, and `apt-get update` runs only
# when something is missing; an optional package (a CJK font for the charts) that cannot be
# installed is a warning, not a failure.
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
# Wanted but not needed: a CJK font, so that charts draw Chinese names (without it they draw as
# boxes and the chart test that checks it skips). A failure to install it is a warning.
optional=(fonts-wqy-zenhei)

missing_of() { # package... -> the ones not installed
    local p
    for p in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
            echo "$p"
        fi
    done
}
mapfile -t missing < <(missing_of "${packages[@]}")
mapfile -t missing_optional < <(missing_of "${optional[@]}")
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]} ${missing_optional[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >&2
fi
if [ ${#missing_optional[@]} -gt 0 ]; then
    if ! { { [ ${#missing[@]} -gt 0 ] || timeout 300 $sudo apt-get update -qq; } &&
           DEBIAN_FRONTEND=noninteractive timeout 300 $sudo apt-get install -y -qq \
               --no-install-recommends "${missing_optional[@]}" >&2; }; then
        echo "setup: warning: could not install ${missing_optional[*]} (optional: Chinese text" \
             "in charts will draw as boxes)" >&2
    fi
fi

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

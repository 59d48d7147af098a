#!/usr/bin/env bash
# tools/bench-pg.sh - the PostgreSQL store against the SQLite store, in one run on one machine
# (issue 13's figures). A throwaway server (tools/pg-server.sh) is started in DIR/pg and stopped
# at the end.
#
#   tools/bench-pg.sh ingest [--size 10980] [--repeat 3] [--radar] [--dir out/bench]
#       the kernel benchmark's tile (tools/bench-kernel.sh's scene, generated once: a
#       SIZE x SIZE Sentinel-2 tile and SIZE^2/840 parcels) ingested with one thread into a copy
#       of the parcels-only SQLite store and into a PostgreSQL store holding the same parcels
#       (copied in with `parus store copy`): wall and CPU time of the parus process, medians of
#       REPEAT, and the ratio PostgreSQL / SQLite (target <= 1.2). The server's own CPU is
#       reported beside it (it is another process: on two cores both run at once). --radar: the
#       scene's Sentinel-1 tile instead (parus-synth --radar).
#   tools/bench-pg.sh writers [--size 4096] [--dir out/bench]
#       four tiles (four dates of one scene) ingested one after another by one writer, then by
#       four writers at once, into fresh PostgreSQL stores: the concurrent run's wall time
#       against the sum of the single-writer times (target <= 1.1; on a machine with fewer
#       cores than writers the concurrent run is bound by the cores, not by locks).
#   tools/bench-pg.sh assess [--size 4096] [--dates 4] [--repeat 3] [--dir out/bench]
#       the season's assessment (calendar crops, one thread) of the writers' scene (DATES dates,
#       SIZE^2/840 parcels) from a SQLite store and from a PostgreSQL store holding the same
#       tiles (copied in with `parus store copy`), each run on a fresh copy: wall and CPU time of
#       the parus process and the server's CPU, medians of REPEAT, and the ratio PostgreSQL /
#       SQLite (target <= 1.3).
#   tools/bench-pg.sh query [--parcels 20000] [--tiles 36] [--queries 100] [--fill-pg]
#                           [--server PGDIR] [--dir out/bench]
#       parus-bench-query's store (filled once in SQLite), copied into PostgreSQL (--fill-pg:
#       filled there by parus-bench-query too, much faster at a million parcels; --server: the
#       running tools/pg-server.sh server of PGDIR instead of a fresh one, its database "query"
#       used as it is when there, so that a large store is filled once), and the same
#       queries timed against SQLite, against the server directly (each `parus query` a new
#       server process) and through a PgBouncer of its own in session pooling (DIR/pgbouncer,
#       tools/pg-server.sh pooler; stopped at the end; left out, with a message, where pgbouncer
#       is not installed): `parus query`'s p50 and p90 (target: p50 <= 20 ms on PostgreSQL),
#       and the p50 of what each query took over the `parus --version` run just after it;
#       then QUERIES parcels queried on every store and `parus --version` in turn, parcel after
#       parcel (a load that comes and goes falls on all alike; each parcel asked once before,
#       untimed, so that no store times its disk).
#
# Read the ratios, not the seconds: the machine is shared.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
what=${1:-}
[ $# -gt 0 ] && shift
size=
repeat=3
dir=out/bench
parcels=20000
tiles=36
queries=100
dates=4
radar=
fill_pg=
own_server=
while [ $# -gt 0 ]; do
    case "$1" in
    --size) size=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --parcels) parcels=$2; shift 2 ;;
    --tiles) tiles=$2; shift 2 ;;
    --queries) queries=$2; shift 2 ;;
    --dates) dates=$2; shift 2 ;;
    --radar) radar=--radar; shift ;;
    --fill-pg) fill_pg=1; shift ;;
    --server) own_server=$2; shift 2 ;;
    *) sed -n '2,40p' "$0" >&2; exit 2 ;;
    esac
done
build=${BUILD_DIR:-build}
parus="$build/parus"
[ -x "$parus" ] || tools/setup.sh build >/dev/null
tools/pg-server.sh check || exit $?
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
server="$dir/pg/data"
# the server may run as another user (root starts it as postgres): it must be able to reach
# DIR; search permission added, nothing taken away (DIR's parent may be /tmp, sticky and open)
chmod o+x "$dir" "$(dirname "$dir")" 2>/dev/null || true
stop_server() { tools/pg-server.sh stop "$server" >/dev/null 2>&1 || true; }
if [ -n "$own_server" ]; then
    # the caller's running server, neither started nor stopped here (query only)
    [ "$what" = query ] || { echo "bench: --server is for query only" >&2; exit 2; }
    server=$(cd "$own_server" && pwd)
    stop_server() { :; }
else
    trap stop_server EXIT
    if [ -f "$server/PG_VERSION" ]; then
        stop_server
        rm -rf "$dir/pg"
    fi
    tools/pg-server.sh start "$server" >/dev/null
fi
newdb() { tools/pg-server.sh db "$server" "$1" "${2:-}"; }

median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

# timed CMD...: runs CMD, appends "wall user sys maxrss_kb" to $timing
timed() {
    /usr/bin/time -f "%e %U %S %M" -o "$dir/.time" "$@" >/dev/null 2>"$dir/.err" ||
        { rc=$?; [ $rc -eq 9 ] || { cat "$dir/.err" >&2; exit $rc; }; }
    cat "$dir/.time" >>"$timing"
}

# the server's CPU seconds so far (all its processes: backends, writer, checkpointer)
server_cpu() {
    local pid tot=0 hz
    hz=$(getconf CLK_TCK)
    for pid in $(pgrep -u postgres -f "postgres" || true); do
        [ -r "/proc/$pid/stat" ] || continue
        tot=$(awk -v t="$tot" '{print t + $14 + $15 + $16 + $17}' "/proc/$pid/stat")
    done
    awk -v t="$tot" -v hz="$hz" 'BEGIN {printf "%.2f", t / hz}'
}

# report WHAT TARGET: the medians of the timings in $lite_t, $pg_t (wall, user, system, peak KB a
# line) and $srv_t (the server's CPU seconds a line), and PostgreSQL over SQLite against TARGET
report() {
    local lw lc pw pc sc lm pm
    lw=$(cut -d' ' -f1 "$lite_t" | median); lc=$(awk '{print $2 + $3}' "$lite_t" | median)
    pw=$(cut -d' ' -f1 "$pg_t" | median); pc=$(awk '{print $2 + $3}' "$pg_t" | median)
    sc=$(median <"$srv_t")
    lm=$(cut -d' ' -f4 "$lite_t" | median); pm=$(cut -d' ' -f4 "$pg_t" | median)
    printf "%-28s %9s %9s %10s %12s\n" "$1, 1 thread (median of $repeat)" wall_s cpu_s peak_MB server_cpu_s
    printf "%-28s %9.2f %9.2f %10.0f %12s\n" "SQLite" "$lw" "$lc" "$(echo "$lm / 1024" | bc -l)" "-"
    printf "%-28s %9.2f %9.2f %10.0f %12.2f\n" "PostgreSQL" "$pw" "$pc" "$(echo "$pm / 1024" | bc -l)" "$sc"
    awk -v p="$pw" -v l="$lw" -v t="$2" 'BEGIN {printf "PostgreSQL / SQLite, wall: %.2f (target <= %s)\n", p / l, t}'
    awk -v p="$pc" -v s="$sc" -v l="$lc" 'BEGIN {printf "PostgreSQL / SQLite, CPU of parus and the server together: %.2f\n", (p + s) / l}'
}

scene_of() { # size -> the scene directory, generated once
    local s=$1 dates=${2:-1} radar=${3:-} scene="$dir/scene-$1"
    [ "$dates" -gt 1 ] && scene="$dir/scene-$1-d$dates"
    [ -n "$radar" ] && scene="$scene-radar"
    if [ ! -f "$scene/done" ]; then
        echo "bench: generating a $s x $s scene ($dates dates) and its parcels in $scene (once)" >&2
        rm -rf "$scene"
        "$build/parus-synth" --out "$scene" --size "$s" --dates "$dates" --start 2024-07-15 \
            --bands B04,B08,SCL --parcels $((s * s / 840)) --parcels-format gpkg --no-truth \
            $radar --quiet
        touch "$scene/done"
    fi
    if [ ! -f "$scene/base.db" ]; then
        "$parus" --db "$scene/base.db" -q parcels load "$scene/parcels.gpkg" \
            2>"$scene/load.log" || [ $? -eq 8 ]
    fi
    echo "$scene"
}

case "$what" in
ingest)
    scene=$(scene_of "${size:-10980}" 1 "$radar")
    if [ -n "$radar" ]; then tile=$(ls "$scene"/S1*.tif | head -n 1); else tile=$(ls "$scene"/*.tif | head -n 1); fi
    echo "tile $(basename "$tile"), $(sqlite3 "$scene/base.db" 'SELECT count(*) FROM parcels') parcels registered"
    conn=$(newdb parcels)
    "$parus" -q store copy "$scene/base.db" "$conn"
    lite_t=$dir/.lite; pg_t=$dir/.pg; srv_t=$dir/.srv
    : >"$lite_t"; : >"$pg_t"; : >"$srv_t"
    for r in $(seq "$repeat"); do
        cp "$scene/base.db" "$dir/ingest.db"
        timing=$lite_t timed "$parus" --db "$dir/ingest.db" -q ingest --threads 1 "$tile"
        c=$(newdb "ingest$r" parcels)
        before=$(server_cpu)
        timing=$pg_t timed "$parus" --db "$c" -q ingest --threads 1 "$tile"
        awk -v a="$before" -v b="$(server_cpu)" 'BEGIN {print b - a}' >>"$srv_t"
    done
    rm -f "$dir/ingest.db"
    report ingest 1.2
    ;;
writers)
    scene=$(scene_of "${size:-4096}" 4)
    mapfile -t tifs < <(ls "$scene"/*.tif | head -n 4)
    conn=$(newdb parcels)
    "$parus" -q store copy "$scene/base.db" "$conn"
    timing=$dir/.one; : >"$timing"
    total=0
    c=$(newdb one parcels)
    for t in "${tifs[@]}"; do
        timed "$parus" --db "$c" -q ingest --threads 1 "$t"
    done
    sum=$(awk '{s += $1} END {print s}' "$timing")
    c=$(newdb four parcels)
    start=$(date +%s.%N)
    for t in "${tifs[@]}"; do
        "$parus" --db "$c" -q ingest --threads 1 "$t" >/dev/null &
    done
    wait
    end=$(date +%s.%N)
    n=$("$parus" --db "$c" store info | awk '/^tiles:/ {print $2}')
    [ "$n" = 4 ] || { echo "bench: the four writers stored $n tiles, not 4" >&2; exit 1; }
    awk -v s="$sum" -v a="$start" -v b="$end" -v cores="$(nproc)" 'BEGIN {
        w = b - a
        printf "4 tiles, one writer after another: %.2f s (sum); four writers at once: %.2f s\n", s, w
        printf "at once / sum: %.2f (target <= 1.1; %d cores: a perfect machine gives %.2f)\n", w / s, cores, (cores < 4 ? 1 / cores : 0.25)
    }'
    # the season's assessment (its walk over every parcel's observations) from each backend
    cp "$scene/base.db" "$dir/assess.db"
    "$parus" --db "$dir/assess.db" -q ingest --threads 1 "${tifs[@]}" >/dev/null
    args=(assess --season 2024-03-01/2024-10-31 --crops data-samples/crops.csv
          --policy data-samples/policy.ini --threads 1)
    timing=$dir/.al; : >"$timing"
    timed "$parus" --db "$dir/assess.db" -q "${args[@]}"
    timing=$dir/.ap; : >"$timing"
    timed "$parus" --db "$c" -q "${args[@]}"
    read -r lw lu ls lm <"$dir/.al"
    read -r pw pu ps pm <"$dir/.ap"
    rm -f "$dir/assess.db"
    awk -v lw="$lw" -v pw="$pw" -v lm="$lm" -v pm="$pm" 'BEGIN {
        printf "assess (calendar crops, 1 thread): SQLite %.2f s, %.0f MB; PostgreSQL %.2f s, %.0f MB; ratio %.2f (target <= 1.3)\n", lw, lm / 1024, pw, pm / 1024, pw / lw
    }'
    ;;
assess)
    scene=$(scene_of "${size:-4096}" "$dates")
    mapfile -t tifs < <(ls "$scene"/*.tif)
    if [ ! -f "$scene/assess.db" ]; then
        cp "$scene/base.db" "$scene/assess.db.tmp"
        "$parus" --db "$scene/assess.db.tmp" -q ingest --threads 1 "${tifs[@]}" >/dev/null
        mv "$scene/assess.db.tmp" "$scene/assess.db"
    fi
    echo "$(sqlite3 "$scene/assess.db" 'SELECT count(*) FROM parcels') parcels, $(sqlite3 "$scene/assess.db" 'SELECT count(*) FROM tiles') tiles"
    conn=$(newdb assessed)
    "$parus" -q store copy "$scene/assess.db" "$conn"
    args=(assess --season 2024-03-01/2024-10-31 --crops data-samples/crops.csv
          --policy data-samples/policy.ini --threads 1)
    lite_t=$dir/.lite; pg_t=$dir/.pg; srv_t=$dir/.srv
    : >"$lite_t"; : >"$pg_t"; : >"$srv_t"
    for r in $(seq "$repeat"); do
        cp "$scene/assess.db" "$dir/assess.db"
        timing=$lite_t timed "$parus" --db "$dir/assess.db" -q "${args[@]}"
        c=$(newdb "assess$r" assessed)
        before=$(server_cpu)
        timing=$pg_t timed "$parus" --db "$c" -q "${args[@]}"
        awk -v a="$before" -v b="$(server_cpu)" 'BEGIN {print b - a}' >>"$srv_t"
    done
    # the two stores hold as many rows of each (the row-for-row comparison is tests/test_pg.c's)
    q="SELECT (SELECT count(*) FROM assessments), (SELECT count(*) FROM parcel_results),
       (SELECT sum(n_clear_obs) FROM parcel_results), (SELECT count(*) FROM parcel_flags),
       (SELECT count(*) FROM limits), (SELECT count(*) FROM parcel_overlaps)"
    nl=$(sqlite3 "$dir/assess.db" "$q")
    np=$(psql "$c" -Atc "$q" 2>/dev/null || echo "(psql failed)")
    echo "assessments|results|clear observations|flags|limits|overlaps: SQLite $nl, PostgreSQL $np"
    [ "$nl" = "$np" ] || echo "bench: the two stores differ" >&2
    rm -f "$dir/assess.db"
    report assess 1.3
    ;;
query)
    store="$dir/query-$parcels-$tiles.db"
    [ -f "$store" ] || echo "bench: filling $store (once)" >&2
    "$build/parus-bench-query" "$store" --parcels "$parcels" --tiles "$tiles" --queries 1 \
        --bin "$parus" >/dev/null
    conn=
    if [ -n "$own_server" ]; then
        conn="$(sed 's/ dbname=.*//' "$server/conninfo") dbname=query"
        psql "$conn" -qc "SELECT 1" >/dev/null 2>&1 || conn=
    fi
    if [ -n "$conn" ]; then
        echo "bench: the store of database 'query' on $server, as it is" >&2
    elif conn=$(newdb query) && [ -n "$fill_pg" ]; then
        "$build/parus-bench-query" "$conn" --parcels "$parcels" --tiles "$tiles" --queries 1 \
            --bin "$parus" >/dev/null
    else
        "$parus" -q store copy "$store" "$conn"
    fi
    targets=("SQLite|$store" "PostgreSQL, direct|$conn")
    pooler="$dir/pgbouncer"
    tools/pg-server.sh pooler-stop "$pooler"
    if tools/pg-server.sh pooler-check; then
        trap 'tools/pg-server.sh pooler-stop "$pooler"; stop_server' EXIT
        targets+=("PostgreSQL, PgBouncer|$(tools/pg-server.sh pooler "$server" "$pooler") dbname=query")
    else
        echo "bench: no PgBouncer, so no run through it (tools/setup.sh installs it)" >&2
    fi
    summary=()
    for t in "${targets[@]}"; do
        echo "== ${t%%|*}"
        "$build/parus-bench-query" "${t#*|}" --queries "$queries" --bin "$parus" |
            grep -v "^store" | tee "$dir/.query"
        summary+=("$(awk -v w="${t%%|*}" '/^parus query \(process\)/ { p50 = $(NF - 7); p90 = $(NF - 5) }
            /^query over --version/ { over = $(NF - 7) }
            END { printf "%-24s %9s %9s %14s\n", w, p50, p90, over }' "$dir/.query")")
    done
    printf "%-24s %9s %9s %14s  (%s queries; target: p50 <= 20 ms on PostgreSQL)\n" \
        "parus query, process" p50_ms p90_ms over_floor_p50 "$queries"
    printf "%s\n" "${summary[@]}"
    # Then the same parcel's `parus query` on every store and `parus --version` one right after
    # another, parcel after parcel, the first of them taking turns: a load that comes and goes
    # on a shared machine falls on all of them alike. Each store is asked for the parcel once
    # before, untimed, as the runs above ask for theirs in their library loops: a store larger
    # than the memory would otherwise time its disk, and time it on whichever store of one
    # server comes first.
    echo "== interleaved: $queries parcels, each queried on every store in turn"
    RANDOM=13
    n_p=$(sqlite3 "$store" 'SELECT count(*) FROM parcels')
    : >"$dir/.inter"
    for i in $(seq "$queries"); do
        id=$(printf "P%07d" $(((RANDOM * 32768 + RANDOM) % n_p)))
        runs=("${targets[@]}" "parus --version|")
        for t in "${targets[@]}"; do
            "$parus" --db "${t#*|}" query "$id" --season 2024-03-01/2024-10-26 >/dev/null
        done
        for k in $(seq 0 $((${#runs[@]} - 1))); do
            t=${runs[$(((i + k) % ${#runs[@]}))]}
            s=$EPOCHREALTIME
            if [ -n "${t#*|}" ]; then
                "$parus" --db "${t#*|}" query "$id" --season 2024-03-01/2024-10-26 >/dev/null
            else
                "$parus" --version >/dev/null
            fi
            e=$EPOCHREALTIME
            echo "${t%%|*}|$(awk -v s="$s" -v e="$e" 'BEGIN {printf "%.3f", (e - s) * 1000}')" \
                >>"$dir/.inter"
        done
    done
    printf "%-24s %9s %9s\n" "interleaved, process" p50_ms p90_ms
    for t in "${targets[@]}" "parus --version|"; do
        grep -F "${t%%|*}|" "$dir/.inter" | cut -d'|' -f2 | sort -g |
            awk -v w="${t%%|*}" '{v[NR] = $1} END {
                printf "%-24s %9.2f %9.2f\n", w, v[int((NR + 1) / 2)], v[int(NR * 0.9 + 0.5)] }'
    done
    ;;
*)
    sed -n '2,40p' "$0" >&2
    exit 2
    ;;
esac

#!/usr/bin/env bash
# tests/slurm/test_slurm.sh - the sharded nightly run on a real Slurm, against one process.
#
# Starts Debian's Slurm on this machine, all of it under a temporary directory: munged with its own
# key and socket, slurmctld and slurmd on free ports with a minimal slurm.conf (one node, this
# host, one partition, no accounting). Makes a small synthetic season (parus-synth: 12 tiles, 77
# parcels, nine years of weather stacks), loads the parcels and declared crops into a parcels-only
# store, and submits the job scripts a site uses, deploy/slurm/nightly-shard.sbatch as an array of
# 3 shards over one inbox and deploy/slurm/merge-assess.sbatch after it (afterok): each shard
# writes its own SQLite store (in a directory standing for the node's disk, copied out when it
# ended well), the merge job merges them, runs the inbox once without --shard (the tiles known
# and moved to done, the weather files the shards left imported) and assesses. The same inbox (hard links) goes through one `parus nightly` and `parus assess`
# into another store. Every table of the two stores is then compared row for row (dump_store
# below says which columns are left out, and why); one difference fails the test. A copy with one
# limit changed by 1 CNY must differ, so the comparison cannot pass by seeing nothing.
# Then the same jobs again with one PostgreSQL store as every shard's store and the bank's
# (PARUS_SHARD_DB = PARUS_DB = its connection string): the shards write it at once, the merge job
# merges nothing and assesses; the store, copied back into SQLite (`parus store copy`), must equal
# the single run's too. The server is CTest's pg fixture (PARUS_TEST_PG_DIR); without one that
# half is skipped with a message (PARUS_TEST_REQUIRE_PG=1: a failure).
#
# Exit 0 passed, 1 failed, 77 skipped: Slurm, munge or sqlite3 is not installed, or the daemons
# cannot start here (a container without what they need); the message names what is missing.
# PARUS_TEST_REQUIRE_SLURM=1 turns those skips into failures. The daemons are stopped and the
# directory removed however the test ends (PARUS_TEST_KEEP=1 keeps the directory).
#
# Run by CTest (`ctest -R slurm`, label slurm), or alone from the source tree:
#   PARUS_BIN=build/parus PARUS_SYNTH=build/parus-synth tests/slurm/test_slurm.sh
# Environment: PARUS_BIN, PARUS_SYNTH, PARUS_SOURCE_DIR (CTest sets them), PARUS_TEST_SLURM_TIMEOUT
# (seconds to wait for the jobs, default 300).
set -euo pipefail

src=${PARUS_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
parus=$(realpath "${PARUS_BIN:-$src/build/parus}")
synth=$(realpath "${PARUS_SYNTH:-$src/build/parus-synth}")
n_shards=3
season=2024-03-01/2024-10-31
timeout_s=${PARUS_TEST_SLURM_TIMEOUT:-300}
PATH=$PATH:/usr/sbin:/sbin

test_name=test_slurm
require_var=PARUS_TEST_REQUIRE_SLURM
# shellcheck source=../script_support.sh
. "$src/tests/script_support.sh"
fail() {
    say "FAILED: $*"
    exit 1
}

missing=()
for c in munged slurmctld slurmd sbatch squeue sinfo scontrol scancel sqlite3; do
    command -v "$c" >/dev/null 2>&1 || missing+=("$c")
done
if [ ${#missing[@]} -gt 0 ]; then
    skip "${missing[*]} not installed (Debian: munge, slurm-wlm, sqlite3; tools/setup.sh" \
        "installs them where it can)"
fi
if [ ! -x "$parus" ] || [ ! -x "$synth" ]; then
    fail "no parus or parus-synth at '$parus', '$synth'"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/parus-slurm.XXXXXX")
# munged refuses a socket in a directory that not everyone may search
chmod 711 "$tmp"
conf=$tmp/slurm.conf
munged_pid="" ctld_pid="" slurmd_pid=""

sl() { SLURM_CONF=$conf "$@"; } # a Slurm client of this test's cluster

stop_pid() { # pid: TERM, then KILL after 10 s
    local pid=$1 k
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
    kill "$pid" 2>/dev/null || true
    for ((k = 0; k < 100; k++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$? k p
    trap - EXIT INT TERM
    if [ -n "$ctld_pid" ]; then
        sl scancel --quiet --user="$(id -un)" 2>/dev/null || true
        for ((k = 0; k < 50; k++)); do
            [ -z "$(sl squeue -h -o %i 2>/dev/null)" ] && break
            sleep 0.2
        done
    fi
    stop_pid "$slurmd_pid"
    stop_pid "$ctld_pid"
    # a job step outlives slurmd (slurmstepd): any process still carrying this cluster's
    # configuration in its environment is one of this test's
    for p in /proc/[0-9]*; do
        [ "${p#/proc/}" != $$ ] || continue
        if { tr '\0' '\n' <"$p/environ"; } 2>/dev/null | grep -qxF "SLURM_CONF=$conf"; then
            stop_pid "${p#/proc/}"
        fi
    done
    if [ -z "$munged_pid" ] && [ -s "$tmp/munge/munged.pid" ]; then
        munged_pid=$(cat "$tmp/munge/munged.pid")
    fi
    stop_pid "$munged_pid"
    if [ "${PARUS_TEST_KEEP:-}" = 1 ]; then
        say "kept $tmp"
    else
        rm -rf "$tmp"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

show_logs() { # [the run's directory]
    local f d=${1:-$tmp/run}
    for f in "$tmp"/munge/munged.log "$tmp"/slurmctld.log "$tmp"/slurmd.log "$d"/*.out \
        "$d"/*.log; do
        [ -f "$f" ] || continue
        echo "---- $f (last 20 lines)" >&2
        tail -n 20 "$f" >&2
    done
}

# ---- munge: its own key, socket, pid, log and seed ----
mkdir -m 700 "$tmp/key"
mkdir -m 755 "$tmp/munge"
if command -v mungekey >/dev/null 2>&1; then
    mungekey --create --keyfile="$tmp/key/munge.key"
else
    dd if=/dev/urandom of="$tmp/key/munge.key" bs=1 count=1024 status=none
    chmod 400 "$tmp/key/munge.key"
fi
socket=$tmp/munge/munge.socket
if ! munged --key-file="$tmp/key/munge.key" --socket="$socket" \
    --pid-file="$tmp/munge/munged.pid" --log-file="$tmp/munge/munged.log" \
    --seed-file="$tmp/munge/munged.seed" 2>"$tmp/munge/munged.err"; then
    skip "munged cannot start here: $(tail -n 3 "$tmp/munge/munged.err" | tr '\n' ' ')"
fi
munged_pid=$(cat "$tmp/munge/munged.pid")

# ---- slurm: controller and one node, this host ----
free_port() { # a TCP port nothing listens on, other than $1
    local p k
    for ((k = 0; k < 100; k++)); do
        p=$((20000 + RANDOM % 40000))
        [ "$p" != "${1:-}" ] || continue
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    return 1
}
node=$(hostname -s 2>/dev/null || uname -n)
cpus=$(nproc)
mem_mb=$(awk '/^MemTotal:/ { print int($2 / 1024 / 2) }' /proc/meminfo)
user=$(id -un)
ctld_port=$(free_port) || fail "no free TCP port"
slurmd_port=$(free_port "$ctld_port") || fail "no free TCP port"
mkdir -p "$tmp/state" "$tmp/spool" "$tmp/run"
cat >"$conf" <<EOF
ClusterName=parus-test
SlurmctldHost=localhost
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=$user
SlurmdUser=$user
AuthType=auth/munge
AuthInfo=socket=$socket
CredType=cred/munge
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MailProg=/bin/true
ReturnToService=2
MinJobAge=600
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=parus Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
sl slurmctld -D -f "$conf" >"$tmp/slurmctld.err" 2>&1 &
ctld_pid=$!
sl slurmd -D -f "$conf" -N "$node" >"$tmp/slurmd.err" 2>&1 &
slurmd_pid=$!
state=""
for ((k = 0; k < 300; k++)); do
    state=$(sl sinfo -h -n "$node" -o %t 2>/dev/null || true)
    [ "$state" = idle ] && break
    kill -0 "$ctld_pid" 2>/dev/null || break
    kill -0 "$slurmd_pid" 2>/dev/null || break
    sleep 0.1
done
if [ "$state" != idle ]; then
    show_logs
    skip "slurmctld and slurmd did not bring node '$node' up here (state '${state:-none}'," \
        "slurmctld $(kill -0 "$ctld_pid" 2>/dev/null && echo running || echo exited), slurmd" \
        "$(kill -0 "$slurmd_pid" 2>/dev/null && echo running || echo exited))"
fi
say "slurm up: node $node, $cpus CPUs, ports $ctld_port/$slurmd_port"

# ---- a synthetic season and a store holding its parcels and declared crops ----
"$synth" --out "$tmp/season" --size 256 --dates 12 --start 2024-03-05 --step 20 --quiet \
    --crops "$src/data-samples/crops.csv" --weather --weather-years 8
"$parus" --db "$tmp/parcels-only.db" -q parcels load "$tmp/season/parcels.geojson"
awk -F, 'NR == 1 { print "parcel_id,crop" } NR > 1 && $8 == 1 { print $1 "," $4 }' \
    "$tmp/season/truth/parcels_truth.csv" >"$tmp/declared.csv"
"$parus" --db "$tmp/parcels-only.db" -q parcels crops --season "$season" "$tmp/declared.csv"
cat >"$tmp/parus.ini" <<EOF
[tables]
crops = $src/data-samples/crops.csv
policy = $src/data-samples/policy.ini

[season]
window = $season
EOF
n_tiles=$(find "$tmp/season" -maxdepth 1 -name '*.tif' | wc -l)
n_weather=$(find "$tmp/season/weather" -name '*.tif' | wc -l)
for d in run single pgrun; do
    mkdir -p "$tmp/$d/inbox"
    ln "$tmp/season"/*.tif "$tmp/season/weather"/*.tif "$tmp/$d/inbox/"
done

# ---- the sharded run on Slurm, with the files a site uses ----
# run_on_slurm DIR KIND VAR=VALUE...: submits the shard array and merge-assess.sbatch after it
# with the settings given (and DIR's inbox, done, quarantine and logs), waits, checks that every
# job completed with exit 0, that each shard took its share and left the weather files, that the
# merge job's inbox run found every tile known and imported the weather, and that nothing is left
# in the inbox or set aside. Prints the tiles each shard stored.
run_on_slurm() {
    local dir=$1 kind=$2 started array_id merge_id jobs bad i stored per_shard="" sum=0 busy=0 c
    shift 2
    local job_env=(
        PARUS="$parus"
        PARUS_CONFIG="$tmp/parus.ini"
        PARUS_SHARDS="$n_shards"
        PARUS_INBOX="$dir/inbox"
        PARUS_DONE="$dir/done"
        PARUS_QUARANTINE="$dir/quarantine"
        PARUS_LOG="$dir/nightly-%a.log"
        PARUS_SETTLE=0
        PARUS_THREADS=1
        "$@"
    )
    submit() { # sbatch arguments... -> job id
        local out
        out=$(env SLURM_CONF="$conf" "${job_env[@]}" sbatch --parsable --chdir="$dir" \
            --cpus-per-task=1 --mem=512M --time=15 "$@") || fail "sbatch $* refused"
        echo "${out%%;*}"
    }
    started=$SECONDS
    array_id=$(submit --array=0-$((n_shards - 1)) --output="$dir/shard-%a.out" \
        "$src/deploy/slurm/nightly-shard.sbatch")
    merge_id=$(submit --dependency=afterok:"$array_id" --kill-on-invalid-dep=yes \
        --output="$dir/merge-assess.out" "$src/deploy/slurm/merge-assess.sbatch")
    say "$kind: submitted array $array_id ($n_shards shards) and merge-assess $merge_id"
    while [ -n "$(sl squeue -h -o %i)" ]; do
        if [ $((SECONDS - started)) -ge "$timeout_s" ]; then
            sl squeue >&2 || true
            show_logs
            fail "$kind: the jobs did not end within $timeout_s s"
        fi
        sleep 0.5
    done
    say "$kind: jobs ended in $((SECONDS - started)) s"
    # one line a job (an array: a line a task); without accounting, ended jobs stay MinJobAge
    # seconds
    jobs=$(sl scontrol -o show job "$array_id" && sl scontrol -o show job "$merge_id") ||
        fail "scontrol cannot show the jobs"
    [ "$(grep -c . <<<"$jobs")" -eq $((n_shards + 1)) ] || fail "not $((n_shards + 1)) jobs: $jobs"
    bad=$(grep -v 'JobState=COMPLETED .*ExitCode=0:0' <<<"$jobs" |
        sed -E 's/^JobId=([0-9]+) .*JobState=([A-Z_]+) .*ExitCode=([0-9:]+).*/\1 \2 exit \3/' || true)
    if [ -n "$bad" ]; then
        show_logs "$dir"
        fail "$kind: jobs that did not complete with exit 0: $(tr '\n' ';' <<<"$bad")"
    fi
    for ((i = 0; i < n_shards; i++)); do
        grep -q "shard=$i/$n_shards" "$dir/nightly-$i.log" ||
            fail "$kind: shard $i's log does not say shard=$i/$n_shards"
        grep -q "weather_left=$n_weather" "$dir/nightly-$i.log" ||
            fail "$kind: shard $i did not leave the $n_weather weather files in the inbox"
        stored=$(sed -nE 's/.*event=summary .* stored=([0-9]+) .*/\1/p' "$dir/nightly-$i.log")
        per_shard="$per_shard${stored:-0} "
    done
    say "$kind: tiles per shard: $per_shard(of $n_tiles)"
    for c in $per_shard; do
        sum=$((sum + c))
        [ "$c" -eq 0 ] || busy=$((busy + 1))
    done
    [ "$sum" -eq "$n_tiles" ] || fail "$kind: the shards stored $sum tiles, not $n_tiles"
    [ "$busy" -ge 2 ] || fail "$kind: only $busy shard stored tiles: nothing was split"
    # every tile was in the store before the merge job's inbox run, which found them all known
    # and stored none (a shard store left out would go unseen below, that run storing its tiles
    # from the inbox)
    grep -q "event=summary .* tiles_seen=$n_tiles new=0 stored=0 known=$n_tiles .*" \
        "$dir/nightly-merge.log" ||
        fail "$kind: the merge job's inbox run did not find the $n_tiles tiles stored: $(grep \
            event=summary "$dir/nightly-merge.log")"
    grep -q "event=summary .* weather_stored=$n_weather " "$dir/nightly-merge.log" ||
        fail "$kind: the merge job's inbox run did not import the $n_weather weather files"
    [ -z "$(ls -A "$dir/inbox")" ] || fail "$kind: files left in the inbox: $(ls "$dir/inbox")"
    # no tile here is bad, and shards that run together set none aside (docs/operations.md,
    # Sharding)
    if [ -n "$(ls -A "$dir/quarantine" 2>/dev/null)" ]; then
        fail "$kind: set aside: $(ls "$dir/quarantine"); $(cat "$dir/quarantine"/*.reason)"
    fi
}
started=$SECONDS
run_on_slurm "$tmp/run" "SQLite shards" PARUS_PARCELS_DB="$tmp/parcels-only.db" \
    PARUS_SHARD_DB="$tmp/run/shard-%a.db" PARUS_WORK_DIR="$tmp/node" PARUS_DB="$tmp/run/parus.db"
per_shard=$(for ((i = 0; i < n_shards; i++)); do
    sqlite3 "$tmp/run/shard-$i.db" "SELECT count(*) FROM tiles"
done | tr '\n' ' ')
say "SQLite shards: tiles in the shard stores: $per_shard"
[ -z "$(ls -A "$tmp/node")" ] || fail "shard stores left in the work directory: $(ls "$tmp/node")"

# ---- the same inbox, one process ----
cp "$tmp/parcels-only.db" "$tmp/single/parus.db"
"$parus" --db "$tmp/single/parus.db" nightly --inbox "$tmp/single/inbox" \
    --done "$tmp/single/done" --settle 0 --threads 1 --no-assess --log "$tmp/single/nightly.log" ||
    fail "the single run's nightly exited $?"
"$parus" --config "$tmp/parus.ini" --db "$tmp/single/parus.db" -q assess --threads 1 ||
    fail "the single run's assess exited $?"

# ---- every table, row for row ----
# One line per row, every value quote()d (a REAL in full precision, a BLOB in hex), ordered by
# the whole line. Left out or mapped, because the two ways legitimately differ there:
#   - tiles.id: the row number a tile got; tiles are numbered in the order they were stored, which
#     is the shards' order after a merge. Every tile_id elsewhere is replaced by its tile's hash.
#   - tiles.path, weather_files.path: where the file was when stored (each way has its inbox).
#   - tiles.processed_at, weather_files.imported_at, weather_grids.created_at,
#     weather_parcel_grids.computed_at, assessments/parcel_results/limits/assessment_inputs/
#     season_state.assessed_at: when a row was written.
#   - run_id, season_state.assessed_run_id: run numbers; replaced by the run's command.
#   - runs: the rows of `parus nightly` and `store merge` (the single store has one ingest run,
#     the merged one a merge and the weather run; the shards' runs stay in the shard stores), and
#     of every row its id, started_at and ended_at. The template's load runs and the assessment's
#     run (its arguments and summary: tiles, digest, limits) are compared.
# Everything else is compared, the parcels' R-tree and its shadow tables included (both stores
# are copies of one parcels-only store and merge adds no parcel to it), and the schema.
dump_store() { # store -> text
    local db=$1 t c cols expr
    sqlite3 "$db" "PRAGMA user_version; PRAGMA integrity_check;
        SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
    for t in $(sqlite3 "$db" "SELECT name FROM sqlite_master WHERE type = 'table' AND
                              name NOT LIKE 'sqlite_%' ORDER BY name"); do
        cols=""
        for c in $(sqlite3 "$db" "SELECT name FROM pragma_table_info('$t') ORDER BY cid"); do
            case "$t.$c" in
            tiles.id | tiles.path | weather_files.path | runs.id | runs.started_at | runs.ended_at | \
                *.processed_at | *.imported_at | *.created_at | *.computed_at | *.assessed_at)
                continue ;;
            *.run_id | season_state.assessed_run_id)
                expr="(SELECT command FROM runs WHERE id = $t.\"$c\")" ;;
            *.tile_id) expr="(SELECT hash FROM tiles WHERE id = $t.\"$c\")" ;;
            *) expr="quote(\"$c\")" ;;
            esac
            cols="${cols:+$cols || '|' || }$expr"
        done
        echo "$t: table"
        if [ "$t" = runs ]; then
            sqlite3 "$db" "SELECT '$t: ' || $cols AS r FROM runs WHERE command != 'parus nightly'
                           AND NOT (command = 'store' AND args LIKE 'merge %') ORDER BY r"
        else
            sqlite3 "$db" "SELECT '$t: ' || $cols AS r FROM $t ORDER BY r"
        fi
    done
}
dump_store "$tmp/single/parus.db" >"$tmp/single.dump"
dump_store "$tmp/run/parus.db" >"$tmp/run.dump"
if ! diff -U0 "$tmp/single.dump" "$tmp/run.dump" >"$tmp/dump.diff"; then
    say "the store of the Slurm run differs from the single run's (- single, + Slurm):"
    grep '^[-+][^-+]' "$tmp/dump.diff" | cut -c1-200 | sed -n 1,20p >&2
    say "lines that differ, by table:"
    grep '^[-+][^-+]' "$tmp/dump.diff" | sed -E 's/^([-+])([^:]*):.*/\2 \1/' | sort | uniq -c >&2
    fail "$(grep -c '^[-+][^-+]' "$tmp/dump.diff") lines differ"
fi
rows=$(grep -vc ': table$' "$tmp/run.dump")
tables=$(grep -c ': table$' "$tmp/run.dump")
for t in tiles observation_values weather_files weather_values assessments parcel_results limits \
    peer_curves; do
    [ "$(sqlite3 "$tmp/run/parus.db" "SELECT count(*) FROM $t")" -gt 0 ] ||
        fail "table $t is empty: the comparison would prove little"
done

# the comparison sees a difference of 1 CNY in one limit
cp "$tmp/run/parus.db" "$tmp/changed.db"
sqlite3 "$tmp/changed.db" "UPDATE limits SET limit_cny = limit_cny + 1
                           WHERE farmer_id = (SELECT min(farmer_id) FROM limits)"
dump_store "$tmp/changed.db" >"$tmp/changed.dump"
! cmp -s "$tmp/single.dump" "$tmp/changed.dump" ||
    fail "the comparison did not see a limit changed by 1 CNY"

say "ok: $n_shards shards on Slurm, merged and assessed = one process: $tables tables," \
    "$rows lines identical ($((SECONDS - started)) s since submission)"

# ---- the same on one PostgreSQL store that every shard writes at once ----
# The server is CTest's (the pg fixture, PARUS_TEST_PG_DIR; tools/pg-server.sh). The store starts
# as a copy of the parcels-only store (`parus store copy`); the shards write to it together, each
# taking whole tiles; merge-assess.sbatch merges nothing (the shards' store is the store), runs
# the inbox and assesses. The store is copied back into SQLite and compared with the single run
# like the merged one.
if [ -z "${PARUS_TEST_PG_DIR:-}" ] || [ ! -s "$PARUS_TEST_PG_DIR/data/conninfo" ]; then
    if [ "${PARUS_TEST_REQUIRE_PG:-}" = 1 ]; then
        fail "no PostgreSQL server (PARUS_TEST_PG_DIR; PARUS_TEST_REQUIRE_PG=1)"
    fi
    say "the PostgreSQL run is skipped: no server (PARUS_TEST_PG_DIR unset or its server did" \
        "not start; tools/pg-server.sh check says why)"
    exit 0
fi
pg=$("$src/tools/pg-server.sh" db "$PARUS_TEST_PG_DIR/data" parus_slurm) ||
    fail "cannot create a database on the server in '$PARUS_TEST_PG_DIR'"
"$parus" -q store copy "$tmp/parcels-only.db" "$pg" || fail "store copy into PostgreSQL exited $?"
run_on_slurm "$tmp/pgrun" "PostgreSQL" PARUS_SHARD_DB="$pg" PARUS_DB="$pg"
"$parus" -q store copy "$pg" "$tmp/pg-copy.db" || fail "store copy out of PostgreSQL exited $?"
# the R-tree's shadow tables hold its node layout, which follows the order the boxes went in (the
# copy builds the tree anew): they are left out here, the R-tree's rows (parcels_rtree) are not
rtree_layout='^parcels_rtree_(node|rowid|parent): '
dump_store "$tmp/pg-copy.db" | grep -Ev "$rtree_layout" >"$tmp/pg.dump"
if ! diff -U0 <(grep -Ev "$rtree_layout" "$tmp/single.dump") "$tmp/pg.dump" >"$tmp/pg.diff"; then
    say "the PostgreSQL store of the Slurm run differs from the single run's (- single, + PostgreSQL):"
    grep '^[-+][^-+]' "$tmp/pg.diff" | cut -c1-200 | sed -n 1,20p >&2
    say "lines that differ, by table:"
    grep '^[-+][^-+]' "$tmp/pg.diff" | sed -E 's/^([-+])([^:]*):.*/\2 \1/' | sort | uniq -c >&2
    fail "PostgreSQL: $(grep -c '^[-+][^-+]' "$tmp/pg.diff") lines differ"
fi
say "ok: $n_shards shards on Slurm writing one PostgreSQL store at once, assessed = one process:" \
    "$(grep -c ': table$' "$tmp/pg.dump") tables, $(grep -vc ': table$' "$tmp/pg.dump") lines" \
    "identical"

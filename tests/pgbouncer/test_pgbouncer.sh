#!/usr/bin/env bash
# tests/pgbouncer/test_pgbouncer.sh - parus through PgBouncer, against the server directly and
# against SQLite.
#
# A pooler hands a new client a server process that served other clients before it, so what
# they left on it (a SET, a statement prepared under one of parus's names p1, p2, ...) reaches
# the new one. Session pooling with server_reset_query = DISCARD ALL, as tools/pg-server.sh
# pooler and docs/operations.md set it up, must leave nothing. The test starts that PgBouncer in
# a temporary directory in front of CTest's pg fixture server, and:
#   - copies a small assessed store (parus-bench-query's: 60 parcels, 6 tiles, one season) from
#     SQLite into a fresh database through the pooler (a writer through it);
#   - runs `parus query` for parcels and farmers, text and --json, one after another through
#     the pooler (a farmer's view runs statements more than once, so they are prepared on the
#     server), each printing byte for byte the same, with the same exit code, as the same query
#     on the server directly and on the SQLite store (the messages on stderr name the store, and
#     are not compared); a parcel not in the store must exit 6 all three ways;
#   - writes through the pooler after those readers (`parus import series`: a reader's
#     default_transaction_read_only left on the server process would refuse it), then queries
#     again;
#   - checks that one server process served every client (else nothing was pooled and the
#     test proved nothing).
#
# Exit 0 passed, 1 failed, 77 skipped: no server (the pg fixture found no PostgreSQL) or no
# pgbouncer (Debian: pgbouncer; tools/setup.sh installs it); PARUS_TEST_REQUIRE_PGBOUNCER=1
# turns the skips into failures. PgBouncer is stopped and the database dropped however it ends.
#
# Run by CTest (`ctest -R pgbouncer`, label pg), or alone from the source tree with a server
# of tools/pg-server.sh in DIR/data:
#   PARUS_TEST_PG_DIR=DIR PARUS_BIN=build/parus PARUS_BENCH_QUERY=build/parus-bench-query \
#       tests/pgbouncer/test_pgbouncer.sh
set -euo pipefail

src=${PARUS_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
parus=$(realpath "${PARUS_BIN:-$src/build/parus}")
bench=$(realpath "${PARUS_BENCH_QUERY:-$src/build/parus-bench-query}")
pgserver=$src/tools/pg-server.sh
season=2024-03-01/2024-10-26
db=pgbouncer_test_$$

test_name=test_pgbouncer
require_var=PARUS_TEST_REQUIRE_PGBOUNCER
# shellcheck source=../script_support.sh
. "$src/tests/script_support.sh"
failed=0
fail() {
    say "FAILED: $*"
    failed=1
}

server=${PARUS_TEST_PG_DIR:+$PARUS_TEST_PG_DIR/data}
if [ -z "$server" ] || [ ! -f "$server/postmaster.pid" ]; then
    skip "no PostgreSQL server (CTest's pg fixture, PARUS_TEST_PG_DIR; tools/setup.sh installs" \
        "PostgreSQL)"
fi
"$pgserver" pooler-check 2>/dev/null ||
    skip "pgbouncer not installed (Debian: pgbouncer; tools/setup.sh installs it)"
command -v psql >/dev/null || skip "psql not installed (Debian: postgresql-client)"

tmp=$(mktemp -d)
chmod o+x "$tmp" # the pooler runs as the server's user
cleanup() {
    "$pgserver" pooler-stop "$tmp/pgbouncer" || true
    if [ -n "${direct:-}" ]; then
        psql "${direct% dbname=*} dbname=postgres" -qc "DROP DATABASE IF EXISTS \"$db\"" \
            >/dev/null 2>&1 || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

"$bench" "$tmp/store.db" --parcels 60 --tiles 6 --queries 1 --bin "$parus" >"$tmp/fill.log" ||
    { cat "$tmp/fill.log" >&2; fail "parus-bench-query could not fill the store"; exit 1; }
direct=$("$pgserver" db "$server" "$db")
pooled="$("$pgserver" pooler "$server" "$tmp/pgbouncer") dbname=$db"
"$parus" -q store copy "$tmp/store.db" "$pooled" || { fail "store copy through the pooler"; exit 1; }

backend() { psql "$pooled" -Atc "SELECT pg_backend_pid()"; }
first=$(backend)

# the same query three ways, exiting WANT: NAME WANT ARGS...
same() {
    local name=$1 want=$2 rc_lite=0 rc_direct=0 rc_pooled=0
    shift 2
    "$parus" --db "$tmp/store.db" query "$@" >"$tmp/$name.lite" 2>"$tmp/$name.err" || rc_lite=$?
    "$parus" --db "$direct" query "$@" >"$tmp/$name.direct" 2>"$tmp/$name.err" || rc_direct=$?
    "$parus" --db "$pooled" query "$@" >"$tmp/$name.pooled" 2>"$tmp/$name.err" || rc_pooled=$?
    if [ "$rc_lite $rc_direct $rc_pooled" != "$want $want $want" ]; then
        fail "query $*: exit $rc_pooled through the pooler, $rc_direct directly, $rc_lite on" \
            "SQLite; $want wanted"
        cat "$tmp/$name.err" >&2
    elif ! cmp -s "$tmp/$name.pooled" "$tmp/$name.direct"; then
        fail "query $*: the pooler's output differs from the direct one's"
        diff "$tmp/$name.direct" "$tmp/$name.pooled" | head -20 >&2 || true
    elif ! cmp -s "$tmp/$name.pooled" "$tmp/$name.lite"; then
        fail "query $*: PostgreSQL's output differs from SQLite's"
        diff "$tmp/$name.lite" "$tmp/$name.pooled" | head -20 >&2 || true
    fi
}

same p7 0 P0000007 --season "$season"
same p7j 0 P0000007 --season "$season" --json
for round in 1 2; do
    same "f1-$round" 0 --farmer F000001 --season "$season"
    same "f2-$round" 0 --farmer F000002 --season "$season" --json
done
same missing 6 P9999999 --season "$season"
grep -q P0000007 "$tmp/p7.pooled" || fail "the parcel's view does not name it"

# a writer after the readers, on the server process they used
printf 'sample_id,label,date,ndvi\nS1,summer_maize,2024-05-01,0.31\nS1,summer_maize,2024-06-01,0.72\n' \
    >"$tmp/samples.csv"
"$parus" --db "$pooled" -q import series "$tmp/samples.csv" >"$tmp/import.log" 2>&1 ||
    { cat "$tmp/import.log" >&2; fail "a write through the pooler after the readers failed"; }
[ "$(psql "$direct" -Atc "SELECT count(*) FROM samples")" = 1 ] ||
    fail "the write through the pooler did not reach the store"
same p8 0 P0000008 --season "$season"

last=$(backend)
n=$(psql "${direct% dbname=*} dbname=postgres" -Atc \
    "SELECT count(*) FROM pg_stat_activity WHERE datname = '$db'")
if [ "$first" != "$last" ] || [ "$n" != 1 ]; then
    fail "the pooler did not pool: server process $first first, $last last, $n on the database"
fi
[ "$failed" = 0 ] || exit 1
say "passed: parus through PgBouncer (session pooling) as directly and as on SQLite, one server process"

#!/usr/bin/env bash
# tools/pg-server.sh - a throwaway PostgreSQL server for tests and benchmarks: its own data
# directory, its own port, its socket in that directory, nothing of the machine's own cluster
# touched. Debian's server binaries (postgresql-15) and PostGIS (postgresql-15-postgis-3).
#
#   tools/pg-server.sh start DIR [PORT]   initdb DIR (when empty), start the server on PORT
#                                         (default: a random one; the server has no TCP, only
#                                         its socket in DIR), create database "parus" with
#                                         PostGIS; print the libpq connection string (also kept
#                                         in DIR/conninfo)
#   tools/pg-server.sh db DIR NAME [TEMPLATE]
#                                         a fresh database NAME (dropped first) with PostGIS on
#                                         the server of DIR, or a copy of database TEMPLATE (no
#                                         one connected to it); print its connection string
#   tools/pg-server.sh stop DIR           stop it (fast shutdown) and wait
#   tools/pg-server.sh restart DIR        start a stopped server of DIR again, on its port, its
#                                         databases as they were
#   tools/pg-server.sh check              exit 0 when the binaries are here, else 77 with why
#   tools/pg-server.sh pooler DIR PDIR    start PgBouncer (Debian: pgbouncer) in front of the
#                                         server of DIR: session pooling, its config, socket,
#                                         log and pid file in PDIR, its own port (no TCP);
#                                         print its connection string without a dbname (every
#                                         database of the server is reachable through it)
#   tools/pg-server.sh pooler-stop PDIR   stop that PgBouncer and wait
#   tools/pg-server.sh pooler-check       exit 0 when pgbouncer is here, else 77 with why
#   tools/pg-server.sh fixture DIR        for CTest (tests/CMakeLists.txt): a fresh server in
#                                         DIR/data; where PostgreSQL is not installed, say so
#                                         and exit 0 (the suites that need it then skip)
#
# Run as root, the server and PgBouncer run as the "postgres" user (both refuse root) and DIR is given
# to it. Exit codes: 0 done, 77 PostgreSQL, PostGIS or (pooler) PgBouncer not installed, 1 anything
# else.
set -euo pipefail

pg_bin() {
    local d
    for d in /usr/lib/postgresql/*/bin; do
        if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
            echo "$d"
            return 0
        fi
    done
    return 1
}

check() {
    local bin
    if ! bin=$(pg_bin); then
        echo "pg-server: PostgreSQL server binaries not installed (Debian: postgresql)" >&2
        return 77
    fi
    if ! ls "$(dirname "$bin")"/../../../share/postgresql/*/extension/postgis.control \
        >/dev/null 2>&1 && ! ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1; then
        echo "pg-server: PostGIS not installed (Debian: postgresql-15-postgis-3)" >&2
        return 77
    fi
    return 0
}

pooler_bin() {
    local b
    for b in "$(command -v pgbouncer 2>/dev/null || true)" /usr/sbin/pgbouncer; do
        if [ -n "$b" ] && [ -x "$b" ]; then
            echo "$b"
            return 0
        fi
    done
    return 1
}

as_owner() { # run a command as the server's user
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

psql_on() { # DIR PORT DB SQL
    PGOPTIONS='-c client_min_messages=warning' as_owner "$(pg_bin)/psql" -h "$1" -p "$2" -U postgres -d "$3" -v ON_ERROR_STOP=1 -q -c "$4" \
        >/dev/null
}

new_db() { # DIR PORT NAME [TEMPLATE]
    psql_on "$1" "$2" postgres "DROP DATABASE IF EXISTS \"$3\""
    if [ -n "${4:-}" ]; then
        psql_on "$1" "$2" postgres "CREATE DATABASE \"$3\" TEMPLATE \"$4\""
    else
        psql_on "$1" "$2" postgres "CREATE DATABASE \"$3\""
        psql_on "$1" "$2" "$3" "CREATE EXTENSION postgis"
    fi
    echo "host=$1 port=$2 user=postgres dbname=$3"
}

cmd=${1:-}
case "$cmd" in
check)
    check
    ;;
start)
    dir=${2:?usage: pg-server.sh start DIR [PORT]}
    check || exit $?
    bin=$(pg_bin)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ "$(id -u)" -eq 0 ]; then chown postgres "$dir"; fi
    if [ ! -f "$dir/PG_VERSION" ]; then
        as_owner "$bin/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
            >"$dir.initdb.log" 2>&1 || { cat "$dir.initdb.log" >&2; exit 1; }
    fi
    # The server listens on its socket in DIR only (no TCP), so the port only names the socket
    # there; fsync stays on: the crash tests rely on what a commit promises.
    port=${3:-$((20000 + (RANDOM % 30000)))}
    as_owner "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses='' -c max_connections=40" start >/dev/null ||
        { cat "$dir/server.log" >&2; exit 1; }
    new_db "$dir" "$port" parus | tee "$dir/conninfo"
    ;;
fixture)
    dir=${2:?usage: pg-server.sh fixture DIR}
    if [ -f "$dir/data/postmaster.pid" ]; then "$0" stop "$dir/data" || true; fi
    rm -rf "$dir"
    mkdir -p "$dir"
    if ! check; then
        echo "pg-server: the PostgreSQL suites will skip (tools/setup.sh installs it)"
        exit 0
    fi
    "$0" start "$dir/data"
    ;;
db)
    dir=${2:?usage: pg-server.sh db DIR NAME}
    name=${3:?usage: pg-server.sh db DIR NAME [TEMPLATE]}
    dir=$(cd "$dir" && pwd)
    port=$(sed -n 4p "$dir/postmaster.pid" 2>/dev/null || true)
    if [ -z "$port" ]; then
        echo "pg-server: no server running in '$dir'" >&2
        exit 1
    fi
    new_db "$dir" "$port" "$name" "${4:-}"
    ;;
pooler-check)
    if ! pooler_bin >/dev/null; then
        echo "pg-server: PgBouncer not installed (Debian: pgbouncer)" >&2
        exit 77
    fi
    ;;
pooler)
    dir=${2:?usage: pg-server.sh pooler DIR PDIR}
    pdir=${3:?usage: pg-server.sh pooler DIR PDIR}
    "$0" pooler-check || exit $?
    dir=$(cd "$dir" && pwd)
    port=$(sed -n 4p "$dir/postmaster.pid" 2>/dev/null || true)
    if [ -z "$port" ]; then
        echo "pg-server: no server running in '$dir'" >&2
        exit 1
    fi
    mkdir -p "$pdir"
    pdir=$(cd "$pdir" && pwd)
    if [ "$(id -u)" -eq 0 ]; then chown postgres "$pdir"; fi
    pport=$((20000 + (RANDOM % 30000)))
    # Session pooling: a client keeps one server backend from connect to disconnect, so the
    # statements parus prepares on it (PQprepare) stay its own; at the disconnect DISCARD ALL
    # drops them and every SET (default_transaction_read_only of a reader among them) before the
    # backend, its catalog caches warm, goes to the next client. Trust, as the server's own.
    as_owner tee "$pdir/pgbouncer.ini" >/dev/null <<EOF
[databases]
* = host=$dir port=$port

[pgbouncer]
unix_socket_dir = $pdir
listen_port = $pport
auth_type = trust
auth_file = $pdir/userlist.txt
pool_mode = session
server_reset_query = DISCARD ALL
default_pool_size = 20
max_client_conn = 200
logfile = $pdir/pgbouncer.log
pidfile = $pdir/pgbouncer.pid
EOF
    echo '"postgres" ""' | as_owner tee "$pdir/userlist.txt" >/dev/null
    as_owner "$(pooler_bin)" -d -q "$pdir/pgbouncer.ini" ||
        { cat "$pdir/pgbouncer.log" >&2 2>/dev/null; exit 1; }
    for _ in $(seq 100); do
        [ -S "$pdir/.s.PGSQL.$pport" ] && break
        sleep 0.05
    done
    if [ ! -S "$pdir/.s.PGSQL.$pport" ]; then
        echo "pg-server: PgBouncer did not start (its log: $pdir/pgbouncer.log)" >&2
        exit 1
    fi
    echo "host=$pdir port=$pport user=postgres"
    ;;
pooler-stop)
    pdir=${2:?usage: pg-server.sh pooler-stop PDIR}
    pid=$(cat "$pdir/pgbouncer.pid" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null; then
        for _ in $(seq 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.05
        done
    fi
    ;;
restart)
    dir=${2:?usage: pg-server.sh restart DIR}
    dir=$(cd "$dir" && pwd)
    port=$(sed 's/.* port=\([0-9]*\) .*/\1/' "$dir/conninfo")
    as_owner "$(pg_bin)/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses='' -c max_connections=40" start >/dev/null ||
        { cat "$dir/server.log" >&2; exit 1; }
    ;;
stop)
    dir=${2:?usage: pg-server.sh stop DIR}
    bin=$(pg_bin) || exit 0
    if [ -f "$dir/postmaster.pid" ]; then
        as_owner "$bin/pg_ctl" -D "$dir" -m fast -w -t 60 stop >/dev/null
    fi
    ;;
*)
    sed -n '2,31p' "$0" >&2
    exit 1
    ;;
esac

#!/usr/bin/env bash
# tools/pg-server.sh - a throwaway PostgreSQL server for tests and benchmarks: its own data
# directory, its own port, its socket in that directory, nothing of the machine's own cluster
# touched. Debian's server binaries (postgresql-15) and PostGIS (postgresql-15-postgis-3).
#
#   tools/pg-server.sh start DIR [PORT]   initdb DIR (when empty), start the server on PORT
#                                         (default: a free one), create database "parus" with
#                                         PostGIS; print the libpq connection string
#   tools/pg-server.sh stop DIR           stop it (fast shutdown) and wait
#   tools/pg-server.sh check              exit 0 when the binaries are here, else 77 with why
#
# Run as root, the server runs as the "postgres" user (PostgreSQL refuses root) and DIR is given
# to it. Exit codes: 0 done, 77 PostgreSQL or PostGIS not installed, 1 anything else.
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

as_owner() { # run a command as the server's user
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

free_port() {
    python3 - <<'EOF'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
EOF
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
    port=${3:-$(free_port)}
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ "$(id -u)" -eq 0 ]; then chown postgres "$dir"; fi
    if [ ! -f "$dir/PG_VERSION" ]; then
        as_owner "$bin/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
            >"$dir.initdb.log" 2>&1 || { cat "$dir.initdb.log" >&2; exit 1; }
    fi
    # fsync stays on: the crash tests rely on what a commit promises
    as_owner "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses='' -c max_connections=40" start >/dev/null ||
        { cat "$dir/server.log" >&2; exit 1; }
    as_owner "$bin/psql" -h "$dir" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -q \
        -c "CREATE DATABASE parus" >/dev/null
    as_owner "$bin/psql" -h "$dir" -p "$port" -U postgres -d parus -v ON_ERROR_STOP=1 -q \
        -c "CREATE EXTENSION postgis" >/dev/null
    echo "host=$dir port=$port user=postgres dbname=parus"
    ;;
stop)
    dir=${2:?usage: pg-server.sh stop DIR}
    bin=$(pg_bin) || exit 0
    if [ -f "$dir/postmaster.pid" ]; then
        as_owner "$bin/pg_ctl" -D "$dir" -m fast -w -t 60 stop >/dev/null
    fi
    ;;
*)
    sed -n '2,14p' "$0" >&2
    exit 1
    ;;
esac

#!/usr/bin/env bash
#
# fault_server.sh -- a private PostgreSQL or MariaDB server that a test may
# stop and start again, apart from the shared ones of scripts/test-servers.
#
#   fault_server.sh pg|mysql DIR init     create DIR, start; prints the URL
#   fault_server.sh pg|mysql DIR stop     stop at once (no shutdown: as if
#                                         the machine lost power)
#   fault_server.sh pg|mysql DIR start    start it again (if it is down)
#   fault_server.sh pg|mysql DIR destroy  stop it and remove DIR
#
# DIR must be short (Unix socket paths are limited to about 100 bytes).
# As root, PostgreSQL runs as `postgres`, as in scripts/test-servers.

set -euo pipefail
kind=$1 dir=$2 action=$3

die() {
  echo "fault_server: $*" >&2
  exit 1
}

pg_bindir() {
  local d
  if [ -n "${PG_BINDIR:-}" ]; then echo "$PG_BINDIR"; return; fi
  if command -v initdb >/dev/null 2>&1; then
    dirname "$(readlink -f "$(command -v initdb)")"
    return
  fi
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/initdb" ]; then echo "$d"; return; fi
  done
  die "initdb not found; set PG_BINDIR"
}

as_pg=()
myuser=()
if [ "$(id -u)" = 0 ]; then
  as_pg=(runuser -u postgres --)
  myuser=(--user=root)
fi

pg() {
  local bin
  bin=$(pg_bindir)
  case $action in
  init)
    mkdir -p "$dir"
    [ ${#as_pg[@]} -eq 0 ] || chown postgres: "$dir"
    "${as_pg[@]}" "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 \
      --locale=C --no-sync --no-instructions >"$dir/initdb.log" 2>&1 ||
      die "initdb failed: $(tail -5 "$dir/initdb.log")"
    cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$dir'
CONF
    action=start pg
    "$bin/psql" -X -q -h "$dir" -U postgres -d postgres \
      -c "CREATE DATABASE retort_fault" >>"$dir/log" 2>&1 ||
      die "CREATE DATABASE failed"
    echo "postgresql://postgres@/retort_fault?host=$dir"
    ;;
  start)
    # a running server is left as it is
    "${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1 && return
    "${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -s -t 30 \
      start >/dev/null 2>&1 || die "PostgreSQL did not start: $(tail -5 "$dir/log")"
    ;;
  stop)
    "${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate -s -w stop \
      >/dev/null 2>&1 || die "PostgreSQL did not stop"
    ;;
  destroy)
    [ ! -f "$dir/data/postmaster.pid" ] ||
      "${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate -s stop \
        >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *) die "unknown action $action" ;;
  esac
}

my_ping() {
  mariadb-admin --no-defaults -uroot --socket="$dir/my.sock" \
    --connect-timeout=1 ping >/dev/null 2>&1
}

my_start() {
  local mariadbd
  mariadbd=$(command -v mariadbd 2>/dev/null || echo /usr/sbin/mariadbd)
  "$mariadbd" --no-defaults "${myuser[@]}" --datadir="$dir/data" \
    --socket="$dir/my.sock" --skip-networking --pid-file="$dir/my.pid" \
    --log-error="$dir/mariadb.log" --skip-log-bin --character-set-server=utf8mb4 \
    --collation-server=utf8mb4_unicode_ci --innodb-buffer-pool-size=16M \
    </dev/null >/dev/null 2>&1 &
  echo $! >"$dir/my.started"
  for _ in $(seq 1 300); do
    my_ping && return 0
    kill -0 "$(cat "$dir/my.started")" 2>/dev/null ||
      die "MariaDB did not start: $(tail -5 "$dir/mariadb.log")"
    sleep 0.1
  done
  die "MariaDB did not answer"
}

my_stop() {
  local pid
  [ -f "$dir/my.started" ] || return 0
  pid=$(cat "$dir/my.started")
  kill -KILL "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  rm -f "$dir/my.started" "$dir/my.sock"
}

mysql() {
  case $action in
  init)
    mkdir -p "$dir"
    mariadb-install-db --no-defaults "${myuser[@]}" --datadir="$dir/data" \
      --auth-root-authentication-method=normal --skip-test-db \
      >"$dir/install.log" 2>&1 ||
      die "mariadb-install-db failed: $(tail -5 "$dir/install.log")"
    my_start
    mariadb --no-defaults -uroot --socket="$dir/my.sock" \
      -e "CREATE DATABASE retort_fault CHARACTER SET utf8mb4" ||
      die "CREATE DATABASE failed"
    echo "mysql://root@localhost/retort_fault?unix_socket=$dir/my.sock"
    ;;
  start) my_ping || my_start ;;
  stop) my_stop ;;
  destroy)
    my_stop
    rm -rf "$dir"
    ;;
  *) die "unknown action $action" ;;
  esac
}

case $kind in
pg) pg ;;
mysql) mysql ;;
*) die "unknown kind $kind (pg or mysql)" ;;
esac

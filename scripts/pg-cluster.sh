#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests.
#
#   scripts/pg-cluster.sh start   -> prints postgres://postgres@127.0.0.1:PORT/portcullis_test on stdout
#   scripts/pg-cluster.sh stop    -> stops the cluster and removes its data dir
#   scripts/pg-cluster.sh status  -> prints the URL and exits 0 if the recorded cluster runs, else exits 1
#
# Everything but the URL goes to stderr. The cluster lives in a fresh temp dir, listens on
# 127.0.0.1 only (plus a unix socket inside that dir), with trust auth and fsync off: it is for
# tests only. Its data dir, port and URL are recorded in $PG_STATE_FILE
# (default: ${TMPDIR:-/tmp}/portcullis-pg.state) so that `stop` finds it.
#
# initdb refuses to run as root, so as root the server runs as the `postgres` system user
# (created if missing). As any other user it runs as that user.
#
# Env: PG_STATE_FILE, PG_TMPDIR (where the cluster's temp dir goes; default /tmp), PG_BINDIR (default: newest /usr/lib/postgresql/*/bin, else pg_config --bindir),
#      PG_DATABASE (default portcullis_test).
set -euo pipefail

state_file=${PG_STATE_FILE:-${TMPDIR:-/tmp}/portcullis-pg.state}
database=${PG_DATABASE:-portcullis_test}

log() { echo "pg-cluster: $*" >&2; }
die() { log "$*"; exit 1; }

find_bindir() {
  if [ -n "${PG_BINDIR:-}" ]; then echo "$PG_BINDIR"; return; fi
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$d" ] && [ -x "$d/initdb" ]; then echo "$d"; return; fi
  if command -v pg_config >/dev/null 2>&1; then
    d=$(pg_config --bindir)
    if [ -x "$d/initdb" ]; then echo "$d"; return; fi
  fi
  if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; return; fi
  die "no PostgreSQL server binaries found (install Debian's postgresql, or set PG_BINDIR)"
}

# Run a command as the cluster's owner: `postgres` when we are root, ourselves otherwise.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    # from / so that a cwd the postgres user cannot read does not trouble initdb or pg_ctl
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

ensure_postgres_user() {
  [ "$(id -u)" -eq 0 ] || return 0
  id postgres >/dev/null 2>&1 && return 0
  log "creating system user postgres"
  useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin postgres
}

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# Reads the state file into DIR (the temp dir; the cluster is DIR/data), PORT and URL.
# Returns 1 if there is none.
read_state() {
  [ -f "$state_file" ] || return 1
  DIR= PORT= URL=
  # shellcheck disable=SC1090
  . "$state_file"
  [ -n "$DIR" ]
}

write_state() { printf 'DIR=%q\nPORT=%q\nURL=%q\n' "$1" "$2" "$3" >"$state_file"; }

# A postmaster process exists for the recorded cluster (possibly a dying one).
has_process() {
  [ -f "$DIR/data/PG_VERSION" ] && as_owner "$bindir/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1
}

# The recorded cluster runs and answers.
is_running() {
  has_process && [ -n "$PORT" ] && "$bindir/pg_isready" -q -t 2 -h 127.0.0.1 -p "$PORT" -U postgres
}

do_stop() {
  if ! read_state; then
    log "no cluster recorded in $state_file; nothing to stop"
    return 0
  fi
  if is_running; then
    log "stopping cluster in $DIR (port $PORT)"
    as_owner "$bindir/pg_ctl" -D "$DIR/data" -m fast -w -t 30 stop >&2 || {
      log "fast stop failed; trying immediate"
      as_owner "$bindir/pg_ctl" -D "$DIR/data" -m immediate -w -t 10 stop >&2 || true
    }
  elif has_process; then
    log "cluster in $DIR does not answer; stopping it at once"
    as_owner "$bindir/pg_ctl" -D "$DIR/data" -m immediate -w -t 10 stop >&2 || true
  fi
  case "$DIR" in
    */portcullis-pg.*) rm -rf -- "$DIR" ;;
    *) log "not removing unexpected dir '$DIR'" ;;
  esac
  rm -f -- "$state_file"
}

do_start() {
  if read_state; then
    if is_running; then
      log "reusing running cluster in $DIR (port $PORT)"
      echo "$URL"
      return 0
    fi
    log "stale state file $state_file; cleaning up"
    do_stop
  fi

  ensure_postgres_user
  local dir port url
  # Under /tmp (not $TMPDIR) by default: the postgres user must be able to reach it, and the
  # unix socket path inside it must stay short.
  dir=$(mktemp -d "${PG_TMPDIR:-/tmp}/portcullis-pg.XXXXXX")
  chmod 700 "$dir"
  if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$dir"; fi
  mkdir -p "$(dirname "$state_file")"
  # Record the dir at once so that `stop` cleans up even if the start fails halfway.
  write_state "$dir" "" ""

  log "initdb in $dir"
  as_owner "$bindir/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 \
    || as_owner "$bindir/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; die "initdb failed"; }

  local try
  for try in 1 2 3; do
    port=$(free_port)
    log "starting server on 127.0.0.1:$port"
    if as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
        start >&2; then
      break
    fi
    tail -n 20 "$dir/server.log" >&2 || true
    port=
  done
  [ -n "$port" ] || { do_stop; die "server would not start"; }
  url="postgres://postgres@127.0.0.1:$port/$database"
  write_state "$dir" "$port" "$url"

  local i
  for i in $(seq 1 60); do
    "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres && break
    sleep 0.5
  done
  "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres || { do_stop; die "server not ready after 30 s"; }

  "$bindir/psql" -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres \
    -c "CREATE DATABASE \"$database\"" >&2 || { do_stop; die "could not create database $database"; }
  log "ready: $url"
  echo "$url"
}

bindir=$(find_bindir)
case "${1:-}" in
  start) do_start ;;
  stop) do_stop ;;
  status)
    if read_state && is_running; then echo "$URL"; else exit 1; fi
    ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac

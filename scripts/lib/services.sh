# Shared by scripts/test and scripts/demo: install what Bosun needs and run throwaway
# PostgreSQL and Redis servers on free loopback ports. Source it; call bosun_stop_services on exit.

BOSUN_APT_PACKAGES=(libpq-dev libhiredis-dev libcurl4-openssl-dev libseccomp-dev postgresql redis-server python3 curl)

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

bosun_install_dependencies() {
  local missing=()
  for package in "${BOSUN_APT_PACKAGES[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  command -v swift >/dev/null || { echo "swift is not on PATH; install the Swift toolchain first" >&2; exit 1; }
  # Test peers and demo tools nobody here wrote: real MCP servers, the MCP Python SDK, and
  # regopy (a real Rego evaluator behind the OPA-compatible test server).
  if ! python3 -c 'import mcp, mcp_server_time, mcp_server_git, regopy' >/dev/null 2>&1; then
    say "installing Python packages: mcp mcp-server-time mcp-server-git regopy"
    python3 -m pip install --quiet --disable-pip-version-check mcp mcp-server-time mcp-server-git regopy
  fi
}

bosun_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Runs a command as the owner of the PostgreSQL data directory (PostgreSQL refuses to run as root).
bosun_as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

bosun_start_services() {
  BOSUN_RUN_DIR=${BOSUN_RUN_DIR:-$(mktemp -d /tmp/bosun-run.XXXXXX)}
  chmod 755 "$BOSUN_RUN_DIR"
  local pgbin
  pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  [ -x "$pgbin/initdb" ] || { echo "PostgreSQL server binaries not found under /usr/lib/postgresql" >&2; exit 1; }
  BOSUN_PG_BIN=$pgbin
  BOSUN_PG_PORT=$(bosun_free_port)
  BOSUN_PG_DATA="$BOSUN_RUN_DIR/pgdata"
  mkdir -p "$BOSUN_PG_DATA"
  [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$BOSUN_PG_DATA"
  say "starting a throwaway PostgreSQL on 127.0.0.1:$BOSUN_PG_PORT"
  bosun_as_pg "$pgbin/initdb" -D "$BOSUN_PG_DATA" -U bosun -A trust --no-instructions >"$BOSUN_RUN_DIR/initdb.log" 2>&1 \
    || { cat "$BOSUN_RUN_DIR/initdb.log" >&2; exit 1; }
  bosun_as_pg "$pgbin/pg_ctl" -D "$BOSUN_PG_DATA" -l "$BOSUN_PG_DATA/server.log" -w -t 60 \
    -o "-p $BOSUN_PG_PORT -k $BOSUN_PG_DATA -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
    start >/dev/null || { cat "$BOSUN_PG_DATA/server.log" >&2; exit 1; }
  "$pgbin/createdb" -h 127.0.0.1 -p "$BOSUN_PG_PORT" -U bosun bosun
  BOSUN_DATABASE_URL="postgres://bosun@127.0.0.1:$BOSUN_PG_PORT/bosun"

  BOSUN_REDIS_PORT=$(bosun_free_port)
  say "starting a throwaway Redis on 127.0.0.1:$BOSUN_REDIS_PORT"
  redis-server --port "$BOSUN_REDIS_PORT" --bind 127.0.0.1 --daemonize yes --save "" --appendonly no \
    --dir "$BOSUN_RUN_DIR" --pidfile "$BOSUN_RUN_DIR/redis.pid" --logfile "$BOSUN_RUN_DIR/redis.log"
  for _ in $(seq 1 50); do
    redis-cli -p "$BOSUN_REDIS_PORT" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  redis-cli -p "$BOSUN_REDIS_PORT" ping >/dev/null || { cat "$BOSUN_RUN_DIR/redis.log" >&2; exit 1; }
  BOSUN_REDIS_URL="redis://127.0.0.1:$BOSUN_REDIS_PORT"
  export BOSUN_RUN_DIR BOSUN_PG_BIN BOSUN_PG_PORT BOSUN_PG_DATA BOSUN_DATABASE_URL BOSUN_REDIS_PORT BOSUN_REDIS_URL
}

bosun_stop_services() {
  if [ -n "${BOSUN_REDIS_PORT:-}" ]; then
    redis-cli -p "$BOSUN_REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  fi
  if [ -n "${BOSUN_PG_DATA:-}" ] && [ -d "$BOSUN_PG_DATA" ]; then
    bosun_as_pg "$BOSUN_PG_BIN/pg_ctl" -D "$BOSUN_PG_DATA" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  if [ -n "${BOSUN_RUN_DIR:-}" ] && [ -z "${BOSUN_KEEP_RUN_DIR:-}" ]; then
    rm -rf "$BOSUN_RUN_DIR"
  fi
}

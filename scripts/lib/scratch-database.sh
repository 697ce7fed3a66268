# Sourced by the benchmark scripts: `scratch_database NAME` makes a scratch PLEAT_HOME under /tmp with a
# private PostgreSQL of its own, started (never the user's database: DATABASE_URL and PLEAT_DATABASE_URL
# are unset), and sets $work to it. On exit the database stops, and it and the directory go unless
# KEEP_SCRATCH=1. Needs $pleat (the binary to start it with). Stopped by a signal (`kill PID`, which
# reaches the script and not the command it waits on), the script ends that command first: else a
# training run goes on writing into the directory just removed.
scratch_database() {
  work=$(mktemp -d "/tmp/pleat-$1-XXXXXX")
  # mktemp makes it 0700; the directory must be traversable for the server when it runs as another user.
  chmod 755 "$work"
  export PLEAT_HOME=$work
  unset DATABASE_URL PLEAT_DATABASE_URL
  # On exit the cluster is stopped, and removed with its data (which, as root, lives under the postgres
  # user's home rather than in $work). Both ignore any database URL the caller exported since
  # (bench-quality.sh points PLEAT_DATABASE_URL at one database per data set): with one set, `pleat db`
  # leaves the local cluster alone, and the server would outlive the script.
  trap 'scratch_database_end_children
        if [ "${KEEP_SCRATCH:-0}" = 1 ]; then env -u PLEAT_DATABASE_URL -u DATABASE_URL $pleat db stop >/dev/null 2>&1 || true
        else env -u PLEAT_DATABASE_URL -u DATABASE_URL $pleat db remove --yes >/dev/null 2>&1 || true; rm -rf "$work"; fi' EXIT
  $pleat db start >/dev/null
}

# Terminates the commands this shell still runs (none on a normal exit) and waits up to 10 s for them.
scratch_database_end_children() {
  pkill -TERM -P "$BASHPID" 2>/dev/null || return 0
  for _ in $(seq 50); do pgrep -P "$BASHPID" >/dev/null || return 0; sleep 0.2; done
  pkill -KILL -P "$BASHPID" 2>/dev/null || true
}

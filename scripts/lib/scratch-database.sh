# Sourced by the benchmark scripts: `scratch_database NAME` makes a scratch PLEAT_HOME under /tmp with a
# private PostgreSQL of its own, started (never the user's database: DATABASE_URL and PLEAT_DATABASE_URL
# are unset), and sets $work to it. On exit the database stops and the directory goes, unless
# KEEP_SCRATCH=1. Needs $pleat (the binary to start it with).
scratch_database() {
  work=$(mktemp -d "/tmp/pleat-$1-XXXXXX")
  # mktemp makes it 0700; the directory must be traversable for the server when it runs as another user.
  chmod 755 "$work"
  export PLEAT_HOME=$work
  unset DATABASE_URL PLEAT_DATABASE_URL
  trap '$pleat db stop >/dev/null 2>&1 || true; [ "${KEEP_SCRATCH:-0}" = 1 ] || rm -rf "$work"' EXIT
  $pleat db start >/dev/null
}

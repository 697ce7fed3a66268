# Sourced by the benchmark scripts: `bench_start NAME` makes the run directory $out (default
# .build/NAME/DATE-TIME; made absolute), sets the project up, builds the release binary ($pleat) and starts
# a scratch database of its own (scratch-database.sh: $work, removed at exit), whose URL is $url.
bench_start() {
  out=${out:-.build/$1/$(date +%Y%m%d-%H%M%S)}
  mkdir -p "$out"
  out=$(readlink -f "$out")
  scripts/setup.sh
  scripts/build-release.sh >/dev/null
  pleat=$PWD/.build/release/pleat
  source scripts/lib/scratch-database.sh
  scratch_database "$1"
  url=$($pleat db url)
}

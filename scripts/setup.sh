#!/usr/bin/env bash
# Installs the Debian packages Pleat needs; does nothing when they are all present.
set -euo pipefail

# libopenblas0-pthread: Pleat loads OpenBLAS at run time (no headers needed); zlib1g-dev, libzstd-dev:
# ingest reads .gz and .zst; openmpi-bin: mpirun and libmpi (loaded at run time) for data-parallel training.
# For the tests: qemu-user (an older CPU gets a message instead of SIGILL),
# zstd (compressed inputs), time (peak memory of a child process).
packages=(libpq-dev libsqlite3-dev libopenblas0-pthread zlib1g-dev libzstd-dev openmpi-bin postgresql postgresql-client pkg-config
          qemu-user zstd time procps)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Python's safetensors reads Pleat checkpoints in an interoperability test.
python3 -c "import safetensors.numpy" 2>/dev/null ||
  python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore safetensors numpy >/dev/null 2>&1 ||
  echo "setup: could not install python safetensors; its interoperability test will be skipped"

command -v swift >/dev/null || { echo "setup: the Swift toolchain (6.x) is not on PATH" >&2; exit 1; }
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { echo "setup: PostgreSQL server binaries missing" >&2; exit 1; }

#!/usr/bin/env bash
# Installs the Debian packages matchsync needs. Idempotent and quiet; fast
# when everything is already there.
#   scripts/setup.sh --run   what building and running `matchsync` need (run.sh)
#   scripts/setup.sh         that plus what the tests need (test.sh, CI):
#                            Boost.Test, clang for the fuzzers and sanitizers,
#                            chromium and npm for the browser tests, dpkg-dev,
#                            systemd and debootstrap for the package tests.
set -euo pipefail

set_name=all
case "${1:-}" in
  --run) set_name=run ;;
  ""|--test) ;;
  *) echo "usage: setup.sh [--run|--test]" >&2; exit 2 ;;
esac

# Building and running: the compiler, the libraries the binary links, and
# PostgreSQL for the embedded cluster of scripts/pg.sh.
packages=(
  build-essential cmake pkg-config git
  libcaf-dev libcpp-httplib-dev libpqxx-dev nlohmann-json3-dev
  libssl-dev prometheus-cpp-dev libsystemd-dev
  postgresql
  curl procps
)
if [[ $set_name == all ]]; then
  packages+=(
    libboost-test-dev postgresql-contrib
    clang libclang-rt-14-dev
    # The package test: dpkg-shlibdeps (dpkg-dev) for CPack's dependencies,
    # systemd-analyze for the units, iproute2's ss for the cluster test,
    # debootstrap for the fresh Debian root the .deb is installed into.
    dpkg-dev file systemd iproute2 debootstrap
  )
  # Browser tests: Debian's chromium driven by playwright-core from npm.
  if [[ "${MATCHSYNC_SKIP_BROWSER:-0}" != 1 ]]; then
    packages+=(chromium nodejs npm)
  fi
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# node/npm may come from elsewhere than Debian (a preinstalled toolchain).
if command -v node >/dev/null && command -v npm >/dev/null; then
  filtered=()
  for p in "${missing[@]}"; do
    [[ "$p" == nodejs || "$p" == npm ]] || filtered+=("$p")
  done
  missing=("${filtered[@]}")
fi

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "setup: packages ready ($set_name)"

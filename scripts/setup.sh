#!/usr/bin/env bash
# Installs every Debian package matchsync needs to build, run and test.
# Idempotent and quiet; fast when everything is already there.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  libcaf-dev libcpp-httplib-dev libpqxx-dev nlohmann-json3-dev
  libboost-test-dev libssl-dev prometheus-cpp-dev
  postgresql postgresql-contrib
  curl procps
  clang libclang-rt-14-dev
)
# Browser tests: Debian's chromium driven by playwright-core from npm.
if [[ "${MATCHSYNC_SKIP_BROWSER:-0}" != 1 ]]; then
  packages+=(chromium nodejs npm)
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
echo "setup: packages ready"

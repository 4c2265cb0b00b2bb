# Sourced by the browser tests' scripts: checks node (20 or newer) and
# chromium and installs playwright-core (npm ci) when it is missing; never
# downloads a browser. Expects `here` (this folder), `chromium` and `die`.
[[ -x "$chromium" ]] || die "no browser at $chromium: install it with scripts/setup.sh (apt-get install -y chromium) or set MATCHSYNC_CHROMIUM"
command -v node >/dev/null || die "node is missing: install it with scripts/setup.sh (apt-get install -y nodejs npm)"
node_major=$(node -p 'process.versions.node.split(".")[0]')
(( node_major >= 20 )) || die "node $(node --version) is too old: 20 or newer is needed"
if [[ ! -f "$here/node_modules/playwright-core/package.json" ]]; then
  command -v npm >/dev/null || die "npm is missing: install it with scripts/setup.sh"
  echo "browser tests: installing playwright-core (npm ci) in $here"
  # Two ctest entries may ask at once: one installs, the other waits.
  (cd "$here" && flock "${TMPDIR:-/tmp}/matchsync-npm-ci.lock" sh -c \
    '[ -f node_modules/playwright-core/package.json ] || PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund')
fi

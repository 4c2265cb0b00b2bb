# Sourced by the scripts that keep a built or fetched thing in the cache
# outside the clone (caf-tsan.sh, httplib-tsan.sh): one folder per key,
# marked complete last, so an interrupted run is never reused.

# reuse_or_lock PREFIX: when PREFIX is complete, prints it and ends the
# calling script. Otherwise takes PREFIX's lock for the rest of the script
# (two worktrees or two CI jobs asking at once: one makes it, the other
# waits) and looks again, since the other may have just finished it.
reuse_or_lock() {
  local prefix=$1
  if [[ -f "$prefix/.complete" ]]; then
    echo "$prefix"
    exit 0
  fi
  mkdir -p "$(dirname "$prefix")"
  exec 9>"$prefix.lock"
  flock 9
  if [[ -f "$prefix/.complete" ]]; then
    echo "$prefix"
    exit 0
  fi
}

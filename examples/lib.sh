# Shared by the recipes: find our binaries and report steps.
#
# Our tools are looked up in $NSUTILS_BIN_DIR (e.g. target/release of a checkout), else next to
# this repository's target/release or target/debug, else in PATH. Never rely on PATH alone for
# nsenter: util-linux ships a binary of the same name.

_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -z "${NSUTILS_BIN_DIR:-}" ]; then
  for d in "$_here/../target/release" "$_here/../target/debug"; do
    if [ -x "$d/nsrun" ]; then NSUTILS_BIN_DIR=$(cd "$d" && pwd); break; fi
  done
fi
tool() {
  if [ -n "${NSUTILS_BIN_DIR:-}" ]; then echo "$NSUTILS_BIN_DIR/$1"; else command -v "$1"; fi
}
NSRUN=$(tool nsrun)
NSENTER=$(tool nsenter)
NSLS=$(tool nsls)

step() { printf '\n== %s\n' "$*"; }
ok() { printf 'ok: %s\n' "$*"; }
die() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

# Wait up to 10 s for a condition (a command) to become true.
wait_for() {
  local i
  for i in $(seq 100); do
    if "$@"; then return 0; fi
    sleep 0.1
  done
  die "timed out waiting for: $*"
}

# The inode of /proc/PID/ns/KIND.
ns_ino() { stat -L -c %i "/proc/$1/ns/$2"; }

# A python3 program that fetches the URL given as its argument and prints the page, retrying
# for up to 10 s while the server starts. Run it inside the namespace that should reach the
# server: `ip netns exec NS python3 -c "$FETCH_PY" URL`, or through nsenter.
FETCH_PY='import sys, time, urllib.request
for _ in range(100):
    try:
        print(urllib.request.urlopen(sys.argv[1], timeout=2).read().decode().strip()); sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(1)'

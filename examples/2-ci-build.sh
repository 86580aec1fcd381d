#!/usr/bin/env bash
# Recipe 2 — a throwaway CI build environment (rootless: run as an ordinary user).
#
# The build runs in new user, mount, PID, network (only lo), UTS and IPC namespaces under an
# init, with a private tmpfs on /tmp and a time limit. It compiles and tests a small C
# program. Afterwards the host has no leftover process and no file in /tmp; a build that
# hangs is killed at the timeout, with exit code 124 and nothing left behind.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" != 0 ] || echo "note: running as root; this recipe is meant for an ordinary user"
MARK=nsutils-ci-$$

build_script='set -eu
mount -t tmpfs -o size=64m tmpfs /tmp         # private /tmp: the host never sees it
mkdir /tmp/'"$MARK"'-build && cd /tmp/'"$MARK"'-build
cat > hello.c <<C
#include <stdio.h>
int add(int a, int b) { return a + b; }
int main(void) { if (add(2, 2) != 4) return 1; printf("tests passed\\n"); return 0; }
C
cc -o hello hello.c
./hello
echo "pid=$$ net=$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " " | tr "\n" " ")"
touch /tmp/'"$MARK"'-artefact'

step "build and test inside the sandbox"
out=$("$NSRUN" --user --map-root-user --mount --pid --net --uts --ipc --init \
        --mount-proc --hostname=ci --timeout=120s -- sh -c "$build_script")
echo "$out"
grep -q "tests passed" <<<"$out" || die "the build's tests did not pass"
grep -q "net=lo $" <<<"$out" || die "the sandbox sees network devices other than lo"
ok "built and tested; only lo inside"

step "the host sees no leftovers"
# Everything the build wrote to /tmp is named after $MARK (other programs may use the host's
# /tmp meanwhile, so look for those names rather than compare listings).
! compgen -G "/tmp/$MARK-*" >/dev/null || die "the build's files appeared in the host's /tmp"
! pgrep -f "$MARK" >/dev/null || die "a build process outlived the sandbox"
ok "no new file in /tmp, no process left"

step "a hanging build is killed at the timeout with exit code 124"
# Unique durations let pgrep find any survivor by its command line.
HANG_A=$((1000000 + $$)); HANG_B=$((2000000 + $$))
set +e
"$NSRUN" --user --map-root-user --mount --pid --net --init --mount-proc --timeout=1s -- \
  sh -c "sleep $HANG_A & exec sleep $HANG_B"
rc=$?
set -e
[ "$rc" = 124 ] || die "expected exit 124 after the timeout, got $rc"
wait_for sh -c "! pgrep -f 'sleep ($HANG_A|$HANG_B)' >/dev/null"
ok "exit 124, the whole PID namespace is gone"
echo; echo "recipe 2 passed"

#!/usr/bin/env bash
# Recipe 3 — several versions of one daemon, side by side (run as root).
#
# Two instances of the same server both bind 127.0.0.1:8080 — possible because each runs in a
# network namespace of its own, whose loopback nsrun brings up. Each namespace is persisted
# under /run/netns, and `nsenter --netns=NAME` reaches exactly one instance.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  set +e
  # --forward-signals passes SIGTERM on to the init, which stops the server; SIGKILL is
  # the fallback should it not stop within 5 s.
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do
    timeout 5 tail --pid="$p" -f /dev/null 2>/dev/null || kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  for v in 1 2; do ip netns del "nsu-v$v-$$" 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT

for v in 1 2; do
  step "start version $v on 127.0.0.1:8080 in netns nsu-v$v-$$"
  mkdir -p "$WORK/v$v" && echo "version $v" > "$WORK/v$v/index.html"
  "$NSRUN" --netns="nsu-v$v-$$" --pid --init --forward-signals -- \
    python3 -m http.server 8080 --bind 127.0.0.1 --directory "$WORK/v$v" \
    >"$WORK/v$v.log" 2>&1 &
  PIDS+=($!)
done

for v in 1 2; do
  wait_for test -e "/run/netns/nsu-v$v-$$"
  step "nsenter --netns=nsu-v$v-$$ reaches its own instance"
  got=$("$NSENTER" --netns="nsu-v$v-$$" python3 -c "$FETCH_PY" http://127.0.0.1:8080/) || die "no answer from version $v"
  [ "$got" = "version $v" ] || die "netns nsu-v$v-$$ answered '$got'"
  ok "netns nsu-v$v-$$ answers: $got"
done

step "kernel facts: two distinct network namespaces, both instances alive at once"
a=$(stat -L -c %i "/run/netns/nsu-v1-$$"); b=$(stat -L -c %i "/run/netns/nsu-v2-$$")
[ "$a" != "$b" ] || die "both instances share a network namespace"
[ "$a" != "$(ns_ino $$ net)" ] && [ "$b" != "$(ns_ino $$ net)" ] || die "an instance is in the host's namespace"
for p in "${PIDS[@]}"; do kill -0 "$p" || die "instance $p is not running"; done
ok "net namespaces $a and $b; both running"
echo; echo "recipe 3 passed"

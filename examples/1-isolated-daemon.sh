#!/usr/bin/env bash
# Recipe 1 — an isolated daemon (run as root).
#
# A small HTTP server runs in its own network, PID, mount, UTS and IPC namespaces, under an
# init that reaps and forwards signals. Its network namespace is persisted as
# /run/netns/$WEB, so plain `ip` can hand it one end of a veth pair; the other end goes to a
# client namespace this script also creates. A break-in into the server sees no host
# network, no host processes and its own hostname. All addresses are link-local
# (169.254.0.0/16) on a veth between two namespaces this script made: nothing leaves them.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

WEB=nsu-web-$$          # netns name of the daemon (persisted by nsrun --netns=NAME)
CLI=nsu-cli-$$          # netns name of the client (made by ip netns add)
WORK=$(mktemp -d)
PIDFILE=$WORK/daemon.pid

cleanup() {
  set +e
  [ -s "$PIDFILE" ] && kill -KILL "$(cat "$PIDFILE")" 2>/dev/null
  [ -n "${NSRUN_PID:-}" ] && wait "$NSRUN_PID" 2>/dev/null
  ip netns del "$CLI" 2>/dev/null
  ip netns del "$WEB" 2>/dev/null   # also unmounts and removes what nsrun --netns=NAME made
  rm -rf "$WORK"
}
trap cleanup EXIT

step "start the daemon in new net, pid, mount, uts and ipc namespaces"
mkdir -p "$WORK/site" && echo "hello from the isolated daemon" > "$WORK/site/index.html"
"$NSRUN" --netns="$WEB" --pid --mount --uts --ipc --init --mount-proc \
  --hostname=web --pid-file="$PIDFILE" -- \
  python3 -m http.server 8080 --bind 0.0.0.0 --directory "$WORK/site" \
  >"$WORK/daemon.log" 2>&1 &
NSRUN_PID=$!
wait_for test -s "$PIDFILE"
INIT=$(cat "$PIDFILE")
wait_for test -e "/proc/$INIT/task/$INIT/children"
ok "daemon's init is host PID $INIT; its namespace is /run/netns/$WEB"

step "kernel facts: the daemon's namespaces are not the host's"
for k in net pid mnt uts ipc; do
  [ "$(ns_ino "$INIT" "$k")" != "$(ns_ino $$ "$k")" ] || die "$k namespace is the host's"
done
[ "$(ns_ino "$INIT" pid_for_children)" != "$(ns_ino $$ pid)" ] || die "pid namespace shared"
[ "$(stat -L -c %i "/run/netns/$WEB")" = "$(ns_ino "$INIT" net)" ] || die "/run/netns/$WEB is not the daemon's"
ok "net, pid, mnt, uts, ipc all new; /run/netns/$WEB is the daemon's network namespace"

step "wire a veth pair between the daemon and a client namespace"
ip netns add "$CLI"
ip link add "vw$$" type veth peer name "vc$$"
ip link set "vw$$" netns "$WEB"
ip link set "vc$$" netns "$CLI"
ip -n "$WEB" addr add 169.254.77.1/30 dev "vw$$" && ip -n "$WEB" link set "vw$$" up
ip -n "$CLI" addr add 169.254.77.2/30 dev "vc$$" && ip -n "$CLI" link set "vc$$" up
ip -n "$CLI" link set lo up
ok "169.254.77.1 (daemon) <-> 169.254.77.2 (client)"

step "the client fetches a page through the veth"
page=$(ip netns exec "$CLI" python3 -c "$FETCH_PY" http://169.254.77.1:8080/) || die "client could not fetch the page"
[ "$page" = "hello from the isolated daemon" ] || die "unexpected page: $page"
ok "client got: $page"
if python3 -c 'import urllib.request; urllib.request.urlopen("http://169.254.77.1:8080/", timeout=1)' 2>/dev/null; then
  die "the host reached the daemon"
fi
ok "the host itself cannot reach the daemon"

step "nsls shows the daemon's namespaces"
"$NSLS" -p "$INIT"
"$NSLS" -n -o NS -t net -p "$INIT" | grep -qx " *$(ns_ino "$INIT" net)" || die "nsls does not show the daemon's net namespace"
ok "nsls lists the daemon's network namespace $(ns_ino "$INIT" net)"

step "killing the daemon's PID 1 takes the whole namespace down"
SERVER=$(cat "/proc/$INIT/task/$INIT/children" | awk '{print $1}')
kill -KILL "$INIT"
wait "$NSRUN_PID" 2>/dev/null || true
wait_for sh -c "! kill -0 $SERVER 2>/dev/null"
ok "init $INIT and server $SERVER are gone"
echo; echo "recipe 1 passed"

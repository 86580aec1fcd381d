#!/usr/bin/env bash
# Recipe 4 — build a package inside a container (rootless: run as an ordinary user).
#
# A minimal root file system is assembled from the static busybox binary (Debian package
# busybox-static). nsrun maps the invoking user to root (plus a subordinate id range from
# /etc/subuid and /etc/subgid where the user has one), binds a host directory into the
# container, enters it with --root, with a fresh /proc and its own hostname. The build step
# writes an artefact that appears in the shared directory on the host, owned by the invoking
# user.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

BUSYBOX=${BUSYBOX:-/bin/busybox}
[ -x "$BUSYBOX" ] || die "needs a static busybox at $BUSYBOX (Debian package busybox-static)"
WORK=$(mktemp -d)
ROOTFS=$WORK/rootfs
OUT=$WORK/out
trap 'rm -rf "$WORK"' EXIT

step "assemble a minimal root file system"
mkdir -p "$ROOTFS"/{bin,proc,tmp,out,etc,build} "$OUT"
cp "$BUSYBOX" "$ROOTFS/bin/busybox"
for applet in sh echo cat tar gzip ls id hostname mkdir sha256sum; do
  ln -s busybox "$ROOTFS/bin/$applet"
done
echo 'root:x:0:0:root:/:/bin/sh' > "$ROOTFS/etc/passwd"
cat > "$ROOTFS/build/build.sh" <<'B'
set -eu
echo "building as uid $(id -u) on host $(hostname), pid $$"
mkdir -p /tmp/pkg/usr/bin && echo 'echo hello' > /tmp/pkg/usr/bin/hello
tar -C /tmp/pkg -czf /out/hello-1.0.tar.gz .
sha256sum /out/hello-1.0.tar.gz
B
ok "rootfs at $ROOTFS"

MAPS=(--map-root-user)
if grep -q "^$(id -un):\|^$(id -u):" /etc/subuid 2>/dev/null && grep -q "^$(id -un):\|^$(id -u):" /etc/subgid 2>/dev/null; then
  MAPS+=(--map-users=auto --map-groups=auto)
  ok "subordinate ids found: mapping them too"
fi

step "enter it: new user, mount, pid, uts namespaces; bind the output dir; --root"
# The outer nsrun makes the user and mount namespaces and binds $OUT into the rootfs; the
# inner one (root inside, so no new user namespace is needed) enters it with --root and a
# fresh /proc of a new PID namespace.
"$NSRUN" "${MAPS[@]}" --mount -- sh -c '
  mount --bind "$1" "$2/out"
  exec "$3" --root="$2" --pid --mount-proc --uts --hostname=builder -- /bin/sh /build/build.sh
' sh "$OUT" "$ROOTFS" "$NSRUN" | tee "$WORK/build.log"
grep -q "building as uid 0 on host builder, pid 1" "$WORK/build.log" || die "not root / not PID 1 / wrong hostname inside"
ok "inside: uid 0, hostname builder, PID 1"

step "the artefact is on the host, owned by the invoking user"
f=$OUT/hello-1.0.tar.gz
[ -s "$f" ] || die "no artefact in $OUT"
[ "$(stat -c %u:%g "$f")" = "$(id -u):$(id -g)" ] || die "artefact owned by $(stat -c %u:%g "$f"), not $(id -u):$(id -g)"
tar -tzf "$f" | grep -q usr/bin/hello || die "artefact lacks usr/bin/hello"
ok "$f owned by $(id -un) ($(stat -c %u:%g "$f"))"
echo; echo "recipe 4 passed"

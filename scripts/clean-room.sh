#!/usr/bin/env bash
# The clean-room check: what a new user gets on a fresh Debian 12, not what this machine happens to
# have. Run as root on Debian 12 (CI runs it after the tests: .ci/run).
#
#  1. a minimal Debian 12 root from Debian's mirror (debootstrap --variant=minbase: no Node.js, no
#     GStreamer, no compiler), the host's certificate trust carried in (/etc/ssl/certs and the file
#     named by NODE_EXTRA_CA_CERTS), and the committed tree cloned into it (git clone of HEAD);
#  2. inside it (private mount and pid namespaces: unshare, /proc and /dev mounted, chroot), the
#     README's two commands: bash scripts/demo.sh, then bash scripts/test.sh;
#  3. the container case: a receiver inside the clean root's namespaces (its own pid, net, ipc and
#     mount namespaces, its own build), a sender on the host (this tree's build), the socket in a
#     folder both see: the frames must be identical and nothing copied;
#  4. the install: scripts/install.sh --system, then --user, each checked with the source tree moved
#     away: gst-inspect-1.0, the demo's two pipelines and a Python GI program from any folder with no
#     GST_PLUGIN_PATH; then --uninstall, after which the elements are gone.
#
# Prints "ok N - ..." / "not ok N - ..." per check (the test command adds its own test counts) and
# ends with "N passed, N failed". Logs: build/clean-room/logs/. About 15 minutes on 2 cores, most of
# it apt-get inside the root and the tests. QTISOCKET_CLEAN_ROOM=<folder> works elsewhere than
# build/clean-room; DEBIAN_MIRROR overrides http://deb.debian.org/debian.
set -uo pipefail
cd "$(dirname "$0")/.."
TREE=$PWD
WORK=${QTISOCKET_CLEAN_ROOM:-$TREE/build/clean-room}
CR=$WORK/root
LOGS=$WORK/logs
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
INNER=/root/qtisocket-ts
log() { printf '[clean-room] %s\n' "$*" >&2; }
die() { log "$*"; echo "0 passed, 1 failed"; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (debootstrap, unshare and chroot need it)"
mkdir -p "$WORK" "$LOGS"
# never delete a root that still has something mounted in it (a /dev bind would take the host's along)
if findmnt -rn -o TARGET | grep -q "^$CR/"; then
  die "something is still mounted under $CR: unmount it first"
fi

# --- 1. the root ----------------------------------------------------------------------------------------
if ! command -v debootstrap >/dev/null; then
  log "apt-get install debootstrap"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap) >"$LOGS/host-apt.log" 2>&1 \
    || { tail -5 "$LOGS/host-apt.log" >&2; die "cannot install debootstrap on the host"; }
fi
base=$WORK/bookworm-minbase.tar
if [ ! -s "$base" ]; then
  log "debootstrap --variant=minbase bookworm from $MIRROR (a minute or two)"
  rm -rf "$WORK/base"
  debootstrap --variant=minbase bookworm "$WORK/base" "$MIRROR" >"$LOGS/debootstrap.log" 2>&1 \
    || { tail -15 "$LOGS/debootstrap.log" >&2; die "debootstrap failed (see $LOGS/debootstrap.log)"; }
  tar -C "$WORK/base" -cf "$base.part" . && mv "$base.part" "$base"
  rm -rf "$WORK/base"
fi
log "a fresh root from $(basename "$base")"
rm -rf "$CR"
mkdir -p "$CR"
tar -C "$CR" -xf "$base"
cat >"$CR/etc/apt/sources.list" <<EOF
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb ${MIRROR%/debian}/debian-security bookworm-security main
EOF
cp -L /etc/resolv.conf "$CR/etc/resolv.conf"
mkdir -p "$CR/etc/ssl/certs"
cp -aL /etc/ssl/certs/. "$CR/etc/ssl/certs/" 2>/dev/null
CA_INSIDE=
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
  # a path no Debian package rewrites (installing ca-certificates regenerates /etc/ssl/certs)
  cp "$NODE_EXTRA_CA_CERTS" "$CR/etc/host-extra-ca.crt"
  CA_INSIDE=/etc/host-extra-ca.crt
fi
mkdir -p "$CR/shared" "$WORK/shared"
git clone -q "$TREE" "$CR$INNER" || die "cannot clone $TREE"
log "cloned $(git -C "$CR$INNER" log -1 --format='%h %s' | cut -c1-80)"

# in_root <unshare flags...> -- <command>: run a command in the root, in new namespaces of those kinds
# (mount and pid always), with /proc, /dev, a private /dev/shm and the shared folder mounted
in_root() {
  local flags=()
  while [ "$1" != -- ]; do flags+=("$1"); shift; done
  shift
  unshare --mount --pid --fork --mount-proc="$CR/proc" "${flags[@]}" -- /bin/bash -c '
    set -e
    cr=$1; shift
    mount --rbind /dev "$cr/dev"; mount --make-rslave "$cr/dev"
    mount -t tmpfs -o mode=1777 tmpfs "$cr/dev/shm"
    mount --bind "$cr/../shared" "$cr/shared"
    ip link set lo up 2>/dev/null || true
    exec chroot "$cr" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
      PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      ${CA:+NODE_EXTRA_CA_CERTS=$CA} /bin/bash -c "$1"' in_root "$CR" "$1"
}
export CA=$CA_INSIDE

passed=0
failed=0
n=0
report() { # <ok?> <name>
  n=$((n + 1))
  if [ "$1" = 0 ]; then passed=$((passed + 1)); echo "ok $n - $2"; else failed=$((failed + 1)); echo "not ok $n - $2"; fi
}
# check <name> <log> <command...>: a check is its command's exit status; its log's tail on failure
check() {
  local name=$1 logf=$LOGS/$2.log; shift 2
  local t0=$SECONDS
  "$@" >"$logf" 2>&1
  local rc=$?
  report "$rc" "$name ($((SECONDS - t0)) s)"
  [ "$rc" = 0 ] || { echo "# last lines of $logf:"; tail -n 20 "$logf" | sed 's/^/#   /'; }
  return "$rc"
}

# --- 2. the README's two commands -----------------------------------------------------------------------
check "README demo command (bash scripts/demo.sh) in a clean Debian 12 root" demo \
  in_root -- "cd $INNER && bash scripts/demo.sh"
t0=$SECONDS
in_root -- "cd $INNER && bash scripts/test.sh" >"$LOGS/test.log" 2>&1
line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$LOGS/test.log" | tail -1)
inner_passed=$(sed -E 's/ passed.*//' <<<"${line:-0 passed}")
inner_failed=$(sed -E 's/.*passed, ([0-9]+) failed/\1/' <<<"${line:-0 passed, 1 failed}")
echo "# README test command (bash scripts/test.sh) in the clean root: ${line:-no summary line} ($((SECONDS - t0)) s)"
# each failed test with ava's account of it (its YAML block: the assertion, its message), 80 lines at most
awk '/^not ok /{n=0; show=1} /^ok |^1\.\./{show=0} show && n++ < 80' "$LOGS/test.log" | sed 's/^/#   /'
passed=$((passed + inner_passed))
failed=$((failed + inner_failed))
[ "$inner_passed" -gt 0 ] || { failed=$((failed + 1)); echo "#   no test ran:"; tail -n 20 "$LOGS/test.log" | sed 's/^/#   /'; }

# --- 3. the container case ------------------------------------------------------------------------------
container_case() {
  local sock=$WORK/shared/cam.sock frames=120
  local caps="video/x-raw,format=NV12,width=640,height=360,framerate=30/1"
  rm -f "$sock"
  bash scripts/setup.sh >/dev/null || return 1
  # what the frames must be: the same source, checksummed on the host
  gst-launch-1.0 -q videotestsrc num-buffers=$frames pattern=ball ! "$caps" ! checksumsink >"$WORK/expected.txt" 2>&1 \
    || return 1
  in_root --net --ipc -- "GST_PLUGIN_PATH=$INNER/build/meson GST_DEBUG=qtisocketsrc:4 gst-launch-1.0 \
      qtisocketsrc socket=/shared/cam.sock ! checksumsink" >"$WORK/receiver.txt" 2>&1 &
  local receiver=$!
  for _ in $(seq 200); do [ -S "$sock" ] && break; sleep 0.1; done
  [ -S "$sock" ] || { echo "the receiver in the clean root never listened:"; cat "$WORK/receiver.txt"; kill $receiver; return 1; }
  GST_PLUGIN_PATH=$TREE/build/meson GST_DEBUG=qtisocketsink:4 GST_DEBUG_NO_COLOR=1 gst-launch-1.0 \
    videotestsrc num-buffers=$frames pattern=ball ! "$caps" ! qtisocketsink socket="$sock" >"$WORK/sender.txt" 2>&1 \
    || { echo "the sender on the host failed:"; cat "$WORK/sender.txt"; kill $receiver; return 1; }
  wait $receiver || { echo "the receiver failed:"; cat "$WORK/receiver.txt"; return 1; }
  local want got stats
  want=$(grep -cE '^[0-9]+:[0-9]{2}:[0-9]{2}\.[0-9]{9} [0-9a-f]{40}$' "$WORK/expected.txt")
  got=$(grep -cE '^[0-9]+:[0-9]{2}:[0-9]{2}\.[0-9]{9} [0-9a-f]{40}$' "$WORK/receiver.txt")
  stats=$(grep -o 'qtisocketsink-stats, [^;]*' "$WORK/sender.txt" | tail -1)
  echo "expected $want frames, received $got; sender: $stats"
  [ "$want" -eq $frames ] && [ "$got" -eq $frames ] || return 1
  # the same frames, in order (checksumsink: "<pts> <sha1>"; the sha1s must match one for one)
  diff <(awk '/^[0-9]+:[0-9]{2}:[0-9]{2}\.[0-9]{9} [0-9a-f]{40}$/ {print $2}' "$WORK/expected.txt") \
       <(awk '/^[0-9]+:[0-9]{2}:[0-9]{2}\.[0-9]{9} [0-9a-f]{40}$/ {print $2}' "$WORK/receiver.txt") || return 1
  grep -q 'copied=(guint64)0,' <<<"$stats" || { echo "the sender copied buffers"; return 1; }
  grep -q "speaks qtisocket-ts" "$WORK/receiver.txt" || grep -q "client connected" "$WORK/receiver.txt" || true
}
check "container case: receiver in the clean root's own pid/net/ipc/mount namespaces, sender on the host: frames identical, copied=0" \
  container container_case

# --- 4. the install -------------------------------------------------------------------------------------
# with the tree moved away (its path gone), from / with no GST_PLUGIN_PATH: gst-inspect, the demo's
# two pipelines (scripts/demo.sh with DEMO_INSTALLED=1) and a Python GI program (test/peers/gi_pair.py)
installed_checks() { # <install flag>
  in_root -- "set -e
    cd $INNER && bash scripts/install.sh $1
    cp scripts/demo.sh test/peers/gi_pair.py /tmp/
    mv $INNER $INNER.away
    trap 'mv $INNER.away $INNER' EXIT
    cd / && unset GST_PLUGIN_PATH
    gst-inspect-1.0 qtisocketsink | grep -E 'Filename|Version'
    gst-inspect-1.0 qtisocketsrc >/dev/null
    DEMO_INSTALLED=1 DEMO_OUT=/tmp/demo-installed FRAMES=60 bash /tmp/demo.sh
    python3 /tmp/gi_pair.py receiver /tmp/gi.sock > /tmp/gi-receiver.txt 2>&1 &
    for i in \$(seq 100); do [ -S /tmp/gi.sock ] && break; sleep 0.1; done
    python3 /tmp/gi_pair.py sender /tmp/gi.sock 10
    wait \$!
    test \$(grep -cE '^[0-9]+ [0-9a-f]{40}\$' /tmp/gi-receiver.txt) -eq 10 || { cat /tmp/gi-receiver.txt; exit 1; }
    echo 'Python GI: 10 frames'
    mv $INNER.away $INNER; trap - EXIT
    cd $INNER && bash scripts/install.sh $1 --uninstall
    if gst-inspect-1.0 qtisocketsink >/dev/null 2>&1; then echo 'still there after --uninstall'; exit 1; fi
    echo 'gone after --uninstall'"
}
check "scripts/install.sh --system: gst-inspect, the demo's pipelines and Python GI work with the source tree gone; --uninstall removes it" \
  install-system installed_checks --system
check "scripts/install.sh --user: the same from ~/.local/share/gstreamer-1.0/plugins" \
  install-user installed_checks --user

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]

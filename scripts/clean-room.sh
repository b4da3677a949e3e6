#!/usr/bin/env bash
# The clean-room check: what a new user gets on a fresh Debian, not what this machine happens to have.
# Run as root on Debian (CI runs it after the tests: .ci/run).
#
#   bash scripts/clean-room.sh [--release bookworm|trixie]... [--arch amd64|arm64]
#
# Releases: bookworm (Debian 12: GStreamer 1.22, Node 18) and trixie (Debian 13: GStreamer 1.26, Node
# 20); both by default. Architecture: this machine's by default; another one (arm64 on x86-64) runs
# emulated, through qemu-user-static and binfmt_misc (installed and mounted here if absent).
#
# For each release:
#  1. a minimal root from Debian's mirror (debootstrap --variant=minbase: no Node.js, no GStreamer, no
#     compiler; the debootstrap is kept as a tarball and reused), the host's certificate trust carried
#     in (/etc/ssl/certs and the file named by NODE_EXTRA_CA_CERTS), and the committed tree cloned into
#     it (git clone of HEAD);
#  2. inside it (private mount and pid namespaces: unshare, /proc and /dev mounted, chroot): set-up from
#     nothing (bash scripts/setup.sh; the roots of several releases side by side), then the README's two
#     commands, one root at a time: bash scripts/demo.sh, then bash scripts/test.sh;
#  3. the container case: a receiver inside the clean root's namespaces (its own pid, net, ipc and
#     mount namespaces, its own build), a sender on the host (this tree's build), the socket in a
#     folder both see: the frames must be identical and nothing copied;
#  4. the install: scripts/install.sh --system, then --user, each checked with the source tree moved
#     away: gst-inspect-1.0, the demo's two pipelines and a Python GI program from any folder with no
#     GST_PLUGIN_PATH; then --uninstall, after which the elements are gone.
# Emulated (another architecture): set-up, the demo, and the test files that need no peer of another
# wire (all but vendor, unixfd, soak and install), one test at a time; no container case (the host's
# build is of another architecture) and no install check.
#
# Prints "ok N - [release/arch] ..." / "not ok N - ..." per check (the test command adds its own test
# counts), how long each part took, and ends with "N passed, N failed". Logs:
# build/clean-room/<release>-<arch>/logs/. QTISOCKET_CLEAN_ROOM=<folder> works elsewhere than
# build/clean-room; DEBIAN_MIRROR overrides http://deb.debian.org/debian.
set -uo pipefail
cd "$(dirname "$0")/.."
TREE=$PWD
WORK=${QTISOCKET_CLEAN_ROOM:-$TREE/build/clean-room}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
INNER=/root/qtisocket-ts
HOST_ARCH=$(dpkg --print-architecture)
log() { printf '[clean-room] %s\n' "$*" >&2; }
die() { log "$*"; echo "0 passed, 1 failed"; exit 1; }

RELEASES=()
ARCH=$HOST_ARCH
while (($#)); do
  case $1 in
    --release) RELEASES+=("${2:?--release needs bookworm or trixie}"); shift ;;
    --arch) ARCH=${2:?--arch needs amd64 or arm64}; shift ;;
    -h|--help) sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
  shift
done
((${#RELEASES[@]})) || RELEASES=(bookworm trixie)
for r in "${RELEASES[@]}"; do
  case $r in bookworm|trixie) ;; *) die "unknown release '$r': bookworm (Debian 12) or trixie (Debian 13)" ;; esac
done
EMULATED=false
[ "$ARCH" = "$HOST_ARCH" ] || EMULATED=true

[ "$(id -u)" -eq 0 ] || die "run as root (debootstrap, unshare and chroot need it)"
mkdir -p "$WORK/logs"
host_apt() { # <package...>: what this script needs on the host
  log "apt-get install $* (on the host)"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@") >"$WORK/logs/host-apt.log" 2>&1 \
    || { tail -5 "$WORK/logs/host-apt.log" >&2; die "cannot install $* on the host"; }
}
command -v debootstrap >/dev/null || host_apt debootstrap
if $EMULATED; then
  qemu=qemu-${ARCH/arm64/aarch64}
  { command -v "$qemu-static" && command -v update-binfmts; } >/dev/null || host_apt qemu-user-static binfmt-support
  [ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc \
    || die "cannot mount binfmt_misc (needed to run $ARCH programs here)"
  [ -e "/proc/sys/fs/binfmt_misc/$qemu" ] || update-binfmts --enable "$qemu" >/dev/null 2>&1
  [ -e "/proc/sys/fs/binfmt_misc/$qemu" ] || die "cannot register $qemu-static with binfmt_misc"
fi
CA=
[ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ] && CA=/etc/host-extra-ca.crt
export CA

# prepare_root <release>: a fresh root of that release and $ARCH in $WORK/<release>-<arch>/root
prepare_root() {
  local rel=$1 dir=$WORK/$1-$ARCH
  local cr=$dir/root base=$WORK/$1-$ARCH-minbase.tar
  mkdir -p "$dir/logs"
  # never delete a root that still has something mounted in it (a /dev bind would take the host's along)
  if findmnt -rn -o TARGET | grep -q "^$cr/"; then
    log "something is still mounted under $cr: unmount it first"
    return 1
  fi
  if [ ! -s "$base" ]; then
    log "debootstrap --variant=minbase --arch=$ARCH $rel from $MIRROR (a few minutes)"
    rm -rf "$dir/base"
    debootstrap --variant=minbase --arch="$ARCH" "$rel" "$dir/base" "$MIRROR" >"$dir/logs/debootstrap.log" 2>&1 \
      || { tail -15 "$dir/logs/debootstrap.log" >&2; log "debootstrap failed (see $dir/logs/debootstrap.log)"; return 1; }
    tar -C "$dir/base" -cf "$base.part" . && mv "$base.part" "$base"
    rm -rf "$dir/base"
  fi
  rm -rf "$cr" "$dir/shared"
  mkdir -p "$cr" "$dir/shared"
  tar -C "$cr" -xf "$base"
  rm -f "$cr"/etc/apt/sources.list.d/*
  printf 'deb %s %s main\ndeb %s %s-updates main\ndeb %s %s-security main\n' "$MIRROR" "$rel" "$MIRROR" "$rel" \
    "${MIRROR%/debian}/debian-security" "$rel" >"$cr/etc/apt/sources.list"
  cp -L /etc/resolv.conf "$cr/etc/resolv.conf"
  mkdir -p "$cr/etc/ssl/certs" "$cr/shared"
  cp -aL /etc/ssl/certs/. "$cr/etc/ssl/certs/" 2>/dev/null
  # a path no Debian package rewrites (installing ca-certificates regenerates /etc/ssl/certs)
  [ -z "$CA" ] || cp "$NODE_EXTRA_CA_CERTS" "$cr$CA"
  git clone -q "$TREE" "$cr$INNER" || { log "cannot clone $TREE"; return 1; }
  log "a fresh $rel/$ARCH root from $(basename "$base"), holding $(git -C "$cr$INNER" log -1 --format='%h %s' | cut -c1-70)"
}

# in_root <unshare flags...> -- <command>: run a command in the root $CR, in new namespaces of those
# kinds (mount and pid always), with /proc, /dev, a private /dev/shm and the shared folder mounted
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

passed=0
failed=0
n=0
TIMES=()
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
  report "$rc" "[$REL/$ARCH] $name ($((SECONDS - t0)) s)"
  TIMES+=("$REL/$ARCH $name: $((SECONDS - t0)) s")
  [ "$rc" = 0 ] || { echo "# last lines of $logf:"; tail -n 20 "$logf" | sed 's/^/#   /'; }
  return "$rc"
}
use_root() { # <release>: the root the next checks run in
  REL=$1
  CR=$WORK/$1-$ARCH/root
  LOGS=$WORK/$1-$ARCH/logs
  SHARED=$WORK/$1-$ARCH/shared
}
T_START=$SECONDS

# --- 1. the roots, and set-up from nothing in each, side by side ---------------------------------------
ready=()
for rel in "${RELEASES[@]}"; do
  use_root "$rel"
  t0=$SECONDS
  mkdir -p "$LOGS"
  if prepare_root "$rel"; then
    ready+=("$rel")
  else
    report 1 "[$rel/$ARCH] a fresh root ($((SECONDS - t0)) s)"
  fi
done
pids=()
for rel in "${ready[@]}"; do
  use_root "$rel"
  ( t0=$SECONDS; in_root -- "cd $INNER && bash scripts/setup.sh" >"$LOGS/setup.log" 2>&1; rc=$?
    echo "$rc $((SECONDS - t0))" >"$LOGS/setup.rc" ) &
  pids+=($!)
done
((${#pids[@]} == 0)) || wait "${pids[@]}"
set_up=()
for rel in "${ready[@]}"; do
  use_root "$rel"
  read -r rc secs <"$LOGS/setup.rc" || { rc=1; secs=0; }
  report "$rc" "[$REL/$ARCH] set-up from nothing (bash scripts/setup.sh) ($secs s)"
  TIMES+=("$REL/$ARCH set-up: $secs s")
  if [ "$rc" = 0 ]; then set_up+=("$rel"); else echo "# last lines of $LOGS/setup.log:"; tail -n 20 "$LOGS/setup.log" | sed 's/^/#   /'; fi
done

# --- 2. the README's two commands -----------------------------------------------------------------------
run_tests() { # the README's test command in the root (emulated: the files that need no peer, serially)
  local t0=$SECONDS args="" line inner_passed inner_failed
  if $EMULATED; then
    args="--serial --timeout=10m $(cd "$CR$INNER" && ls test/*.test.ts | grep -vE '/(vendor|unixfd|soak|install)\.test\.ts$' \
      | sed -E 's|^test/(.*)\.ts$|dist/test/\1.js|' | tr '\n' ' ')"
  fi
  in_root -- "cd $INNER && bash scripts/test.sh $args" >"$LOGS/test.log" 2>&1
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$LOGS/test.log" | tail -1)
  inner_passed=$(sed -E 's/ passed.*//' <<<"${line:-0 passed}")
  inner_failed=$(sed -E 's/.*passed, ([0-9]+) failed/\1/' <<<"${line:-0 passed, 1 failed}")
  echo "# [$REL/$ARCH] README test command (bash scripts/test.sh${args:+ <files>}) in the clean root: ${line:-no summary line} ($((SECONDS - t0)) s)"
  TIMES+=("$REL/$ARCH tests: $((SECONDS - t0)) s (${line:-no summary line})")
  # each failed test with ava's account of it (its YAML block: the assertion, its message), 80 lines at most
  awk '/^not ok /{n=0; show=1} /^ok |^1\.\./{show=0} show && n++ < 80' "$LOGS/test.log" | sed 's/^/#   /'
  passed=$((passed + inner_passed))
  failed=$((failed + inner_failed))
  [ "$inner_passed" -gt 0 ] || { failed=$((failed + 1)); echo "#   no test ran:"; tail -n 20 "$LOGS/test.log" | sed 's/^/#   /'; }
}

# --- 3. the container case ------------------------------------------------------------------------------
container_case() {
  local sock=$SHARED/cam.sock frames=120
  local caps="video/x-raw,format=NV12,width=640,height=360,framerate=30/1"
  rm -f "$sock"
  bash scripts/setup.sh >/dev/null || return 1
  # what the frames must be: the same source, checksummed on the host
  gst-launch-1.0 -q videotestsrc num-buffers=$frames pattern=ball ! "$caps" ! checksumsink >"$SHARED/expected.txt" 2>&1 \
    || return 1
  in_root --net --ipc -- "GST_PLUGIN_PATH=$INNER/build/meson GST_DEBUG=qtisocketsrc:4 gst-launch-1.0 \
      qtisocketsrc socket=/shared/cam.sock ! checksumsink" >"$SHARED/receiver.txt" 2>&1 &
  local receiver=$!
  for _ in $(seq 200); do [ -S "$sock" ] && break; sleep 0.1; done
  [ -S "$sock" ] || { echo "the receiver in the clean root never listened:"; cat "$SHARED/receiver.txt"; kill $receiver; return 1; }
  GST_PLUGIN_PATH=$TREE/build/meson GST_DEBUG=qtisocketsink:4 GST_DEBUG_NO_COLOR=1 gst-launch-1.0 \
    videotestsrc num-buffers=$frames pattern=ball ! "$caps" ! qtisocketsink socket="$sock" >"$SHARED/sender.txt" 2>&1 \
    || { echo "the sender on the host failed:"; cat "$SHARED/sender.txt"; kill $receiver; return 1; }
  wait $receiver || { echo "the receiver failed:"; cat "$SHARED/receiver.txt"; return 1; }
  local want got stats
  want=$(grep -cE '^[0-9]+:[0-9]{2}:[0-9]{2}\.[0-9]{9} [0-9a-f]{40}$' "$SHARED/expected.txt")
  got=$(grep -cE '^[0-9]+:[0-9]{2}:[0-9]{2}\.[0-9]{9} [0-9a-f]{40}$' "$SHARED/receiver.txt")
  stats=$(grep -o 'qtisocketsink-stats, [^;]*' "$SHARED/sender.txt" | tail -1)
  echo "expected $want frames, received $got; sender: $stats"
  [ "$want" -eq $frames ] && [ "$got" -eq $frames ] || return 1
  # the same frames, in order (checksumsink: "<pts> <sha1>"; the sha1s must match one for one)
  diff <(awk '/^[0-9]+:[0-9]{2}:[0-9]{2}\.[0-9]{9} [0-9a-f]{40}$/ {print $2}' "$SHARED/expected.txt") \
       <(awk '/^[0-9]+:[0-9]{2}:[0-9]{2}\.[0-9]{9} [0-9a-f]{40}$/ {print $2}' "$SHARED/receiver.txt") || return 1
  grep -q 'copied=(guint64)0,' <<<"$stats" || { echo "the sender copied buffers"; return 1; }
}

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

for rel in "${set_up[@]}"; do
  use_root "$rel"
  check "README demo command (bash scripts/demo.sh) in a clean root" demo \
    in_root -- "cd $INNER && bash scripts/demo.sh"
  run_tests
  $EMULATED && continue
  check "container case: receiver in the clean root's own pid/net/ipc/mount namespaces, sender on the host: frames identical, copied=0" \
    container container_case
  check "scripts/install.sh --system: gst-inspect, the demo's pipelines and Python GI work with the source tree gone; --uninstall removes it" \
    install-system installed_checks --system
  check "scripts/install.sh --user: the same from ~/.local/share/gstreamer-1.0/plugins" \
    install-user installed_checks --user
done

echo "# how long each part took ($((SECONDS - T_START)) s in all; set-up of the roots side by side):"
printf '#   %s\n' "${TIMES[@]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]

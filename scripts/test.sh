#!/usr/bin/env bash
# Sets everything up (scripts/setup.sh, idempotent) and runs the tests: real gst-launch-1.0 processes,
# real sockets, real fds. The last line is always "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
if ! bash scripts/setup.sh; then
  echo "0 passed, 1 failed"
  exit 1
fi
rm -f build/test-registry.bin
tap=$(mktemp)
node_modules/.bin/ava --tap "$@" 2>&1 | tee "$tap"
rc=${PIPESTATUS[0]}
passed=$(grep -c '^ok ' "$tap")
failed=$(grep -c '^not ok ' "$tap")
# ava ended badly without naming a failed test (a timeout whose report crashed its TAP reporter, a
# worker that died): that is a failure too, and the line below must say so
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
  echo "# ava exited with status $rc without reporting a failed test: counted as one failure"
  failed=1
fi
rm -f "$tap"
echo "$passed passed, $failed failed"
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]

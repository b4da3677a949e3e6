#!/usr/bin/env bash
# npm run soak: sets up, then runs the long soak (scripts/soak.ts): 1,000,000 small buffers and 10 minutes
# of 1080p frames between two processes, then 1000 PLAYING<->NULL cycles (test/peers/churn.py) in one
# process and in two; prints fds and RSS at the start and end of each. Options go to soak.ts.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export GST_PLUGIN_PATH="$PWD/build/meson"
node dist/scripts/soak.js "$@"
sock_dir=$(mktemp -d)
trap 'rm -rf "$sock_dir"' EXIT
echo "churn, one process:"
/usr/bin/python3 test/peers/churn.py both "$sock_dir/a.sock" 1000
echo "churn, two processes:"
/usr/bin/python3 test/peers/churn.py receiver "$sock_dir/b.sock" 1000 | sed 's/^/receiver: /' &
rx=$!
/usr/bin/python3 test/peers/churn.py sender "$sock_dir/b.sock" 1000 | sed 's/^/sender: /'
wait "$rx"

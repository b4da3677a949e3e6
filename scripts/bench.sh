#!/usr/bin/env bash
# npm run bench: sets up, then compares qtisocketsink->qtisocketsrc with shmsink->shmsrc (scripts/bench.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node dist/scripts/bench.js "$@"

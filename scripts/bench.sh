#!/usr/bin/env bash
# npm run bench: sets up, then compares qtisocketsink->qtisocketsrc with shmsink->shmsrc and the baselines
# (scripts/bench.ts); gnuplot (Debian's gnuplot-nox, installed here if missing) draws docs/bench.png.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if ! command -v gnuplot >/dev/null; then
  apt-get install -y -qq --no-install-recommends gnuplot-nox >/dev/null 2>&1 ||
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends gnuplot-nox >/dev/null; }
fi
exec node dist/scripts/bench.js "$@"

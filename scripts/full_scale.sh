#!/usr/bin/env bash
# The full-scale runs that CI repeats on every build: the MAML paper's sinusoid table
# (about two minutes on 2 CPU cores) and the sinusoid half of "Testing the claims" (about a
# minute and a half, one thread), side by side, then the meta-gradient throughput benchmark
# alone (under a minute; it measures speed, so nothing else runs beside it). Results go to
# $RESULTS (default: results/), which the book's page "Full-scale results" reads when it is
# built afterwards, and which .ci/run copies into the site.
set -euo pipefail
EXTRAS=test,book,benchmark
source "$(dirname "${BASH_SOURCE[0]}")/setup_env.sh"
RESULTS="${RESULTS:-$ROOT/results}"
mkdir -p "$RESULTS"
echo "==> mtl-tutorial reproduce sinusoid (the MAML paper's Table 2) and mtl-tutorial claims --benchmarks sinusoid (the chapter 'Testing the claims' at full size), side by side"
( time mtl-tutorial reproduce sinusoid \
    --json "$RESULTS/sinusoid.json" --figure "$RESULTS/sinusoid.png" ) > "$RESULTS/sinusoid.log" 2>&1 &
reproduce=$!
( time OMP_NUM_THREADS=1 mtl-tutorial claims --benchmarks sinusoid \
    --json "$RESULTS/claims_sinusoid.json" ) > "$RESULTS/claims_sinusoid.log" 2>&1 &
claims=$!
status=0
wait "$reproduce" || status=$?
cat "$RESULTS/sinusoid.log"
wait "$claims" || status=$?
cat "$RESULTS/claims_sinusoid.log"
[ "$status" -eq 0 ] || { echo "a full-scale run failed (exit $status)" >&2; exit "$status"; }
echo "==> benchmarks/meta_throughput.py"
python benchmarks/meta_throughput.py --json "$RESULTS/throughput.json"

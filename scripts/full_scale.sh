#!/usr/bin/env bash
# The full-scale runs that CI repeats on every build: the MAML paper's sinusoid table, beside it
# the sinusoid half of "Testing the claims" followed by the sharpness trace of MAML in the paper's
# set-up (why that set-up blows up at 5 and 10 steps), on one thread each (each gains little
# from a second thread: its networks are tiny; with more threads than cores they would wait on
# each other), then the meta-gradient throughput benchmark alone (it measures speed, so nothing
# else runs beside it). Results go to $RESULTS (default: results/), which the book's page
# "Full-scale results" reads when it is built afterwards, and which .ci/run copies into the site.
set -euo pipefail
EXTRAS=test,book,benchmark
source "$(dirname "${BASH_SOURCE[0]}")/setup_env.sh"
RESULTS="${RESULTS:-$ROOT/results}"
mkdir -p "$RESULTS"
echo "==> mtl-tutorial reproduce sinusoid (the MAML paper's Table 2), and beside it mtl-tutorial claims --benchmarks sinusoid (the chapter 'Testing the claims' at full size) then mtl-tutorial sharpness sinusoid --setup paper"
( time OMP_NUM_THREADS=1 mtl-tutorial reproduce sinusoid \
    --json "$RESULTS/sinusoid.json" --figure "$RESULTS/sinusoid.png" ) > "$RESULTS/sinusoid.log" 2>&1 &
reproduce=$!
( time OMP_NUM_THREADS=1 mtl-tutorial claims --benchmarks sinusoid \
    --json "$RESULTS/claims_sinusoid.json" > "$RESULTS/claims_sinusoid.log" 2>&1
  time OMP_NUM_THREADS=1 mtl-tutorial sharpness sinusoid --setup paper \
    --json "$RESULTS/sharpness.json" > "$RESULTS/sharpness.log" 2>&1 ) 2> "$RESULTS/claims_sharpness.time" &
claims=$!
status=0
wait "$reproduce" || status=$?
cat "$RESULTS/sinusoid.log"
wait "$claims" || status=$?
cat "$RESULTS/claims_sinusoid.log" "$RESULTS/sharpness.log" "$RESULTS/claims_sharpness.time"
[ "$status" -eq 0 ] || { echo "a full-scale run failed (exit $status)" >&2; exit "$status"; }
echo "==> benchmarks/meta_throughput.py"
python benchmarks/meta_throughput.py --json "$RESULTS/throughput.json"

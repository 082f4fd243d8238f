#!/usr/bin/env bash
# The full-scale runs that CI repeats on every build: the MAML paper's sinusoid table
# (about two minutes on 2 CPU cores), the sinusoid half of "Testing the claims" (about a minute
# and a half) and the meta-gradient throughput benchmark (under a minute). Results go to $RESULTS (default: results/), which the book's page "Full-scale
# results" reads when it is built afterwards, and which .ci/run copies into the site.
set -euo pipefail
EXTRAS=test,book,benchmark
source "$(dirname "${BASH_SOURCE[0]}")/setup_env.sh"
RESULTS="${RESULTS:-$ROOT/results}"
mkdir -p "$RESULTS"
echo "==> mtl-tutorial reproduce sinusoid (the MAML paper's Table 2, about two minutes)"
( time mtl-tutorial reproduce sinusoid \
    --json "$RESULTS/sinusoid.json" --figure "$RESULTS/sinusoid.png" ) 2>&1
echo "==> mtl-tutorial claims --benchmarks sinusoid (the chapter 'Testing the claims' at full size)"
( time OMP_NUM_THREADS=1 mtl-tutorial claims --benchmarks sinusoid \
    --json "$RESULTS/claims_sinusoid.json" ) 2>&1
echo "==> benchmarks/meta_throughput.py"
python benchmarks/meta_throughput.py --json "$RESULTS/throughput.json"

#!/usr/bin/env bash
# Loading a 20 MB CIB. Generates a deterministic CIB shaped like a real one (40 nodes, 820
# primitives in groups, clones and alone, constraints, every node probed for every resource:
# ~34 000 operation-history entries, 20.2 MB), then times, in a release build:
#   1. the library stages (parse, unpack into the typed model, write, verify), RUNS runs each;
#   2. the whole command, `CIB_file=X tandem cib query` and `tandem verify -x X`, with peak RSS.
# Figures go to BENCHMARKS.md ("Loading a 20 MB CIB").
#
# usage: bench/cib-load.sh [RUNS]      (GEN=path/to/gen_large_cib.py to override the generator)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-7}
GEN=${GEN:-../shared/tools/scheduler-conformance/gen_large_cib.py}
DATA=$PWD/target/bench-data
CIB=$DATA/cib-20mb.xml
mkdir -p "$DATA"
if [ ! -f "$CIB" ]; then
    python3 "$GEN" --nodes 40 --resources 820 --probed --seed 1 -o "$CIB"
fi
echo "input: $CIB ($(stat -c %s "$CIB") bytes, sha256 $(sha256sum "$CIB" | cut -c1-16))"

echo "machine: $(nproc) cores, load average $(cut -d" " -f1-3 /proc/loadavg)"
cargo bench -q -p tandem-cib --bench load -- "$CIB" "$RUNS"

cargo build -q --release -p tandem
echo "whole commands, each run: wall s / CPU s / peak RSS MB"
for cmd in "cib query" "verify -x $CIB"; do
    printf '  %-22s' "tandem ${cmd%% /*}"
    for _ in $(seq "$RUNS"); do
        # %e: wall seconds, %U + %S: CPU seconds, %M: peak resident set in KiB.
        CIB_file="$CIB" /usr/bin/time -f '%e %U %S %M' target/release/tandem $cmd \
            >/dev/null 2>>"$DATA/time.log" || true
        tail -n1 "$DATA/time.log" | awk '{printf " %.2f/%.2f/%d", $1, $2 + $3, $4/1024}'
    done
    echo
done

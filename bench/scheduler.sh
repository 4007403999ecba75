#!/usr/bin/env bash
# Scheduler benchmark: tandem simulate vs Debian's crm_simulate on the same inputs.
#
#   bench/scheduler.sh [--pacemaker-timeout SECONDS] [--skip-pacemaker]
#
# 1. The whole development corpus through the conformance harness (wall time for all cases).
# 2. Large generated CIBs (gen_large_cib.py, seed 1): 16x1000, 32x5000, 32x10000 nodes x
#    resources; `simulate -x FILE -S` (schedule + simulated execution) and `-R` where
#    crm_simulate has it (schedule only). tandem: best of 3 runs; crm_simulate: one run,
#    killed after the timeout (default 300 s) — it does not finish the big ones.
# Prints one line per measurement: what, tool, seconds (or "timeout"), peak RSS.
# Set SHARED=DIR if the shared directory is not ../shared. Needs target/release/tandem (cargo build --release -p tandem) and ../shared beside the
# repository; crm_simulate comes from Debian's pacemaker-cli-utils.
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${SHARED:-../shared}   # where the corpus and tools are (CI: beside the clone)
pm_timeout=300
skip_pm=false
while [ $# -gt 0 ]; do
    case "$1" in
        --pacemaker-timeout) pm_timeout=$2; shift 2 ;;
        --skip-pacemaker) skip_pm=true; shift ;;
        *) echo "unknown argument $1" >&2; exit 64 ;;
    esac
done
tandem=target/release/tandem
[ -x "$tandem" ] || { echo "build it first: cargo build --release -p tandem" >&2; exit 66; }
have_pm=false
if ! $skip_pm && command -v crm_simulate >/dev/null; then have_pm=true; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export CIB_shadow_dir=$work LC_ALL=C

measure() { # label tool timeout command...
    local label=$1 tool=$2 limit=$3; shift 3
    local t0 t1 rc=0
    t0=$(date +%s.%N)
    /usr/bin/time -f %M -o "$work/rss" timeout "$limit" "$@" >"$work/out" 2>/dev/null || rc=$?
    t1=$(date +%s.%N)
    local secs rss
    secs=$(echo "$t1 - $t0" | bc)
    rss=$(tail -1 "$work/rss" 2>/dev/null || echo "?")
    if [ "$rc" = 124 ]; then
        printf '%-28s %-14s timeout(>%ss)\n' "$label" "$tool" "$limit"
    else
        printf '%-28s %-14s %8.3f s  %8s KB  %s starts\n' "$label" "$tool" "$secs" "$rss" \
            "$(grep -c '^  \* Start ' "$work/out" || true)"
    fi
}

best_of_3() { # label command...
    local label=$1; shift
    for _ in 1 2 3; do measure "$label" tandem 600 "$@"; done | sort -k3 -n | head -1
}

echo "== whole development corpus (conformance harness, --jobs 2)"
python3 $shared/tools/scheduler-conformance/conformance.py --corpus $shared/scheduler-corpus \
    --exclude $shared/scheduler-corpus/known-stale-cases.txt \
    --sim "$tandem simulate -x {xml} -S {args}" --jobs 2 --show-failures 0 2>&1 \
    | grep -E "Total wall|passed, " | sed 's/^/tandem: /'
if $have_pm; then
    python3 $shared/tools/scheduler-conformance/conformance.py --corpus $shared/scheduler-corpus \
        --exclude $shared/scheduler-corpus/known-stale-cases.txt \
        --sim 'crm_simulate -x {xml} -S {args}' --jobs 2 --show-failures 0 2>&1 \
        | grep -E "Total wall|passed, " | sed 's/^/crm_simulate: /'
fi

echo "== large CIBs"
for spec in "16 1000" "32 5000" "32 10000"; do
    set -- $spec
    f=$work/n$1-r$2.xml
    python3 $shared/tools/scheduler-conformance/gen_large_cib.py --nodes "$1" --resources "$2" --seed 1 -o "$f"
    best_of_3 "$1x$2 -S" "$tandem" simulate -x "$f" -S
    best_of_3 "$1x$2 -R" "$tandem" simulate -x "$f" -R
    if $have_pm; then
        measure "$1x$2 -R" crm_simulate "$pm_timeout" crm_simulate -x "$f" -R
        measure "$1x$2 -S" crm_simulate "$pm_timeout" crm_simulate -x "$f" -S
    fi
done

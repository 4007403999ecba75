#!/usr/bin/env bash
# Event-driven failure detection: time from `ip addr del` of a floating IP (ocf:tandem:IPaddr)
# to the executor's failed monitor result, with watchers (monitor interval 10 s and 1 s) and,
# for comparison, without (the monitor alone, interval 1 s). Run by tandem-exec exactly as the
# daemon runs agents, inside a throw-away network namespace with a veth pair. Needs root.
# Usage: bench/watch.sh [TRIALS] (default 20).
set -euo pipefail
cd "$(dirname "$0")/.."
trials=${1:-20}
cargo build --release --quiet -p tandem-agents
cargo build --release --quiet -p tandem-exec --example bench_watch
target=${CARGO_TARGET_DIR:-target}
ns="tdm-bench-watch-$$"
root=$(mktemp -d /tmp/tdm-bench-watch.XXXXXX)
cleanup() { ip netns del "$ns" 2>/dev/null || true; rm -rf "$root"; }
trap cleanup EXIT
chmod 755 "$root"
"$target/release/tandem-agents" install "$root" >/dev/null
ip netns add "$ns"
ip -n "$ns" link add va type veth peer name vb
ip -n "$ns" link set lo up
ip -n "$ns" link set va up
ip -n "$ns" link set vb up
ip -n "$ns" addr add 192.0.2.1/24 dev va
echo "machine: $(nproc) cores, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg); $trials trials after one warm-up; ms from ip addr del to the failed monitor result"
HA_RSCTMP="$root/run" ip netns exec "$ns" "$target/release/examples/bench_watch" \
    "$root" "$trials" va 192.0.2.10 watch:10000 watch:1000 poll:1000

#!/usr/bin/env bash
# Start/monitor/stop of a floating IP, ms per operation: Tandem's ocf:tandem:IPaddr (netlink)
# against Debian's ocf:heartbeat:IPaddr2 (shell + ip), both run by tandem-exec exactly as
# the daemon would run them, inside a throw-away network namespace with a veth pair.
# Needs root and Debian's resource-agents. Usage: bench/ipaddr.sh [ITERATIONS] (default 50).
set -euo pipefail
cd "$(dirname "$0")/.."
iterations=${1:-50}
cargo build --release --quiet -p tandem
cargo build --release --quiet -p tandem-exec --example bench_ipaddr
ns="tdm-bench-$$"
root=$(mktemp -d /tmp/tdm-bench-ocf.XXXXXX)
cleanup() { ip netns del "$ns" 2>/dev/null || true; rm -rf "$root"; }
trap cleanup EXIT
chmod 755 "$root"
# Tandem's agents under a private OCF root, Debian's heartbeat agents beside them.
target/release/tandem ra install --ocf-root "$root" >/dev/null
ln -s /usr/lib/ocf/resource.d/heartbeat "$root/resource.d/heartbeat"
ln -s /usr/lib/ocf/lib "$root/lib"
ip netns add "$ns"
ip -n "$ns" link add va type veth peer name vb
ip -n "$ns" link set lo up
ip -n "$ns" link set va up
ip -n "$ns" link set vb up
ip -n "$ns" addr add 192.0.2.1/24 dev va
echo "machine: $(nproc) cores, $(uname -r); $iterations rounds after one warm-up; times in ms"
HA_RSCTMP="$root/run" ip netns exec "$ns" target/release/examples/bench_ipaddr \
    "$root" "$iterations" va 192.0.2.10 ocf:tandem:IPaddr ocf:heartbeat:IPaddr2

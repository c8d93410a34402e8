#!/usr/bin/env bash
# Home agent restart with $NODES bindings (target: 1 000 000 back in <= 10 s), in one go:
#   1. build mipd, mipctl and mip-bench (release),
#   2. in a network namespace of its own (so that the TUN data plane installs its host
#      routes there), start mipd from a `mip-bench config` for $NODES mobile nodes,
#   3. register every node once (`mip-bench run --preload`),
#   4. kill -9 mipd (no clean shutdown: what the store has is what a crash leaves),
#   5. start it again and time until `mipctl show ip mobile binding summary` reports all
#      $NODES bindings: configuration load, store recovery, the core's restore and the
#      data plane's host routes, with the replies to the control socket as the finish line,
#   6. remove the namespace and the temporary files.
#
# Needs root (namespace, TUN). Environment: NODES (default 1000000), SEED (mip-bench),
#   ALGORITHM (hmac-md5 | prefix-suffix), KEEP_CHECKPOINT_WAIT (seconds to wait after the
#   preload before the kill, default 0: the kill lands while the first checkpoint may still
#   be folding, the harder case for recovery).
set -euo pipefail

NODES=${NODES:-1000000}
SEED=${SEED:-mip-bench}
ALGORITHM=${ALGORITHM:-hmac-md5}
KEEP_CHECKPOINT_WAIT=${KEEP_CHECKPOINT_WAIT:-0}

if [ "$(id -u)" != 0 ]; then
    echo "*** SKIPPED: bench-restart.sh needs root (network namespace, TUN device)" >&2
    exit 77
fi
cd "$(dirname "$0")/.."
cargo build --release -p mipd -p mipctl -p mip-bench
bin=$PWD/target/release

ns=mipbench-restart-$$
work=$(mktemp -d /tmp/bench-restart.XXXXXX)
mipd_pid=
cleanup() {
    if [ -n "$mipd_pid" ] && kill -0 "$mipd_pid" 2>/dev/null; then
        kill "$mipd_pid" 2>/dev/null || true
        wait "$mipd_pid" 2>/dev/null || true
    fi
    ip netns del "$ns" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$ns"
ip -n "$ns" link set lo up

"$bin/mip-bench" config --nodes "$NODES" --seed "$SEED" --algorithm "$ALGORITHM" \
    --home-agent 127.0.0.1 --output "$work/ha.ios"

start_mipd() {
    ip netns exec "$ns" "$bin/mipd" --config "$work/ha.ios" --state-dir "$work/state" \
        --control-socket "$work/mipd.sock" --listen 127.0.0.1:4434 --log-level info \
        2>"$work/mipd.log" &
    mipd_pid=$!
}

# Seconds (fractional) until `show ip mobile binding summary` reports all $NODES bindings.
wait_all() {
    local t0=$1
    for _ in $(seq 1 1200); do
        if out=$("$bin/mipctl" --socket "$work/mipd.sock" show ip mobile binding summary \
            2>/dev/null) && grep -q "Total $NODES\b" <<<"$out"; then
            echo "$(date +%s.%N) - $t0" | bc
            return 0
        fi
        if ! kill -0 "$mipd_pid" 2>/dev/null; then
            echo "mipd exited:" >&2
            cat "$work/mipd.log" >&2
            return 1
        fi
        sleep 0.05
    done
    echo "bindings not all back after 60 s" >&2
    return 1
}

start_mipd
for _ in $(seq 1 600); do
    [ -S "$work/mipd.sock" ] && break
    sleep 0.1
done
echo "preload: registering $NODES mobile nodes"
ip netns exec "$ns" "$bin/mip-bench" run --target 127.0.0.1:4434 --nodes "$NODES" \
    --seed "$SEED" --algorithm "$ALGORITHM" --preload --max-requests 1 --duration 1 \
    | grep -E "^\[preload\]|accepted" | head -2
sleep "$KEEP_CHECKPOINT_WAIT"
echo "journal and checkpoint at the kill: $(du -sh "$work/state" | cut -f1)"
kill -9 "$mipd_pid"
wait "$mipd_pid" 2>/dev/null || true
rm -f "$work/mipd.sock"

t0=$(date +%s.%N)
start_mipd
secs=$(wait_all "$t0")
routes=$(ip -n "$ns" -4 route show | grep -c . || true)
printf 'restart: %s bindings back in %.2f s (target <= 10 s); %s routes in the namespace\n' \
    "$NODES" "$secs" "$routes"
echo "--- mipd's log of the restart ---"
grep -E "starting|opened|restored|running" "$work/mipd.log" | cut -c12-23,24-130

#!/usr/bin/env bash
# Home agent throughput against the machine's UDP baseline, in one go:
#   1. build mipd and mip-bench (release),
#   2. write a configuration for $NODES mobile nodes (keys derived from $SEED) in the router
#      form (it loads ~4x faster than TOML: ~2.5 s for a million security associations),
#   3. start mipd on 127.0.0.1:$PORT with a throwaway state directory and control socket,
#   4. `mip-bench compare`: the same load against `mip-bench echo` (the baseline) and against
#      mipd, with every node registered first (--preload), and the ratio
#      accepted/s (mipd) / replies/s (echo); the target is >= 0.8,
#   5. stop mipd and remove the temporary files.
#
# Usage: scripts/bench-ha.sh [extra mip-bench compare options, e.g. --json or --rate 150000]
# Environment: NODES (default 100000), SEED (mip-bench), IN_FLIGHT (256), DURATION (10 s),
#   PORT (4434), ALGORITHM (hmac-md5 | prefix-suffix), MIPD_ARGS (extra mipd options),
#   SETTLE (20 s between the preload and the measured phase: the home agent installs the
#   million host routes and folds the preload's journal into its first checkpoint, and the
#   measurement is of the steady state that follows, not of that catching up),
#   PIN (1 | 0; default 1 with two or more CPUs): the generator runs on the first CPU this
#   process may use (CPU 0 here), and the responder under test -- mipd's registration loop
#   (mipd --cpu) and the echo baseline alike -- on the second (CPU 1); mipd's helper threads (store sync and checkpoint, tunnel engine,
#   control) stay unpinned. Without pinning the scheduler moves the two busy threads
#   around and the latency tail measures that as much as the home agent.
# The generator, the echo responder and mipd share this machine's cores: run it on an
# otherwise idle machine (other load moves the figures by tens of percent).
set -euo pipefail

NODES=${NODES:-100000}
SEED=${SEED:-mip-bench}
IN_FLIGHT=${IN_FLIGHT:-256}
DURATION=${DURATION:-10}
PORT=${PORT:-4434}
ALGORITHM=${ALGORITHM:-hmac-md5}
MIPD_ARGS=${MIPD_ARGS:-}
SETTLE=${SETTLE:-20}
# The CPUs this script may use (a cgroup may allow other numbers than 0 and 1).
expand_cpus() {
    local IFS=, part
    for part in $1; do
        if [[ $part == *-* ]]; then seq "${part%-*}" "${part#*-}"; else echo "$part"; fi
    done
}
mapfile -t cpus < <(expand_cpus "$(awk '/^Cpus_allowed_list/ {print $2}' /proc/self/status)")
if [ "${#cpus[@]}" -ge 2 ]; then PIN=${PIN:-1}; else PIN=0; fi
# As root, the processes measured (mipd, the echo responder, the generator) run at nice -10,
# ahead of the machine's background work (kernel writeback threads, other daemons) on
# their CPUs; mipd's own store threads inherit it but stay off its CPU (--cpu).
prio=()
if [ "$(id -u)" = 0 ]; then prio=(nice -n -10); fi
gen_pin=()
if [ "$PIN" = 1 ]; then
    MIPD_ARGS="--cpu ${cpus[1]} $MIPD_ARGS"
    gen_pin=(--cpu "${cpus[0]}" --echo-cpu "${cpus[1]}")
fi

cd "$(dirname "$0")/.."
cargo build --release -p mipd -p mip-bench
bench=target/release/mip-bench
mipd=target/release/mipd

work=$(mktemp -d /tmp/bench-ha.XXXXXX)
mipd_pid=
cleanup() {
    if [ -n "$mipd_pid" ] && kill -0 "$mipd_pid" 2>/dev/null; then
        kill "$mipd_pid" 2>/dev/null || true
        wait "$mipd_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

"$bench" config --nodes "$NODES" --seed "$SEED" --algorithm "$ALGORITHM" \
    --home-agent 127.0.0.1 --output "$work/ha.ios"

# shellcheck disable=SC2086
"${prio[@]}" "$mipd" --config "$work/ha.ios" --state-dir "$work/state" \
    --control-socket "$work/mipd.sock" --listen "127.0.0.1:$PORT" --log-level warn \
    $MIPD_ARGS 2>"$work/mipd.log" &
mipd_pid=$!

# Ready when the control socket exists (a million security associations take seconds to load).
for _ in $(seq 1 600); do
    [ -S "$work/mipd.sock" ] && break
    if ! kill -0 "$mipd_pid" 2>/dev/null; then
        echo "mipd exited:" >&2
        cat "$work/mipd.log" >&2
        exit 1
    fi
    sleep 0.2
done
[ -S "$work/mipd.sock" ] || { echo "mipd did not come up in 120 s" >&2; exit 1; }

# Closed loop with $IN_FLIGHT outstanding, unless an open-loop --rate was given.
pacing=(--in-flight "$IN_FLIGHT")
case " $* " in *" --rate "*|*" --rate="*) pacing=() ;; esac
"${prio[@]}" "$bench" compare --target "127.0.0.1:$PORT" --nodes "$NODES" --seed "$SEED" \
    --algorithm "$ALGORITHM" "${pacing[@]}" "${gen_pin[@]}" --duration "$DURATION" --preload --settle "$SETTLE" "$@"

if [ -s "$work/mipd.log" ]; then
    echo "--- mipd log (warnings) ---"
    tail -n 20 "$work/mipd.log"
fi

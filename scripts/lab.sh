#!/usr/bin/env bash
# The Mobile IPv4 lab: builds mip-lab in release and runs it with the given arguments.
#   scripts/lab.sh plan
#   scripts/lab.sh demo --no-mip            # harness self-test, no Mobile IP
#   scripts/lab.sh demo --json              # the product: needs mipd with its roles
#   scripts/lab.sh iperf                    # plain-path throughput baseline
#   scripts/lab.sh bench-handoff [--moves N] [--json]
#                                           # N fa1<->fa2 handoffs (default 24) + home, coloc moves:
#                                           # p50/p90/p99/max handoff_ms, packets_lost per kind
#   scripts/lab.sh bench-throughput [--json]
#                                           # iperf3 plain path vs HA tunnel (at fa1), ratio
#   scripts/lab.sh up | move fa1 | status | down [--all]
# Needs root (network namespaces), iproute2 and, for `iperf` and `bench-throughput`, iperf3.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
cargo build --release --quiet --manifest-path "$root/Cargo.toml" -p mip-lab
# The agents: mipd is looked up beside mip-lab. Build it when the run may start agents; a
# mipd that does not build yet only means the demo runs without agents.
case " $* " in
  *" --no-mip "*) ;;
  *" demo "*|*" --mip "*|*" bench-handoff "*|*" bench-throughput "*)
    cargo build --release --quiet --manifest-path "$root/Cargo.toml" -p mipd \
      || echo "lab.sh: warning: mipd did not build; the demo runs without agents" >&2 ;;
esac
exec "$target/release/mip-lab" "$@"

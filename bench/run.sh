#!/usr/bin/env bash
# Benchmarks that need real hosts: a lab of network namespaces with real agents, nftables and sshd (root only).
#   bench/run.sh [latency] [posture]   (default: latency; BENCH_HOSTS=20 BENCH_GRANTS=200; each grant at most 10 s)
#   posture: assessment of BENCH_MACHINES=100000 machines with NSGs of 50 rules, no lab needed
# Prints a markdown table; bench/README.md keeps the last results.
set -euo pipefail
cd "$(dirname "$0")/.."
scenarios=${*:-latency}
if [ "$scenarios" = posture ]; then
  dotnet publish bench/Drawbridge.Bench -c Release -o artifacts/bench --nologo -v quiet
  echo "Posture assessment of ${BENCH_MACHINES:-100000} machines, each with its own NSG of 50 rules"
  exec dotnet artifacts/bench/drawbridge-bench.dll posture --machines "${BENCH_MACHINES:-100000}" --rules 50
fi
[ "$(id -u)" -eq 0 ] || { echo "bench/run.sh latency needs root (network namespaces, nftables)" >&2; exit 1; }
hosts=${BENCH_HOSTS:-20}
grants=${BENCH_GRANTS:-200}

scripts/prerequisites.sh
scripts/publish.sh
dotnet publish bench/Drawbridge.Bench -c Release -o artifacts/bench --nologo -v quiet

prefix=dbb
dir=$(mktemp -d /tmp/drawbridge-bench.XXXXXX)
trap 'scripts/lab.sh down $prefix; [ -n "${BENCH_KEEP:-}" ] || rm -rf "$dir"' EXIT
scripts/lab.sh up $prefix "$hosts"

token="dbt_bench-owner-token-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
ip netns exec $prefix-srv env Drawbridge__DataDirectory="$dir/data" Drawbridge__Bootstrap__OwnerToken="$token" \
  Drawbridge__Jit__MinimumRequestDuration=1s Drawbridge__Limits__InitiatePerMinute=1000000 Drawbridge__Limits__MaxActiveGrantsPerUser=100000 \
  Logging__LogLevel__Default=Warning dotnet artifacts/server/drawbridge-server.dll --urls http://198.18.0.2:5080 >"$dir/server.log" 2>&1 &

export DRAWBRIDGE_CONFIG="$dir/cli.json"
cli() { ip netns exec $prefix-client artifacts/cli/drawbridge "$@"; }
for _ in $(seq 1 120); do cli login --server http://198.18.0.2:5080 --token "$token" >/dev/null 2>&1 && break; sleep 0.5; done
enroll=$(cli enroll-token create --uses "$hosts" 2>/dev/null)
for i in $(seq 1 "$hosts"); do
  ip netns exec $prefix-h"$i" artifacts/agent/drawbridge-agent enroll --server http://198.18.0.2:5080 --token "$enroll" --name "h$i" --state-dir "$dir/h$i" >/dev/null
  ip netns exec $prefix-h"$i" artifacts/agent/drawbridge-agent run --state-dir "$dir/h$i" >"$dir/h$i.log" 2>&1 &
  scripts/lab.sh sshd $prefix "h$i" "$dir/ssh"
  cli jit enable "h$i" --port 22/tcp >/dev/null
done

for scenario in $scenarios; do
  case $scenario in
    latency)
      echo "Grant latency: start of initiate -> first successful TCP connect from the client namespace ($grants grants over $hosts hosts)"
      ip netns exec $prefix-client artifacts/bench/drawbridge-bench latency --server http://198.18.0.2:5080 --token "$token" --hosts "$hosts" --grants "$grants" ${BENCH_VERBOSE:+--verbose} --pause-ms "${BENCH_PAUSE_MS:-0}"
      ;;
    posture)
      dotnet artifacts/bench/drawbridge-bench.dll posture --machines "${BENCH_MACHINES:-100000}" --rules 50
      ;;
    *) echo "unknown scenario: $scenario (latency, posture)" >&2; exit 2 ;;
  esac
done

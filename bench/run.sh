#!/usr/bin/env bash
# Benchmarks that need real hosts: a lab of network namespaces with real agents, nftables and sshd (root only).
#   bench/run.sh [latency] [close] [posture]   (default: latency; BENCH_HOSTS=20 BENCH_GRANTS=200; each grant at most 10 s)
#   latency: Drawbridge and fwknop (UDP-server and pcap mode) grants taking turns; table and bench/latency.svg
#   throughput: initiates/s on loopback, closed and open loop, SQLite and PostgreSQL (BENCH_SECONDS, BENCH_RATE,
#     BENCH_WARMUP_SECONDS=20), no lab needed
#   micro: BenchmarkDotNet micro-benchmarks (policy evaluation, prefix matching, ruleset compilation), no lab needed
#   footprint: binary sizes, CLI start-up, agent CPU and RSS when idle, agent start to first applied state
#   close: BENCH_CLOSE_GRANTS=40 grants of 2 s one after another, then one per host with server and agents killed (-9)
#   posture: assessment of BENCH_MACHINES=100000 machines with NSGs of 50 rules, no lab needed
#   fanout: BENCH_AGENTS=10000 simulated agents long-polling one server on loopback; a change reaching all, no lab needed
# Prints a markdown table; bench/README.md keeps the last results.
set -euo pipefail
cd "$(dirname "$0")/.."
scenarios=${*:-latency}
if [ "$scenarios" = micro ]; then
  # BenchmarkDotNet: policy evaluation, prefix matching, ruleset compilation (no lab needed).
  exec dotnet run -c Release --project bench/Drawbridge.Micro -- --filter '*' --job short --inProcess
fi
if [ "$scenarios" = throughput ] || [ "$scenarios" = fanout ]; then
  # Loopback scenarios, no lab needed: the published server on 127.0.0.1:5091 with its rate limits lifted (one owner
  # token makes all the load). See ThroughputBench.cs and FanoutBench.cs.
  scripts/publish.sh
  dotnet publish bench/Drawbridge.Bench -c Release -o artifacts/bench --nologo -v quiet
  dir=$(mktemp -d /tmp/drawbridge-loopback.XXXXXX)
  chmod 755 "$dir"   # PostgreSQL runs as its own user and must reach its directory inside
  token="dbt_bench-owner-token-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  trap 'kill $(cat "$dir/server.pid" 2>/dev/null) 2>/dev/null || true; scripts/postgres.sh stop "$dir/pg" 2>/dev/null || true; [ -n "${BENCH_KEEP:-}" ] || rm -rf "$dir"' EXIT
  serve() { # PROVIDER [CONNECTION]
    env Drawbridge__DataDirectory="$dir/data-$1" Drawbridge__Bootstrap__OwnerToken="$token" Drawbridge__Database__Provider="$1" \
      ${2:+Drawbridge__Database__ConnectionString="$2"} Drawbridge__Limits__InitiatePerMinute=100000000 Drawbridge__Limits__MaxActiveGrantsPerUser=100000000 \
      Drawbridge__Limits__EnrollPerMinute=1000000 Logging__LogLevel__Default=Warning dotnet artifacts/server/drawbridge-server.dll --urls http://127.0.0.1:5091 >"$dir/server-$1.log" 2>&1 &
    echo $! >"$dir/server.pid"
    for _ in $(seq 1 120); do curl -sf -H "Authorization: Bearer $token" http://127.0.0.1:5091/api/v1/whoami >/dev/null && return; sleep 0.5; done
    echo "server did not start" >&2; exit 1
  }
  if [ "$scenarios" = fanout ]; then
    ulimit -n "$(ulimit -Hn)"   # a socket per agent, on both ends (10,000 fit in the 20,000 this machine allows)
    serve Sqlite
    echo "Fan-out: ${BENCH_AGENTS:-10000} simulated agents long-polling one server (SQLite) on loopback"
    dotnet artifacts/bench/drawbridge-bench.dll fanout --server http://127.0.0.1:5091 --token "$token" --agents "${BENCH_AGENTS:-10000}" --server-pid "$(cat "$dir/server.pid")"
    exit 0
  fi
  echo "Initiate throughput (${BENCH_SECONDS:-10} s per loop after ${BENCH_WARMUP_SECONDS:-20} s of warm-up, ${BENCH_MACHINES:-20} machines without agents)"
  echo "| database | loop | initiates/s | failed | p50 ms | p99 ms | max ms | server CPU ms per initiate |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
  for provider in Sqlite PostgreSQL; do
    connection=""
    [ $provider = PostgreSQL ] && connection=$(PG_FSYNC=on scripts/postgres.sh start "$dir/pg" 55491)
    serve $provider "$connection"
    dotnet artifacts/bench/drawbridge-bench.dll throughput --server http://127.0.0.1:5091 --token "$token" --label $provider \
      --hosts "${BENCH_MACHINES:-20}" --seconds "${BENCH_SECONDS:-10}" --concurrency "${BENCH_CONCURRENCY:-16}" --rate "${BENCH_RATE:-50}" --warmup-seconds "${BENCH_WARMUP_SECONDS:-20}" --server-pid "$(cat "$dir/server.pid")"
    kill "$(cat "$dir/server.pid")"; wait "$(cat "$dir/server.pid")" 2>/dev/null || true
  done
  exit 0
fi
if [ "$scenarios" = posture ]; then
  dotnet publish bench/Drawbridge.Bench -c Release -o artifacts/bench --nologo -v quiet
  echo "Posture assessment of ${BENCH_MACHINES:-100000} machines, each with its own NSG of 50 rules"
  exec dotnet artifacts/bench/drawbridge-bench.dll posture --machines "${BENCH_MACHINES:-100000}" --rules 50
fi
[ "$(id -u)" -eq 0 ] || { echo "bench/run.sh latency needs root (network namespaces, nftables)" >&2; exit 1; }
hosts=${BENCH_HOSTS:-20}
grants=${BENCH_GRANTS:-200}

scripts/prerequisites.sh
# fwknop, the single packet authorization daemon the latency scenario compares with (bench only, not for the tests).
command -v fwknopd >/dev/null && command -v fwknop >/dev/null && command -v iptables >/dev/null \
  || DEBIAN_FRONTEND=noninteractive apt-get install -y -q fwknop-server fwknop-client iptables >/dev/null
scripts/publish.sh
dotnet publish bench/Drawbridge.Bench -c Release -o artifacts/bench --nologo -v quiet

prefix=dbb
dir=$(mktemp -d /tmp/drawbridge-bench.XXXXXX)
trap 'scripts/lab.sh down $prefix; [ -n "${BENCH_KEEP:-}" ] || rm -rf "$dir"' EXIT
# Two more hosts for fwknop: h(N+1) with fwknopd in UDP-server mode, h(N+2) in its default pcap mode.
scripts/lab.sh up $prefix $((hosts + 2))

token="dbt_bench-owner-token-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
# Every process the lab runs is recorded in $dir/pids, so the close scenario can kill exactly these.
start_server() {
  ip netns exec $prefix-srv env Drawbridge__DataDirectory="$dir/data" Drawbridge__Bootstrap__OwnerToken="$token" \
    Drawbridge__Jit__MinimumRequestDuration=1s Drawbridge__Limits__InitiatePerMinute=1000000 Drawbridge__Limits__MaxActiveGrantsPerUser=100000 \
    Logging__LogLevel__Default=Warning dotnet artifacts/server/drawbridge-server.dll --urls http://198.18.0.2:5080 >>"$dir/server.log" 2>&1 &
  disown   # the close scenario kills it with -9
  echo $! >>"$dir/pids"
}
start_agent() {
  ip netns exec $prefix-h"$1" artifacts/agent/drawbridge-agent run --state-dir "$dir/h$1" >>"$dir/h$1.log" 2>&1 &
  disown   # killed by the close and footprint scenarios; no "Killed" report from this shell
  echo $! >>"$dir/pids"
  echo $! >"$dir/h$1.pid"
}
# fwknopd guards TCP 22 of host NUMBER (iptables drops it; fwknopd inserts its chain before that rule), HMAC + AES keys.
start_fwknopd() { # NUMBER udp|pcap
  local ns=$prefix-h$1 d="$dir/fwknop-h$1"
  mkdir -p "$d/run"
  { echo "SOURCE ANY"; echo "OPEN_PORTS tcp/22"; echo "FW_ACCESS_TIMEOUT 30"
    sed -n 's/^\(KEY_BASE64\|HMAC_KEY_BASE64\): */\1 /p' "$dir/fwknop.keys"; } >"$d/access.conf"
  { echo "PCAP_INTF eth0"; echo "FWKNOP_RUN_DIR $d/run"; if [ "$2" = udp ]; then echo "ENABLE_UDP_SERVER Y"; fi; } >"$d/fwknopd.conf"
  chmod 600 "$d/access.conf" "$d/fwknopd.conf"
  ip netns exec "$ns" iptables -A INPUT -p tcp --dport 22 -j DROP
  ip netns exec "$ns" fwknopd -f -c "$d/fwknopd.conf" -a "$d/access.conf" -d "$d/digest.cache" -p "$d/run/fwknopd.pid" >"$d/fwknopd.log" 2>&1 &
  disown   # ended with its namespace by lab.sh down
  for _ in $(seq 1 100); do ip netns exec "$ns" iptables -w -C INPUT -j FWKNOP_INPUT 2>/dev/null && break; sleep 0.1; done
  scripts/lab.sh sshd $prefix "h$1" "$dir/ssh"
}
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
wait_server() { for _ in $(seq 1 120); do cli login --server http://198.18.0.2:5080 --token "$token" >/dev/null 2>&1 && return; sleep 0.5; done; }
start_server

export DRAWBRIDGE_CONFIG="$dir/cli.json"
cli() { ip netns exec $prefix-client artifacts/cli/drawbridge "$@"; }
wait_server
enroll=$(cli enroll-token create --uses "$hosts" 2>/dev/null)
for i in $(seq 1 "$hosts"); do
  ip netns exec $prefix-h"$i" artifacts/agent/drawbridge-agent enroll --server http://198.18.0.2:5080 --token "$enroll" --name "h$i" --state-dir "$dir/h$i" >/dev/null
  start_agent "$i"
  scripts/lab.sh sshd $prefix "h$i" "$dir/ssh"
  cli jit enable "h$i" --port 22/tcp >/dev/null
done

for scenario in $scenarios; do
  case $scenario in
    latency)
      fwknop --no-rc-file --key-gen --use-hmac >"$dir/fwknop.keys"
      start_fwknopd $((hosts + 1)) udp
      start_fwknopd $((hosts + 2)) pcap
      echo "Grant latency: start of the request -> first successful TCP connect from the client namespace ($grants grants each; Drawbridge over $hosts hosts)"
      ip netns exec $prefix-client artifacts/bench/drawbridge-bench latency --server http://198.18.0.2:5080 --token "$token" --hosts "$hosts" --grants "$grants" \
        --fwknop "udp server:198.18.0.$((10 + hosts + 1)):$prefix-h$((hosts + 1))" --fwknop "pcap:198.18.0.$((10 + hosts + 2)):$prefix-h$((hosts + 2))" \
        --fwknop-keys "$dir/fwknop.keys" --chart bench/latency.svg --warmup "${BENCH_WARMUP:-50}" ${BENCH_VERBOSE:+--verbose}
      ;;
    close)
      echo "Close precision: first refused connect after a grant's end time, ms (negative: before it); last successful connect"
      echo "| case | grants | closed min | closed p50 | closed p99 | closed max | last open p99 | last open max |"
      echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
      ip netns exec $prefix-client artifacts/bench/drawbridge-bench close --server http://198.18.0.2:5080 --token "$token" --hosts "$hosts" --grants "${BENCH_CLOSE_GRANTS:-40}" | tail -1
      ip netns exec $prefix-client artifacts/bench/drawbridge-bench close --server http://198.18.0.2:5080 --token "$token" --hosts "$hosts" --kill-pids "$dir/pids" | tail -1
      : >"$dir/pids"
      start_server
      wait_server
      for i in $(seq 1 "$hosts"); do start_agent "$i"; done
      ;;
    footprint)
      echo "Footprint (agent h1 of the lab; CLI and agent are NativeAOT binaries)"
      echo "| measure | value |"
      echo "| --- | --- |"
      echo "| agent binary | $(( $(stat -c %s artifacts/agent/drawbridge-agent) / 1024 / 1024 )) MiB |"
      echo "| CLI binary | $(( $(stat -c %s artifacts/cli/drawbridge) / 1024 / 1024 )) MiB |"
      runs=()
      # $EPOCHREALTIME is a bash builtin: no process of its own inside the measured interval.
      for _ in $(seq 1 21); do t0=$EPOCHREALTIME; artifacts/cli/drawbridge --version >/dev/null; t1=$EPOCHREALTIME; runs+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) * 1000 }')"); done
      echo "| CLI \`--version\`, median of 21 | $(printf '%s\n' "${runs[@]}" | sort -n | sed -n 11p) ms |"
      pid=$(cat "$dir/h1.pid")
      ticks=$(getconf CLK_TCK)
      cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
      c0=$(cpu "$pid"); sleep 10; c1=$(cpu "$pid")
      echo "| agent CPU when idle (10 s) | $(awk -v d=$((c1 - c0)) -v t="$ticks" 'BEGIN { printf "%.2f", 100 * d / t / 10 }') % |"
      echo "| agent RSS idle | $(awk '/VmRSS/ { printf "%.1f", $2/1024 }' "/proc/$pid/status") MiB |"
      echo "| agent peak RSS since start (after the scenarios before this one) | $(awk '/VmHWM/ { printf "%.1f", $2/1024 }' "/proc/$pid/status") MiB |"
      kill "$pid"; sleep 0.5
      lines=$(grep -c "Applied state version" "$dir/h1.log" || true)
      t0=$(now_ms); start_agent 1
      for _ in $(seq 1 2000); do [ "$(grep -c "Applied state version" "$dir/h1.log" || true)" -gt "$lines" ] && break; sleep 0.005; done
      echo "| agent start to first applied state | $(( $(now_ms) - t0 )) ms |"
      ;;
    posture)
      dotnet artifacts/bench/drawbridge-bench.dll posture --machines "${BENCH_MACHINES:-100000}" --rules 50
      ;;
    *) echo "unknown scenario: $scenario (latency, close, footprint, posture; throughput, fanout and micro run alone)" >&2; exit 2 ;;
  esac
done

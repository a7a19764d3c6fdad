#!/usr/bin/env bash
# Builds Drawbridge and runs the server with embedded SQLite on http://127.0.0.1:5080 (state in ./data).
# As root with nftables, it also starts a demo lab: hosts lab-h1..lab-h3 in network namespaces, each running the
# real agent and sshd with JIT on port 22, and a client namespace to request access from (data/lab/drawbridge).
# Ctrl-C stops everything and removes the lab; ./data keeps the database for the next start.
set -euo pipefail
cd "$(dirname "$0")"
root=$PWD

scripts/prerequisites.sh
echo "Building..."
scripts/publish.sh

mkdir -p data && chmod 700 data
if [ ! -s data/owner.token ]; then
  (umask 077; echo "dbt_$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')" > data/owner.token)
fi
owner=$(cat data/owner.token)
cli="$root/artifacts/cli/drawbridge"
agent="$root/artifacts/agent/drawbridge-agent"
export DRAWBRIDGE_CONFIG="$root/data/cli.json"

lab=no
urls="http://127.0.0.1:5080"
if [ "$(id -u)" -eq 0 ] && command -v nft >/dev/null && [ -x /usr/sbin/sshd ] && [ "${DRAWBRIDGE_LAB:-1}" = 1 ]; then
  lab=yes
  urls="$urls;http://198.18.0.1:5080"
  scripts/lab.sh up dbl 3 --root-link
fi

pids=()
cleanup() {
  [ ${#pids[@]} -gt 0 ] && kill "${pids[@]}" 2>/dev/null || true
  if [ "$lab" = yes ]; then scripts/lab.sh down dbl; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

Drawbridge__DataDirectory="$root/data" Drawbridge__Bootstrap__OwnerToken="$owner" \
  dotnet artifacts/server/drawbridge-server.dll --urls "$urls" &
pids+=($!)

for _ in $(seq 1 120); do
  "$cli" login --server http://127.0.0.1:5080 --token "$owner" >/dev/null 2>&1 && break
  sleep 0.5
done
"$cli" login --server http://127.0.0.1:5080 --token "$owner" >/dev/null

# A web UI account (Owner) the first time; its password stays in data/admin.password.
if [ ! -s data/admin.password ]; then
  (umask 077; head -c 18 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' > data/admin.password)
  "$cli" user add admin --password-stdin < data/admin.password >/dev/null
  "$cli" role assign admin Owner >/dev/null
fi

if [ "$lab" = yes ]; then
  mkdir -p data/lab
  token=$("$cli" enroll-token create --uses 3 2>/dev/null)
  for i in 1 2 3; do
    name=lab-h$i ns=dbl-h$i state="$root/data/lab/lab-h$i"
    [ -f "$state/agent.json" ] || ip netns exec "$ns" "$agent" enroll --server http://198.18.0.1:5080 --token "$token" --name "$name" --state-dir "$state" >/dev/null
    ip netns exec "$ns" "$agent" run --state-dir "$state" >"data/lab/$name.log" 2>&1 &
    pids+=($!)
    scripts/lab.sh sshd dbl "h$i" data/lab
    "$cli" jit enable "$name" --port 22/tcp >/dev/null
  done
  cat > data/lab/drawbridge <<WRAP
#!/bin/sh
# The drawbridge CLI as a user in the lab's client namespace (198.18.0.100).
exec ip netns exec dbl-client env DRAWBRIDGE_CONFIG="$root/data/lab/client.json" "$cli" "\$@"
WRAP
  chmod +x data/lab/drawbridge
  data/lab/drawbridge login --server http://198.18.0.1:5080 --token "$owner" >/dev/null
fi

cat <<TEXT

Drawbridge is running on http://127.0.0.1:5080 (SQLite in $root/data).
  web UI:           http://127.0.0.1:5080   user admin, password in $root/data/admin.password
  owner API token:  $root/data/owner.token   (this shell's CLI is logged in: $cli)
  add a machine:    $cli enroll-token create   then on the host: drawbridge-agent enroll --server URL --token TOKEN
TEXT
if [ "$lab" = yes ]; then
  cat <<TEXT

Demo lab: lab-h1, lab-h2, lab-h3 run real agents and sshd; port 22 is closed until you ask. In a browser on this
machine open http://198.18.0.1:5080 (your address on the lab network), request access on a lab host, then
  ssh -i $root/data/lab/id_ed25519 -o StrictHostKeyChecking=no root@198.18.0.11
Or, in another shell:
  $root/data/lab/drawbridge vm list
  $root/data/lab/drawbridge ssh lab-h1 --duration 10m -- -i $root/data/lab/id_ed25519 -o StrictHostKeyChecking=no -l root
  $root/data/lab/drawbridge requests list --active
TEXT
fi
echo
echo "Press Ctrl-C to stop."
wait "${pids[0]}"

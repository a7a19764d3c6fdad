#!/usr/bin/env bash
# Lab network of Drawbridge hosts in network namespaces, on one private bridge.
#
#   scripts/lab.sh up PREFIX HOSTS [--root-link]   create PREFIX-lan (bridge), PREFIX-srv, PREFIX-h1..hN,
#                                                  PREFIX-client and PREFIX-other
#   scripts/lab.sh down PREFIX                     remove every namespace named PREFIX-* (and what runs in them)
#   scripts/lab.sh sshd PREFIX HOST DIR            run a real sshd on port 22 of PREFIX-HOST: key login only, with
#                                                  the host key, client key (DIR/id_ed25519) and config kept in DIR
#
# Addresses come from 198.18.0.0/24 and fd00:db::/64 (benchmarking and unique-local ranges) and exist only
# inside these namespaces; --root-link also gives this host 198.18.0.1 on the lab bridge, for the demo server.
#   srv .2   h1..hN .11..   client .100   other .101
set -euo pipefail

addr4() { echo "198.18.0.$1"; }
addr6() { echo "fd00:db::$1"; }

attach() { # PREFIX NAME OCTET: a namespace with eth0 on the lab bridge
  local prefix=$1 name=$2 octet=$3 ns="$1-$2"
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip -n "$prefix-lan" link add "v-$name" type veth peer name eth0 netns "$ns"
  ip -n "$prefix-lan" link set "v-$name" master br0 up
  ip -n "$ns" addr add "$(addr4 "$octet")/24" dev eth0
  ip -n "$ns" addr add "$(addr6 "$octet")/64" dev eth0 nodad
  ip -n "$ns" link set eth0 up
}

up() {
  local prefix=$1 hosts=$2 root_link=${3:-}
  ip netns add "$prefix-lan"
  ip -n "$prefix-lan" link add br0 type bridge
  ip -n "$prefix-lan" link set br0 up
  attach "$prefix" srv 2
  for i in $(seq 1 "$hosts"); do attach "$prefix" "h$i" $((10 + i)); done
  attach "$prefix" client 100
  attach "$prefix" other 101
  if [ "$root_link" = "--root-link" ]; then
    ip link add "$prefix-host" type veth peer name v-host netns "$prefix-lan"
    ip -n "$prefix-lan" link set v-host master br0 up
    ip addr add "$(addr4 1)/24" dev "$prefix-host"
    ip link set "$prefix-host" up
  fi
}

sshd() {
  local ns="$1-$2" dir=$3
  mkdir -p "$dir" /run/sshd
  [ -f "$dir/host_key" ] || ssh-keygen -q -t ed25519 -N "" -f "$dir/host_key"
  [ -f "$dir/id_ed25519" ] || ssh-keygen -q -t ed25519 -N "" -f "$dir/id_ed25519"
  cp "$dir/id_ed25519.pub" "$dir/authorized_keys"
  cat > "$dir/sshd_config" <<CONF
Port 22
ListenAddress 0.0.0.0
ListenAddress ::
HostKey $dir/host_key
AuthorizedKeysFile $dir/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile none
CONF
  # Daemonizes; 'down' ends it with the namespace.
  ip netns exec "$ns" /usr/sbin/sshd -f "$dir/sshd_config" -E "$dir/sshd-$2.log"
}

down() {
  local prefix=$1
  ip link del "$prefix-host" 2>/dev/null || true
  for ns in $(ip netns list | awk '{print $1}' | grep -E "^$prefix-" || true); do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del "$ns"
  done
}

case "${1:-}" in
  up) [ $# -ge 3 ] || { echo "usage: $0 up PREFIX HOSTS [--root-link]" >&2; exit 2; }; down "$2"; up "$2" "$3" "${4:-}" ;;
  down) [ $# -eq 2 ] || { echo "usage: $0 down PREFIX" >&2; exit 2; }; down "$2" ;;
  sshd) [ $# -eq 4 ] || { echo "usage: $0 sshd PREFIX HOST DIR" >&2; exit 2; }; sshd "$2" "$3" "$(realpath -m "$4")" ;;
  *) echo "usage: $0 up PREFIX HOSTS [--root-link] | down PREFIX | sshd PREFIX HOST DIR" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# Installs what building and testing Drawbridge needs on Debian/Ubuntu, when run as root; otherwise says what is missing.
#   nftables, iproute2     enforcement and the lab network
#   openssh-server         real sshd on lab hosts
#   clang, zlib1g-dev      NativeAOT linking of the agent and CLI
#   postgresql             the PostgreSQL test server (only its binaries are used)
#   nodejs, npm            Azure's JavaScript SDKs, driving the server in tests/azure-sdk
#   python3-azure          Azure's Python SDKs (Debian's build), the same
#   openssl                the test certificate authority for those HTTPS tests
#   chromium, fonts-liberation  Debian's browser, driven by Playwright in the web UI tests (no browser download)
set -euo pipefail

missing=()
command -v nft >/dev/null 2>&1 || missing+=(nftables)
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
command -v clang >/dev/null 2>&1 || missing+=(clang)
[ -f /usr/include/zlib.h ] || missing+=(zlib1g-dev)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
[ -d /usr/lib/python3/dist-packages/azure/mgmt/security ] || missing+=(python3-azure)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -d /usr/share/fonts/truetype/liberation ] || missing+=(fonts-liberation)

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "Missing packages: ${missing[*]} (install them, or run as root on Debian to have them installed)." >&2
  fi
fi

command -v dotnet >/dev/null 2>&1 || { echo "The .NET 10 SDK is required (dotnet not found)." >&2; exit 1; }

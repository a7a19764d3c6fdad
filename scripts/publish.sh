#!/usr/bin/env bash
# Publishes the three programs into artifacts/: the server (framework-dependent), agent and CLI (NativeAOT).
set -euo pipefail
cd "$(dirname "$0")/.."
rid=linux-$(uname -m | sed 's/x86_64/x64/;s/aarch64/arm64/')
dotnet publish src/Drawbridge.Server -c Release -o artifacts/server --nologo -v quiet
dotnet publish src/Drawbridge.Agent -c Release -r "$rid" -o artifacts/agent --nologo -v quiet
dotnet publish src/Drawbridge.Cli -c Release -r "$rid" -o artifacts/cli --nologo -v quiet

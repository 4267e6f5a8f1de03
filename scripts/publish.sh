#!/bin/sh
# publish.sh server|cli DIR: builds the broker (or the CLI) ahead-of-time compiled (ReadyToRun, framework-dependent,
# for this machine's architecture) into DIR. Its first backup, restore or rebuild, and every CLI command, then run
# precompiled code instead of waiting for the JIT (docs/benchmarks.md, "ReadyToRun"). Incremental: seconds when nothing
# changed. ReadyToRun needs the crossgen and runtime packs from NuGet; where they cannot be had (an offline machine
# without them cached), the same build is published JIT-compiled, which only starts slower.
set -eu
cd "$(dirname "$0")/.."
case "$1" in
  server) project=src/Steward.Server/Steward.Server.csproj ;;
  cli) project=src/Steward.Cli/Steward.Cli.csproj ;;
  *) echo "usage: publish.sh server|cli DIR" >&2; exit 2 ;;
esac
case "$(uname -m)" in
  aarch64|arm64) rid=linux-arm64 ;;
  *) rid=linux-x64 ;;
esac
if ! dotnet publish "$project" -c Release -r "$rid" --self-contained false -p:PublishReadyToRun=true -o "$2" -nologo -clp:ErrorsOnly >&2; then
  echo "publish.sh: ReadyToRun publishing failed (above); publishing $1 without it" >&2
  dotnet publish "$project" -c Release --self-contained false -o "$2" -nologo -clp:ErrorsOnly >&2
fi

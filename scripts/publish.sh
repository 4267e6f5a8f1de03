#!/bin/sh
# publish.sh server|cli DIR: builds the broker (or the CLI) ahead-of-time compiled (ReadyToRun, framework-dependent,
# linux-x64) into DIR. Its first backup, restore or rebuild, and every CLI command, then run precompiled code instead
# of waiting for the JIT (docs/benchmarks.md, "ReadyToRun"). Incremental: seconds when nothing changed.
set -eu
cd "$(dirname "$0")/.."
case "$1" in
  server) project=src/Steward.Server/Steward.Server.csproj ;;
  cli) project=src/Steward.Cli/Steward.Cli.csproj ;;
  *) echo "usage: publish.sh server|cli DIR" >&2; exit 2 ;;
esac
exec dotnet publish "$project" -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true -o "$2" -nologo -clp:ErrorsOnly >&2

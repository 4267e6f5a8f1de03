#!/bin/sh
# Builds and starts the Steward broker with its embedded defaults:
#   SQLite state, local processes, data under /var/lib/steward (as root) or ~/.local/share/steward.
# Settings come from STEWARD_* environment variables (see README). Safe to run again.
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh
sh scripts/publish.sh server .build/server
sh scripts/publish.sh cli .build/cli
echo "steward: broker starting; use ./steward (the CLI) in another terminal" >&2
exec dotnet .build/server/steward-server.dll "$@"

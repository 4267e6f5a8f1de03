#!/bin/sh
# Installs what Steward needs on Debian 12, only what is missing; safe to run again.
#   sh scripts/install-deps.sh          servers and tools for running Steward
#   sh scripts/install-deps.sh --test   plus what the test suite needs (Node.js for the S3 test server,
#                                       promtool from prometheus, chromium for the dashboard browser tests,
#                                       jq for the documented stock-tool restore of incremental backups,
#                                       b3sum to check Steward's BLAKE3 plaintext digests independently)
#   sh scripts/install-deps.sh --bench  plus what the benchmarks compare against (Patroni with etcd)
set -eu

packages="postgresql-15 postgresql-client-15 redis-server redis-tools haproxy zstd libzstd1 age util-linux procps tzdata curl"
if [ "${1:-}" = "--test" ]; then
  packages="$packages nodejs npm prometheus chromium jq b3sum"
fi
if [ "${1:-}" = "--bench" ]; then
  packages="$packages patroni etcd-server python3-etcd"
fi

missing=""
for p in $packages; do
  # A Node.js that came with the machine serves as well as Debian's.
  case "$p" in
    nodejs) command -v node >/dev/null 2>&1 && continue ;;
    npm) command -v npm >/dev/null 2>&1 && continue ;;
  esac
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done

if [ -n "$missing" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "steward: missing Debian packages:$missing; run this script as root or: sudo apt-get install$missing" >&2
    exit 1
  fi
  echo "steward: installing Debian packages:$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # The packages' own services are not used: Steward runs its own servers.
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# The unprivileged system user instances run as when Steward is root (STEWARD_SERVICE_USER, default steward).
# Created here, once, under the lock every broker takes before it creates an account itself; looked up through
# the name service (getent), as the broker does.
user="${STEWARD_SERVICE_USER:-steward}"
if [ "$(id -u)" -eq 0 ] && ! getent passwd "$user" >/dev/null 2>&1; then
  mkdir -p /run/lock
  flock /run/lock/steward-accounts.lock sh -c '
    getent passwd "$1" >/dev/null 2>&1 && exit 0
    echo "steward: creating system user $1" >&2
    useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$1"
  ' sh "$user"
  getent passwd "$user" >/dev/null 2>&1 || { echo "steward: could not create system user $user" >&2; exit 1; }
fi

if ! command -v dotnet >/dev/null 2>&1; then
  echo "steward: the .NET 10 SDK is required (dotnet not found on PATH); Debian does not package it: install it from Microsoft's packages" >&2
  exit 1
fi

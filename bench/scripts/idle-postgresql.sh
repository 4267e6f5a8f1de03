#!/bin/sh
# Idle PostgreSQL probe (docs/benchmarks.md, density): one steward-server with $N PostgreSQL `standalone` instances
# and nothing asked of them. After $SETTLE s it records, over $WINDOWS windows of $SAMPLE s, the broker's CPU
# (user+system ticks from /proc/PID/stat: CPU seconds, which a loaded machine inflates less than wall times) and
# how many WAL segments the instances archived in that time. Extra settings pass through the environment, e.g.
# STEWARD_POSTGRESQL_HEARTBEAT_INTERVAL=0 for a heartbeat commit at every check, or
# STEWARD_POSTGRESQL_CHECK_RECONNECT_INTERVAL=0 for a new connection at every check. Run as root after a Release build:
#   N=10 sh bench/scripts/idle-postgresql.sh
set -eu
DLL=${DLL:-src/Steward.Server/bin/Release/net10.0/steward-server.dll}
N=${N:-10}; SAMPLE=${SAMPLE:-20}; SETTLE=${SETTLE:-60}; WINDOWS=${WINDOWS:-6}
ROOT=$(mktemp -d /tmp/steward-idle.XXXXXX); chmod 711 "$ROOT"
PORT=${PORT:-48091}; URL=http://127.0.0.1:$PORT; AUTH=platform:idle-$$
PG="5d2f7a3e-3c1b-4e0a-9d57-8f0a1c2b3d4e 7c8e9f10-2a3b-4c5d-8e6f-0a1b2c3d4e5f"
STEWARD_DATA_DIR=$ROOT/data STEWARD_LISTEN=$URL STEWARD_PORT_RANGE=${PORTS:-22000-22999} STEWARD_BROKER_USERNAME=platform \
  STEWARD_BROKER_PASSWORD=idle-$$ STEWARD_POOL_POSTGRESQL_SIZE=0 dotnet "$DLL" > "$ROOT/broker.log" 2>&1 &
BROKER=$!
trap 'kill -9 $BROKER 2>/dev/null; for p in $(ls /proc | grep -E "^[0-9]+$"); do case "$(readlink /proc/$p/cwd 2>/dev/null)" in "$ROOT"/*) kill -9 $p 2>/dev/null;; esac; done; rm -rf "$ROOT"' EXIT
until curl -sf -u $AUTH -H 'X-Broker-API-Version: 2.17' $URL/v2/catalog >/dev/null; do sleep 0.2; done
export AUTH URL PG
seq 1 "$N" | xargs -P 4 -I{} sh -c '
  set -- $PG
  curl -sf -u "$AUTH" -H "X-Broker-API-Version: 2.17" -X PUT "$URL/v2/service_instances/i{}?accepts_incomplete=true" -H "Content-Type: application/json" -d "{\"service_id\":\"$1\",\"plan_id\":\"$2\",\"organization_guid\":\"o\",\"space_guid\":\"s\"}" >/dev/null
  until curl -sf -u "$AUTH" -H "X-Broker-API-Version: 2.17" "$URL/v2/service_instances/i{}/last_operation" | grep -q succeeded; do sleep 0.2; done'
segments() { t=0; for i in $(seq 1 "$N"); do c=$(curl -sf -u $AUTH "$URL/api/v1/instances/i$i/wal/files" | grep -o '"kind":"segment"' | wc -l); t=$((t + c)); done; echo $t; }
ticks() { awk '{print $14+$15}' /proc/$BROKER/stat; }
hz=$(getconf CLK_TCK)
sleep "$SETTLE"
s0=$(segments); t0=$(ticks); windows=""
for w in $(seq 1 "$WINDOWS"); do
  a=$(ticks); sleep "$SAMPLE"; b=$(ticks)
  windows="$windows $(awk "BEGIN{printf \"%.1f\", ($b-$a)/$hz/$SAMPLE*100}")"
done
t1=$(ticks); s1=$(segments)
echo "N=$N heartbeat_interval=${STEWARD_POSTGRESQL_HEARTBEAT_INTERVAL:-default} check_reconnect_interval=${STEWARD_POSTGRESQL_CHECK_RECONNECT_INTERVAL:-default} cpu_percent_windows:$windows cpu_seconds=$(awk "BEGIN{printf \"%.2f\", ($t1-$t0)/$hz}") over $((WINDOWS * SAMPLE)) s, segments_archived=$((s1 - s0)) load=$(cut -d' ' -f1-3 /proc/loadavg)"

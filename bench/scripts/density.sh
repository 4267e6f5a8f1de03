#!/bin/sh
# Density probe: one steward-server, instances ramped to each level in $LEVELS (every 11th a PostgreSQL `standalone`,
# the others Redis `standalone`: 500 Redis + 50 PostgreSQL at 550). At each level, after $SETTLE s, it records the
# broker's CPU with nothing asked of it (over $SAMPLE s), its RSS, the state store's size, the median time to provision
# one more Redis and one more PostgreSQL instance (p50 of $PROBES provisions of each, one at a time: a single provision
# varies by 2x between runs), and how long the supervisor takes to open an incident for a Redis server killed with
# SIGKILL. Run as root after `dotnet build -c Release` (DLL=... runs another build, e.g. for an A/B comparison):
#   LEVELS="1 100 250 550" sh bench/scripts/density.sh
# The settle time matters: for about half a minute after a burst of provisioning the JIT recompiles hot methods
# (tiered compilation), which shows as broker CPU that has nothing to do with the instance count. Instance ports are
# taken from 20000-21999, outside the kernel's ephemeral range, where the probe's own curl connections would take them.
# PROFILE=DIR records a CPU profile of the broker (perf record -F 499 -g, 20 s) at each level during the settle's last
# 25 s, before the idle windows, into DIR/perf-LEVEL.data; run with DOTNET_PerfMapEnabled=1 to name .NET frames.
set -eu
DLL=${DLL:-src/Steward.Server/bin/Release/net10.0/steward-server.dll}
LEVELS=${LEVELS:-"1 100 250 550"}
SAMPLE=${SAMPLE:-20}
SETTLE=${SETTLE:-60}
PROBES=${PROBES:-9}
ROOT=$(mktemp -d /tmp/steward-density.XXXXXX); chmod 711 "$ROOT"
PORT=48090; URL=http://127.0.0.1:$PORT; AUTH=platform:density-$$
REDIS="b3c4d5e6-f7a8-4b9c-8d0e-1f2a3b4c5d6e c4d5e6f7-a8b9-4c0d-9e1f-2a3b4c5d6e7f"
PG="5d2f7a3e-3c1b-4e0a-9d57-8f0a1c2b3d4e 7c8e9f10-2a3b-4c5d-8e6f-0a1b2c3d4e5f"
ulimit -n 65536 2>/dev/null || true
STEWARD_DATA_DIR=$ROOT/data STEWARD_LISTEN=$URL STEWARD_PORT_RANGE=20000-21999 STEWARD_BROKER_USERNAME=platform \
  STEWARD_BROKER_PASSWORD=density-$$ STEWARD_POOL_POSTGRESQL_SIZE=0 dotnet "$DLL" > "$ROOT/broker.log" 2>&1 &
BROKER=$!
trap 'kill -9 $BROKER 2>/dev/null; for p in $(ls /proc | grep -E "^[0-9]+$"); do case "$(readlink /proc/$p/cwd 2>/dev/null)" in "$ROOT"/*) kill -9 $p 2>/dev/null;; esac; done; rm -rf "$ROOT"' EXIT
until curl -sf -u $AUTH -H 'X-Broker-API-Version: 2.17' $URL/v2/catalog >/dev/null; do sleep 0.2; done
ms() { date +%s%3N; }
provision() { # id service plan → returns when succeeded
  curl -sf -u $AUTH -H 'X-Broker-API-Version: 2.17' -X PUT "$URL/v2/service_instances/$1?accepts_incomplete=true" \
    -H 'Content-Type: application/json' -d "{\"service_id\":\"$2\",\"plan_id\":\"$3\",\"organization_guid\":\"o\",\"space_guid\":\"s\"}" >/dev/null
  until curl -sf -u $AUTH -H 'X-Broker-API-Version: 2.17' "$URL/v2/service_instances/$1/last_operation" | grep -q '"succeeded"'; do sleep 0.015; done
}
p50() { sort -n | awk '{v[NR]=$1} END{print v[int((NR+1)/2)]}'; }
probe() { # service plan prefix → p50 in ms of $PROBES provisions
  i=0; while [ $i -lt "$PROBES" ]; do i=$((i + 1)); a=$(ms); provision "$3$i" "$1" "$2"; b=$(ms); echo $((b - a)); done | p50
}
ticks() { awk '{print $14+$15}' /proc/$BROKER/stat; }
cpu() { t0=$(ticks); sleep "$SAMPLE"; t1=$(ticks); awk "BEGIN{printf \"%.1f\", ($t1-$t0)/$(getconf CLK_TCK)/$SAMPLE*100}"; }
export AUTH URL REDIS PG
count=0; extra=0
echo "| instances (Redis + PostgreSQL) | broker CPU idle, % of one core (after ${SETTLE} s / $((SETTLE + SAMPLE)) s) | broker RSS (MiB) | state store (KiB) | one more Redis, p50 of $PROBES (ms) | one more PostgreSQL, p50 of $PROBES (ms) | SIGKILL → incident (ms) | load average |"
echo "|---|---|---|---|---|---|---|---|"
for level in $LEVELS; do
  while [ $count -lt "$level" ]; do count=$((count + 1)); echo "$count"; done | xargs -P 8 -I{} sh -c '
    if [ $(({} % 11)) -eq 0 ]; then set -- $PG; else set -- $REDIS; fi
    curl -sf -u "$AUTH" -H "X-Broker-API-Version: 2.17" -X PUT "$URL/v2/service_instances/d{}?accepts_incomplete=true" -H "Content-Type: application/json" -d "{\"service_id\":\"$1\",\"plan_id\":\"$2\",\"organization_guid\":\"o\",\"space_guid\":\"s\"}" >/dev/null
    until curl -sf -u "$AUTH" -H "X-Broker-API-Version: 2.17" "$URL/v2/service_instances/d{}/last_operation" | grep -q succeeded; do sleep 0.1; done'
  count=$level # the loop above ran in the pipeline's subshell
  pg=$((count / 11 + extra / 2)); redis=$((count - count / 11 + extra / 2))
  if [ -n "${PROFILE:-}" ] && [ "$SETTLE" -gt 25 ]; then
    sleep $((SETTLE - 25)); perf record -q -F 499 -g -p $BROKER -o "$PROFILE/perf-$level.data" -- sleep 20 >/dev/null 2>&1; sleep 5
  else
    sleep "$SETTLE"
  fi
  cpu1=$(cpu); cpu2=$(cpu)
  rss=$(awk '/VmRSS/{printf "%.0f", $2/1024}' /proc/$BROKER/status)
  db=$(du -k "$ROOT/data/steward.db" | cut -f1)
  provr=$(probe $REDIS "r$level-"); provp=$(probe $PG "p$level-"); extra=$((extra + 2 * PROBES))
  pid=$(curl -sf -u $AUTH "$URL/api/v1/instances/d1" | sed -n 's/.*"pid":\([0-9]*\).*/\1/p' | head -1)
  before=$(curl -sf -u $AUTH "$URL/api/v1/incidents?instance=d1" | grep -o '"id"' | wc -l)
  k=$(ms); kill -9 "$pid"
  until [ "$(curl -sf -u $AUTH "$URL/api/v1/incidents?instance=d1" | grep -o '"id"' | wc -l)" -gt "$before" ]; do sleep 0.01; done
  d=$(( $(ms) - k ))
  echo "| $((redis + pg)) ($redis + $pg) | $cpu1 / $cpu2 | $rss | $db | $provr | $provp | $d | $(cut -d' ' -f1-3 /proc/loadavg) |"
  sleep 5 # the killed server is restarted before the next level
done

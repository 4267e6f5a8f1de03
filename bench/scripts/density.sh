#!/bin/sh
# Density probe: one steward-server, Redis instances ramped to each level in $LEVELS; at each level it records broker
# CPU (idle, over $SAMPLE s), RSS, state-store size, the time to provision one more Redis instance, and how long the
# supervisor takes to open an incident for a Redis server killed with SIGKILL. Run as root after `dotnet build`:
#   LEVELS="1 100" sh bench/scripts/density.sh
set -eu
DLL=${DLL:-src/Steward.Server/bin/Release/net10.0/steward-server.dll}
LEVELS=${LEVELS:-"1 100 250"}
SAMPLE=${SAMPLE:-20}
ROOT=$(mktemp -d /tmp/steward-density.XXXXXX); chmod 711 "$ROOT"
PORT=48090; URL=http://127.0.0.1:$PORT; AUTH=platform:density-$$
S=b3c4d5e6-f7a8-4b9c-8d0e-1f2a3b4c5d6e; P=c4d5e6f7-a8b9-4c0d-9e1f-2a3b4c5d6e7f
STEWARD_DATA_DIR=$ROOT/data STEWARD_LISTEN=$URL STEWARD_PORT_RANGE=40000-40999 STEWARD_BROKER_USERNAME=platform \
  STEWARD_BROKER_PASSWORD=density-$$ STEWARD_POOL_POSTGRESQL_SIZE=0 dotnet "$DLL" > "$ROOT/broker.log" 2>&1 &
BROKER=$!
trap 'kill -9 $BROKER 2>/dev/null; for p in $(ls /proc | grep -E "^[0-9]+$"); do case "$(readlink /proc/$p/cwd 2>/dev/null)" in "$ROOT"/*) kill -9 $p 2>/dev/null;; esac; done; rm -rf "$ROOT"' EXIT
until curl -sf -u $AUTH -H 'X-Broker-API-Version: 2.17' $URL/v2/catalog >/dev/null; do sleep 0.2; done
ms() { date +%s%3N; }
provision() { # id → waits until succeeded
  curl -sf -u $AUTH -H 'X-Broker-API-Version: 2.17' -X PUT "$URL/v2/service_instances/$1?accepts_incomplete=true" \
    -H 'Content-Type: application/json' -d "{\"service_id\":\"$S\",\"plan_id\":\"$P\",\"organization_guid\":\"o\",\"space_guid\":\"s\"}" >/dev/null
  until curl -sf -u $AUTH -H 'X-Broker-API-Version: 2.17' "$URL/v2/service_instances/$1/last_operation" | grep -q '"succeeded"'; do sleep 0.015; done
}
ticks() { awk '{print $14+$15}' /proc/$BROKER/stat; }
count=0
echo "| instances | broker CPU idle (% of one core) | broker RSS (MiB) | state store (KiB) | provision one more (ms) | SIGKILL → incident (ms) | load average |"
echo "|---|---|---|---|---|---|---|"
for level in $LEVELS; do
  while [ $count -lt "$level" ]; do count=$((count + 1)); echo "d$count"; done | xargs -P 8 -I{} sh -c 'curl -sf -u '"$AUTH"' -H "X-Broker-API-Version: 2.17" -X PUT "'"$URL"'/v2/service_instances/{}?accepts_incomplete=true" -H "Content-Type: application/json" -d "{\"service_id\":\"'"$S"'\",\"plan_id\":\"'"$P"'\",\"organization_guid\":\"o\",\"space_guid\":\"s\"}" >/dev/null; until curl -sf -u '"$AUTH"' -H "X-Broker-API-Version: 2.17" "'"$URL"'/v2/service_instances/{}/last_operation" | grep -q succeeded; do sleep 0.05; done'
  sleep 10 # let first checks settle
  t0=$(ticks); sleep "$SAMPLE"; t1=$(ticks)
  cpu=$(awk "BEGIN{printf \"%.1f\", ($t1-$t0)/$(getconf CLK_TCK)/$SAMPLE*100}")
  rss=$(awk '/VmRSS/{printf "%.0f", $2/1024}' /proc/$BROKER/status)
  db=$(du -k "$ROOT/data/steward.db" | cut -f1)
  a=$(ms); provision "extra$level"; b=$(ms); prov=$((b - a)); count=$((count + 1))
  pid=$(curl -sf -u $AUTH "$URL/api/v1/instances/d1" | sed -n 's/.*"pid":\([0-9]*\).*/\1/p' | head -1)
  before=$(curl -sf -u $AUTH "$URL/api/v1/incidents?instance=d1" | grep -o '"id"' | wc -l)
  k=$(ms); kill -9 "$pid"
  until [ "$(curl -sf -u $AUTH "$URL/api/v1/incidents?instance=d1" | grep -o '"id"' | wc -l)" -gt "$before" ]; do sleep 0.01; done
  d=$(( $(ms) - k ))
  echo "| $level | $cpu | $rss | $db | $prov | $d | $(cut -d' ' -f1-3 /proc/loadavg) |"
  sleep 5 # the killed server is restarted before the next level
done

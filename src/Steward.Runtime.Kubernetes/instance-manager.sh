#!/bin/sh
# steward instance manager ROOT USER: PID 1 of an instance's pod (the CloudNativePG approach, in a few lines).
# It starts the data service server only when the broker asks for it (ROOT/run/start.requested, written with the
# launch script ROOT/run/launch), stays its parent, writes its real exit status (code, or 128+signal) to
# ROOT/run/exit.status (with " oom-kill" when the OOM killer ended it) and never restarts it: whether and when the server starts again is the broker's supervisor's
# decision, by its rules. This process itself does not end when the server does, so Kubernetes' restart loop
# (restartPolicy: Always, CrashLoopBackOff) never sees a server failure. When the pod is terminated it stops the
# server with its own stop signal and exits once the exit status is recorded.
root=$1; user=$2
run=$root/run; log=$root/log/server.log
child=; stopping=
mkdir -p "$root/data" "$root/config" "$run" "$root/log"
chown "$user:" "$root" "$root/data" "$root/config" "$run" "$root/log"
chmod 700 "$root" "$root/data" "$root/config" "$run" "$root/log"
# A server of a previous pod (a pod deleted or evicted) does not run in this one: its pid means nothing here. When
# that pod could not record how the server ended (killed with it), the status is unknown, as for a killed shim.
if [ -f "$run/server.pid" ] && [ ! -f "$run/exit.status" ]; then
  echo "unknown" > "$run/exit.status.tmp" && mv "$run/exit.status.tmp" "$run/exit.status"
fi
rm -f "$run/server.pid"
echo "--- steward-instance-manager: pod started at $(date -u +%Y-%m-%dT%H:%M:%SZ); the server starts when the broker asks" >> "$log"
chown "$user:" "$log"
touch /tmp/steward-manager.ready

# The kernel's count of OOM kills in this container's memory cgroup (cgroup v2 memory.events, v1 memory.oom_control),
# read when the server starts and when it ends: a server killed by SIGKILL while it rose was the OOM killer's victim.
oom_kills() {
  for f in /sys/fs/cgroup/memory.events /sys/fs/cgroup/memory/memory.oom_control; do
    [ -r "$f" ] && { sed -n 's/^oom_kill //p' "$f"; return; }
  done
}

terminate() {
  stopping=1
  if [ -n "$child" ]; then
    sig=$(cat "$run/stop.signal" 2>/dev/null || echo TERM)
    echo "--- steward-instance-manager: the pod is being terminated; stopping the server with signal $sig" >> "$log"
    kill -"$sig" "$child" 2>/dev/null
  fi
}
trap terminate TERM INT
trap : USR1

while [ -z "$stopping" ] || [ -n "$child" ]; do
  if [ -z "$child" ] && [ -z "$stopping" ] && [ -f "$run/start.requested" ]; then
    rm -f "$run/start.requested" "$run/exit.status" "$run/stop.requested"
    echo "--- steward-shim: starting the server at $(date -u +%Y-%m-%dT%H:%M:%SZ)" >> "$log"
    oom=$(oom_kills)
    (cd "$root" && exec setpriv --reuid="$user" --regid="$user" --init-groups /bin/sh "$run/launch") </dev/null >> "$log" 2>&1 &
    child=$!
    echo "$child" > "$run/server.pid.tmp" && mv "$run/server.pid.tmp" "$run/server.pid"
  fi
  if [ -n "$child" ]; then
    wait "$child"
    rc=$?
    # A trap interrupts wait; the child is then still there and wait is repeated.
    if ! kill -0 "$child" 2>/dev/null; then
      now=$(oom_kills); how=
      [ "$rc" = 137 ] && [ -n "$oom" ] && [ -n "$now" ] && [ "$now" -gt "$oom" ] && how=" oom-kill"
      echo "$rc$how" > "$run/exit.status.tmp" && mv "$run/exit.status.tmp" "$run/exit.status"
      child=
    fi
  else
    sleep 1 &
    wait $! 2>/dev/null
  fi
done

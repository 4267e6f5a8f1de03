#!/bin/sh
# steward-shim RUN_DIR LOG_FILE WORK_DIR -- COMMAND [ARGS...]
# Runs a data service server in the foreground and stays its parent, so that its real exit status
# (code, or 128+signal) is written to RUN_DIR/exit.status when it ends, even if the broker is gone.
run=$1; log=$2; work=$3; shift 4
exec </dev/null >>"$log" 2>&1
# Marks where this start begins in the log, so a failure is diagnosed from this start's lines only.
echo "--- steward-shim: starting $1 at $(date -u +%Y-%m-%dT%H:%M:%SZ)"
cd "$work" || exit 111
rm -f "$run/exit.status"
echo "$$" > "$run/shim.pid"
"$@" &
child=$!
echo "$child" > "$run/server.pid.tmp" && mv "$run/server.pid.tmp" "$run/server.pid"
trap 'kill -TERM "$child" 2>/dev/null' TERM
trap 'kill -INT "$child" 2>/dev/null' INT
while :; do
  wait "$child"
  rc=$?
  # A trap interrupts wait; the child is then still there (possibly a zombie) and wait must be repeated.
  kill -0 "$child" 2>/dev/null || break
done
echo "$rc" > "$run/exit.status.tmp" && mv "$run/exit.status.tmp" "$run/exit.status"

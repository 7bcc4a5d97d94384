#!/bin/sh
# `sh` on fault-injection hosts (first in PATH, set by hostile-wrapper.sh): runs everything with
# /bin/sh, except the probe run (`sh DIR/probe.sh`, or from memory `sh -c PROBE fleetstat-probe
# PROBE UNAME`; input line on stdin), which misbehaves as FAULT_MODE says: stall-run (sleeps
# FAULT_ARG seconds: "forever" for any timeout, yet it ends by itself), kill-mid-reply (prints
# half the real reply, then kills its own SSH session), or reply (fixtures/hostile/reply.mjs
# prints the crafted reply of kind FAULT_ARG).
case $#:$1 in
  1:*/probe.sh) ;;
  *:-c) [ "$3" = fleetstat-probe ] || exec /bin/sh "$@" ;;
  *) exec /bin/sh "$@" ;;
esac

# The first sshd process above this shell: the session's own sshd (runs as this user).
session_sshd() {
  p=$$
  while [ "$p" -gt 1 ]; do
    p=$(awk '{print $4}' "/proc/$p/stat")
    case $(cat "/proc/$p/comm") in sshd*) echo "$p"; return ;; esac
  done
}

case $FAULT_MODE in
  stall-run)
    echo '"stalled"' > "$FAULT_BASE/results/$FAULT_HOST" # the test knows the run has begun
    exec sleep "${FAULT_ARG:-60}" ;;
  kill-mid-reply)
    out=$(/bin/sh "$@")
    printf '%s' "$out" | head -c $((${#out} / 2))
    sleep 0.3
    kill -9 "$(session_sshd)"
    exit 0 ;;
  reply)
    exec node "$FAULT_BASE/reply.mjs" "$FAULT_ARG" "$FAULT_BASE/results/$FAULT_HOST" ;;
esac
exec /bin/sh "$@"

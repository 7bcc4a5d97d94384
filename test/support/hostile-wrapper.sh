#!/bin/sh
# ForceCommand of the fault-injection sshd hosts (test/faults*.test.ts, bench/faulty-round.ts).
# Runs every command the way the login shell would (exec sh -c "$SSH_ORIGINAL_COMMAND"), except
# where this host's mode file says to misbehave. The host is known from SSH_CONNECTION (server
# address and port), so one sshd_config serves a whole fleet and a mode can change between rounds.
#
# $1: the fault directory: modes/<ip>_<port> ("mode [argument]"), tmp/<ip>_<port> (this host's
#     TMPDIR, so leftovers are checked per host), reply.mjs (crafted replies), results/.
# Modes: normal | tmpdir DIR | path DIR | stall-run SECONDS | kill-mid-reply | reply KIND
base=$1
# shellcheck disable=SC2086 # split SSH_CONNECTION into its four fields on purpose
set -- $SSH_CONNECTION
host="$3_$4"
mode=normal arg=
[ -r "$base/modes/$host" ] && read -r mode arg < "$base/modes/$host"
TMPDIR="$base/tmp/$host"
export TMPDIR
mkdir -p "$TMPDIR" 2>/dev/null
cmd=$SSH_ORIGINAL_COMMAND
# The run command is the only one that names probe.sh in single quotes (unixRunCommand).
case $cmd in *"/probe.sh'; rc="*) is_run=yes;; *) is_run=;; esac

# The first sshd process above this shell: the session's own sshd (runs as this user).
session_sshd() {
  p=$$
  while [ "$p" -gt 1 ]; do
    p=$(awk '{print $4}' "/proc/$p/stat")
    case $(cat "/proc/$p/comm") in sshd*) echo "$p"; return;; esac
  done
}

case $mode in
  tmpdir) TMPDIR=$arg; export TMPDIR ;;
  path) PATH=$arg; export PATH ;;
esac
[ -n "$is_run" ] || exec sh -c "$cmd"

case $mode in
  stall-run)
    # Stands for "forever" (far past every timeout) but ends by itself: nothing is left running.
    exec sleep "${arg:-60}" ;;
  kill-mid-reply)
    out=$(sh -c "$cmd")
    printf '%s' "$out" | head -c $((${#out} / 2))
    sleep 0.3
    kill -9 "$(session_sshd)"
    exit 0 ;;
  reply)
    # Replace the uploaded probe with the crafted-reply generator; the run command then runs it
    # with the real input line on stdin and removes the directory as usual.
    dir=${cmd#*"sh '"}
    dir=${dir%%"/probe.sh'"*}
    printf 'exec node "%s/reply.mjs" "%s" "%s/results/%s"\n' "$base" "$arg" "$base" "$host" > "$dir/probe.sh"
    exec sh -c "$cmd" ;;
esac
exec sh -c "$cmd"

#!/bin/sh
# ForceCommand of the fault-injection sshd hosts (test/faults*.test.ts, bench/faulty-round.ts).
# Runs every command the way the login shell would (sh -c "$SSH_ORIGINAL_COMMAND"), in this
# host's own TMPDIR, and with what this host's mode file says. The host is known from
# SSH_CONNECTION (server address and port), so one sshd_config serves a whole fleet and a mode
# can change between rounds.
#
# $1: the fault directory: modes/<ip>_<port> ("mode [argument]"), tmp/<ip>_<port> (this host's
#     TMPDIR, so leftovers are checked per host), shim/sh (hostile-sh.sh), reply.mjs, results/.
# Modes: normal | tmpdir DIR | path DIR | stall-run SECONDS | kill-mid-reply | reply KIND
# The last three misbehave only where the probe runs: the `sh` shim first in PATH takes over
# `sh …/probe.sh`, whatever shape the server's commands have (separate upload and run, or one).
base=$1
# shellcheck disable=SC2086 # split SSH_CONNECTION into its four fields on purpose
set -- $SSH_CONNECTION
host="$3_$4"
mode=normal arg=
[ -r "$base/modes/$host" ] && read -r mode arg < "$base/modes/$host"
TMPDIR="$base/tmp/$host"
mkdir -p "$TMPDIR" 2>/dev/null
case $mode in
  normal) ;;
  tmpdir) TMPDIR=$arg ;;
  path) PATH=$arg ;;
  *)
    FAULT_MODE=$mode FAULT_ARG=$arg FAULT_BASE=$base FAULT_HOST=$host
    export FAULT_MODE FAULT_ARG FAULT_BASE FAULT_HOST
    PATH="$base/shim:$PATH" ;;
esac
export TMPDIR PATH
exec /bin/sh -c "$SSH_ORIGINAL_COMMAND"

#!/bin/sh
# ForceCommand of the round's sshd hosts (test/targets-round.test.ts): runs the session's
# command as a login shell of another kind would. $1 is this host's tool directory, first on
# PATH: `sh` there is the shell under test (busybox ash, bash, mksh, yash, zsh, posh, ksh93, dash), and
# it may hold an `awk` or an `openssl` that replaces the system's. The whole command (the
# collector's one-shot line and the probe it starts as `sh probe.sh`) runs under that shell.
# Further arguments NAME=VALUE are exported first (a login environment's LANG, LC_ALL, ...).
tools=$1
shift
# shellcheck disable=SC2163 # each argument is a NAME=VALUE to export, on purpose
for assignment in "$@"; do export "$assignment"; done
PATH=$tools:$PATH
export PATH
exec "$tools/sh" -c "$SSH_ORIGINAL_COMMAND"

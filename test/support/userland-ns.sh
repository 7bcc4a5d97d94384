#!/usr/bin/env bash
# Runs a command in a private mount namespace (started by `unshare --mount --propagation
# private`) after placing a test's files, so nothing is mounted or changed outside that
# namespace and everything vanishes when the command ends. Used for the probe run in a chroot
# and for sshd hosts (test/support/userlands.ts).
#
# userland-ns.sh ROOT DATA -- COMMAND...
#   ROOT  / (this machine's userland) or a cached root (scripts/test-userlands.sh): it gets
#         itself as a read-only mount (so "/" is in its mount table and the cache stays as
#         built), this machine's /proc and /dev, and a fresh /tmp (tmpfs, 1777).
#   DATA  a directory of optional files placed at their real paths under ROOT:
#         os-release -> /etc/os-release, auth.log -> /var/log/auth.log (a fresh /var/log),
#         utmp -> /run/utmp (a fresh /run, with /run/sshd for sshd), mnt/ -> /mnt, and
#         mounts: NUL-separated paths under mnt/; the Nth (from 0) gets the ext2 image
#         DATA/disk-N.img mounted read-only through a loop device (distinct filesystems at
#         awkward names; a loop device is released when its last mount goes with the
#         namespace). "-" for none.
set -euo pipefail
root=$1 data=$2
[ "$3" = -- ] || { echo "usage: userland-ns.sh ROOT DATA -- COMMAND..." >&2; exit 2; }
shift 3
r=${root%/}

if [ -n "$r" ]; then
  mount --bind "$r" "$r"
  # Read-only (as on appliances): nothing a run does can change the cached root.
  mount -o remount,bind,ro "$r"
  mount --bind /proc "$r/proc"
  mount --bind /dev "$r/dev"
  mount -t tmpfs -o mode=1777 fleetstat-tmp "$r/tmp"
fi
if [ "$data" != - ]; then
  if [ -f "$data/os-release" ]; then
    # /etc/os-release may be a symlink: resolve it inside ROOT, never on this machine.
    target=$(readlink -f "$r/etc/os-release")
    case $target in "$r"/*) ;; *) echo "$r/etc/os-release leads outside the root" >&2; exit 1;; esac
    mount --bind "$data/os-release" "$target"
  fi
  if [ -f "$data/auth.log" ]; then
    mount -t tmpfs -o mode=755 fleetstat-log "$r/var/log"
    install -m 644 "$data/auth.log" "$r/var/log/auth.log"
  fi
  if [ -f "$data/utmp" ]; then
    mount -t tmpfs -o mode=755 fleetstat-run "$r/run"
    install -d -m 755 "$r/run/sshd"
    install -m 644 "$data/utmp" "$r/run/utmp"
    # A root whose /var/run is a directory, not a link to /run, gets a fresh one too.
    if [ -d "$r/var/run" ] && [ ! -L "$r/var/run" ]; then
      mount -t tmpfs -o mode=755 fleetstat-varrun "$r/var/run"
      install -m 644 "$data/utmp" "$r/var/run/utmp"
    fi
  fi
  if [ -d "$data/mnt" ]; then
    mount --bind "$data/mnt" "$r/mnt"
    if [ -f "$data/mounts" ]; then
      n=0
      while IFS= read -r -d '' p; do mount -o loop,ro "$data/disk-$n.img" "$r/mnt/$p"; n=$((n + 1)); done < "$data/mounts"
    fi
  fi
fi
exec "$@"

#!/usr/bin/env bash
# Proves the unit tier (vitest project "unit", listed in vitest.config.ts) needs nothing: runs it
# as `nobody`, in a fresh network namespace (no interface up, not even loopback), with a PATH that
# holds no tool (a test that starts sshd, openssl, sh or pwsh fails to spawn it) and HOME/TMPDIR
# in a scratch directory. Any unit test that needs root, a socket, a service or a child process
# fails here. Usage (root): bash scripts/unit-isolated.sh   (npm run test:unit:isolated)
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "unit-isolated: run as root (it drops to nobody itself)" >&2; exit 2; }
node=$(command -v node)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir "$scratch/home" "$scratch/tmp" "$scratch/empty-path"
chown -R nobody:nogroup "$scratch"
# --configLoader runner: vitest reads its config in memory instead of writing a bundled copy into
# the (root-owned) checkout; the vite cache goes to the scratch directory for the same reason.
unshare --net -- setpriv --reuid=nobody --regid=nogroup --clear-groups -- \
  env -i PATH="$scratch/empty-path" HOME="$scratch/home" TMPDIR="$scratch/tmp" CI="${CI:-}" \
  "$node" node_modules/vitest/vitest.mjs run --project unit --configLoader runner \
  "$@"

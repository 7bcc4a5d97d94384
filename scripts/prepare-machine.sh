#!/usr/bin/env bash
# Makes a fresh Debian machine ready for the demo and the tests: installs the Debian packages
# they use (only those missing), creates the loopback test account, and starts PostgreSQL and
# MariaDB if they are installed but stopped. Idempotent and quick when all is in place. Root only.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

if [ "$(id -u)" -ne 0 ]; then
  echo "prepare-machine: needs root (it installs Debian packages and a test account); skipped" >&2
  exit 0
fi

# openssh-server: the real sshd of the loopback fleet; openssl: the probe's crypto; strace: proves
# secrets stay out of argv; busybox/dash/shellcheck: check the probe; chromium: browser tests;
# time + ansible-core: the benchmark smoke run compares against Ansible fact gathering.
packages=(openssh-server openssh-client openssl strace busybox dash shellcheck chromium fonts-liberation sudo procps iproute2 sqlite3 time ansible-core)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "prepare-machine: installing ${missing[*]}" >&2
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

bash scripts/test-user.sh

if command -v pg_ctlcluster >/dev/null && ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
fi
if [ -x /usr/sbin/mariadbd ] && ! mysqladmin -h 127.0.0.1 -u root ping >/dev/null 2>&1; then
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
fi
for _ in $(seq 1 30); do
  { ! command -v pg_isready >/dev/null || pg_isready -q -h 127.0.0.1 -p 5432; } &&
  { [ ! -x /usr/sbin/mariadbd ] || mysqladmin -h 127.0.0.1 -u root ping >/dev/null 2>&1; } && break
  sleep 1
done

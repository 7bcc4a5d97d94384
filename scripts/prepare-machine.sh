#!/usr/bin/env bash
# Makes a fresh Debian machine ready for the demo and the tests: installs the Debian packages
# they use (only those missing), creates the loopback test account, sets up and starts the test
# PostgreSQL (127.0.0.1:5432, trust, db "test") and MariaDB (127.0.0.1:3306, root with an empty
# password, db "test") and waits until both answer, and installs PowerShell (pwsh) through the
# .NET SDK for the Windows probe tests. Idempotent and quick when all is in place. Root only.
# With CI=true anything that cannot be made ready is an error (exit 1), never a later skip.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
in_ci=false
[ "${CI:-}" = true ] && in_ci=true

say() { echo "prepare-machine: $*" >&2; }
fail() {
  say "$*"
  if $in_ci; then exit 1; fi
}

if [ "$(id -u)" -ne 0 ]; then
  say "needs root (it installs Debian packages and a test account); skipped"
  if $in_ci; then exit 1; fi
  exit 0
fi

# openssh-server: the real sshd of the loopback fleet; openssl: the probe's crypto; strace: proves
# secrets stay out of argv; busybox-static (also the chroot userland)/dash/shellcheck: check the probe; chromium: browser tests;
# time + ansible-core: the benchmark smoke run compares against Ansible fact gathering;
# postgresql + mariadb: the real databases; the shells, awks, busybox-static, debootstrap and
# locales: the probe's target matrix (test/targets-*.test.ts); e2fsprogs + mount: the ext2
# images loop-mounted at awkward mount points in those tests; postfix + sasl2-bin: the real MTA
# of the SMTP TLS tests and its SASL user (test/smtp-tls.test.ts runs its own instance from a
# private config directory); prometheus: its promtool checks /metrics (test/web-openapi.test.ts;
# the server itself is never started); stress-ng: the CPU hogs of scripts/stress-suite.sh.
packages=(openssh-server openssh-client openssl strace busybox-static dash shellcheck chromium
  fonts-liberation sudo procps iproute2 sqlite3 time ansible-core
  postgresql postgresql-client mariadb-server mariadb-client
  mksh posh yash zsh ksh gawk mawk original-awk debootstrap locales e2fsprogs mount postfix sasl2-bin prometheus
  stress-ng)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing ${missing[*]}"
  apt-get update -qq
  # Postfix unconfigured: no system main.cf, no system mail service; the tests bring their own config.
  echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections
  # policy-rc.d 101: the packages' own service starts are skipped; we start the servers below.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || fail "apt-get install failed"
  rm -f /usr/sbin/policy-rc.d
fi

bash scripts/test-user.sh
bash scripts/test-locales.sh
# The busybox and debootstrap minbase roots of the target tests, built once into a cache
# (debootstrap takes minutes the first time; the tests then find them ready).
bash scripts/test-userlands.sh || fail "the target userlands (scripts/test-userlands.sh) could not be built"
bash scripts/test-postgres.sh || fail "PostgreSQL is not ready on 127.0.0.1:5432"
bash scripts/test-mariadb.sh || fail "MariaDB is not ready on 127.0.0.1:3306"
bash scripts/test-pwsh.sh || fail "PowerShell (pwsh) is not installed: the Windows probe tests need it"

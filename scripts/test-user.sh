#!/bin/sh
# Creates the local account that the loopback sshd instances log into during tests, the demo
# and benchmarks. Needs root. The password is a throwaway for loopback-only test hosts.
set -eu
user=${FLEETSTAT_TEST_USER:-fleetstat-test}
pass=${FLEETSTAT_TEST_PASSWORD_FILE:-/etc/fleetstat-test.password}
if ! id "$user" >/dev/null 2>&1; then
  useradd --create-home --shell /bin/sh "$user"
fi
if [ ! -s "$pass" ]; then
  umask 077
  head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$pass"
fi
printf '%s:%s\n' "$user" "$(cat "$pass")" | chpasswd
mkdir -p /run/sshd
chmod 0755 /run/sshd

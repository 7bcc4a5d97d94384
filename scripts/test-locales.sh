#!/usr/bin/env bash
# The locales the probe matrix runs under (de_DE.UTF-8 beside C.UTF-8). Idempotent. Root only.
set -euo pipefail
command -v locale-gen >/dev/null || exit 0
if ! locale -a 2>/dev/null | grep -qi '^de_DE\.utf-\?8$'; then
  sed -i 's/^# *\(de_DE.UTF-8 UTF-8\)/\1/' /etc/locale.gen
  grep -q '^de_DE.UTF-8 UTF-8' /etc/locale.gen || echo 'de_DE.UTF-8 UTF-8' >> /etc/locale.gen
  locale-gen >/dev/null
fi

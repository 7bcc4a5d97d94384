#!/usr/bin/env bash
# PowerShell for the Windows probe tests: `dotnet tool install --global PowerShell` when pwsh is
# missing, linked into /usr/local/bin so that tests find it on the ordinary PATH. Root only.
set -euo pipefail
command -v pwsh >/dev/null && exit 0
tool=${HOME:-/root}/.dotnet/tools/pwsh
if [ ! -x "$tool" ]; then
  if ! command -v dotnet >/dev/null; then
    echo "test-pwsh: the .NET SDK (dotnet) is missing: the Windows probe tests need it to install PowerShell" >&2
    exit 1
  fi
  DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 dotnet tool install --global PowerShell --version 7.6.9 >/dev/null
fi
ln -sf "$tool" /usr/local/bin/pwsh
pwsh -NoProfile -NonInteractive -Command '$PSVersionTable.PSVersion.ToString()' >/dev/null

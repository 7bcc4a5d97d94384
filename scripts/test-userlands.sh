#!/usr/bin/env bash
# Builds the userlands the probe's target tests run in (test/support/userlands.ts), once, into a
# cache that later runs reuse:
#   busybox          an Alpine-like root: busybox-static applets only, no openssl, no GNU tool
#   busybox-openssl  the same plus this machine's openssl and the shared libraries ldd names
#   debian-SUITE-minbase  `debootstrap --variant=minbase --include=openssl` (mawk, no gawk)
# Each is built in a scratch directory and renamed into place, so a build cut short never
# leaves a half root that looks ready. The Debian mirror is read from this machine's apt sources.
# Usage: test-userlands.sh [busybox|busybox-openssl|debian]...  (default: all). Root only.
set -euo pipefail
cache=${FLEETSTAT_USERLAND_CACHE:-/var/cache/fleetstat-test}
# Bumped when what goes into a root changes, so an older cached root is rebuilt.
busybox_recipe=2
debian_recipe=1

say() { echo "test-userlands: $*" >&2; }

[ "$(id -u)" -eq 0 ] || { say "needs root (chroots and debootstrap)"; exit 1; }
mkdir -p "$cache"
chmod 0755 "$cache"
# One builder at a time (prepare-machine and test files may ask at once); the others wait.
exec 9> "$cache/.lock"
flock 9

# A root is ready when its stamp names the current recipe ($2).
ready() { [ "$(cat "$cache/$1/.fleetstat-userland" 2>/dev/null)" = "$2" ]; }

# publish NAME SCRATCH RECIPE: moves a finished scratch root into place (the old one, if any, is removed first; a root is
# never mounted on outside a private mount namespace, so removing it stays on this filesystem).
publish() {
  echo "$3" > "$2/.fleetstat-userland"
  # 0755 root-owned: other accounts work inside it, and sshd accepts it as a ChrootDirectory.
  chmod 0755 "$2"
  if [ -e "$cache/$1" ]; then rm -rf --one-file-system "${cache:?}/${1:?}"; fi
  mv "$2" "$cache/$1"
}

# Files every root shares: accounts (the test account too, for sshd's ChrootDirectory), a
# world-writable /tmp, mount points for /proc and /dev, the test account's home.
base_files() {
  local root=$1 user=${FLEETSTAT_TEST_USER:-fleetstat-test} uid gid
  uid=$(id -u "$user" 2>/dev/null || echo 1001)
  gid=$(id -g "$user" 2>/dev/null || echo 1001)
  mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,dev,tmp,root,mnt,run,var/log,home/"$user"}
  # /var/run -> /run as on Alpine and Debian: run-time files (utmp) live on the fresh /run.
  [ -e "$root/var/run" ] || ln -s ../run "$root/var/run"
  chmod 1777 "$root/tmp"
  chown "$uid:$gid" "$root/home/$user"
  grep -q "^$user:" "$root/etc/passwd" 2>/dev/null || echo "$user:x:$uid:$gid::/home/$user:/bin/sh" >> "$root/etc/passwd"
  grep -q "^$user:" "$root/etc/group" 2>/dev/null || echo "$user:x:$gid:" >> "$root/etc/group"
}

build_busybox() {
  local name=$1 with_openssl=$2 tmp
  ready "$name" "$busybox_recipe" && return
  say "building $cache/$name"
  tmp=$(mktemp -d "$cache/.$name.XXXXXX")
  local bb
  bb=$(command -v busybox)
  # A static busybox works in a root without libraries (ldd fails on a static program).
  ! ldd "$bb" >/dev/null 2>&1 || { say "$bb is not static (install busybox-static)"; exit 1; }
  mkdir -p "$tmp/bin" "$tmp/etc"
  cp "$bb" "$tmp/bin/busybox"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n' > "$tmp/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' > "$tmp/etc/group"
  base_files "$tmp"
  # Every applet as a link in /bin, as Alpine's busybox --install makes them.
  local applet
  for applet in $("$bb" --list); do
    [ -e "$tmp/bin/$applet" ] || ln -s busybox "$tmp/bin/$applet"
  done
  cat > "$tmp/etc/os-release" <<'EOF'
NAME="Alpine-like busybox"
ID=busybox
VERSION_ID=1
PRETTY_NAME="fleetstat busybox-only userland"
EOF
  if [ "$with_openssl" = yes ]; then
    local ossl lib
    ossl=$(command -v openssl)
    mkdir -p "$tmp/usr/bin"
    cp "$ossl" "$tmp/usr/bin/openssl"
    # The loader and libraries openssl links, at the same paths (ldd prints "name => path" or "path").
    for lib in $(ldd "$ossl" | awk '{for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i}'); do
      mkdir -p "$tmp$(dirname "$lib")"
      cp -L "$lib" "$tmp$lib"
    done
  fi
  publish "$name" "$tmp" "$busybox_recipe"
}

# The mirror of this machine's apt sources (deb822 *.sources, then one-line sources.list): the
# URI of an entry for `suite`, else of the first entry that is not a security archive (a
# mirror serves every suite, whether the sources name it bookworm or stable). Printed, never
# stored.
debian_mirror() {
  local suite=$1 candidates
  # "1 URI" for an entry of this suite, "2 URI" for others; missing files are no error.
  candidates=$(
    cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '
      function flush() { if (deb && uri != "") for (s in suites) print (s == suite ? "1 " : "2 ") uri; deb = 0; uri = ""; delete suites }
      /^[ \t]*$/ { flush(); next }
      /^Types:/ { deb = ($0 ~ /[ \t]deb([ \t]|$)/) }
      /^URIs:/ { uri = $2 }
      /^Suites:/ { for (i = 2; i <= NF; i++) suites[$i] = 1 }
      END { flush() }' suite="$suite" || true
    cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '
      $1 == "deb" { sub(/^deb +(\[[^]]*\] +)?/, ""); split($0, w, " "); print (w[2] == suite ? "1 " : "2 ") w[1] }' suite="$suite" || true
  )
  printf '%s\n' "$candidates" | awk '$2 != "" && $2 !~ /security/ && (best == "" || $1 < rank) { best = $2; rank = $1 } END { if (best == "") exit 1; print best }'
}

build_debian() {
  local suite name tmp mirror
  # shellcheck source=/dev/null
  suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  [ -n "$suite" ] || { say "no VERSION_CODENAME in /etc/os-release: which Debian suite?"; exit 1; }
  name="debian-$suite-minbase"
  ready "$name" "$debian_recipe" && return
  command -v debootstrap >/dev/null || { say "debootstrap missing (apt-get install debootstrap)"; exit 1; }
  mirror=$(debian_mirror "$suite") || { say "no apt source for suite $suite in /etc/apt/sources.list(.d)"; exit 1; }
  say "building $cache/$name with debootstrap (minutes, once)"
  tmp=$(mktemp -d "$cache/.$name.XXXXXX")
  # trap: a failed debootstrap leaves no scratch root behind.
  trap 'rm -rf --one-file-system "$tmp"' EXIT
  debootstrap --variant=minbase --include=openssl "$suite" "$tmp" "$mirror" > "$cache/.$name.log" 2>&1 \
    || { say "debootstrap failed; last lines of $cache/.$name.log:"; tail -n 20 "$cache/.$name.log" >&2; exit 1; }
  trap - EXIT
  rm -rf "$tmp/var/cache/apt/archives/"*.deb
  base_files "$tmp"
  publish "$name" "$tmp" "$debian_recipe"
}

[ $# -gt 0 ] || set -- busybox busybox-openssl debian
for what in "$@"; do
  case $what in
    busybox) build_busybox busybox no ;;
    busybox-openssl) build_busybox busybox-openssl yes ;;
    debian) build_debian ;;
    *) say "unknown userland $what"; exit 2 ;;
  esac
done

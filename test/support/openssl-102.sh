#!/bin/sh
# openssl as OpenSSL 1.0.2 (RHEL/CentOS 7, Amazon Linux 2) answers it: `enc` has no -pbkdf2 and
# no -iter (both came with 1.1.1); everything else is this machine's openssl.
for a in "$@"; do
  case $a in
    -pbkdf2|-iter) printf "enc: Unrecognized flag %s\nenc: Use -help for summary.\n" "${a#-}" >&2; exit 1 ;;
  esac
done
exec /usr/bin/openssl "$@"

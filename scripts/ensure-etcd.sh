#!/usr/bin/env bash
# Makes sure the `etcd` binary the etcd tests start is installed. Runs before `npm test` (the
# `pretest` script) and from .ci/run. As root on Debian/Ubuntu it installs the distribution's
# etcd-server package; anywhere else it fails with instructions, because the etcd tests must fail
# rather than be skipped when etcd is absent.
set -euo pipefail

if command -v etcd >/dev/null 2>&1; then
  exit 0
fi

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "etcd not found: installing Debian's etcd-server (the etcd storage tests need it)" >&2
  # Install the binary only: keep the package from starting a system etcd service on :2379.
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod +x "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq etcd-server >/dev/null
  if command -v etcd >/dev/null 2>&1; then
    echo "installed $(etcd --version | head -n 1)" >&2
    exit 0
  fi
fi

cat >&2 <<'MSG'
error: the tests need etcd (3.4 or newer) on PATH, and it is not installed.
  Debian/Ubuntu: sudo apt-get install etcd-server
  elsewhere:     https://github.com/etcd-io/etcd/releases (put the `etcd` binary on PATH)
MSG
exit 1

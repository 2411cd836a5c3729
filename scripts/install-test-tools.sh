#!/usr/bin/env bash
# Installs the Debian packages the tunnel tests and `wsparity bench tunnel` drive for real:
# sshd and ssh (the ssh -R peer and the ProxyCommand test), chromium (the browser tests), curl, openssl,
# xmllint (junit.xml schema check).
# Idempotent: prints nothing and touches no package index when everything is already there.
set -euo pipefail

. "$(dirname "$0")/lib/apt.sh"
apt_install_missing install-test-tools openssh-server openssh-client chromium curl openssl libxml2-utils
# The package's own sshd service is not used: tests start sshd on 127.0.0.1 with throwaway keys.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet ssh 2>/dev/null; then
  systemctl stop ssh || true
fi

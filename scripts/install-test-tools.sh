#!/usr/bin/env bash
# Installs the Debian packages the tunnel tests and `wsparity bench tunnel` drive for real:
# sshd and ssh (the ssh -R peer and the ProxyCommand test), chromium (the browser tests), curl, openssl,
# xmllint (junit.xml schema check).
# Idempotent: prints nothing and touches no package index when everything is already there.
set -euo pipefail

wanted=(openssh-server openssh-client chromium curl openssl libxml2-utils)
missing=()
for pkg in "${wanted[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-test-tools: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The package's own sshd service is not used: tests start sshd on 127.0.0.1 with throwaway keys.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet ssh 2>/dev/null; then
  systemctl stop ssh || true
fi

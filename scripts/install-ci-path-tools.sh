#!/usr/bin/env bash
# Installs the Debian packages the CI-path tests drive for real: git (the runner fetches sources from the
# GitLab simulator over HTTP; the simulator's tests clone with it), procps (pgrep checks that stopped jobs
# left no process) and tar (the runner's local cache). curl comes from install-test-tools.sh.
# Idempotent: prints nothing and touches no package index when everything is already there.
set -euo pipefail

wanted=(git procps tar)
missing=()
for pkg in "${wanted[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-ci-path-tools: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

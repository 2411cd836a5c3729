#!/usr/bin/env bash
# Installs the Debian packages the CI-path tests drive for real: git (the runner fetches sources from the
# GitLab simulator over HTTP; the simulator's tests clone with it), procps (pgrep checks that stopped jobs
# left no process) and tar (the runner's local cache). curl comes from install-test-tools.sh. The GitLab
# simulator's conformance suite drives it with python3-gitlab and runs gitlab-ci-local, whose shell
# executor needs rsync.
# Idempotent: prints nothing and touches no package index when everything is already there.
set -euo pipefail

. "$(dirname "$0")/lib/apt.sh"
apt_install_missing install-ci-path-tools git procps tar python3-gitlab rsync

#!/usr/bin/env bash
# What the Kubernetes simulator's tests need on a Debian 12 machine: the process kubelet's namespace tools
# (unshare, nsenter, setpriv, mount from util-linux; ip from iproute2), openssl for the API server's serving
# certificate, and kubectl >= 1.30 (WebSocket exec; Debian's kubernetes-client is 1.20, too old, so kubectl
# must already be on the machine). Run as root. Idempotent: prints nothing when everything is there.
set -euo pipefail

. "$(dirname "$0")/lib/apt.sh"
apt_install_missing setup-kubernetes-sim util-linux iproute2 openssl

if ! command -v kubectl >/dev/null 2>&1; then
  echo "setup-kubernetes-sim: kubectl is missing; install kubectl 1.30 or newer (the sim-tier tests drive it)" >&2
  exit 1
fi
minor=$(kubectl version --client -o json 2>/dev/null | sed -n 's/.*"minor": *"\([0-9]*\).*/\1/p' | head -1)
if [ -z "$minor" ] || [ "$minor" -lt 30 ]; then
  echo "setup-kubernetes-sim: kubectl 1.${minor:-?} is too old: the simulator serves exec over WebSocket only (kubectl 1.30+)" >&2
  exit 1
fi
if ! unshare --net --mount true 2>/dev/null; then
  echo "setup-kubernetes-sim: unshare --net --mount fails: the process kubelet needs root and namespaces" >&2
  exit 1
fi

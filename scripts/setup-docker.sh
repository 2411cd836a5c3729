#!/usr/bin/env bash
# Prepares this machine for wsparity's docker tier, and is safe to run any number of times:
#   - installs Debian's Docker engine, debootstrap, QEMU binfmt and docker-compose (v1, when no v2 plugin) when missing;
#   - starts dockerd when nothing answers on its socket, and waits until it does;
#   - registers qemu-aarch64 with binfmt_misc so arm64 images run here;
#   - drops egress from the Docker bridges (chain WSPARITY-EGRESS, from DOCKER-USER), so test containers cannot reach
#     anything outside this machine; ports published on 127.0.0.1 keep working.
# Usage: scripts/setup-docker.sh [--stop]   (--stop ends the dockerd this script started, by its pid)
set -euo pipefail

STATE_DIR=/run/wsparity
DOCKERD_PID_FILE=$STATE_DIR/dockerd.pid
DOCKERD_LOG=/var/log/wsparity-dockerd.log
DOCKER_SOCKET=/var/run/docker.sock
ENGINE_WAIT_SECONDS=60

log() { echo "setup-docker: $*"; }
die() {
  echo "setup-docker: $*" >&2
  exit 1
}

[[ $(id -u) -eq 0 ]] || die "run as root (it installs packages, starts dockerd and edits iptables)"

stop_started_engine() {
  if [[ -f $DOCKERD_PID_FILE ]]; then
    local pid
    pid=$(cat "$DOCKERD_PID_FILE")
    if kill -0 "$pid" 2>/dev/null; then
      log "stopping dockerd (pid $pid)"
      kill "$pid"
      for _ in $(seq 1 30); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 1
      done
    fi
    rm -f "$DOCKERD_PID_FILE"
  else
    log "no dockerd started by this script is recorded in $DOCKERD_PID_FILE"
  fi
}

if [[ ${1:-} == "--stop" ]]; then
  stop_started_engine
  exit 0
fi

install_missing_packages() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  [[ -e /usr/bin/qemu-aarch64-static ]] || missing+=(qemu-user-static)
  command -v update-binfmts >/dev/null || missing+=(binfmt-support)
  command -v iptables >/dev/null || missing+=(iptables)
  command -v ip >/dev/null || missing+=(iproute2)
  # The live tier's compose file: Debian has no compose v2 plugin, only docker-compose 1.29.
  docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null || missing+=(docker-compose)
  if ((${#missing[@]} > 0)); then
    log "installing ${missing[*]}"
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

enable_arm64_emulation() {
  local binfmt=/proc/sys/fs/binfmt_misc
  [[ -e $binfmt/register ]] || mount -t binfmt_misc binfmt_misc "$binfmt"
  if ! grep -qx enabled "$binfmt/qemu-aarch64" 2>/dev/null; then
    update-binfmts --enable qemu-aarch64 || update-binfmts --import qemu-aarch64
  fi
  grep -qx enabled "$binfmt/qemu-aarch64" || die "qemu-aarch64 is not registered in $binfmt; check 'update-binfmts --display qemu-aarch64'"
  # F (fix-binary) makes the kernel open the interpreter now, so it works inside containers' own filesystems.
  grep -q '^flags: .*F' "$binfmt/qemu-aarch64" || die "qemu-aarch64 is registered without the F flag; containers could not find the interpreter"
}

engine_answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

start_engine() {
  if engine_answers; then
    log "Docker engine already answers on $DOCKER_SOCKET"
    return
  fi
  mkdir -p "$STATE_DIR"
  log "starting dockerd (log: $DOCKERD_LOG)"
  # setsid: the engine outlives this script and is not in its process group, so Ctrl-C here does not stop it.
  setsid dockerd --host "unix://$DOCKER_SOCKET" >>"$DOCKERD_LOG" 2>&1 </dev/null &
  echo $! >"$DOCKERD_PID_FILE"
  for _ in $(seq 1 "$ENGINE_WAIT_SECONDS"); do
    engine_answers && break
    kill -0 "$(cat "$DOCKERD_PID_FILE")" 2>/dev/null || die "dockerd exited at start; last lines of $DOCKERD_LOG: $(tail -n 5 "$DOCKERD_LOG")"
    sleep 1
  done
  engine_answers || die "dockerd did not answer within ${ENGINE_WAIT_SECONDS}s; see $DOCKERD_LOG"
  log "dockerd $(docker version --format '{{.Server.Version}}') answers (pid $(cat "$DOCKERD_PID_FILE"))"
}

# The rules live in a chain of their own, which DOCKER-USER (the chain Docker leaves to its users, first in
# FORWARD) jumps to. In order:
#   traffic between containers on one bridge: left to Docker's own chains
#   anything else that enters from a container bridge (towards eth0, other namespaces, ...): dropped
# Traffic to the host itself (INPUT) and to published ports (docker-proxy on the host) never passes FORWARD.
EGRESS_CHAIN=WSPARITY-EGRESS
EGRESS_RULES="-A $EGRESS_CHAIN -i docker0 -o docker0 -j RETURN
-A $EGRESS_CHAIN -i br-+ -o br-+ -j RETURN
-A $EGRESS_CHAIN -i docker0 -j DROP
-A $EGRESS_CHAIN -i br-+ -j DROP"

block_container_egress() {
  iptables -n -L DOCKER-USER >/dev/null 2>&1 || iptables -N DOCKER-USER
  iptables -C FORWARD -j DOCKER-USER 2>/dev/null || iptables -I FORWARD 1 -j DOCKER-USER
  iptables -n -L "$EGRESS_CHAIN" >/dev/null 2>&1 || iptables -N "$EGRESS_CHAIN"
  if [[ $(iptables -S "$EGRESS_CHAIN" | grep -v '^-N') != "$EGRESS_RULES" ]]; then
    iptables -F "$EGRESS_CHAIN"
    local rule
    while read -r rule; do
      # shellcheck disable=SC2086
      iptables $rule
    done <<<"$EGRESS_RULES"
  fi
  iptables -C DOCKER-USER -j "$EGRESS_CHAIN" 2>/dev/null || iptables -I DOCKER-USER 1 -j "$EGRESS_CHAIN"
  log "egress from Docker bridges is dropped (iptables chain $EGRESS_CHAIN, jumped to from DOCKER-USER)"
}

install_missing_packages
enable_arm64_emulation
start_engine
block_container_egress
log "ready"

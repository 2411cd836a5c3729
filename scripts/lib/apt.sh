# Sourced by the install scripts: installs the Debian packages of a list that are not installed yet.
# Prints nothing and touches no package index when everything is already there.
# Usage: apt_install_missing NAME PACKAGE...   (NAME prefixes the one line it prints)
apt_install_missing() {
  local name=$1
  shift
  local missing=()
  for pkg in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$pkg")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "$name: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Sourced by the fetch_*.sh scripts. `npm_pack NAME PACKAGE`: checks that npm
# is there, packs PACKAGE (the registry's tarball; nothing is installed, no
# package script runs) into a temporary directory removed at exit, and sets
# $work to that directory. NAME prefixes the messages.
npm_pack() {
  local name=$1 package=$2
  if ! command -v npm >/dev/null 2>&1; then
    echo "$name: npm is needed to fetch $package (apt-get install npm)" >&2
    exit 1
  fi
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  echo "$name: fetching $package"
  (cd "$work" && npm pack --silent "$package" >/dev/null)
}

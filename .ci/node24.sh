#!/usr/bin/env bash
# Run one command under Node 24, with npm set to build native addons against
# Node 24's own headers (no header download from the internet is needed).
#
#   bash .ci/node24.sh node --version
#   bash .ci/node24.sh npm run build
#   bash .ci/node24.sh npm test
#
# Node 24 comes from the npm package node-linux-<arch>@24, which ships both
# bin/node and include/node (the headers node-gyp needs). It is installed into
# $LEADTRAIL_NODE24_DIR, by default ${XDG_CACHE_HOME:-$HOME/.cache}/leadtrail/node24,
# i.e. outside the project tree; it is reused while it still holds a Node 24.
# npm itself is the machine's npm, run by Node 24 because that is first on PATH.
set -euo pipefail

if [ "$#" -eq 0 ]; then
  echo "usage: $0 <command> [args...]" >&2
  exit 2
fi

dir=${LEADTRAIL_NODE24_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/leadtrail/node24}
arch=$(uname -m)
case "$arch" in
  x86_64 | amd64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
esac
pkgname=node-linux-$arch
pkg=$dir/node_modules/$pkgname

usable() {
  [ -x "$pkg/bin/node" ] &&
    [ -f "$pkg/include/node/common.gypi" ] &&
    [ -f "$pkg/include/node/node.h" ] &&
    [ "$("$pkg/bin/node" -p 'process.versions.node.split(".")[0]' 2>/dev/null)" = 24 ]
}

if ! usable; then
  echo "node24.sh: installing $pkgname@24 into $dir" >&2
  mkdir -p "$dir"
  # --prefix keeps npm away from any project; nothing is saved anywhere.
  (cd "$dir" && npm install --prefix "$dir" --no-save --no-package-lock \
    --no-audit --no-fund --loglevel=error "$pkgname@24" >&2)
  if ! usable; then
    echo "node24.sh: $pkg has no usable Node 24 (bin/node + include/node headers)" >&2
    exit 1
  fi
fi

export PATH="$pkg/bin:$PATH"
# node-gyp reads this from the environment: build against these headers
# instead of the machine's Node 20 headers (or a download).
export npm_config_nodedir="$pkg"
exec "$@"

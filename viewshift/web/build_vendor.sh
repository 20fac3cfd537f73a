#!/usr/bin/env bash
# Vendor the browser libraries of `viewshift serve` from the npm registry into viewshift/web/static/vendor/.
#
# Run from anywhere: bash viewshift/web/build_vendor.sh
# It packs the pinned npm packages in a scratch folder outside the package, copies only the files the page
# imports plus each package's licence, and records the versions in vendor/VERSIONS. The copied files are committed,
# so installing viewshift needs neither npm nor a network; re-run this only to change a version.
set -euo pipefail
THREE_VERSION="0.187.0"

here="$(cd "$(dirname "$0")" && pwd)"
dest="$here/static/vendor"
build="$(mktemp -d)"
trap 'rm -rf "$build"' EXIT

cd "$build"
npm pack --silent "three@${THREE_VERSION}" >/dev/null
tar -xzf "three-${THREE_VERSION}.tgz"

rm -rf "$dest/three"
mkdir -p "$dest/three/addons/controls" "$dest/three/addons/loaders" "$dest/three/addons/utils"
cp package/LICENSE "$dest/three/LICENSE"
cp package/build/three.module.js package/build/three.core.js "$dest/three/"
cp package/examples/jsm/controls/OrbitControls.js "$dest/three/addons/controls/"
cp package/examples/jsm/loaders/GLTFLoader.js "$dest/three/addons/loaders/"
cp package/examples/jsm/utils/BufferGeometryUtils.js package/examples/jsm/utils/SkeletonUtils.js \
  "$dest/three/addons/utils/"
printf 'three %s (npm, MIT, files copied by build_vendor.sh)\n' "$THREE_VERSION" >"$dest/VERSIONS"
echo "vendored three ${THREE_VERSION} into $dest"

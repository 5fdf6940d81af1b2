#!/bin/sh
# Re-vendors the console's third-party files from the npm registry, reproducibly: the exact
# versions are pinned in package-lock.json. The copies in ../assets/vendor/ are committed,
# so building hotline needs neither npm nor the network; run this only to change versions.
set -eu
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --ignore-scripts
out=../assets/vendor
rm -rf "$out"
mkdir -p "$out"
nm=node_modules
cp "$nm/d3-array/dist/d3-array.min.js" "$out/"
cp "$nm/d3-geo/dist/d3-geo.min.js" "$out/"
cp "$nm/topojson-client/dist/topojson-client.min.js" "$out/"
cp "$nm/@fluent/bundle/index.js" "$out/fluent-bundle.js"
cp "$nm/world-atlas/countries-110m.json" "$out/countries-110m.json"
{
    echo "Vendored by crates/console/vendor/update.sh from the npm registry; do not edit."
    echo
    for p in d3-array d3-geo topojson-client @fluent/bundle world-atlas; do
        v=$(node -p "require('./$nm/$p/package.json').version")
        l=$(node -p "require('./$nm/$p/package.json').license")
        echo "$p $v ($l)"
    done
    echo
    echo "world-atlas: Natural Earth (public domain) 1:110m countries as TopoJSON."
} > "$out/VERSIONS.txt"
for p in d3-array d3-geo topojson-client world-atlas; do
    cp "$nm/$p/LICENSE" "$out/LICENSE.$p"
done
# @fluent/bundle ships no LICENSE file; its package.json says Apache-2.0.
echo "@fluent/bundle is Apache-2.0 (https://www.apache.org/licenses/LICENSE-2.0)" > "$out/LICENSE.fluent-bundle"
echo "vendored into $(cd "$out" && pwd):"
ls -l "$out"

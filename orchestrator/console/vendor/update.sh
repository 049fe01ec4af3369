#!/usr/bin/env bash
# Refreshes the vendored third-party files from the versions pinned in package-lock.json.
# For developers only: cargo and CI never run npm. To move to a new version, change the pin in
# package.json, run `npm install --package-lock-only` here, then run this script and update NOTICE.md.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cp "$here/package.json" "$here/package-lock.json" "$work/"
(cd "$work" && npm ci --no-audit --no-fund --ignore-scripts)

cp "$work/node_modules/elkjs/lib/elk.bundled.js" "$here/elkjs/elk.bundled.js"
cp "$work/node_modules/elkjs/LICENSE.md" "$here/elkjs/LICENSE.md"
echo "elkjs $(node -p "require('$work/node_modules/elkjs/package.json').version") copied; check elkjs/NOTICE.md names this version."

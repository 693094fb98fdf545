#!/usr/bin/env bash
# CI: packages the VS Code extension with vsce (npm @vscode/vsce, pinned in package-lock.json).
# Works on a fresh clone: copies the extension under target/vscode/, installs its locked
# dependencies there with `npm ci`, and writes target/vscode/spl-language.vsix.
# The grammar it ships is checked against the parser by `cargo test -p spl-lsp --test textmate`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$root/target/vscode"
rm -rf "$work/ext"
mkdir -p "$work/ext"
(cd "$here" && tar --exclude=node_modules --exclude='*.vsix' -cf - .) | (cd "$work/ext" && tar -xf -)
cd "$work/ext"
npm ci --no-audit --no-fund --ignore-scripts
npx --no-install vsce package --out "$work/spl-language.vsix" </dev/null
# The package holds the manifest, the grammar and the client with its runtime dependency.
unzip -l "$work/spl-language.vsix" | tee "$work/contents.txt"
grep -q 'extension/syntaxes/spl.tmLanguage.json' "$work/contents.txt"
grep -q 'extension/src/extension.js' "$work/contents.txt"
grep -q 'extension/node_modules/vscode-languageclient/package.json' "$work/contents.txt"
echo "packaged $work/spl-language.vsix"

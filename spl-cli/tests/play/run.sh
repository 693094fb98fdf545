#!/usr/bin/env bash
# Browser test of `spl play` in headless Chromium: installs Debian's `chromium` (apt-get, only
# if missing) and playwright-core (npm ci, from the committed package-lock.json) into target/,
# starts `spl play` on a free port, runs play.test.mjs, writes screenshots under
# target/play-test/. Works with CI=true and no stdin.
set -euo pipefail
echo "== spl play in headless Chromium (chromium from apt, playwright-core under target/play-test)"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
work="$root/target/play-test"
mkdir -p "$work"

chrome="$(command -v chromium || command -v chromium-browser || true)"
if [ -z "$chrome" ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo -n"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q </dev/null
  $sudo apt-get install -y -q --no-install-recommends chromium </dev/null
  chrome="$(command -v chromium)"
fi

cp "$here/package.json" "$here/package-lock.json" "$work/"
if [ ! -d "$work/node_modules/playwright-core" ]; then
  (cd "$work" && npm ci --ignore-scripts --no-audit --no-fund </dev/null)
fi
cp "$here/play.test.mjs" "$work/"

# The same build as `cargo test --workspace` (same features: nothing is rebuilt after it).
(cd "$root" && cargo test --workspace --no-run -q 2>/dev/null)
log="$work/play.log"
"$root/target/debug/spl" play --port 0 >"$log" 2>&1 </dev/null &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
url=""
for _ in $(seq 1 100); do
  url="$(sed -n 's/^spl play: listening on \(http[^ ]*\).*/\1/p' "$log")"
  [ -n "$url" ] && break
  kill -0 $pid 2>/dev/null || { cat "$log"; exit 1; }
  sleep 0.1
done
[ -n "$url" ] || { echo "spl play did not start"; cat "$log"; exit 1; }
(cd "$work" && node play.test.mjs "$url" "$work" "$chrome")
echo "play browser test: ok"

#!/usr/bin/env bash
# Browser end-to-end tests of the console: two real stations (alpha and bravo, made with the
# hotline CLI exactly as an operator would, each with operator `op` and supervisor `sup`)
# and Debian's headless Chromium driven by playwright-core. Idempotent; builds nothing: takes the binary from HOTLINE_BIN (default
# target/debug/hotline under the repository root). Stops both stations on any exit and
# exits non-zero on any failure. Screenshots go to HOTLINE_SCREENSHOTS (default: a fresh
# temporary folder, printed).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../../.." && pwd)
bin=${HOTLINE_BIN:-$root/target/debug/hotline}
case "$bin" in /*) ;; *) bin=$root/$bin ;; esac
if [ ! -x "$bin" ]; then
    echo "run.sh: no hotline binary at $bin; build it (cargo build --bins) or set HOTLINE_BIN" >&2
    exit 1
fi

if ! command -v chromium >/dev/null 2>&1; then
    echo "run.sh: installing Debian's chromium"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq chromium >/dev/null
fi

cd "$here"
# npm ci only when node_modules does not match the lockfile, so a warm run needs no network.
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.hotline-lock-sum 2>/dev/null || true)" != "$lock_sum" ]; then
    npm ci --no-audit --no-fund --prefer-offline --loglevel=error
    echo "$lock_sum" > node_modules/.hotline-lock-sum
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/hotline-console-e2e.XXXXXX")
shots=${HOTLINE_SCREENSHOTS:-$work/screenshots}
mkdir -p "$shots"
password='correct horse battery staple'

stop_stations() {
    local pids=() pid
    for name in alpha bravo; do
        pid=$(cat "$work/$name.pid" 2>/dev/null || true)
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            pids+=("$pid")
        fi
    done
    for pid in "${pids[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$pid" 2>/dev/null || true
    done
}
trap stop_stations EXIT
trap 'exit 130' INT TERM

free_port() {
    node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

declare -A http line key
for name in alpha bravo; do
    http[$name]=$(free_port)
    line[$name]=$(free_port)
    lang=en
    "$bin" init "$work/$name" --name "$name" --http "127.0.0.1:${http[$name]}" \
        --line "127.0.0.1:${line[$name]}" --lang "$lang" >/dev/null
    key[$name]=$("$bin" key "$work/$name" | awk 'NF {last=$NF} END {print last}')
done
"$bin" line add "$work/alpha" --peer bravo --key "${key[bravo]}" --addr "127.0.0.1:${line[bravo]}" >/dev/null
"$bin" line add "$work/bravo" --peer alpha --key "${key[alpha]}" --addr "127.0.0.1:${line[alpha]}" >/dev/null
# Calls ring for 15 s, not the default 60, so the missed-call test waits less; the line
# table is the last one `line add` wrote, so the key lands in it.
ring_timeout_s=15
for name in alpha bravo; do echo "call_ring_timeout_s = $ring_timeout_s" >> "$work/$name/station.toml"; done
for name in alpha bravo; do
    echo "$password" | "$bin" user add "$work/$name" --name op --role operator >/dev/null
    echo "$password" | "$bin" user add "$work/$name" --name sup --role supervisor >/dev/null
    "$bin" serve "$work/$name" >>"$work/$name.log" 2>&1 &
    echo $! > "$work/$name.pid"
done

echo "run.sh: stations in $work; screenshots in $shots"
# The test files, run one at a time against the same two stations (HOTLINE_BROWSER_TESTS
# picks some, e.g. only calls-media.test.mjs while working on call audio).
tests=${HOTLINE_BROWSER_TESTS:-console.test.mjs calls-media.test.mjs}
status=0
HOTLINE_BIN=$bin HOTLINE_E2E_WORK=$work HOTLINE_SCREENSHOTS=$shots HOTLINE_PASSWORD=$password \
    HOTLINE_SUPERVISOR=sup HOTLINE_CALL_RING_TIMEOUT_S=$ring_timeout_s \
    ALPHA_URL="http://127.0.0.1:${http[alpha]}" BRAVO_URL="http://127.0.0.1:${http[bravo]}" \
    ALPHA_LINE_PORT=${line[alpha]} BRAVO_LINE_PORT=${line[bravo]} \
    node --test --test-concurrency=1 --test-reporter=spec $tests || status=$?
if [ "$status" -ne 0 ]; then
    echo "run.sh: browser tests failed; station logs:" >&2
    tail -n 20 "$work"/alpha.log "$work"/bravo.log >&2 || true
fi
echo "run.sh: screenshots in $shots"
exit "$status"

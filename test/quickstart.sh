#!/usr/bin/env bash
# The quickstart (`make run`): start the local Braze emulator on a free loopback port, sync the sample
# users into it through brazesync and the go-plugin boundary, print the run report, sync them again
# (the sync state says Braze already holds every value: nothing is sent), stop the emulator.
set -euo pipefail
cd "$(dirname "$0")/.."

export BRAZE_API_KEY="${BRAZE_API_KEY:-quickstart-$RANDOM$RANDOM}"
# The spec's state_dir. The emulator forgets every profile when it stops, so the state of what was
# told to it goes with it: a later `make run` starts from an empty Braze and an empty state.
state_dir=.brazesync/quickstart
rm -rf "$state_dir"
log="$(mktemp)"
bin/brazesync emulator braze --listen 127.0.0.1:0 --api-key "$BRAZE_API_KEY" >"$log" 2>&1 &
emu=$!
trap 'kill "$emu" 2>/dev/null || true; rm -f "$log"; rm -rf "$state_dir"; rmdir .brazesync 2>/dev/null || true' EXIT

for _ in $(seq 100); do
  grep -q 'listening on' "$log" && break
  kill -0 "$emu" 2>/dev/null || { cat "$log"; exit 1; }
  sleep 0.1
done
BRAZE_ENDPOINT="$(grep -o 'http://[0-9.:]*' "$log" | head -1)"
export BRAZE_ENDPOINT
echo "Braze emulator listening on $BRAZE_ENDPOINT"

status=0
bin/brazesync sync --report brazesync-report.json docs/examples/quickstart.yml || status=$?
echo
echo "== run report (brazesync-report.json)"
cat brazesync-report.json
if [ -s brazesync-dead-letter.jsonl ]; then
  echo
  echo "== first dead letters (brazesync-dead-letter.jsonl)"
  head -3 brazesync-dead-letter.jsonl
fi
[ "$status" -eq 0 ] || exit "$status"

echo
echo "== second pass: the same sync again (brazesync-report-2.json)"
bin/brazesync sync --progress none --report brazesync-report-2.json docs/examples/quickstart.yml || exit $?
# Every row the first pass delivered is unchanged, and nothing reaches Braze.
grep -q '"users_sent": 0,' brazesync-report-2.json || { echo "second pass sent users"; exit 1; }
echo "second pass: every row unchanged, nothing sent (see docs/state.md)"

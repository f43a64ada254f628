#!/usr/bin/env bash
# A rollout on three worker processes through Redis: starts Redis if none answers, the local
# emulator, three `shadowfleet worker` processes and a `rollout --redis`, then shows the job's
# status (per-worker throughput) and stops what it started.
#
#   examples/distributed/run.sh            (from a source checkout; uses tsx)
#   THINGS=5000 RATE=1000 examples/distributed/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
SF=(node --import tsx src/cli/bin.ts)
[ -f dist/src/cli/bin.js ] && [ "${FROM_SOURCE:-}" = "" ] && SF=(node dist/src/cli/bin.js)
REDIS_URL=${SHADOWFLEET_REDIS:-redis://127.0.0.1:6379}
THINGS=${THINGS:-3000}
RATE=${RATE:-1000}
QUEUE=example-$$
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

if ! redis-cli -u "$REDIS_URL" ping >/dev/null 2>&1; then
  echo "starting Redis at 127.0.0.1:6379 (keeps nothing on disk)"
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir "$WORK" --logfile "$WORK/redis.log"
  for _ in $(seq 1 50); do redis-cli ping >/dev/null 2>&1 && break; sleep 0.1; done
fi

"${SF[@]}" serve --port 0 --quotas aws --account-rps "$RATE" > "$WORK/emulator.out" 2>&1 &
PIDS+=($!)
until grep -q '^listening on ' "$WORK/emulator.out"; do sleep 0.2; done
ENDPOINT=$(sed -n 's/^listening on //p' "$WORK/emulator.out")
echo "emulator at $ENDPOINT, account quota $RATE/s per operation"

for i in 1 2 3; do
  "${SF[@]}" worker --redis "$REDIS_URL" --queue "$QUEUE" --id "worker-$i" 2> "$WORK/worker-$i.log" &
  PIDS+=($!)
done
until [ "$(grep -l '"worker started"' "$WORK"/worker-*.log 2>/dev/null | wc -l)" -eq 3 ]; do sleep 0.2; done
echo "three workers on queue $QUEUE (logs: $WORK/worker-*.log, JSON lines)"

seq -f "pump-%g" 1 "$THINGS" > "$WORK/things.txt"
"${SF[@]}" rollout --redis "$REDIS_URL" --queue "$QUEUE" --endpoint "$ENDPOINT" \
  --things "$WORK/things.txt" --set '{"firmware":"2.4.1"}' --rate "$RATE" --yes \
  --journal "$WORK/rollout.journal" --report "$WORK/outcomes.ndjson" 2> "$WORK/submitter.log"
JOB=$(sed -n 's/^shadowfleet: job \([a-z0-9]*\) runs on queue.*/\1/p' "$WORK/submitter.log" | head -1)

echo
"${SF[@]}" status --redis "$REDIS_URL" --queue "$QUEUE" "$JOB"
echo "outcomes: $WORK/outcomes.ndjson"

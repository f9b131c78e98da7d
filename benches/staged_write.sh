#!/usr/bin/env bash
# Issue 14: a write of N JSON-lines records through the CLI with a staging volume (files + one
# COPY INTO) against the floor (the same file PUT by curl plus one COPY INTO) and the parameter
# path, on the local warehouse; prints count, exact sum and Delta commits per table.
#   N=1000000 CLI_BIN=$CARGO_TARGET_DIR/release/connector-host benches/staged_write.sh
# (the warehouse from $T, the debug build by default; PARAMS=0 skips the parameter path).
set -euo pipefail
N=${N:-1000000}
T=${T:-$HOME/.cache/openmatch/target/debug}
WORK=${WORK:-$(mktemp -d)}
cd "$WORK"
rm -rf data && mkdir -p data
PORT=18777
"$T/warehouse" serve --listen 127.0.0.1:$PORT --data data --token tok > wh.log 2>&1 &
WH=$!
trap 'kill $WH 2>/dev/null' EXIT
sleep 2
export DATABRICKS_HOST=http://127.0.0.1:$PORT DATABRICKS_HTTP_PATH=/sql/1.0/warehouses/8a1c2e3f4b5d6a7e DATABRICKS_TOKEN=tok
CLI="${CLI_BIN:-$T/connector-host} --catalog main --schema default"
[ -f recs.jsonl ] && [ "$(wc -l < recs.jsonl)" = "$N" ] || python3 -c "
import sys
n=int(sys.argv[1])
with open('recs.jsonl','w') as f:
    for i in range(n):
        f.write('{\"id\": %d, \"name\": \"customer-%d\", \"amount\": %d.%02d}\n' % (i, i, i % 100000, i % 100))
" "$N"
$CLI exec "CREATE VOLUME stage" >/dev/null
for t in staged floor params; do $CLI exec "CREATE TABLE $t (id BIGINT, name STRING, amount DECIMAL(18,2))" >/dev/null; done
now() { date +%s.%N; }
t0=$(now); $CLI write staged recs.jsonl --staging-volume /Volumes/main/default/stage; t1=$(now)
staged=$(echo "$t1 - $t0" | bc)
t0=$(now)
curl -sf -X PUT -H "Authorization: Bearer tok" --data-binary @recs.jsonl "$DATABRICKS_HOST/api/2.0/fs/files/Volumes/main/default/stage/floor/recs.json?overwrite=true"
t1=$(now)
$CLI exec "COPY INTO floor FROM '/Volumes/main/default/stage/floor/' FILEFORMAT = JSON" --format jsonl > /dev/null
t2=$(now)
put=$(echo "$t1 - $t0" | bc); copy=$(echo "$t2 - $t1" | bc); floor=$(echo "$t2 - $t0" | bc)
if [ "${PARAMS:-1}" = 1 ]; then
t0=$(now); $CLI write params recs.jsonl; t1=$(now); params=$(echo "$t1 - $t0" | bc)
else params=skipped; fi
for t in staged floor params; do
  echo "$t: $($CLI query "SELECT count(*) AS n, sum(amount) AS s FROM $t" --format csv | tail -1)  commits: $($CLI query "DESCRIBE HISTORY $t" --format csv | tail -n +2 | wc -l)"
done
echo "N=$N staged=${staged}s floor=${floor}s (PUT ${put}s + COPY INTO ${copy}s) params=${params}s ratio=$(echo "scale=2; $staged / $floor" | bc)"

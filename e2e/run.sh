#!/usr/bin/env bash
# Browser tests of the web UI: installs Debian's chromium and playwright-core
# (deployments/browser.sh), builds moonlight, starts `moonlight demo` on free
# ports with a fresh data directory, waits until it is ready and the sample
# cases exist, runs e2e/tests with node's test runner, and stops the demo.
# Screenshots go to test-output/e2e/. Exits non-zero when anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/test-output/e2e
mkdir -p "$OUT"
rm -f "$OUT"/*.png

./deployments/browser.sh

go build -o "$OUT/moonlight" ./cmd/moonlight

# Free ports: ask the kernel for three, then let them go.
read -r HTTP_PORT KAFKA_PORT MONGO_PORT < <(python3 - <<'PY'
import socket
socks = [socket.socket() for _ in range(3)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()
PY
)
DATA=$(mktemp -d)
BASE=http://127.0.0.1:$HTTP_PORT
"$OUT/moonlight" demo --data "$DATA" --http "127.0.0.1:$HTTP_PORT" --kafka-addr "127.0.0.1:$KAFKA_PORT" \
	--mongo-addr "127.0.0.1:$MONGO_PORT" >"$OUT/demo.log" 2>&1 &
DEMO_PID=$!
stop_demo() {
	if kill -0 "$DEMO_PID" 2>/dev/null; then
		kill -INT "$DEMO_PID" 2>/dev/null || true
		for _ in $(seq 1 50); do
			kill -0 "$DEMO_PID" 2>/dev/null || break
			sleep 0.2
		done
		kill -KILL "$DEMO_PID" 2>/dev/null || true
	fi
	wait "$DEMO_PID" 2>/dev/null || true
	rm -rf "$DATA"
}
trap stop_demo EXIT

wait_for() { # description, command...
	local what=$1
	shift
	for _ in $(seq 1 180); do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		if ! kill -0 "$DEMO_PID" 2>/dev/null; then
			echo "e2e: the demo exited; its log:" >&2
			tail -50 "$OUT/demo.log" >&2
			return 1
		fi
		sleep 1
	done
	echo "e2e: timed out waiting for $what; demo log:" >&2
	tail -50 "$OUT/demo.log" >&2
	return 1
}
wait_for "/readyz" curl -fsS "$BASE/readyz"
TOKEN=$("$OUT/moonlight" token --subject E1045 --role compliance)
# Reviewers see pseudonyms (privacy.pseudonymise); a lookup by employee_id
# (audited as identity.lookup) answers with the id and the pseudonym, which
# the tests get as SUBJECT_E1012.
has_cases() {
	curl -fsS -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/cases?status=open&employee_id=E1012&limit=50" | grep -q '"employee_id":"E1012"'
}
wait_for "the sample cases" has_cases
SUBJECT_E1012=$(curl -fsS -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/cases?status=open&employee_id=E1012&limit=50" |
	sed -n 's/.*"subject":"\(P-[0-9A-Z]\{4\}-[0-9A-Z]\{4\}\)".*/\1/p')
export SUBJECT_E1012
# rights.test.mjs opens E1020's case as a reviewer, by its pseudonym.
SUBJECT_E1020=$(curl -fsS -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/cases?status=open&employee_id=E1020&limit=50" |
	sed -n 's/.*"subject":"\(P-[0-9A-Z]\{4\}-[0-9A-Z]\{4\}\)".*/\1/p')
export SUBJECT_E1020

cd e2e
BASE_URL=$BASE SCREENSHOTS=$OUT node --test --test-concurrency=1 tests/*.test.mjs

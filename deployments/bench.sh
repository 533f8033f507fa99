#!/usr/bin/env bash
# `make bench`: builds cmd/moonlight-bench and runs it against the embedded
# broker and database (kfake + FerretDB, in the bench process), then, when
# asked, against other servers. Prints the figures and rewrites the results
# part of docs/benchmarks.md (everything below the results marker; the notes
# above it are kept).
#
# Environment:
#   BENCH_REAL=1          also run against real Apache Kafka and mongo-java-server,
#                         started (and stopped again) with the scripts beside this one
#                         (on KAFKA_PORT and MONGO_JAVA_PORT when set, under
#                         MOONLIGHT_SERVICES_DIR: the scripts read those)
#   BENCH_KAFKA_BROKERS   also run against this Kafka (host:port,...) ...
#   BENCH_MONGO_URI       ... and/or this MongoDB (the embedded one stands in for the other)
#   BENCH_ARGS            extra flags for every run (see `bin/moonlight-bench -h`),
#                         e.g. "--api-events 200000 --latency-duration 10s"
#   BENCH_OUT             report file (default docs/benchmarks.md)
# Profiles and the service logs go to test-output/bench/<run>/.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=${BENCH_OUT:-docs/benchmarks.md}
MARKER='<!-- results: everything below is written by make bench -->'
RESULTS=$(mktemp)
started=()
cleanup() {
	rm -f "$RESULTS"
	for s in "${started[@]}"; do
		"$s" stop >/dev/null 2>&1 || true
	done
}
trap cleanup EXIT

go build -o bin/moonlight-bench ./cmd/moonlight-bench

run() { # name, then flags
	local name=$1
	shift
	mkdir -p "test-output/bench/$name"
	# shellcheck disable=SC2086
	bin/moonlight-bench --out "$RESULTS" --append \
		--profile-dir "test-output/bench/$name" --service-log "test-output/bench/$name/service.log" \
		"$@" ${BENCH_ARGS:-}
}

status=0
# The default run uses the embedded servers whatever BENCH_* addresses say.
BENCH_KAFKA_BROKERS= BENCH_MONGO_URI= run embedded --label "Embedded: kfake broker + FerretDB v1.24 (SQLite), in the bench process" || status=1

if [[ -n "${BENCH_KAFKA_BROKERS:-}${BENCH_MONGO_URI:-}" ]]; then
	run given --brokers "${BENCH_KAFKA_BROKERS:-}" --mongo-uri "${BENCH_MONGO_URI:-}" || status=1
fi

if [[ "${BENCH_REAL:-}" == 1 ]]; then
	for s in ./deployments/kafka/kafka.sh ./deployments/mongo-java-server/mongo-java-server.sh; do
		if ! "$s" status >/dev/null 2>&1; then
			"$s" start >/dev/null
			started+=("$s")
		fi
	done
	run real --brokers "${KAFKA_BROKERS:-127.0.0.1:${KAFKA_PORT:-19092}}" --mongo-uri "${MONGO_JAVA_URI:-mongodb://127.0.0.1:${MONGO_JAVA_PORT:-27018}}" \
		--label "Real servers: Apache Kafka 4.4 (KRaft, one node) + mongo-java-server (H2)" || status=1
fi

# Keep the hand-written notes above the marker; replace the results.
notes=""
if [[ -f "$OUT" ]] && grep -qF "$MARKER" "$OUT"; then
	notes=$(sed "/$(printf '%s' "$MARKER" | sed 's/[][\/.*^$]/\\&/g')/,\$d" "$OUT")
else
	notes="# Benchmarks"
fi
mkdir -p "$(dirname "$OUT")"
{
	printf '%s\n\n%s\n' "$notes" "$MARKER"
	cat "$RESULTS"
} >"$OUT"
echo "report: $OUT"
exit $status

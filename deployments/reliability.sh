#!/usr/bin/env bash
# Runs the reliability suite (internal/reliability, docs/reliability.md):
# builds bin/moonlight, starts a real Apache Kafka 4.4.0 broker of its own
# (kafka/kafka.sh on ports 19192/19193, state in .services/reliability/, so
# restarting it mid-test disturbs no other suite), runs the scenarios, prints
# their figures table and stops the broker. Figures: test-output/reliability/.
#
#   deployments/reliability.sh                 # every scenario
#   deployments/reliability.sh -run TestCrash  # extra arguments go to go test
#
# RELIABILITY_KAFKA=embedded runs without Java/Maven against the embedded
# broker (the broker-restart scenario is then skipped).
set -euo pipefail
cd "$(dirname "$0")/.."

export MOONLIGHT_SERVICES_DIR=${RELIABILITY_SERVICES_DIR:-$PWD/.services/reliability}
export KAFKA_PORT=${RELIABILITY_KAFKA_PORT:-19192}
export KAFKA_CONTROLLER_PORT=${RELIABILITY_KAFKA_CONTROLLER_PORT:-19193}

go build -o bin/moonlight ./cmd/moonlight
export MOONLIGHT_BIN=$PWD/bin/moonlight
export MOONLIGHT_RELIABILITY=1

if [[ "${RELIABILITY_KAFKA:-real}" != embedded ]]; then
	cleanup() { ./deployments/kafka/kafka.sh stop || true; }
	trap cleanup EXIT
	# A fresh broker: topics of earlier runs would only slow it down.
	./deployments/kafka/kafka.sh reset
	eval "$(./deployments/kafka/kafka.sh start)"
	export MOONLIGHT_TEST_KAFKA_BROKERS=$KAFKA_BROKERS
	echo "reliability suite against Apache Kafka at $MOONLIGHT_TEST_KAFKA_BROKERS"
else
	unset MOONLIGHT_TEST_KAFKA_BROKERS
	echo "reliability suite against the embedded broker (broker-restart skipped)"
fi

mkdir -p test-output/reliability
# One scenario at a time: they measure recovery times and throughput.
set +e
go test -count=1 -p 1 -parallel 1 -timeout 30m -v "$@" ./internal/reliability/ 2>&1 |
	tee test-output/reliability/go-test.log |
	grep --line-buffered -E '^(=== RUN|--- |PASS|FAIL|ok |reliability suite|scenario |[a-z-]+ +(ok|FAIL) )|figure |summary:|kill |Error|error'
status=${PIPESTATUS[0]}
set -e
exit "$status"

#!/usr/bin/env bash
# Runs the integration suites against real servers: Apache Kafka 4.4.0 (KRaft,
# single node) and mongo-java-server, both obtained through Maven and started
# on 127.0.0.1 by the scripts beside this one. Stops them afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

# Packages whose tests talk to a broker or a database.
INTEGRATION_PKGS=${INTEGRATION_PKGS:-$(go list -f '{{.ImportPath}} {{join .TestImports " "}} {{join .XTestImports " "}}' ./... | awk '/internal\/testenv( |$)/ {print $1}')}

cleanup() {
	./deployments/kafka/kafka.sh stop || true
	./deployments/mongo-java-server/mongo-java-server.sh stop || true
}
trap cleanup EXIT

./deployments/kafka/kafka.sh start
./deployments/mongo-java-server/mongo-java-server.sh start

export MOONLIGHT_TEST_KAFKA_BROKERS=${KAFKA_BROKERS:-127.0.0.1:19092}
export MOONLIGHT_TEST_MONGO_URI=${MONGO_JAVA_URI:-mongodb://127.0.0.1:27018}
echo "integration suites against real Kafka ($MOONLIGHT_TEST_KAFKA_BROKERS) and mongo-java-server ($MOONLIGHT_TEST_MONGO_URI):"
echo "$INTEGRATION_PKGS"
# shellcheck disable=SC2086
go test -count=1 -timeout 30m $INTEGRATION_PKGS

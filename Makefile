# Moonlight. `make run` starts the demo; `make test` runs every test CI runs.
SHELL := /bin/bash
GO ?= go
PKGS := ./...
# Real servers for the integration suites (deployments/): ports on 127.0.0.1.
KAFKA_BROKERS ?= 127.0.0.1:19092
MONGO_JAVA_URI ?= mongodb://127.0.0.1:27018

.PHONY: run build build-prod test test-unit test-fuzz test-real test-reliability test-e2e bench vet fmt services-up services-down clean

run: ## start `moonlight demo` on http://127.0.0.1:8080 with sample data
	$(GO) run ./cmd/moonlight demo

build:
	$(GO) build -o bin/moonlight ./cmd/moonlight

# The production binary (deployments/docker/Dockerfile): no embedded demo servers.
build-prod:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags="-s -w" -tags nodemo -o bin/moonlight ./cmd/moonlight
	$(GO) vet -tags nodemo ./cmd/moonlight

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "not gofmt-formatted:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

# Everything: static checks, unit and integration tests against the embedded
# broker and database, a short fuzz run, the integration suites again against
# real Apache Kafka and mongo-java-server, and the browser tests; build-prod
# checks that the production build (no embedded servers) still compiles.
test: fmt vet build-prod test-unit test-fuzz test-real test-reliability test-e2e

test-unit:
	$(GO) test -count=1 -timeout 20m $(PKGS)

test-fuzz:
	$(GO) test -run '^$$' -fuzz FuzzDecode -fuzztime 20s ./internal/event/

test-real:
	./deployments/test-real.sh

# The web UI in headless Chromium (Debian's package) driven by playwright-core.
test-e2e:
	./e2e/run.sh

# Kill, stop and restart processes while events stream in (docs/reliability.md).
test-reliability:
	./deployments/reliability.sh

bench:
	./deployments/bench.sh

services-up:
	./deployments/kafka/kafka.sh start
	./deployments/mongo-java-server/mongo-java-server.sh start

services-down:
	-./deployments/kafka/kafka.sh stop
	-./deployments/mongo-java-server/mongo-java-server.sh stop

clean:
	rm -rf bin data test-output

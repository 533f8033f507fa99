# Moonlight. `make run` starts the demo; `make test` runs every test CI runs.
SHELL := /bin/bash
GO ?= go
PKGS := ./...
# Real servers for the integration suites (deployments/): ports on 127.0.0.1.
KAFKA_BROKERS ?= 127.0.0.1:19092
MONGO_JAVA_URI ?= mongodb://127.0.0.1:27018

.PHONY: run build build-prod test test-unit test-race test-fuzz test-deploy test-real test-reliability test-e2e bench vet fmt lint vuln services-up services-down clean

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
test: fmt vet lint vuln build-prod test-unit test-race test-fuzz test-deploy test-real test-reliability test-e2e

test-unit:
	$(GO) test -count=1 -timeout 20m $(PKGS)

# The race detector on the packages whose tests need no servers (the embedded
# FerretDB and kfake run inside the test binary, and under -race they are
# several times slower: see deployments/README.md for the measurements).
RACE_PKGS ?= ./internal/audit/ ./internal/auth/ ./internal/civil/ ./internal/config/ ./internal/detect/ \
	./internal/employee/ ./internal/event/ ./internal/grant/ ./internal/privacy/ ./internal/sample/ \
	./internal/tracing/ ./internal/watchlist/
test-race:
	$(GO) test -race -count=1 -timeout 20m $(RACE_PKGS)

# The Helm chart and the compose file, offline (deployments/check, a module
# of its own so Helm and the Kubernetes types stay out of go.mod).
test-deploy:
	cd deployments/check && $(GO) vet ./... && $(GO) test -count=1 -timeout 20m ./...

# Pinned tools, installed from the Go module proxy into GOBIN when missing.
GOLANGCI_LINT_VERSION ?= v2.15.0
GOVULNCHECK_VERSION ?= v1.9.0
GOBIN ?= $(shell $(GO) env GOPATH)/bin

lint:
	@if [ "$$($(GOBIN)/golangci-lint version --short 2>/dev/null)" != "$(GOLANGCI_LINT_VERSION:v%=%)" ]; then \
		echo "installing golangci-lint $(GOLANGCI_LINT_VERSION)"; \
		GOBIN=$(GOBIN) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION); fi
	$(GOBIN)/golangci-lint run ./...

# govulncheck needs its database at vuln.go.dev. Where that host cannot be
# reached (as on machines that reach only package registries) the check is
# skipped with a message; any other failure fails.
vuln:
	@if ! timeout 10 bash -c 'exec 3<>/dev/tcp/vuln.go.dev/443' 2>/dev/null; then \
		echo "vuln: SKIPPED: vuln.go.dev (the Go vulnerability database) is unreachable from this machine"; exit 0; fi; \
	if [ ! -x $(GOBIN)/govulncheck ] || ! $(GOBIN)/govulncheck -version 2>/dev/null | grep -q 'govulncheck@$(GOVULNCHECK_VERSION)'; then \
		echo "installing govulncheck $(GOVULNCHECK_VERSION)"; \
		GOBIN=$(GOBIN) $(GO) install golang.org/x/vuln/cmd/govulncheck@$(GOVULNCHECK_VERSION); fi; \
	$(GOBIN)/govulncheck ./... && (cd deployments/check && $(GOBIN)/govulncheck ./...)

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

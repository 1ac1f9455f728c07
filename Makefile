# The two commands of the README, and a few helpers.
GO ?= go

SCENARIOS := static-api upstream-flask tls paths timeouts loadbalance hostrouting cache

.PHONY: lab test bench build $(addprefix run-,$(SCENARIOS))

# Run the seed lab stack: the Flask API on :8080 and frontdesk on :8000.
lab:
	integration/lab.sh

# Run one scenario of caddyfile/ with its demo backends: make run-cache, ...
$(addprefix run-,$(SCENARIOS)):
	integration/scenario.sh $(@:run-%=%)

# Run the whole test suite, installing the Debian test peers when missing.
test:
	integration/peers.sh python3-flask nginx dnsmasq redis-server redis-sentinel chromium ipset nftables conntrack
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 60m ./...

# CoreDNS for the DNS rounds, from the Go module proxy (not a Debian package).
COREDNS_VERSION ?= v1.15.0

# Side-by-side benchmark (not part of the tests).
bench:
	integration/peers.sh nginx wrk haproxy varnish dnsmasq dnsperf valgrind
	test -x bin/coredns || GOBIN=$(CURDIR)/bin $(GO) install github.com/coredns/coredns@$(COREDNS_VERSION)
	$(GO) run ./integration/bench

build:
	$(GO) build -o bin/frontdesk ./cmd/frontdesk

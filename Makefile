# Tokenomics build. `make demo` runs the whole system on loopback; `make test` is what CI runs.
GO        ?= go
BIN       := bin/tokenomics
PKG       := github.com/tokenomics-dev/tokenomics
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
DATE      ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS   := -s -w -X $(PKG)/cmd/cli.version=$(VERSION) -X $(PKG)/cmd/cli.commit=$(COMMIT) -X $(PKG)/cmd/cli.date=$(DATE)
# -timeout is only the hang guard: ./test alone took 9.6 min at load
# average ~15 on the 2-core box, so 15m left too little room.
TESTFLAGS ?= -race -count=1 -timeout 30m

.PHONY: all build test test-go lint plugins bench bench-load fuzz clean

all: build

-include plugins/plugins.mk
ifeq ($(wildcard plugins/plugins.mk),)
plugins: ;
endif

# Static (no cgo): nothing needs libc, and without it serve is 1.5-3 MiB
# smaller resident (no libc pages, no malloc arenas; docs/BENCHMARKS.md).
build: plugins
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/tokenomics

# The whole system on loopback: fake provider, central server, proxy, the four
# role tokens, and a walk through what the gateway does. Exits 0 only if every
# step behaved as shown.
demo: build
	$(GO) run ./cmd/demo -bin $(BIN)

# test/testenv.sh installs the SDK clients (npm ci) and starts a private
# redis-server when those tools exist, and names every test group it
# cannot enable, with the command that would.
test: plugins build
	@test/testenv.sh $(MAKE) --no-print-directory test-go

test-go:
	TOKENOMICS_BIN=$(CURDIR)/$(BIN) $(GO) test $(TESTFLAGS) ./...
	# Allocation assertions, which the race detector's own allocations void.
	$(GO) test -count=1 -run 'Alloc' ./core/... ./providers/...

lint: plugins
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) test -count=1 -run TestLayering ./test/

bench: plugins
	$(GO) test -run '^$$' -bench . -benchmem ./...

# Load benchmark on loopback (fake upstream, serve and load generator share
# the machine); results and CPU profiles go to bin/bench-load/.
# LOADGEN_FLAGS='-c 64' changes the load; BENCH_DURATION and BENCH_WARMUP
# the length of each run. PIN=1 is issue #17's setup: loadgen on CPU 0, fake
# upstream and serve on CPU 1, at 32 and 128 clients, the matrix run
# BENCH_ROUNDS times (the issue's 2 x 10 s per cell; figures are per-round
# ratios' medians).
BENCH_DURATION ?= 10s
BENCH_WARMUP ?= 1s
BENCH_ROUNDS ?= 2
BENCH_PIN_FLAGS = -pin -c 32,128 -rounds $(BENCH_ROUNDS)
bench-load: build
	$(GO) build -o bin/fakeupstream ./cmd/fakeupstream
	$(GO) build -o bin/loadgen ./cmd/loadgen
	bin/loadgen -tokenomics $(BIN) -fake bin/fakeupstream -out bin/bench-load -go $(GO) \
	  -d $(BENCH_DURATION) -warmup $(BENCH_WARMUP) $(if $(filter 1,$(PIN)),$(BENCH_PIN_FLAGS)) $(LOADGEN_FLAGS)

# Short fuzzing of every parser; FUZZTIME=1m make fuzz for longer runs.
FUZZTIME ?= 10s
fuzz:
	@$(GO) list -f '{{.ImportPath}}' ./... | while read p; do \
	  for f in $$($(GO) test -list '^Fuzz' $$p 2>/dev/null | grep '^Fuzz'); do \
	    echo "fuzz $$p $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$p || exit 1; \
	  done; done

clean:
	rm -rf bin

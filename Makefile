# brazesync — the two commands a new user runs are `make run` and `make test`.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo development)
LDFLAGS  := -s -w -X main.version=$(VERSION) \
            -X github.com/brazesync/brazesync/destination.Version=$(VERSION) \
            -X github.com/brazesync/brazesync/source/file.Version=$(VERSION) \
            -X github.com/brazesync/brazesync/source/snowflake.Version=$(VERSION) \
            -X github.com/brazesync/brazesync/source/looker.Version=$(VERSION)
BINARIES := brazesync braze-destination file-source snowflake-source looker-source

.PHONY: build run test test-race bench docs sample clean

## build: compile every binary into bin/
build:
	@mkdir -p bin
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/ $(addprefix ./plugin/cmd/,$(BINARIES))

## run: the main job end to end on the sample data, against a local Braze emulator; prints the report
run: build
	@bash test/quickstart.sh

## test: the whole suite (what .ci/run calls); end-to-end tests use the binaries just built
test: build
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || (echo "gofmt needed:"; gofmt -l .; exit 1)
	BRAZESYNC_BIN=$(CURDIR)/bin $(GO) test -count=1 -timeout 25m ./...

## test-race: the suite under the race detector (slower, ~10 min on 2 cores)
test-race: build
	BRAZESYNC_BIN=$(CURDIR)/bin $(GO) test -race -count=1 -timeout 40m ./...

## bench: the benchmark suite; prints one table and writes bench-results.json
bench: build
	BRAZESYNC_BIN=$(CURDIR)/bin $(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m ./test/bench/...

## docs: regenerate docs/configuration.md from the spec structs (a test fails when it is stale)
docs:
	$(GO) run ./plugin/cmd/gen-docs

## sample: regenerate docs/examples/data (deterministic)
sample:
	$(GO) run ./test/sampledata/gen -out docs/examples/data

clean:
	rm -rf bin brazesync-report.json brazesync-dead-letter.jsonl

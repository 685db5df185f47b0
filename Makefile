# Voxgate. `make run` starts the gateway with the demo IVR; `make test` runs every test.
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
BIN := bin/voxgate
CONFIG ?= configs/voxgate.yaml

.PHONY: run build test deps deps-test lint fuzz bench clean console-ui

run: deps build
	./$(BIN) serve --config $(CONFIG)

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/voxgate

deps:
	scripts/install-deps.sh run
	npm --prefix functions/runtime install --no-audit --no-fund --loglevel=error

deps-test:
	scripts/install-deps.sh test
	npm --prefix e2e/sdk install --no-audit --no-fund --loglevel=error
	npm --prefix web/e2e install --no-audit --no-fund --loglevel=error
	npm --prefix messaging/smpp/testdata/smsc install --no-audit --no-fund --loglevel=error
	npm --prefix functions/runtime install --no-audit --no-fund --loglevel=error
	npm --prefix functions/oracle install --no-audit --no-fund --loglevel=error
	npm --prefix console/e2e install --no-audit --no-fund --loglevel=error

# Rebuilds the console's front end (console/ui: React, React Flow, Vite)
# into console/dist, which is committed and embedded by go:embed: go build
# never needs npm. Run it after changing console/ui and commit the result.
console-ui:
	npm --prefix console/ui ci --no-audit --no-fund --loglevel=error
	npm --prefix console/ui run build

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

test: deps-test lint
	$(GO) test -race -count=1 -timeout 30m ./...

# Short fuzzing runs of every parser (FUZZTIME=60s for longer).
FUZZTIME ?= 20s
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME) ./twiml/
	$(GO) test -run '^$$' -fuzz FuzzParseOffer -fuzztime $(FUZZTIME) ./sip/
	$(GO) test -run '^$$' -fuzz FuzzDecode -fuzztime $(FUZZTIME) ./messaging/smpp/
	$(GO) test -run '^$$' -fuzz FuzzGSM7 -fuzztime $(FUZZTIME) ./messaging/
	$(GO) test -run '^$$' -fuzz FuzzRequestHeaders -fuzztime $(FUZZTIME) ./sip/
	$(GO) test -run '^$$' -fuzz FuzzDigestCredentials -fuzztime $(FUZZTIME) ./sip/
	$(GO) test -run '^$$' -fuzz FuzzRTPLegHandlePacket -fuzztime $(FUZZTIME) ./media/
	$(GO) test -run '^$$' -fuzz FuzzCheckTo -fuzztime $(FUZZTIME) ./api/
	$(GO) test -run '^$$' -fuzz FuzzParseInbound -fuzztime $(FUZZTIME) ./mediastream/
	$(GO) test -run '^$$' -fuzz FuzzDecoder -fuzztime $(FUZZTIME) ./media/g722/

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./media/... ./sip/ ./twiml/

clean:
	rm -rf bin var

# Quire. `make run` serves on the embedded development database; `make test`
# is what CI runs (.ci/run).

GO      ?= go
BIN     := bin/quire
PKG     := ./...

.PHONY: run build test generate check-generated vet test-go fuzz soak soak-short bench bench-load bench-growth clean

run: build
	$(BIN) serve

build:
	$(GO) build -o $(BIN) ./cmd/server

# The generated code is committed; this fails if regenerating changes it.
# The authorization reference reads the compiled schema, so it comes last.
generate:
	$(GO) tool sqlc generate
	$(GO) tool gqlgen generate
	$(GO) run ./cmd/authzdoc -o docs/authorization.md

check-generated:
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	cp -a internal/store graph docs "$$tmp"/; \
	$(MAKE) --no-print-directory generate >/dev/null; \
	if ! diff -r "$$tmp"/store internal/store || ! diff -r "$$tmp"/graph graph || ! diff -r "$$tmp"/docs docs; then \
		echo "generated code is stale: run 'make generate' and commit the result" >&2; exit 1; \
	fi; \
	echo "generated code is up to date"

vet:
	$(GO) vet $(PKG)

# One throwaway PostgreSQL cluster serves every package's tests; each test
# gets its own database cloned from a migrated template.
test-go:
	$(GO) run ./internal/pgtest/pgtestrun -- $(GO) test -race -count=1 $(PKG)

# Fuzz everything that reads untrusted input, each target for FUZZTIME (CI:
# the default 10s; `make fuzz FUZZTIME=5m` for a longer hunt), on top of the
# seed corpora every plain test run already checks. One cluster serves the
# packages whose TestMain wants PostgreSQL.
FUZZTIME ?= 10s
FUZZ_TARGETS := \
	./internal/page:FuzzDecode \
	./internal/apikey:FuzzParse \
	./internal/authn:FuzzAuthenticate \
	./internal/httpserver:FuzzPrecheck \
	./internal/note:FuzzInput \
	./internal/account:FuzzInput \
	./internal/org:FuzzInput \
	./graph:FuzzJSONString

fuzz:
	FUZZTIME=$(FUZZTIME) GO=$(GO) $(GO) run ./internal/pgtest/pgtestrun -- scripts/fuzz.sh $(FUZZ_TARGETS)

# Mixed traffic from 16 tenants at c=64 with PostgreSQL restarted halfway
# (cmd/soak, README "Soak and fault testing"): fails on any lost write, any
# note shown to the wrong caller, any error but CONFLICT outside the outage,
# a hang, or RSS/goroutines growing more than 10 % after the warm-up.
SOAK_DURATION ?= 10m

soak: build
	$(GO) run ./cmd/soak --quire $(BIN) --duration $(SOAK_DURATION)

# The same, for one minute: what CI runs.
soak-short: build
	$(GO) run ./cmd/soak --quire $(BIN) --duration 60s

test: check-generated vet test-go fuzz soak-short

bench:
	$(GO) run ./internal/pgtest/pgtestrun -- $(GO) test -run '^$$' -bench . -benchmem $(PKG)

# Quire against the peer anchors (../shared/bench/peers) in one run, as root:
# serves a fresh embedded database, seeds 100 orgs × 1,000 notes and writes
# docs/performance.md. WARM, DUR, ROUNDS and PREWARM pass through.
bench-load:
	bash scripts/bench-load.sh

# How the first page, a deep page and a search grow from 10,000 to 1,000,000
# notes in one organization (docs/performance.md). Seeding takes minutes.
bench-growth:
	QUIRE_GROWTH=1 $(GO) run ./internal/pgtest/pgtestrun -- $(GO) test -count=1 -timeout 60m -run '^TestGrowth$$' -v ./internal/note/

clean:
	rm -rf bin

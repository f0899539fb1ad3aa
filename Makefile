# dlayer — read-only storage forensics for Docker's data root.
#
#   make build   bin/dlayer (static)
#   make install $(PREFIX)/bin/dlayer (PREFIX=/usr/local)
#   make demo    list a fixture store's containers, images and an image's layers, explain a container,
#                then diff, du, verify and whose (no Docker needed; as non-root on the committed aufs store)
#   make test    install what the tests need (as root on Debian/Ubuntu), build or reuse the
#                Docker 29-era engine (make engines), run unit + e2e tests
#                (e2e under -race: needs cgo and a C compiler), then make fuzz
#   make engines build (first time, ~15 min) or reuse the cached Docker 29-era engine (root only)
#   make bench   benchmarks: dlayer diff vs docker diff on a private engine (root),
#                dlayer du vs du -s on a generated 1M-file store ($$DLAYER_BENCH_STORE, ~4 GB),
#                the incident commands on that store,
#                verify throughput vs sha256sum, and verify vs docker save on the 1M-file image
#   make fuzz    a short fuzz run of every decoder of untrusted input (part of make test)
#   make lint    gofmt, go.mod/go.sum tidy (go mod tidy -diff), go vet, staticcheck

GO          ?= go
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
# DLAYER_E2E: unset/auto = run the real-engine tests when an engine can be
# started here, skip otherwise; 1 = they must run (CI); 0 = skip them.
DLAYER_E2E  ?= auto
TESTFLAGS   ?=
export DOCKER_BUILDKIT = 0

PREFIX      ?= /usr/local

.PHONY: build install demo test fuzz deps engines bench lint clean

build:
	CGO_ENABLED=0 $(GO) build -buildvcs=auto -o bin/dlayer .

# install: the static binary into $(PREFIX)/bin.
install: build
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 bin/dlayer $(DESTDIR)$(PREFIX)/bin/dlayer

bin/mkstore: $(wildcard fixtures/*.go fixtures/cmd/mkstore/*.go)
	$(GO) build -o bin/mkstore ./fixtures/cmd/mkstore

bin/mkbig: $(wildcard fixtures/*.go fixtures/cmd/mkbig/*.go)
	$(GO) build -o bin/mkbig ./fixtures/cmd/mkbig

# demo: as root, the overlay2 fixture store (whiteout devices, trusted
# xattrs and owners need root); otherwise the committed plain-file aufs store,
# which needs no privilege. Both: then a look at the aufs store.
demo: build bin/mkstore
	@set -e; d=$$(mktemp -d /tmp/dlayer-demo.XXXXXX); trap 'rm -rf "$$d"' EXIT; \
	if [ "$$(id -u)" = 0 ]; then bin/mkstore "$$d/root"; else bin/mkstore -driver aufs-committed "$$d/root"; fi; echo; \
	echo '$$ dlayer --root $$d/root ps'; bin/dlayer --root "$$d/root" --mountinfo none --daemon off ps; echo; \
	echo '$$ dlayer --root $$d/root images'; bin/dlayer --root "$$d/root" images; echo; \
	echo '$$ dlayer --root $$d/root layers demo/app:2'; bin/dlayer --root "$$d/root" layers demo/app:2; echo; \
	echo '$$ dlayer --root $$d/root explain web'; bin/dlayer --root "$$d/root" --mountinfo none --daemon off explain web; echo; \
	echo '$$ dlayer --root $$d/root diff web'; bin/dlayer --root "$$d/root" --mountinfo none --daemon off diff web; echo; \
	echo '$$ dlayer --root $$d/root du'; bin/dlayer --root "$$d/root" du; echo; \
	echo '$$ dlayer --root $$d/root verify'; bin/dlayer --root "$$d/root" verify || \
		echo "(verify exit $$?: as non-root the store cannot be given its owners (or trusted.* xattrs), so the layer dirs differ from their tars)"; \
	base=$$(for c in "$$d"/root/image/*/layerdb/sha256/*; do [ -e "$$c/parent" ] || cat "$$c/cache-id"; done); \
	p=overlay2/$$base/diff/etc/passwd; [ -d "$$d/root/overlay2" ] || p=aufs/diff/$$base/etc/passwd; echo; \
	echo "\$$ dlayer --root \$$d/root whose $$p"; bin/dlayer --root "$$d/root" --mountinfo none whose "$$p"; \
	if [ "$$(id -u)" = 0 ]; then echo; bin/mkstore -driver aufs-committed "$$d/aufs"; \
		echo '$$ dlayer --root $$d/aufs explain --quiet web'; bin/dlayer --root "$$d/aufs" --mountinfo none --daemon off explain --quiet web; fi

# deps installs, when it can (root with apt-get), what the e2e tests need:
# a Docker engine and a static busybox for the base image, attr for xattrs,
# and what building runc for the Docker 29 engine needs (pkg-config,
# libseccomp-dev), and a C compiler for go test -race.
deps:
	@missing=""; \
	[ -x /usr/sbin/dockerd ] && [ -x /usr/bin/docker ] || missing="$$missing docker.io"; \
	for p in busybox-static pkg-config libseccomp-dev; do \
		dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	command -v cc >/dev/null || missing="$$missing gcc"; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "make deps: installing$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else \
		echo "make deps: missing$$missing (needs root with apt-get); real-engine tests will skip unless DLAYER_E2E=1"; \
	fi

# engines builds, the first time, the Docker 29-era engine (dockerd from
# moby/moby/v2, containerd, its shim, ctr, runc: fixtures/engine/build-engines.sh)
# into ~/.cache/dlayer/engines/, and reuses it afterwards. Only root can run
# an engine, so others skip it, and so does a machine without go.
engines: deps
	@if [ "$$(id -u)" != 0 ]; then \
		echo "make engines: not root: not building the Docker 29 engine; its tests will skip unless DLAYER_E2E=1"; \
	elif ! command -v $(GO) >/dev/null; then \
		echo "make engines: no $(GO) on PATH: not building the Docker 29 engine"; \
	else GO=$(GO) fixtures/engine/build-engines.sh >/dev/null; fi

# test: every package, then the e2e package under the race detector (its
# TestMain builds the dlayer binary under test with -race too, and a data
# race any run of it reports fails the package: e2e/race_test.go), then
# the fuzz targets.
test: deps engines
	DLAYER_E2E=$(DLAYER_E2E) $(GO) test -count=1 -timeout 30m $(TESTFLAGS) $$($(GO) list ./... | grep -v -e '^github.com/dlayer/dlayer/e2e$$')
	DLAYER_E2E=$(DLAYER_E2E) $(GO) test -race -count=1 -timeout 30m $(TESTFLAGS) ./e2e
	$(MAKE) --no-print-directory fuzz

# fuzz runs each decoder of untrusted input for FUZZTIME, seeded with the
# hostile shapes (decompression bombs, deep nesting, long values).
FUZZTIME ?= 8s
FUZZ_TARGETS = inspect/verify:FuzzTSDecoderBounded inspect/verify:FuzzTSDecoder \
	inspect:FuzzParseContainerConfig inspect:FuzzParseImageConfig inspect:FuzzParseRepositories
fuzz:
	@for t in $(FUZZ_TARGETS); do \
		echo "fuzz $${t#*:} ($(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$${t#*:}\$$" -fuzztime $(FUZZTIME) ./$${t%%:*} >/tmp/dlayer-fuzz.$$$$ 2>&1 || { cat /tmp/dlayer-fuzz.$$$$; rm -f /tmp/dlayer-fuzz.$$$$; exit 1; }; \
		rm -f /tmp/dlayer-fuzz.$$$$; \
	done

bench: deps
	$(GO) test -run '^$$' -bench . -benchmem -count=1 $$($(GO) list ./... | grep -v -e '^github.com/dlayer/dlayer/e2e$$' -e /inspect/verify)
	DLAYER_E2E=1 $(GO) test -run '^$$' -bench DiffVsDocker -benchtime 3x -timeout 60m ./e2e
	$(GO) test -run '^$$' -bench DUVsCoreutils -benchtime 5x -timeout 60m ./e2e
	$(GO) test -run '^$$' -bench IncidentCommands -benchtime 5x -timeout 60m ./e2e
	DLAYER_E2E=1 $(GO) test -run '^$$' -bench ContainerdDUVsDocker -benchtime 5x -benchmem -timeout 30m ./e2e
	$(GO) test -run '^$$' -bench . -benchtime 3x -count=1 -v ./inspect/verify/
	DLAYER_E2E=1 $(GO) test -run '^$$' -bench VerifyVsDocker -benchtime 1x -timeout 90m -v ./e2e

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) mod tidy -diff
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

clean:
	rm -rf bin

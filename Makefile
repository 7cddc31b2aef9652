# Build and test sandbox-action. Images are built locally from static
# binaries (CGO_ENABLED=0) copied into FROM-scratch images; nothing is pulled.

GO        ?= go
IMAGE     ?= sandbox-action:dev
REPLAY    ?= sandbox-action/replay-agent:dev
GOFLAGS_STATIC = CGO_ENABLED=0 GOOS=linux
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION  ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS   = -s -w -X main.version=$(VERSION)
IMAGE_MAX_BYTES ?= 20000000
CA_BUNDLE ?= /etc/ssl/certs/ca-certificates.crt

SUDO      ?= $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test bench build images image image-size replay-image gvisor clean

## demo: build the images and run the replay agent in the sandbox on this repository.
demo: build images
	./bin/sandbox run --image $(REPLAY) --agent claude --timings \
		--prompt "Review this repository and summarise what it does."

## test: formatting, vet, and every test with the race detector. gVisor is
## part of the test matrix, so it is installed and registered first (a no-op
## once done). The test images carry this run's session label and are
## removed when it ends.
test: gvisor
test: export SANDBOX_TEST_SESSION := $(shell od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
test:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	@status=0; $(GO) test -race -count=1 -timeout 15m ./... || status=$$?; \
	ids=$$(docker image ls -q --filter label=org.sandbox-action.test-session=$$SANDBOX_TEST_SESSION | sort -u); \
	if [ -n "$$ids" ]; then docker image rm -f $$ids >/dev/null; fi; \
	exit $$status

## bench: sandbox run vs docker run --rm, interleaved, on the same local image; runc and gVisor, public and private.
## Then 100 MB downloads inside a sandbox, direct vs through the forwarder and each proxy transport
## (-throughput=false skips them, -startup=false runs only them).
bench: image
	$(GO) run ./internal/bench -n 20

## gvisor: install gVisor (Debian's runsc) when absent and register it with
## the local Docker daemon: merged into /etc/docker/daemon.json, reloaded
## with SIGHUP (running containers are untouched), checked with docker info.
gvisor:
	@command -v runsc >/dev/null 2>&1 || { echo "installing Debian's runsc (gVisor)"; \
		$(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq runsc; }
	mkdir -p bin
	$(GO) build -o bin/gvisorsetup ./internal/gvisorsetup
	$(SUDO) bin/gvisorsetup

build:
	mkdir -p bin
	$(GOFLAGS_STATIC) $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/sandbox ./cmd/sandbox

images: image replay-image

## image: the product image, FROM scratch, with the binaries and CA certificates.
image: build
	@test -r $(CA_BUNDLE) || { echo "no CA bundle at $(CA_BUNDLE): install Debian's ca-certificates"; exit 1; }
	rm -rf dist/image && mkdir -p dist/image
	cp bin/sandbox $(CA_BUNDLE) dist/image/
	docker build -q -t $(IMAGE) -f Dockerfile \
		--build-arg VERSION=$(VERSION) --build-arg REVISION=$(REVISION) dist/image

## image-size: the product image must stay within IMAGE_MAX_BYTES (20 MB),
## as docker images counts it (uncompressed); the compressed size is what a
## runner pulls.
image-size: image
	@size=$$(docker image inspect -f '{{.Size}}' $(IMAGE)); \
	gz=$$(docker save $(IMAGE) | gzip -c | wc -c); \
	echo "$(IMAGE): $$size bytes ($$gz compressed), limit $(IMAGE_MAX_BYTES)"; \
	test $$size -le $(IMAGE_MAX_BYTES) || { echo "$(IMAGE) is larger than $(IMAGE_MAX_BYTES) bytes"; exit 1; }

## replay-image: a scratch image whose claude/codex/gemini replay recorded transcripts.
replay-image:
	$(GO) run ./internal/testimage/buildimage -tag $(REPLAY) replay

clean:
	rm -rf bin dist

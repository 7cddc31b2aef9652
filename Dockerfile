# The sandbox-action image: the static `sandbox` binary on scratch. It is the
# CLI and, as `sandbox proxy`, the egress proxy of private-mode runs.
#
# There is no compiler in this build: the binaries are built first with
# CGO_ENABLED=0 (`make image`, or the release workflow) and copied in, the way
# GoReleaser builds images. The build context is that output directory.
FROM scratch
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY sandbox /usr/local/bin/sandbox
USER 65534:65534
ENTRYPOINT ["/usr/local/bin/sandbox"]

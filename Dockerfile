# The sandbox-action image: the `sandbox` CLI (also the egress proxy, via
# `sandbox proxy`) and the action entrypoint, as static binaries on scratch.
#
# There is no compiler in this build: the binaries are built first with
# CGO_ENABLED=0 (`make image`, or the release workflow) and copied in, the way
# GoReleaser builds images. The build context is that output directory.
FROM scratch
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY sandbox /usr/local/bin/sandbox
USER 65534:65534
ENTRYPOINT ["/usr/local/bin/sandbox"]

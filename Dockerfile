# The sandbox-action image: one static binary on scratch.
#
#   /usr/local/bin/sandbox  the CLI; as `sandbox action` (the entrypoint) the
#                           container action (action.yml), and as `sandbox
#                           proxy` the egress proxy of private-mode runs
#
# The action is a subcommand rather than a second binary because the two
# share nearly all their code: one copy keeps the image within its 20 MB.
# Started with arguments, the entrypoint runs `sandbox ARGS` (the proxy's
# containers are started that way).
#
# There is no compiler in this build: the binary is built first with
# CGO_ENABLED=0 (`make image`, or the release workflow) and copied in, the way
# GoReleaser builds images. The build context is that output directory.
#
# The image runs as root: GitHub starts container actions with the image's
# user, and the action needs the host's Docker socket (root:docker). Nothing
# untrusted runs in it: the sandbox and the proxy containers it starts set
# their own non-root users.
FROM scratch
ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="sandbox-action" \
      org.opencontainers.image.description="Runs AI coding agents headless in a locked-down Docker sandbox and reports to the pull request" \
      org.opencontainers.image.source="https://github.com/org/sandbox-action" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY sandbox /usr/local/bin/sandbox
ENTRYPOINT ["/usr/local/bin/sandbox", "action"]

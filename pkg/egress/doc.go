// Package egress is the way out of a sandbox: an allowlisting forward proxy
// (private mode, whose sandbox has no network at all) and a credential
// gateway (every agent run), served by one process, `sandbox proxy`. It
// runs on the host as a child of the run (host transport) or in a container
// of the project's image on the default bridge (container transport), and
// listens on unix sockets in a directory the sandbox mounts; the sandbox's
// forwarder (package forwarder) binds the loopback ports below and hands
// each connection over to them (see Listen).
//
// The two listen separately:
//
//   - the Proxy (in the sandbox 127.0.0.1:3128) is what HTTP_PROXY and HTTPS_PROXY name. It
//     tunnels CONNECT host:port and forwards plain-HTTP requests in absolute
//     form, to allowlisted names only (see Allowlist), and only to addresses
//     outside this host and its networks (see Destinations); anything else
//     gets 403 or 400 with a one-line reason.
//   - the Gateway (in the sandbox 127.0.0.1:8080) is what the agent's
//     base-URL variable names, reached directly (it belongs in NO_PROXY). It holds the real API
//     keys; the sandbox holds only the run's session token.
//
// Both answer GET /healthz with 200 as soon as the process serves (its
// listeners are bound before either serves); WaitReady polls it.
//
// Every decision is one JSON log line (component, method, host, port,
// decision, reason, status, bytes, duration_ms) and is counted per host or
// vendor in a Recorder, whose Stats snapshot goes into the run summary.
package egress

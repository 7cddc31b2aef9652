// Package egress is the way out of a private-mode sandbox: an allowlisting
// forward proxy and a credential gateway, served by one process (`sandbox
// proxy`) in a container that sits on the run's internal network and on an
// outside network.
//
// The two listen on separate ports:
//
//   - the Proxy (default :3128) is what HTTP_PROXY and HTTPS_PROXY name. It
//     tunnels CONNECT host:port and forwards plain-HTTP requests in absolute
//     form, to allowlisted names only (see Allowlist), and only to addresses
//     outside this host and its networks (see Destinations); anything else
//     gets 403 or 400 with a one-line reason.
//   - the Gateway (e.g. :8080) is what the agent's base-URL variable names,
//     reached directly (its host belongs in NO_PROXY). It holds the real API
//     keys; the sandbox holds only the run's session token.
//
// Both answer GET /healthz with 200 as soon as the process serves (its
// listeners are bound before either serves); WaitReady polls it.
//
// Every decision is one JSON log line (component, method, host, port,
// decision, reason, status, bytes, duration_ms) and is counted per host or
// vendor in a Recorder, whose Stats snapshot goes into the run summary.
package egress

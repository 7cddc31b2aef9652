// Package gvisor knows gVisor's runtime, runsc, as a Docker daemon registers
// it: what its runtime arguments mean for a sandbox, which registered
// runtime suits a run, the registrations this project recommends, and how to
// merge them into daemon.json without touching anything else there.
//
// Everything here is pure: callers read `docker info` and daemon.json and
// signal the daemon themselves (see internal/gvisorsetup).
package gvisor

package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"syscall"

	"github.com/moby/moby/client"

	"github.com/org/sandbox-action/pkg/features"
	"github.com/org/sandbox-action/pkg/gvisor"
	"github.com/org/sandbox-action/pkg/spec"
)

// Check is one line of `sandbox doctor`.
type Check struct {
	Name   string
	OK     bool
	Detail string
	// Optional checks concern features a run may not use (gVisor): when
	// one fails, doctor warns and still succeeds.
	Optional bool
}

// minFreeBytes is the free space below which doctor warns: image layers and
// the agent's tmpfs spill need room.
const minFreeBytes = 2 << 30

// Doctor inspects the daemon the engine talks to: API version, the image a
// run would use, the OCI runtimes it offers and free disk space.
func (e *Engine) Doctor(ctx context.Context, image string) []Check {
	var checks []Check
	v, err := e.c.ServerVersion(ctx, client.ServerVersionOptions{})
	if err != nil {
		return append(checks, Check{Name: "daemon", Detail: err.Error()})
	}
	checks = append(checks, Check{Name: "daemon", OK: true,
		Detail: fmt.Sprintf("Docker %s, Engine API %s (client needs ≥ %s)", v.Version, v.APIVersion, client.MinAPIVersion)})

	if image != "" {
		if err := e.ensureImage(ctx, image, false); err != nil {
			checks = append(checks, Check{Name: "image", Detail: err.Error()})
		} else {
			checks = append(checks, Check{Name: "image", OK: true, Detail: image + " is present"})
		}
	}

	info, err := e.c.Info(ctx, client.InfoOptions{})
	if err != nil {
		return append(checks, Check{Name: "runtimes", Detail: err.Error()})
	}
	runtimes := Runtimes(info)
	names := make([]string, len(runtimes))
	for i, r := range runtimes {
		names[i] = r.Name
	}
	checks = append(checks, Check{Name: "runtimes", OK: true, Detail: strings.Join(names, ", ")})
	checks = append(checks, GVisorChecks(runtimes)...)

	var st syscall.Statfs_t
	if err := syscall.Statfs(info.Info.DockerRootDir, &st); err != nil {
		checks = append(checks, Check{Name: "disk", OK: true,
			Detail: fmt.Sprintf("%s is not visible from here (remote daemon?): not checked", info.Info.DockerRootDir)})
	} else {
		free := st.Bavail * uint64(st.Bsize)
		checks = append(checks, Check{Name: "disk", OK: free >= minFreeBytes,
			Detail: fmt.Sprintf("%.1f GiB free in %s", float64(free)/(1<<30), info.Info.DockerRootDir)})
	}
	return checks
}

// PrivateCheck says whether the default network mode, private, can run on
// this daemon: where its egress proxy would run (see TransportFacts.Choose)
// and, for the container transport, whether proxyImage is there. binary is
// the `sandbox` program the host transport would run.
func (e *Engine) PrivateCheck(ctx context.Context, binary, proxyImage string) Check {
	c := Check{Name: "network private (the default)"}
	f, err := e.Facts(ctx, binary, "")
	if err != nil {
		c.Detail = err.Error()
		return c
	}
	tr, err := f.Choose()
	if err != nil {
		c.Detail = err.Error()
		return c
	}
	if tr.Name == spec.TransportHost {
		c.OK, c.Detail = true, "the egress proxy runs on this host ("+tr.Reason+")"
		return c
	}
	c.Detail = fmt.Sprintf("the egress proxy runs in a container (%s) from %s", tr.Reason, proxyImage)
	if err := e.ensureImage(ctx, proxyImage, false); err != nil {
		c.Detail += ", which is not present: build it (make image) or load it, or pass --proxy-image; or opt out of private mode with --network public"
		return c
	}
	c.OK = true
	return c
}

// GVisorChecks reports each registered gVisor runtime (or that there is
// none) with its arguments, the network modes it suits and whether the
// proxy transports reach it, then which one `--type gvisor` takes for each
// mode, or why none fits and the daemon.json lines to add. The checks are
// for agent runs, which reach the credential gateway's socket in every
// mode.
func GVisorChecks(registered []gvisor.Runtime) []Check {
	modes := []spec.NetworkMode{spec.Public, spec.Private}
	var checks []Check
	if !slices.ContainsFunc(registered, gvisor.Runtime.IsGVisor) {
		checks = append(checks, Check{Name: "gvisor runtime", Detail: "none registered", Optional: true})
	}
	for _, r := range registered {
		if !r.IsGVisor() {
			continue
		}
		f := gvisor.ParseFlags(r.Args)
		var suits, not []string
		for _, m := range modes {
			if ps := f.Problems(features.RuntimeNeed(m, true)); len(ps) > 0 {
				not = append(not, fmt.Sprintf("not %s: %s", m, strings.Join(ps, "; ")))
			} else {
				suits = append(suits, string(m))
			}
		}
		detail := r.String() + ": suits " + orNone(strings.Join(suits, ", "))
		if len(not) > 0 {
			detail += "; " + strings.Join(not, "; ")
		}
		if c := f.Caveat(); c != "" {
			detail += "; " + c
		}
		// Both transports put the proxy's and the gateway's sockets on a
		// host mount (see TransportFacts.RuntimeReachesSockets).
		if (TransportFacts{Runtime: r}).RuntimeReachesSockets() == nil {
			detail += "; proxy transports: host and container"
		} else {
			detail += "; proxy transports: neither (both need --host-uds=open)"
		}
		checks = append(checks, Check{Name: "gvisor runtime", OK: len(suits) > 0, Detail: detail, Optional: true})
	}
	for _, m := range modes {
		c := Check{Name: "--type gvisor, network " + string(m), Optional: true}
		if r, err := gvisor.Pick(registered, features.RuntimeNeed(m, true)); err != nil {
			c.Detail = err.Error()
		} else {
			c.OK, c.Detail = true, "runs under "+r.Name
		}
		checks = append(checks, c)
	}
	return checks
}

func orNone(s string) string {
	if s == "" {
		return "no network mode"
	}
	return s
}

// Runtimes lists the OCI runtimes the daemon offers, sorted by name, with
// the path and arguments each is registered with.
func Runtimes(info client.SystemInfoResult) []gvisor.Runtime {
	var rs []gvisor.Runtime
	for name, r := range info.Info.Runtimes {
		rs = append(rs, gvisor.Runtime{Name: name, Path: r.Path, Args: r.Args})
	}
	return gvisor.Sorted(rs)
}

// Host is what the daemon's machine offers a sandbox.
type Host struct {
	Runtimes []gvisor.Runtime
	NCPU     int
}

// Host asks the daemon for its runtimes and CPU count.
func (e *Engine) Host(ctx context.Context) (Host, error) {
	info, err := e.c.Info(ctx, client.InfoOptions{})
	if err != nil {
		return Host{}, fmt.Errorf("docker info: %w", err)
	}
	return Host{Runtimes: Runtimes(info), NCPU: info.Info.NCPU}, nil
}

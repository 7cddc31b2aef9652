package action

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/org/sandbox-action/pkg/engine"
	"github.com/org/sandbox-action/pkg/plan"
	"github.com/org/sandbox-action/pkg/spec"
)

// transportAuto lets the daemon's facts and the action's container choose
// the proxy transport (the proxy-transport input's default).
const transportAuto = "auto"

// egressChoice is what the transport depends on besides the daemon: where
// the action runs and what it would run as the host proxy.
type egressChoice struct {
	// forced is the proxy-transport input: host, container or auto.
	forced string
	self   self
	// home is the action's $HOME (/github/home on a runner), where a host
	// transport's socket directory is made.
	home string
	// binary is this program, the host proxy and the forwarder.
	binary string
}

// choose is the one place the action decides where a private run's proxy
// runs. The host transport (the proxy as a child process, its sockets in a
// directory the sandbox mounts) needs a daemon on this machine that can
// run this binary, and a directory both this process and the daemon's host
// see: the runner's /github/home, whose host path the action's container's
// mounts tell. Anything else is the container transport, with the reason.
func (c egressChoice) choose(facts engine.TransportFacts) (plan.Egress, error) {
	container := func(why string) (plan.Egress, error) {
		return plan.Egress{Transport: spec.TransportContainer, Reason: why}, nil
	}
	switch c.forced {
	case spec.TransportContainer, spec.TransportHost:
		// A forced transport is taken as it is, unless the sandbox's
		// runtime cannot reach the proxy on any transport.
		if err := facts.RuntimeReachesSockets(); err != nil {
			return plan.Egress{}, fmt.Errorf("proxy-transport %s: %w", c.forced, err)
		}
		if c.forced == spec.TransportContainer {
			return container("the proxy-transport input")
		}
	case transportAuto, "":
	default:
		return plan.Egress{}, fmt.Errorf("proxy-transport %q: want %s, %s or %s", c.forced, spec.TransportHost, spec.TransportContainer, transportAuto)
	}
	forced := c.forced == spec.TransportHost
	reason := "the proxy-transport input"
	if !forced {
		tr, err := facts.Choose()
		if err != nil {
			return plan.Egress{}, err
		}
		if tr.Name != spec.TransportHost {
			return container(tr.Reason)
		}
		reason = tr.Reason
	}
	if !c.self.inContainer {
		if !forced {
			// This binary may be a test's, not `sandbox`: only a
			// container of the action's image is known to carry it.
			return container("the action does not run in a container of this daemon")
		}
		return plan.Egress{Transport: spec.TransportHost, Reason: reason, Dir: c.home, Binary: c.binary}, nil
	}
	hostHome, err := c.self.paths.host(c.home)
	if err != nil {
		if forced {
			return plan.Egress{}, fmt.Errorf("proxy-transport host: the socket directory's parent $HOME: %w", err)
		}
		return container(fmt.Sprintf("$HOME (%s) is not a mount from the Docker host", c.home))
	}
	return plan.Egress{
		Transport: spec.TransportHost,
		Reason:    fmt.Sprintf("%s; sockets under $HOME, %s on the host", reason, hostHome),
		Dir:       c.home, HostDir: hostHome, Binary: c.binary,
		// The binary is inside the action's image, which the daemon's
		// host cannot mount: the sandbox gets a copy beside its sockets.
		CopyForwarder: true,
	}, nil
}

// egress is the plan's EgressFunc for the action: the transport choice,
// and the sandbox image's ENTRYPOINT and CMD the forwarder runs.
func (a *action) egress(e *engine.Engine, me self) plan.EgressFunc {
	return func(ctx context.Context, s plan.Settings) (plan.Egress, error) {
		bin, err := os.Executable()
		if err != nil {
			return plan.Egress{}, fmt.Errorf("locate the sandbox binary: %w", err)
		}
		if r, err := filepath.EvalSymlinks(bin); err == nil {
			bin = r
		}
		facts, err := e.Facts(ctx, bin, s.Features.Type.Runtime)
		if err != nil {
			return plan.Egress{}, err
		}
		home := a.getenv("HOME")
		if home == "" {
			home = "/github/home"
		}
		eg, err := egressChoice{forced: a.in.proxyTransport, self: me, home: home, binary: bin}.choose(facts)
		if err != nil {
			return eg, err
		}
		img, err := e.ImageConfig(ctx, s.Features.Image)
		if err != nil {
			return plan.Egress{}, err
		}
		eg.Entrypoint, eg.Cmd = img.Entrypoint, img.Cmd
		return eg, nil
	}
}

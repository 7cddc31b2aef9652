package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/org/sandbox-action/pkg/engine"
	"github.com/org/sandbox-action/pkg/plan"
	"github.com/org/sandbox-action/pkg/spec"
)

// transportAuto lets the daemon's facts choose the proxy transport.
const transportAuto = "auto"

// egress returns the plan's EgressFunc for --proxy-transport: it decides
// where the run's egress proxy runs and reads what the sandbox's image
// runs, asking the daemon.
func (d *daemon) egress(transport string) plan.EgressFunc {
	return func(ctx context.Context, s plan.Settings) (plan.Egress, error) {
		var eg plan.Egress
		bin, err := sandboxBinary()
		if err != nil {
			return eg, err
		}
		e, err := d.open(ctx)
		if err != nil {
			return eg, err
		}
		facts, err := e.Facts(ctx, bin, s.Features.Type.Runtime)
		if err != nil {
			return eg, err
		}
		facts.SandboxUser = s.SandboxUser()
		var tr engine.Transport
		switch transport {
		case spec.TransportHost, spec.TransportContainer:
			// A forced transport is taken as it is, unless the sandbox's
			// runtime cannot reach the proxy on any transport: that fails
			// here, saying why, rather than in the sandbox's forwarder.
			if err := facts.RuntimeReachesSockets(); err != nil {
				return eg, fmt.Errorf("--proxy-transport %s: %w", transport, err)
			}
			tr = engine.Transport{Name: transport, Reason: "--proxy-transport"}
		case transportAuto, "":
			if tr, err = facts.Choose(); err != nil {
				return eg, err
			}
		default:
			return eg, fmt.Errorf("--proxy-transport %q: want %s, %s or %s", transport, spec.TransportHost, spec.TransportContainer, transportAuto)
		}
		img, err := e.ImageConfig(ctx, s.Features.Image)
		if err != nil {
			return eg, err
		}
		eg = plan.Egress{Transport: tr.Name, Reason: tr.Reason, Entrypoint: img.Entrypoint, Cmd: img.Cmd}
		if tr.Name == spec.TransportHost {
			eg.Dir, eg.Binary = os.TempDir(), bin
		}
		return eg, nil
	}
}

// sandboxBinary is this program's path, as the host proxy and the
// forwarder run it.
func sandboxBinary() (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("locate the sandbox binary: %w", err)
	}
	if resolved, err := filepath.EvalSymlinks(self); err == nil {
		self = resolved
	}
	return self, nil
}

package features

import (
	"errors"
	"fmt"
	"slices"

	"github.com/org/sandbox-action/pkg/gvisor"
	"github.com/org/sandbox-action/pkg/spec"
)

// Keys of the type and bundle choices, as used by Resolved.Source.
const (
	KeyType    = "type"
	KeyBundle  = "bundle"
	KeyRuntime = "runtime"
)

// Layer is what one explicit layer (flags or the config file) asks for.
type Layer struct {
	// Type and Bundle name a sandbox type and an experiment bundle; empty
	// leaves the choice to weaker layers.
	Type     string
	Bundle   string
	Settings Settings
}

// Input is everything the resolver weighs.
type Input struct {
	// Flags are the explicit options: `sandbox run` flags or action inputs.
	Flags Layer
	// Config is the config file's layer.
	Config Layer
	// ConfigName names the config file in sources, e.g. ".github/sandbox.yml".
	ConfigName string
}

// Resolved is a fully concrete set of run options and where each came from.
type Resolved struct {
	Type   Type
	Bundle Bundle // zero when no bundle is in effect
	Values
	// Gateway is set, before Fit, when the sandbox reaches the credential
	// gateway's host socket (an agent run, or a model key given to a plain
	// command): a gVisor runtime must then reach host sockets on the bridge
	// too.
	Gateway bool
	sources map[string]Source
}

// Resolve picks every option from the strongest layer that sets it: flag >
// config > bundle > type > default. It fails on an unknown type or bundle,
// an invalid option in any layer, a missing image, an allowlist for a public
// network, and a root user without relax root.
func Resolve(in Input) (Resolved, error) { return builtin().resolve(in) }

// layer is one layer's settings with its source.
type layer struct {
	src Source
	s   Settings
}

func (c catalog) resolve(in Input) (Resolved, error) {
	flag := Source{Origin: FromFlag}
	config := Source{Origin: FromConfig, Name: in.ConfigName}
	r := Resolved{sources: map[string]Source{}}

	typeName, typeSrc := choose(DefaultType, in.Flags.Type, in.Config.Type, config)
	t, err := c.lookupType(typeName)
	if err != nil {
		return Resolved{}, fmt.Errorf("%s: %w", typeSrc, err)
	}
	bundleName, bundleSrc := choose(NoBundle, in.Flags.Bundle, in.Config.Bundle, config)
	b, err := c.lookupBundle(bundleName)
	if err != nil {
		return Resolved{}, fmt.Errorf("%s: %w", bundleSrc, err)
	}
	r.Type, r.Bundle = t, b
	r.sources[KeyType], r.sources[KeyBundle] = typeSrc, bundleSrc
	r.sources[KeyRuntime] = Source{Origin: FromType, Name: t.Name}

	layers := []layer{ // strongest first
		{flag, in.Flags.Settings},
		{config, in.Config.Settings},
		{Source{Origin: FromBundle, Name: b.Name}, b.Settings},
		{Source{Origin: FromType, Name: t.Name}, t.Settings},
		{Source{Origin: FromDefault}, c.defaults},
	}
	var errs []error
	for _, l := range layers {
		for _, err := range l.s.problems() {
			errs = append(errs, fmt.Errorf("%s: %w", l.src, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Resolved{}, err
	}
	for _, f := range fields {
		for _, l := range layers {
			if f.isSet(&l.s) {
				f.take(&r.Values, &l.s)
				r.sources[f.key] = l.src
				break
			}
		}
	}
	if err := r.check(); err != nil {
		return Resolved{}, err
	}
	if t.GVisor {
		// Until Fit asks the daemon, the runtime is the one this project
		// registers for the run's network (what `sandbox cmd` prints).
		r.Type.Runtime = gvisor.Suggest(nil, RuntimeNeed(r.Network, r.Gateway)).Name
	}
	return r, nil
}

// choose picks a name: flag, then config, then the default.
func choose(def, flagName, configName string, config Source) (string, Source) {
	switch {
	case flagName != "":
		return flagName, Source{Origin: FromFlag}
	case configName != "":
		return configName, config
	}
	return def, Source{Origin: FromDefault}
}

// check enforces the rules that span options.
func (r *Resolved) check() error {
	if r.Image == "" {
		return errors.New("no image: pass --image IMAGE or set image in the config file")
	}
	if r.Network == spec.Public && len(r.Allow) > 0 {
		allow, network := r.Source(KeyAllow), r.Source(KeyNetwork)
		if allow.Origin >= network.Origin {
			return fmt.Errorf("egress allowlist (%s) needs network private, but network is public (%s)", allow.Phrase(), network.Phrase())
		}
		// A stronger layer that chose the public network overrides the
		// weaker layer's network settings as a whole, allowlist included.
		r.Allow = nil
		r.sources[KeyAllow] = network
	}
	if isRoot(r.User) && !r.Relax.Root {
		return fmt.Errorf("user %q (%s) is root: also relax root (--relax root, or root: true under relax in the config file)", r.User, r.Source(KeyUser).Phrase())
	}
	return nil
}

// Source says where an option came from; keys are the Key constants.
func (r *Resolved) Source(key string) Source { return r.sources[key] }

// Host is what the Docker daemon reports that a run has to fit.
type Host struct {
	// Runtimes are the daemon's OCI runtimes (`docker info` Runtimes).
	Runtimes []gvisor.Runtime
	// NCPU is the daemon's CPU count; zero when unknown.
	NCPU int
}

// Fit checks the run against the daemon: the type's runtime must be
// registered (a gVisor type takes the registered gVisor runtime that suits
// the run's network), and Docker refuses a CPU limit above the host's CPU count. A
// CPU limit nobody asked for explicitly (default, type or bundle) is lowered
// to the host's count; one from a flag or the config file is an error.
func (r *Resolved) Fit(h Host) error {
	if err := r.fitRuntime(h.Runtimes); err != nil {
		return err
	}
	limit := int64(h.NCPU) * 1e9
	if h.NCPU <= 0 || r.CPUs <= limit {
		return nil
	}
	if src := r.Source(KeyCPUs); src.Origin >= FromConfig {
		return fmt.Errorf("cpus %s (%s) is more than the %d CPUs this Docker host has", FormatCPUs(r.CPUs), src.Phrase(), h.NCPU)
	}
	r.CPUs = limit
	r.sources[KeyCPUs] = Source{Origin: FromHost}
	return nil
}

// Apply writes the resolved options into a run spec, including the type and
// bundle names the spec records as labels. A resolved User of "" leaves
// s.User alone: the caller sets it to the workspace owner. The allowlist is
// not part of the sandbox container; it configures the egress proxy.
func (r *Resolved) Apply(s *spec.RunSpec) {
	s.Image = r.Image
	s.Network.Mode = r.Network
	s.Limits = spec.Limits{MemoryBytes: r.Memory, NanoCPUs: r.CPUs, PidsLimit: r.Pids}
	if r.Pids > 0 {
		s.Limits.PidsLimit += r.Type.PidsOverhead
	}
	s.Relax = r.Relax
	s.Runtime = r.Type.Runtime
	s.Timeout = r.Timeout
	if r.User != "" {
		s.User = r.User
	}
	s.SandboxType = r.Type.Name
	s.Bundle = r.Bundle.Name
}

// Relaxations lists the hardening defaults the run gives up, for the caller
// to log.
func (r *Resolved) Relaxations() []Relaxation {
	var xs []Relaxation
	for _, x := range relaxations {
		if *x.val(&r.Relax) {
			xs = append(xs, Relaxation{Name: x.name, Effect: x.effect, Source: r.Source(KeyRelaxPrefix + x.name)})
		}
	}
	return xs
}

// Summary renders the resolved run one option per line, each with its
// source: "memory=2g (from bundle small)". Options at their neutral value
// (no runtime override, no allowlist, hardening kept) are left out.
func (r *Resolved) Summary() []string {
	bundle := r.Bundle.Name
	if bundle == "" {
		bundle = NoBundle
	}
	lines := []string{r.line(KeyType, r.Type.Name), r.line(KeyBundle, bundle)}
	if r.Type.Runtime != "" {
		lines = append(lines, r.line(KeyRuntime, r.Type.Runtime))
	}
	for _, f := range fields {
		if v := f.show(&r.Values); v != "" {
			lines = append(lines, r.line(f.key, v))
		}
	}
	return slices.Clip(lines)
}

func (r *Resolved) line(key, value string) string {
	src := r.Source(key).Phrase()
	if key == KeyNetwork && r.Network == spec.Public {
		// Private is the default (see Defaults): a public run says that
		// it opted out, and who chose to.
		src += ", opting out of the private default"
	}
	if key == KeyPids && r.Type.PidsOverhead > 0 {
		// The sandbox gets more than asked: the runtime's own threads
		// count against the same limit.
		src += fmt.Sprintf("; the container gets %d: +%d for the %s runtime's own threads", r.Pids+r.Type.PidsOverhead, r.Type.PidsOverhead, r.Type.Name)
	}
	return fmt.Sprintf("%s=%s (%s)", key, value, src)
}

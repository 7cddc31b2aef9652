package spec

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// RoleNetwork is the role label value of a run's internal network.
const RoleNetwork = "network"

// Run is everything one sandbox run starts: the sandbox and, in private
// mode, the egress proxy that is its only way out.
type Run struct {
	Sandbox RunSpec
	// Proxy is the egress proxy; set exactly when Sandbox is private.
	Proxy *RunSpec
}

// Validate checks both containers and that they describe one run.
func (r Run) Validate() error {
	errs := []error{r.Sandbox.Validate()}
	private := r.Sandbox.Network.mode() == Private
	switch {
	case private && r.Proxy == nil:
		errs = append(errs, errors.New("spec: private mode needs an egress proxy"))
	case !private && r.Proxy != nil:
		errs = append(errs, errors.New("spec: an egress proxy is only used in private mode"))
	case r.Proxy != nil:
		p := r.Proxy
		errs = append(errs, p.Validate())
		if p.role() != RoleProxy {
			errs = append(errs, fmt.Errorf("spec: proxy has role %q", p.role()))
		}
		if p.RunID != r.Sandbox.RunID {
			errs = append(errs, fmt.Errorf("spec: proxy run id %q differs from the sandbox's %q", p.RunID, r.Sandbox.RunID))
		}
		if p.Network.Name != r.Sandbox.Network.Name {
			errs = append(errs, fmt.Errorf("spec: proxy is on network %q, the sandbox on %q", p.Network.Name, r.Sandbox.Network.Name))
		}
	}
	return errors.Join(errs...)
}

// NetworkLabels are the labels of the run's internal network.
func (r Run) NetworkLabels() map[string]string {
	labels := maps.Clone(r.Sandbox.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[LabelRunID] = r.Sandbox.RunID
	labels[LabelRole] = RoleNetwork
	labels[LabelWorkspace] = r.Sandbox.workspaceSource()
	if r.Sandbox.Origin != "" {
		labels[LabelOrigin] = r.Sandbox.Origin
	}
	if r.Sandbox.CreatedBy != "" {
		labels[LabelCreatedBy] = r.Sandbox.CreatedBy
	}
	return labels
}

// Script returns the docker commands that perform the same run by hand, one
// per line: just the docker run line in public mode; in private mode also
// creating the internal network, the proxy (joined to its outside networks
// before it starts) and removing both afterwards.
func (r Run) Script() string {
	if r.Proxy == nil {
		return r.Sandbox.CommandLine()
	}
	p := r.Proxy
	net := r.Sandbox.Network.Name
	var lines, prefix []string
	for _, e := range r.Sandbox.Env {
		if e.Token == "" {
			continue
		}
		if !slices.Contains(lines, tokenLine(e.Token)) {
			lines = append(lines, tokenLine(e.Token))
		}
		prefix = append(prefix, e.Name+`="$`+e.Token+`"`)
	}
	create := []string{"docker", "network", "create", "--internal"}
	labels := r.NetworkLabels()
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		create = append(create, "--label", k+"="+labels[k])
	}
	lines = append(lines, quoteArgs(append(create, net)))
	proxyArgs := p.Args()
	proxyArgs[1] = "create"
	lines = append(lines, quoteArgs(proxyArgs))
	for _, o := range p.Network.Outside {
		lines = append(lines, quoteArgs([]string{"docker", "network", "connect", o, p.Name}))
	}
	lines = append(lines,
		quoteArgs([]string{"docker", "start", p.Name}),
		strings.Join(append(prefix, r.Sandbox.CommandLine()), " "),
		quoteArgs([]string{"docker", "rm", "-f", p.Name}),
		quoteArgs([]string{"docker", "network", "rm", net}),
	)
	return strings.Join(lines, "\n")
}

func quoteArgs(args []string) string {
	words := make([]string, len(args))
	for i, a := range args {
		words[i] = shellQuote(a)
	}
	return strings.Join(words, " ")
}

// tokenLine makes a fresh random token for a pasted script.
func tokenLine(name string) string {
	return "export " + name + `="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"`
}

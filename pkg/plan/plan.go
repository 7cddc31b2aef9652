// Package plan assembles the spec of one sandbox run from resolved settings,
// a workspace and a command or agent request. The sandbox CLI and the GitHub
// Action both build their runs here, so they cannot assemble different
// containers from the same settings.
package plan

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/org/sandbox-action/pkg/agent"
	"github.com/org/sandbox-action/pkg/egress"
	"github.com/org/sandbox-action/pkg/features"
	"github.com/org/sandbox-action/pkg/spec"
)

// Nobody is the user a sandbox runs as when the workspace belongs to root:
// running as root would silently give up a hardening default.
const Nobody = "65534:65534"

// Input is everything a run is built from.
type Input struct {
	// Resolved are the settings after precedence (flags, config, bundle,
	// type, defaults).
	Resolved features.Resolved
	// Workspace is the absolute host path of the working tree.
	Workspace string
	// LocalWorkspace is the working tree as this process sees it, when that
	// differs from Workspace (the action reads /github/workspace, which is
	// Workspace on the host); empty means Workspace. Its git metadata is
	// read from here (see ProtectGit).
	LocalWorkspace string
	// Owner is "UID:GID" of Workspace (see Owner); the sandbox runs as the
	// owner so that the files it writes stay the user's.
	Owner string
	// Command is the program to run; empty with Agent set.
	Command []string
	// Env is the environment given explicitly (-e, --env-file, secrets).
	Env []spec.EnvVar
	// Agent, when set, runs an agent CLI headless instead of Command.
	Agent *Agent
	// RunID and Name identify the run; both are generated when empty.
	RunID, Name string
	// CreatedBy names the front door: "cli", "action" or "e2e".
	CreatedBy string
	// Keep leaves the container after exit (docker run without --rm).
	Keep bool
	// Getenv reads the caller's environment, for agent credentials.
	Getenv func(string) string
	// ImageLabels are the image's labels, when known: an image that
	// carries an agent's settings files says so (LabelAgentSettings).
	ImageLabels map[string]string

	// Egress places the run's egress proxy and gateway (private mode, and
	// any run whose model key the gateway fronts).
	Egress Egress
	// ProxyImage holds the `sandbox` binary that serves as egress proxy in
	// the container transport (DefaultProxyImage when empty).
	ProxyImage string
	// Mounts are extra bind mounts, such as a review's read-only context
	// directory (the pull request's metadata, diff and schema); they are
	// validated with the rest of the run.
	Mounts []spec.Mount
	// Proxy carries proxy settings beyond the allowlist, such as upstream
	// overrides and extra CA roots.
	Proxy egress.Command
	// ModelBaseURL replaces the agent's vendor API as the gateway's
	// upstream; ModelCA is PEM text of extra roots the gateway trusts for
	// it (see Request).
	ModelBaseURL, ModelCA string
}

// Agent is a headless agent run.
type Agent struct {
	Adapter agent.Adapter
	Request agent.Request
}

// Plan is a run ready for the engine, and what a person should be told
// about how it was put together.
type Plan struct {
	// Run is the sandbox and, in private mode, its egress proxy.
	Run spec.Run
	// Notices are facts worth a line on stderr: relaxed hardening, a user
	// chosen for them, a credential that is not set.
	Notices []string
	// Agent is the adapter whose output stream the run produces; nil for a
	// plain command.
	Agent agent.Adapter
	// UserReason says why the sandbox runs as Run.Sandbox.User when no
	// user was given ("workspace owner"); empty when one was.
	UserReason string
	// Placeholders are empty directories Docker creates in the workspace
	// as mount points for the run's masks; the runner removes them after
	// the run (os.Remove: only while still empty).
	Placeholders []string
}

// Summary is the resolved settings, one per item with its source, as a run
// reports them; the user is the one the sandbox really runs as.
func (p Plan) Summary(r features.Resolved) []string {
	lines := r.Summary()
	if p.UserReason == "" {
		return lines
	}
	for i, l := range lines {
		if strings.HasPrefix(l, features.KeyUser+"=") {
			lines[i] = fmt.Sprintf("%s=%s (%s)", features.KeyUser, p.Run.Sandbox.User, p.UserReason)
		}
	}
	return lines
}

// Build assembles the run. It is pure apart from reading Getenv, the
// Docker socket's group (to refuse a --user in it) and the workspace's git
// metadata (to mount it read-only, see ProtectGit).
func Build(in Input) (Plan, error) {
	var p Plan
	if in.RunID == "" {
		in.RunID = NewRunID()
	}
	if in.Name == "" {
		in.Name = "sandbox-" + in.RunID
	}
	if in.Getenv == nil {
		in.Getenv = func(string) string { return "" }
	}
	s := spec.RunSpec{
		RunID:     in.RunID,
		Name:      in.Name,
		Command:   in.Command,
		Workspace: in.Workspace,
		Env:       append([]spec.EnvVar(nil), in.Env...),
		Remove:    !in.Keep,
		CreatedBy: in.CreatedBy,
		Origin:    LocalOrigin(),
	}
	r := in.Resolved
	r.Apply(&s)

	local := in.LocalWorkspace
	if local == "" {
		local = in.Workspace
	}
	git, err := ProtectGit(local, in.Workspace)
	if err != nil {
		return p, err
	}
	s.Mounts = append(s.Mounts, git.Mounts...)
	s.Masks = append(s.Masks, git.Masks...)
	p.Placeholders = append(p.Placeholders, git.Placeholders...)
	s.Mounts = append(s.Mounts, in.Mounts...)
	p.Notices = append(p.Notices, git.Notices...)

	if s.User != "" {
		if err := checkGroup(s.User, r.Source(features.KeyUser).String(), s.Relax.Root); err != nil {
			return p, err
		}
	} else {
		s.User, p.UserReason = defaultUser(in.Owner, s.Relax.Root)
		if s.User == Nobody {
			p.Notices = append(p.Notices, fmt.Sprintf(
				"workspace %s belongs to root; running as nobody (%s), which can read but not write it: pass --user, or run from a tree you own",
				in.Workspace, Nobody))
		}
	}

	if in.Agent != nil && in.Agent.Adapter.Name() == "command" {
		// --agent command runs the program after -- as the agent: its
		// output is read as plain text events.
		a := *in.Agent
		a.Request.Args, in.Command = in.Command, nil
		in.Agent = &a
	}
	if in.Agent != nil {
		if len(in.Command) > 0 {
			return p, fmt.Errorf("give either a command or --agent, not both (command: %q)", strings.Join(in.Command, " "))
		}
		argv, err := in.Agent.Adapter.Command(in.Agent.Request)
		if err != nil {
			return p, err
		}
		s.Command = argv
		p.Agent = in.Agent.Adapter
		setup := in.Agent.Adapter.Setup()
		// HOME is a fresh tmpfs: files the CLI needs there must come with
		// the image, somewhere the CLI also reads; an image that carries
		// them says so in a label.
		if !carriesSettings(in.ImageLabels, in.Agent.Adapter.Name()) {
			for _, f := range slices.Sorted(maps.Keys(setup.HomeFiles)) {
				p.Notices = append(p.Notices, fmt.Sprintf("%s reads ~/%s, which the sandbox's empty HOME lacks: put it in the image (%s)",
					in.Agent.Adapter.Name(), f, setup.HomeFiles[f]))
			}
		}
		for _, kv := range setup.Env {
			name, value, _ := strings.Cut(kv, "=")
			s.Env = appendEnv(s.Env, spec.EnvVar{Name: name, Value: value})
		}
	}
	if len(s.Command) == 0 {
		return p, fmt.Errorf("nothing to run: give a command after -- or choose an agent with --agent")
	}
	p.Run.Sandbox = s
	// The real model key stays with the proxy, in either mode (see egressRun).
	if err := egressRun(&p, in); err != nil {
		return p, err
	}

	markCredentialsSecret(p.Run.Sandbox.Env)
	for _, rl := range r.Relaxations() {
		p.Notices = append(p.Notices, rl.String())
	}
	if err := p.Run.Validate(); err != nil {
		return p, err
	}
	return p, nil
}

// appendEnv adds v unless a variable of that name is already set: what the
// caller set explicitly wins over an adapter's defaults.
func appendEnv(env []spec.EnvVar, v spec.EnvVar) []spec.EnvVar {
	if hasEnv(env, v.Name) {
		return env
	}
	return append(env, v)
}

func hasEnv(env []spec.EnvVar, name string) bool {
	for _, e := range env {
		if e.Name == name {
			return true
		}
	}
	return false
}

// defaultUser is the user a sandbox runs as when none was given, and why:
// the workspace's owner, or nobody when that is root and root is not
// relaxed.
func defaultUser(owner string, relaxRoot bool) (user, reason string) {
	if owner != "" && (!isRoot(owner) || relaxRoot) {
		return owner, "workspace owner"
	}
	return Nobody, "nobody: the workspace belongs to root"
}

// SandboxUser is the "UID[:GID]" the sandbox of a run with these settings
// runs as, as Build decides it.
func (s Settings) SandboxUser() string {
	if s.Features.User != "" {
		return s.Features.User
	}
	user, _ := defaultUser(s.Owner, s.Features.Relax.Root)
	return user
}

func isRoot(owner string) bool {
	uid, _, _ := strings.Cut(owner, ":")
	return uid == "0"
}

// NewRunID returns a random run id: 12 hex digits, enough that concurrent
// runs on one daemon never collide.
func NewRunID() string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return hex.EncodeToString(b)
}

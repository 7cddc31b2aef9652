// Package spec holds RunSpec, the single pure description of a sandbox run.
//
// Everything that starts a sandbox (the sandbox CLI, the GitHub Action and the
// end-to-end suite) builds a RunSpec and hands it to one of two renderings: the
// Engine API create configuration used by pkg/engine, or the equivalent
// `docker run` argv printed for people. Because there is only one description,
// a laptop and CI cannot drift apart.
package spec

import "time"

// Paths inside every sandbox.
const (
	// WorkspaceDir is where the host working tree is mounted and the working
	// directory of the agent.
	WorkspaceDir = "/workspace"
	// HomeDir is the agent's HOME: a tmpfs, since the root filesystem is
	// read-only.
	HomeDir = "/home/sandbox"
	// TmpDir is a tmpfs for scratch files.
	TmpDir = "/tmp"
)

// LabelPrefix namespaces every label this project sets, so that listing and
// garbage collection find exactly what a run created.
const LabelPrefix = "org.sandbox-action."

// Label keys set on every object a run creates.
const (
	LabelRunID       = LabelPrefix + "run-id"
	LabelWorkspace   = LabelPrefix + "workspace"
	LabelType        = LabelPrefix + "sandbox-type"
	LabelBundle      = LabelPrefix + "bundle"
	LabelCreatedBy   = LabelPrefix + "created-by"
	LabelRole        = LabelPrefix + "role"
	LabelNetworkMode = LabelPrefix + "network-mode"
	// LabelOrigin is "UID@HOST" of who started the run: `sandbox gc`
	// touches only its own user's runs on a shared daemon.
	LabelOrigin = LabelPrefix + "origin"
)

// NetworkMode says how the sandbox reaches the outside world.
type NetworkMode string

const (
	// Public puts the sandbox on Docker's default bridge network: the agent
	// reaches the internet directly.
	Public NetworkMode = "public"
	// Private gives the sandbox no network at all (--network none): its
	// only way out is the run's egress proxy, reached through a unix socket
	// (see Egress).
	Private NetworkMode = "private"
)

// RunSpec describes one sandbox run. It is a plain value: building or
// rendering it performs no I/O.
//
// The zero value of Relax keeps every hardening default on; loosening one is an
// explicit, visible choice.
type RunSpec struct {
	// RunID identifies the run; it is part of Name and of every label.
	RunID string
	// Name is the container's unique name.
	Name string
	// Image is the image reference, optionally pinned by digest.
	Image string
	// Command is the argv run inside the sandbox (the image's CMD when empty).
	Command []string
	// Workspace is the absolute host path mounted at WorkspaceDir.
	Workspace string
	// Mounts are extra bind mounts, applied after the workspace so that
	// one may lie over part of it (a read-only .git inside the workspace).
	Mounts []Mount
	// Masks are paths inside the workspace covered by an empty, read-only
	// tmpfs, so that the sandbox cannot create anything there (a .git in
	// a tree that has none). Docker creates each as an empty directory in
	// the workspace; the runner removes it after the run.
	Masks []string
	// Env is the environment, in order. Secret values are never shown to people.
	Env []EnvVar
	// User is "UID:GID", normally the owner of Workspace.
	User string
	// Network selects public or private mode.
	Network Network
	// Egress connects the container to the run's egress proxy and
	// credential gateway; required in private mode.
	Egress *Egress
	// Limits bounds memory, CPU and processes.
	Limits Limits
	// Relax lists the hardening defaults this run explicitly gives up.
	Relax Relax
	// Runtime is an OCI runtime such as "runsc"; empty means the daemon's default.
	Runtime string
	// Timeout is the wall-clock limit for the run; zero means none.
	Timeout time.Duration
	// Remove deletes the container when it exits (`docker run --rm`).
	Remove bool
	// SandboxType and Bundle record which features.Type and experiment bundle
	// produced this spec; both become labels.
	SandboxType string
	Bundle      string
	// CreatedBy names the front door: "cli", "action" or "e2e".
	CreatedBy string
	// Origin is "UID@HOST" of who started the run (LabelOrigin); optional.
	Origin string
	// Role is RoleSandbox (the default when empty) or RoleProxy, the
	// egress proxy's container when it runs in one. The proxy does not
	// mount Workspace; it carries it only as a label, so that garbage
	// collection treats it as part of the same run.
	Role string
	// Labels are extra labels; they may not use LabelPrefix.
	Labels map[string]string
}

// EnvVar is one environment variable.
type EnvVar struct {
	Name  string
	Value string
	// Secret values are passed to the engine but rendered as `-e NAME` in
	// argv shown to people, so they never land in logs or shell history.
	Secret bool
	// Token names the variable that holds this secret's value when it is a
	// per-run random token (the session token the sandbox uses as its API
	// key). Run.Script generates it and passes it under Name, so a pasted
	// script never hands the sandbox the real key from the shell.
	Token string
	// From names the caller's variable that holds the value, when it is
	// not Name (the proxy's OPENAI_API_KEY comes from CODEX_API_KEY), so
	// a pasted script reads the same variable the run did.
	From string
}

// source is the caller's variable a script reads the value from.
func (e EnvVar) source() string {
	switch {
	case e.From != "":
		return e.From
	case e.Token != "":
		return e.Token
	}
	return e.Name
}

// Network is the network half of a RunSpec.
type Network struct {
	Mode NetworkMode
	// NoProxy lists hosts reached without the proxy (private mode only),
	// besides loopback.
	NoProxy []string
}

// Limits are resource limits; zero means the daemon's default (unlimited).
type Limits struct {
	MemoryBytes int64
	NanoCPUs    int64
	PidsLimit   int64
}

// Relax switches off individual hardening defaults. Every field is false by
// default; the CLI and the action log each one that is set.
type Relax struct {
	// Root lets the container run as root when User is empty.
	Root bool
	// WritableRoot leaves the root filesystem writable.
	WritableRoot bool
	// NewPrivileges drops `no-new-privileges`.
	NewPrivileges bool
	// Capabilities keeps the image's default capability set.
	Capabilities bool
	// NoInit runs the command as PID 1 without an init process.
	NoInit bool
	// Ptrace gives the container Docker's default seccomp profile instead
	// of SeccompProfile, which refuses ptrace.
	Ptrace bool
}

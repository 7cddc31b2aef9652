package spec_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/org/sandbox-action/pkg/spec"
)

// fieldErrors unpacks what Validate returned.
func fieldErrors(t *testing.T, err error) []*spec.FieldError {
	t.Helper()
	if err == nil {
		return nil
	}
	var list []error
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		list = joined.Unwrap()
	} else {
		list = []error{err}
	}
	var out []*spec.FieldError
	for _, e := range list {
		var fe *spec.FieldError
		assert.Assert(t, errors.As(e, &fe), "not a FieldError: %v", e)
		out = append(out, fe)
	}
	return out
}

func TestValidateAcceptsRenderCases(t *testing.T) {
	for _, tc := range renderCases {
		assert.NilError(t, tc.spec().Validate(), tc.name)
	}
}

func TestValidateAccepts(t *testing.T) {
	for name, edit := range map[string]func(*spec.RunSpec){
		"image with digest":     func(s *spec.RunSpec) { s.Image = "alpine@sha256:" + strings.Repeat("0", 64) },
		"image tag and digest":  func(s *spec.RunSpec) { s.Image = "localhost:5000/a/b:v1@sha256:" + strings.Repeat("0", 64) },
		"image id":              func(s *spec.RunSpec) { s.Image = "sha256:" + strings.Repeat("0", 64) },
		"image short name":      func(s *spec.RunSpec) { s.Image = "alpine" },
		"empty command":         func(s *spec.RunSpec) { s.Command = nil },
		"command with newline":  func(s *spec.RunSpec) { s.Command = []string{"sh", "-c", "a\nb"} },
		"uid only":              func(s *spec.RunSpec) { s.User = "1001" },
		"root when relaxed":     func(s *spec.RunSpec) { s.User, s.Relax.Root = "0:0", true },
		"no user when relaxed":  func(s *spec.RunSpec) { s.User, s.Relax.Root = "", true },
		"gid 0":                 func(s *spec.RunSpec) { s.User = "1000:0" },
		"explicit public":       func(s *spec.RunSpec) { s.Network.Mode = spec.Public },
		"env value empty":       func(s *spec.RunSpec) { s.Env = []spec.EnvVar{{Name: "A"}} },
		"env value with spaces": func(s *spec.RunSpec) { s.Env = []spec.EnvVar{{Name: "A", Value: " x y "}} },
		"proxy env in public":   func(s *spec.RunSpec) { s.Env = []spec.EnvVar{{Name: "HTTPS_PROXY", Value: "http://corp:8080"}} },
		"test label":            func(s *spec.RunSpec) { s.Labels = map[string]string{spec.LabelTest: "1"} },
		"minimum memory":        func(s *spec.RunSpec) { s.Limits.MemoryBytes = 6 << 20 },
		"timeout":               func(s *spec.RunSpec) { s.Timeout = time.Minute },
		"trailing slash":        func(s *spec.RunSpec) { s.Workspace = "/srv/ws/" },
		"read-only git dir": func(s *spec.RunSpec) {
			s.Mounts = []spec.Mount{{Source: "/srv/ws/.git", Target: "/workspace/.git", ReadOnly: true}}
		},
		"context mount": func(s *spec.RunSpec) { s.Mounts = []spec.Mount{{Source: "/tmp/ctx, odd", Target: "/context/"}} },
	} {
		s := laptopSpec()
		edit(&s)
		assert.NilError(t, s.Validate(), name)
	}
}

func TestValidateRejects(t *testing.T) {
	private := func(s *spec.RunSpec) { *s = privateSpec() }
	for _, tc := range []struct {
		name  string
		edit  func(*spec.RunSpec)
		field string
		msg   string // the whole message, or a part of it ending in "…"
	}{
		{"empty image", func(s *spec.RunSpec) { s.Image = "" }, "image", `spec: image: required`},
		{"flag-like image", func(s *spec.RunSpec) { s.Image = "-rm" }, "image", `spec: image "-rm": must not start with "-"`},
		{"flag-like image with =", func(s *spec.RunSpec) { s.Image = "--privileged=true" }, "image", `spec: image "--privileged=true": must not start with "-"`},
		{"image with space", func(s *spec.RunSpec) { s.Image = "alpine latest" }, "image", `spec: image "alpine latest": must not contain whitespace or control characters`},
		{"image with tab", func(s *spec.RunSpec) { s.Image = "alpine\t" }, "image", `spec: image "alpine\t": must not contain whitespace or control characters`},
		{"image with NUL", func(s *spec.RunSpec) { s.Image = "alp\x00ine" }, "image", `spec: image "alp\x00ine": must not contain whitespace or control characters`},
		{"image uppercase", func(s *spec.RunSpec) { s.Image = "Alpine" }, "image", `spec: image "Alpine": not a valid image reference: …`},
		{"image bad digest", func(s *spec.RunSpec) { s.Image = "alpine@sha256:abc" }, "image", `spec: image "alpine@sha256:abc": not a valid image reference: …`},
		{"image bad tag", func(s *spec.RunSpec) { s.Image = "alpine:" }, "image", `spec: image "alpine:": not a valid image reference: …`},
		{"command NUL", func(s *spec.RunSpec) { s.Command = []string{"a", "b\x00c"} }, "command[1]", `spec: command[1]: contains a NUL byte`},
		{"no run id", func(s *spec.RunSpec) { s.RunID = "" }, "run-id", `spec: run-id: required`},
		{"bad run id", func(s *spec.RunSpec) { s.RunID = "a/b" }, "run-id", `spec: run-id "a/b": must match …`},
		{"no name", func(s *spec.RunSpec) { s.Name = "" }, "name", `spec: name: required`},
		{"name too short", func(s *spec.RunSpec) { s.Name = "a" }, "name", `spec: name "a": must match ^[a-zA-Z0-9][a-zA-Z0-9_.-]+$`},
		{"name leading dash", func(s *spec.RunSpec) { s.Name = "-x" }, "name", `spec: name "-x": must match …`},
		{"name with slash", func(s *spec.RunSpec) { s.Name = "a/b" }, "name", `spec: name "a/b": must match …`},
		{"no workspace", func(s *spec.RunSpec) { s.Workspace = "" }, "workspace", `spec: workspace: required`},
		{"relative workspace", func(s *spec.RunSpec) { s.Workspace = "src/project" }, "workspace", `spec: workspace "src/project": must be an absolute path`},
		{"workspace newline", func(s *spec.RunSpec) { s.Workspace = "/a\nb" }, "workspace", `spec: workspace "/a\nb": must not contain control characters`},
		{"workspace root", func(s *spec.RunSpec) { s.Workspace = "//" }, "workspace", `spec: workspace "//": refusing to mount the host's root directory`},
		{"mount relative source", func(s *spec.RunSpec) { s.Mounts = []spec.Mount{{Source: "ctx", Target: "/ctx"}} }, "mounts[0].source", `spec: mounts[0].source "ctx": must be an absolute path`},
		{"mount no source", func(s *spec.RunSpec) { s.Mounts = []spec.Mount{{Target: "/ctx"}} }, "mounts[0].source", `spec: mounts[0].source: required`},
		{"mount dotdot source", func(s *spec.RunSpec) { s.Mounts = []spec.Mount{{Source: "/srv/ws/../etc", Target: "/ctx"}} }, "mounts[0].source", `spec: mounts[0].source "/srv/ws/../etc": must not contain ".."`},
		{"mount flag-like source", func(s *spec.RunSpec) { s.Mounts = []spec.Mount{{Source: "-v/:/host", Target: "/ctx"}} }, "mounts[0].source", `spec: mounts[0].source "-v/:/host": must not start with "-"`},
		{"mount newline target", func(s *spec.RunSpec) { s.Mounts = []spec.Mount{{Source: "/a", Target: "/c\nx"}} }, "mounts[0].target", `spec: mounts[0].target "/c\nx": must not contain control characters`},
		{"mount dotdot target", func(s *spec.RunSpec) { s.Mounts = []spec.Mount{{Source: "/a", Target: "/workspace/../proc"}} }, "mounts[0].target", `spec: mounts[0].target "/workspace/../proc": must not contain ".."`},
		{"mount over root", func(s *spec.RunSpec) { s.Mounts = []spec.Mount{{Source: "/a", Target: "//"}} }, "mounts[0].target", `spec: mounts[0].target "//": must not replace the container's root`},
		{"mount over workspace", func(s *spec.RunSpec) { s.Mounts = []spec.Mount{{Source: "/a", Target: "/workspace/"}} }, "mounts[0].target", `spec: mounts[0].target "/workspace/": is where the workspace is mounted`},
		{"mount under proc", func(s *spec.RunSpec) { s.Mounts = []spec.Mount{{Source: "/a", Target: "/proc/self"}} }, "mounts[0].target", `spec: mounts[0].target "/proc/self": overlaps /proc, which the sandbox's runtime provides`},
		{"mask outside workspace", func(s *spec.RunSpec) { s.Masks = []string{"/etc"} }, "masks[0]", `spec: masks[0] "/etc": must lie inside /workspace`},
		{"mask is workspace", func(s *spec.RunSpec) { s.Masks = []string{"/workspace"} }, "masks[0]", `spec: masks[0] "/workspace": must lie inside /workspace`},
		{"mount over home", func(s *spec.RunSpec) { s.Mounts = []spec.Mount{{Source: "/a", Target: "/home/sandbox"}} }, "mounts[0].target", `spec: mounts[0].target "/home/sandbox": overlaps /home/sandbox, …`},
		{"mount duplicate", func(s *spec.RunSpec) {
			s.Mounts = []spec.Mount{{Source: "/a", Target: "/ctx"}, {Source: "/b", Target: "/ctx/"}}
		}, "mounts[1].target", `spec: mounts[1].target "/ctx/": duplicate of mounts[0]`},
		{"env empty name", func(s *spec.RunSpec) { s.Env = []spec.EnvVar{{Value: "x"}} }, "env[0].name", `spec: env[0].name: required`},
		{"env name with =", func(s *spec.RunSpec) { s.Env = []spec.EnvVar{{Name: "A=B"}} }, "env[0].name", `spec: env[0].name "A=B": must not contain "=", NUL or newline`},
		{"env name NUL", func(s *spec.RunSpec) { s.Env = []spec.EnvVar{{Name: "A\x00"}} }, "env[0].name", `spec: env[0].name "A\x00": must not contain "=", NUL or newline`},
		{"env name newline", func(s *spec.RunSpec) { s.Env = []spec.EnvVar{{Name: "A\nB"}} }, "env[0].name", `spec: env[0].name "A\nB": must not contain "=", NUL or newline`},
		{"env name dash", func(s *spec.RunSpec) { s.Env = []spec.EnvVar{{Name: "-e"}} }, "env[0].name", `spec: env[0].name "-e": must match ^[A-Za-z_][A-Za-z0-9_]*$`},
		{"env name digit", func(s *spec.RunSpec) { s.Env = []spec.EnvVar{{Name: "1A"}} }, "env[0].name", `spec: env[0].name "1A": must match …`},
		{"env duplicate", func(s *spec.RunSpec) { s.Env = []spec.EnvVar{{Name: "A"}, {Name: "B"}, {Name: "A"}} }, "env[2].name", `spec: env[2].name "A": duplicate of env[0]`},
		{"env HOME", func(s *spec.RunSpec) { s.Env = []spec.EnvVar{{Name: "HOME", Value: "/root"}} }, "env[0].name", `spec: env[0].name "HOME": is set by the sandbox itself`},
		{"env GitHub token", func(s *spec.RunSpec) { s.Env = []spec.EnvVar{{Name: "GITHUB_TOKEN", Value: "x", Secret: true}} }, "env[0].name", `spec: env[0].name "GITHUB_TOKEN": is a GitHub credential, which never enters the sandbox (GitHub writes are made outside it)`},
		{"env private marker", func(s *spec.RunSpec) { s.Env = []spec.EnvVar{{Name: "SANDBOX_PRIVATE_MODE", Value: "true"}} }, "env[0].name", `spec: env[0].name "SANDBOX_PRIVATE_MODE": is set by the sandbox itself`},
		{"env proxy in private", func(s *spec.RunSpec) {
			private(s)
			s.Env = []spec.EnvVar{{Name: "no_proxy", Value: "*"}}
		}, "env[0].name", `spec: env[0].name "no_proxy": is set by the sandbox itself`},
		{"env value NUL", func(s *spec.RunSpec) { s.Env = []spec.EnvVar{{Name: "A", Value: "x\x00y"}} }, "env.A", `spec: env.A: value contains a NUL byte`},
		{"env value newline", func(s *spec.RunSpec) { s.Env = []spec.EnvVar{{Name: "KEY", Value: "secret\nmore", Secret: true}} }, "env.KEY",
			`spec: env.KEY: value contains a line break, which a pasted docker run command cannot carry; pass multi-line data in a workspace file instead`},
		{"env value CR", func(s *spec.RunSpec) { s.Env = []spec.EnvVar{{Name: "A", Value: "x\r"}} }, "env.A", `spec: env.A: value contains a line break, …`},
		{"no user", func(s *spec.RunSpec) { s.User = "" }, "user",
			`spec: user: required ("UID:GID", normally the workspace owner); it may be empty only with Relax.Root`},
		{"user name", func(s *spec.RunSpec) { s.User = "node" }, "user", `spec: user "node": must be numeric "UID" or "UID:GID"`},
		{"user trailing colon", func(s *spec.RunSpec) { s.User = "1000:" }, "user", `spec: user "1000:": must be numeric "UID" or "UID:GID"`},
		{"user negative", func(s *spec.RunSpec) { s.User = "-1" }, "user", `spec: user "-1": must be numeric "UID" or "UID:GID"`},
		{"user too big", func(s *spec.RunSpec) { s.User = "1000:4294967296" }, "user", `spec: user "1000:4294967296": 4294967296 is out of range for a UID or GID`},
		{"user root", func(s *spec.RunSpec) { s.User = "0:0" }, "user", `spec: user "0:0": runs as root; that needs Relax.Root`},
		{"user root padded", func(s *spec.RunSpec) { s.User = "000" }, "user", `spec: user "000": runs as root; that needs Relax.Root`},
		{"negative memory", func(s *spec.RunSpec) { s.Limits.MemoryBytes = -1 }, "limits.memory", `spec: limits.memory "-1": must not be negative (0 means the daemon's default)`},
		{"tiny memory", func(s *spec.RunSpec) { s.Limits.MemoryBytes = 1 << 20 }, "limits.memory", `spec: limits.memory "1048576": below docker's minimum of 6 MiB`},
		{"negative cpus", func(s *spec.RunSpec) { s.Limits.NanoCPUs = -5 }, "limits.cpus", `spec: limits.cpus "-5": must not be negative …`},
		{"negative pids", func(s *spec.RunSpec) { s.Limits.PidsLimit = -1 }, "limits.pids", `spec: limits.pids "-1": must not be negative …`},
		{"unknown mode", func(s *spec.RunSpec) { s.Network.Mode = "host" }, "network.mode", `spec: network.mode "host": unknown; use "public" or "private"`},
		{"public with no-proxy", func(s *spec.RunSpec) { s.Network.NoProxy = []string{"a", "b"} }, "network.no-proxy", `spec: network.no-proxy "a,b": only used in private mode`},
		{"private without egress", func(s *spec.RunSpec) { private(s); s.Egress = nil }, "egress",
			`spec: egress: private mode needs the egress proxy's socket (the sandbox has no other way out)`},
		{"private with only the gateway", func(s *spec.RunSpec) { private(s); s.Egress.Proxy = false }, "egress",
			`spec: egress: private mode needs the egress proxy's socket (the sandbox has no other way out)`},
		{"egress with neither", func(s *spec.RunSpec) { s.Egress = &spec.Egress{Source: "/tmp/x"} }, "egress", `spec: egress: uses neither the proxy nor the gateway`},
		{"egress relative dir", func(s *spec.RunSpec) { private(s); s.Egress.Source = "tmp/x" }, "egress.source", `spec: egress.source "tmp/x": must be an absolute host path`},
		{"egress no dir", func(s *spec.RunSpec) { private(s); s.Egress.Source = "" }, "egress.source", `spec: egress.source: required: the run's socket directory or volume`},
		{"egress bad volume", func(s *spec.RunSpec) { private(s); s.Egress.Volume = true; s.Egress.Source = "/a" }, "egress.source", `spec: egress.source "/a": a volume name must match …`},
		{"egress relative forwarder", func(s *spec.RunSpec) { private(s); s.Egress.Forwarder = "sandbox" }, "egress.forwarder", `spec: egress.forwarder "sandbox": must be an absolute host path`},
		{"egress without the image's command", func(s *spec.RunSpec) { private(s); s.Command = nil; s.Egress.Entrypoint = nil }, "command",
			`spec: command: nothing to run: no command, and the image's ENTRYPOINT and CMD are not known (the forwarder runs them itself)`},
		{"proxy container not on the bridge", func(s *spec.RunSpec) {
			s.Role = spec.RoleProxy
			s.Egress = &spec.Egress{Source: "v1", Volume: true, Proxy: true}
			s.Network.Mode = spec.Private
		}, "role", `spec: role "proxy": the proxy's container is on the default bridge (public network mode)`},
		{"proxy container without the volume", func(s *spec.RunSpec) { s.Role = spec.RoleProxy }, "egress", `spec: egress: the proxy's container serves the run's volume`},
		{"no-proxy comma", func(s *spec.RunSpec) { private(s); s.Network.NoProxy = []string{"a,b"} }, "network.no-proxy[0]",
			`spec: network.no-proxy[0] "a,b": must be a host name or address without spaces or commas`},
		{"no-proxy empty", func(s *spec.RunSpec) { private(s); s.Network.NoProxy = []string{"ok", ""} }, "network.no-proxy[1]",
			`spec: network.no-proxy[1]: must be a host name or address without spaces or commas`},
		{"runtime", func(s *spec.RunSpec) { s.Runtime = "runsc --debug" }, "runtime",
			`spec: runtime "runsc --debug": must be a runtime name such as runsc (letters, digits, '_', '.', '+', '-')`},
		{"runtime flag", func(s *spec.RunSpec) { s.Runtime = "-x" }, "runtime", `spec: runtime "-x": must be a runtime name …`},
		{"negative timeout", func(s *spec.RunSpec) { s.Timeout = -time.Second }, "timeout", `spec: timeout "-1s": must not be negative`},
		{"reserved label", func(s *spec.RunSpec) { s.Labels = map[string]string{spec.LabelRunID: "other"} }, "labels",
			`spec: labels "org.sandbox-action.run-id": keys starting with "org.sandbox-action." are reserved for the labels the sandbox sets`},
		{"label key =", func(s *spec.RunSpec) { s.Labels = map[string]string{"a=b": "c"} }, "labels",
			`spec: labels "a=b": key must be non-empty, without "=", whitespace or control characters`},
		{"label key empty", func(s *spec.RunSpec) { s.Labels = map[string]string{"": "c"} }, "labels", `spec: labels: key must be non-empty, …`},
		{"label value newline", func(s *spec.RunSpec) { s.Labels = map[string]string{"k": "a\nb"} }, `labels["k"]`,
			`spec: labels["k"] "a\nb": must not contain control characters`},
		{"sandbox type control", func(s *spec.RunSpec) { s.SandboxType = "std\x1b" }, "sandbox-type", `spec: sandbox-type "std\x1b": must not contain control characters`},
		{"bundle control", func(s *spec.RunSpec) { s.Bundle = "b\n" }, "bundle", `spec: bundle "b\n": must not contain control characters`},
		{"created-by control", func(s *spec.RunSpec) { s.CreatedBy = "\tcli" }, "created-by", `spec: created-by "\tcli": must not contain control characters`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := laptopSpec()
			tc.edit(&s)
			errs := fieldErrors(t, s.Validate())
			assert.Assert(t, is.Len(errs, 1), "%v", errs)
			assert.Equal(t, errs[0].Field, tc.field)
			if prefix, ok := strings.CutSuffix(tc.msg, "…"); ok {
				assert.Assert(t, strings.HasPrefix(errs[0].Error(), prefix), "got %q", errs[0].Error())
			} else {
				assert.Equal(t, errs[0].Error(), tc.msg)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	s := laptopSpec()
	s.Image = "-rm"
	s.Workspace = "relative"
	s.Limits.PidsLimit = -1
	errs := fieldErrors(t, s.Validate())
	var fields []string
	for _, e := range errs {
		fields = append(fields, e.Field)
	}
	assert.DeepEqual(t, fields, []string{"image", "workspace", "limits.pids"})
}

func TestValidateNeverShowsEnvValues(t *testing.T) {
	s := laptopSpec()
	s.Env = []spec.EnvVar{{Name: "KEY", Value: "hunter2\nline2", Secret: true}}
	err := s.Validate()
	assert.ErrorContains(t, err, "env.KEY")
	assert.Assert(t, !strings.Contains(err.Error(), "hunter2"), err.Error())
}

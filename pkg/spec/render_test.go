package spec_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	"gotest.tools/v3/golden"

	"github.com/org/sandbox-action/pkg/spec"
)

// laptopSpec is a valid spec as the CLI builds it for a developer.
func laptopSpec() spec.RunSpec {
	return spec.RunSpec{
		RunID:       "r1a2b3c4",
		Name:        "sandbox-r1a2b3c4",
		Image:       "ghcr.io/org/sandbox-agents:1.4.0",
		Command:     []string{"claude", "-p", "review this PR", "--output-format", "stream-json"},
		Workspace:   "/home/dev/src/project",
		User:        "1000:1000",
		Remove:      true,
		SandboxType: "standard",
		CreatedBy:   "cli",
	}
}

func privateSpec() spec.RunSpec {
	s := laptopSpec()
	s.Network = spec.Network{Mode: spec.Private, NoProxy: []string{"internal.example", "localhost"}}
	s.Egress = &spec.Egress{
		Source:     "/tmp/sandbox-r1a2b3c4",
		Forwarder:  "/usr/local/bin/sandbox",
		Proxy:      true,
		Gateway:    true,
		Entrypoint: []string{"/usr/bin/tini", "--"},
	}
	return s
}

// renderCases are valid specs covering each rendering branch; each has a
// golden file testdata/<name>.golden.
var renderCases = []struct {
	name string
	spec func() spec.RunSpec
}{
	{"public-default", laptopSpec},
	{"private-mode", privateSpec},
	{"secrets", func() spec.RunSpec {
		s := laptopSpec()
		s.Env = []spec.EnvVar{
			{Name: "ANTHROPIC_API_KEY", Value: "sk-must-not-be-printed", Secret: true},
			{Name: "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", Value: "1"},
			{Name: "GREETING", Value: "it's $HOME, `not` expanded"},
		}
		return s
	}},
	{"relaxed", func() spec.RunSpec {
		s := laptopSpec()
		s.User = ""
		s.Remove = false
		s.Relax = spec.Relax{Root: true, WritableRoot: true, NewPrivileges: true, Capabilities: true, NoInit: true, Ptrace: true}
		return s
	}},
	{"runtime-runsc", func() spec.RunSpec {
		s := laptopSpec()
		s.Runtime = "runsc"
		s.SandboxType = "gvisor"
		return s
	}},
	{"limits", func() spec.RunSpec {
		s := laptopSpec()
		s.Limits = spec.Limits{MemoryBytes: 1536 << 20, NanoCPUs: 1_250_000_000, PidsLimit: 512}
		return s
	}},
	{"limits-unrounded", func() spec.RunSpec {
		s := laptopSpec()
		s.Limits = spec.Limits{MemoryBytes: 7_000_001, NanoCPUs: 1, PidsLimit: 1}
		return s
	}},
	{"labels", func() spec.RunSpec {
		s := laptopSpec()
		s.Bundle = "fast-start"
		s.CreatedBy = "action"
		s.Labels = map[string]string{"com.example.team": "platform", "a.first": "", spec.LabelTest: "1"}
		return s
	}},
	{"odd-workspace", func() spec.RunSpec {
		s := laptopSpec()
		s.Workspace = `/home/dev/my "quoted", comma'd $dir/`
		return s
	}},
	{"read-only-mounts", func() spec.RunSpec {
		s := laptopSpec()
		s.Mounts = []spec.Mount{
			{Source: "/home/dev/src/project/.git", Target: "/workspace/.git", ReadOnly: true},
			{Source: "/tmp/run-ctx/", Target: "/context", ReadOnly: true},
			{Source: "/home/dev/cache", Target: "/cache"},
		}
		return s
	}},
	{"digest-image-no-command", func() spec.RunSpec {
		s := laptopSpec()
		s.Image = "ghcr.io/org/sandbox-agents@sha256:" + strings.Repeat("ab", 32)
		s.Command = nil
		return s
	}},
	{"multiline-prompt", func() spec.RunSpec {
		s := laptopSpec()
		s.Command = []string{"claude", "-p", "Review the diff.\nThen list\tissues!\x1b[31m"}
		return s
	}},
}

func TestArgsGolden(t *testing.T) {
	for _, tc := range renderCases {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.spec()
			assert.NilError(t, s.Validate())

			var b strings.Builder
			fmt.Fprintf(&b, "%s\n\nargv:\n", s.CommandLine())
			for _, a := range s.Args() {
				fmt.Fprintf(&b, "%q\n", a)
			}
			// The profile file lives in this user's cache directory.
			golden.Assert(t, strings.ReplaceAll(b.String(), spec.SeccompFile, "SECCOMP_FILE"), tc.name+".golden")
		})
	}
}

func TestArgsNeverShowSecrets(t *testing.T) {
	s := laptopSpec()
	s.Env = []spec.EnvVar{{Name: "TOKEN", Value: "s3cr3t-value", Secret: true}}
	for _, a := range s.Args() {
		assert.Assert(t, !strings.Contains(a, "s3cr3t-value"), "argv shows a secret: %q", a)
	}
	assert.Assert(t, !strings.Contains(s.CommandLine(), "s3cr3t-value"))
	// The engine still gets it.
	cfg, _, _ := s.EngineConfig()
	assert.Assert(t, slices.Contains(cfg.Env, "TOKEN=s3cr3t-value"), "%q", cfg.Env)
}

func TestArgsDeterministic(t *testing.T) {
	// Map iteration order must not leak into argv.
	s := laptopSpec()
	s.Labels = map[string]string{"a": "1", "b": "2", "c": "3", "d": "4", "e": "5"}
	first := s.CommandLine()
	for range 20 {
		assert.Equal(t, s.CommandLine(), first)
	}
}

func TestEngineEnv(t *testing.T) {
	s := privateSpec()
	s.Env = []spec.EnvVar{{Name: "A", Value: "1"}, {Name: "KEY", Value: "k", Secret: true}}
	cfg, _, _ := s.EngineConfig()
	assert.DeepEqual(t, cfg.Env, []string{
		"HOME=/home/sandbox",
		"HTTP_PROXY=http://127.0.0.1:3128",
		"HTTPS_PROXY=http://127.0.0.1:3128",
		"http_proxy=http://127.0.0.1:3128",
		"https_proxy=http://127.0.0.1:3128",
		"NO_PROXY=localhost,127.0.0.1,::1,internal.example",
		"no_proxy=localhost,127.0.0.1,::1,internal.example",
		"SANDBOX_PRIVATE_MODE=true",
		"A=1",
		"KEY=k",
	})
}

func TestContainerLabels(t *testing.T) {
	s := laptopSpec()
	s.Labels = map[string]string{"com.example.team": "platform"}
	assert.DeepEqual(t, s.ContainerLabels(), map[string]string{
		spec.LabelRunID:       "r1a2b3c4",
		spec.LabelRole:        spec.RoleSandbox,
		spec.LabelWorkspace:   "/home/dev/src/project",
		spec.LabelNetworkMode: "public",
		spec.LabelType:        "standard",
		spec.LabelCreatedBy:   "cli",
		"com.example.team":    "platform",
	})
	cfg, _, _ := s.EngineConfig()
	assert.DeepEqual(t, cfg.Labels, s.ContainerLabels())
}

// TestCommandLineRoundTrip pastes CommandLine into an interactive bash (the
// strictest reader: history expansion is on) and checks that the words bash
// passes on are exactly Args.
func TestCommandLineRoundTrip(t *testing.T) {
	bash, err := exec.LookPath("bash")
	assert.NilError(t, err, "bash is needed to check the quoting")
	awkward := []string{
		"", " ", "plain", "two words", "it's", `"double"`, `back\slash`, "$HOME", "`id`", "$(id)",
		"!!", "a!b", "it's !x", "~", "~user", "*", "?", "[a]", "{a,b}", "#comment", "a#b", ";", "&", "|",
		"<", ">", "(x)", "line1\nline2", "tab\there", "cr\r", "esc\x1b[31m", "bell\a", "del\x7f",
		"é ünïcödé 🙂", "c1\u0085", "bidi\u202e", "invalid\xff\xfeutf8", "\\'", "'", "''", "-e", "--rm",
		"=x", "a=b", "%s", "x\\", "\\x21", "it's\nnew !!line", "\x1b'!\\",
	}
	for i, tc := range renderCases {
		s := tc.spec()
		if i == 0 {
			s.Command = append([]string{"toolbox"}, awkward...)
		}
		out := filepath.Join(t.TempDir(), "argv")
		script := fmt.Sprintf("printf '%%s\\0' %s > %s\nexit\n", s.CommandLine(), out)
		cmd := exec.Command(bash, "--norc", "--noprofile", "-i")
		cmd.Stdin = strings.NewReader(script)
		cmd.Env = []string{"HOME=" + t.TempDir(), "HISTFILE=/dev/null", "PATH=" + os.Getenv("PATH")}
		combined, err := cmd.CombinedOutput()
		assert.NilError(t, err, "%s: bash: %s", tc.name, combined)
		got, err := os.ReadFile(out)
		assert.NilError(t, err, "%s: bash output: %s", tc.name, combined)
		words := strings.Split(string(bytes.TrimSuffix(got, []byte{0})), "\x00")
		assert.DeepEqual(t, words, s.Args())
		assert.Assert(t, !strings.ContainsAny(s.CommandLine(), "\n\r\x1b"), "%s: not one clean line", tc.name)
	}
}

func BenchmarkRender(b *testing.B) {
	s := privateSpec()
	s.Env = []spec.EnvVar{{Name: "ANTHROPIC_API_KEY", Value: "k", Secret: true}, {Name: "A", Value: "1"}}
	s.Labels = map[string]string{"com.example.team": "platform"}
	b.Run("Validate", func(b *testing.B) {
		for b.Loop() {
			_ = s.Validate()
		}
	})
	b.Run("EngineConfig", func(b *testing.B) {
		for b.Loop() {
			_, _, _ = s.EngineConfig()
		}
	})
	b.Run("CommandLine", func(b *testing.B) {
		for b.Loop() {
			_ = s.CommandLine()
		}
	})
}

package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	units "github.com/docker/go-units"
	"go.yaml.in/yaml/v3"
	"gotest.tools/v3/assert"
	tfs "gotest.tools/v3/fs"

	"github.com/org/sandbox-action/pkg/features"
	"github.com/org/sandbox-action/pkg/spec"
)

func TestLoadFull(t *testing.T) {
	f, err := Load("testdata/full.yml")
	assert.NilError(t, err)
	assert.Equal(t, f.Name(), "testdata/full.yml")
	assert.DeepEqual(t, f.Layer(), features.Layer{
		Type:   "gvisor",
		Bundle: "locked-down",
		Settings: features.Settings{
			Image:   new("ghcr.io/org/sandbox-agents:1.4.0"),
			Network: new(spec.Private),
			Allow:   []string{"api.example.com", "*.example.org", "registry.example.net:8443"},
			Memory:  new(int64(3 * units.GiB)),
			CPUs:    new(int64(1_500_000_000)),
			Pids:    new(int64(384)),
			Timeout: new(45 * time.Minute),
			User:    new("1001:1001"),
			Relax: features.Relax{
				Root: new(false), WritableRoot: new(false), NewPrivileges: new(false),
				Capabilities: new(false), NoInit: new(true), Ptrace: new(false),
			},
		},
	})
	assert.DeepEqual(t, f.Env, []string{"CI", "NPM_CONFIG_REGISTRY"})
	assert.DeepEqual(t, f.Secrets, []string{"ANTHROPIC_API_KEY"})
	assert.DeepEqual(t, f.Agent, Agent{
		Name:         "claude",
		Model:        "claude-sonnet-4-5",
		MaxTurns:     new(30),
		AllowedTools: []string{"Read", "Edit", "Bash(go test:*)"},
		Prompt:       "Review this pull request for correctness and security.\nAnswer with the review schema.\n",
	})
	assert.DeepEqual(t, f.Review, Review{
		AllowApprove: new(false), RequestChanges: new(true),
		MaxFileDiffBytes: new(32768), MaxDiffBytes: new(262144),
	})
}

// The example file is the schema's documentation: it must use every key.
func TestFullExampleCoversSchema(t *testing.T) {
	data, err := os.ReadFile("testdata/full.yml")
	assert.NilError(t, err)
	var doc yaml.Node
	assert.NilError(t, yaml.Unmarshal(data, &doc))
	pos := map[string]*yaml.Node{}
	assert.Assert(t, len(checkNode(doc.Content[0], fileType, "", "full.yml", pos)) == 0)
	for _, key := range schemaKeys(fileType, "") {
		_, ok := pos[key]
		assert.Check(t, ok, "testdata/full.yml does not show %s", key)
	}
}

func schemaKeys(t reflect.Type, path string) []string {
	var keys []string
	for key, ft := range yamlFields(t) {
		keys = append(keys, join(path, key))
		if ft.Kind() == reflect.Struct {
			keys = append(keys, schemaKeys(ft, join(path, key))...)
		}
	}
	return keys
}

// Flags beat the config file, which beats the bundle it names.
func TestInputPrecedence(t *testing.T) {
	f, err := Load("testdata/full.yml")
	assert.NilError(t, err)
	r, err := features.Resolve(f.Input(features.Layer{
		Type:     "standard",
		Settings: features.Settings{Memory: new(int64(units.GiB))},
	}))
	assert.NilError(t, err)
	assert.Equal(t, r.Type.Name, "standard")
	assert.Equal(t, r.Memory, int64(units.GiB))
	assert.Equal(t, r.Source(features.KeyMemory), features.Source{Origin: features.FromFlag})
	assert.Equal(t, r.CPUs, int64(1_500_000_000))
	assert.Equal(t, r.Source(features.KeyCPUs), features.Source{Origin: features.FromConfig, Name: "testdata/full.yml"})
	assert.Equal(t, r.Source(features.KeyNetwork), features.Source{Origin: features.FromConfig, Name: "testdata/full.yml"})

	var none *File
	in := none.Input(features.Layer{Type: "gvisor"})
	assert.DeepEqual(t, in, features.Input{Flags: features.Layer{Type: "gvisor"}})
}

func TestParseEmpty(t *testing.T) {
	for _, data := range []string{"", "\n", "# only a comment\n", "---\n", "~\n", "---\n# comment\n"} {
		f, err := Parse([]byte(data), "sandbox.yml")
		assert.NilError(t, err, "%q", data)
		assert.DeepEqual(t, f.Layer(), features.Layer{})
	}
}

func TestLoadMissing(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), DefaultPath))
	assert.Assert(t, errors.Is(err, fs.ErrNotExist), "%v", err)
	assert.ErrorContains(t, err, "read config: ")
}

// A sandbox writes the workspace, config file included: a named pipe there
// would hang the next run (and sandbox trust) on reading it, and a huge
// file would make it slow and large. Both are refused at once.
func TestLoadRefusesPipeAndHugeFile(t *testing.T) {
	dir := t.TempDir()
	pipe := filepath.Join(dir, "pipe.yml")
	assert.NilError(t, syscall.Mkfifo(pipe, 0o644))
	done := make(chan error, 1)
	go func() { _, err := Load(pipe); done <- err }()
	select {
	case err := <-done:
		assert.ErrorContains(t, err, pipe+": not a regular file")
	case <-time.After(5 * time.Second):
		// Unblock the reader so the test can end.
		if f, err := os.OpenFile(pipe, os.O_WRONLY, 0); err == nil {
			f.Close()
		}
		t.Fatal("Load blocked on a named pipe")
	}

	huge := filepath.Join(dir, "huge.yml")
	assert.NilError(t, os.WriteFile(huge, []byte(strings.Repeat("#", maxConfigBytes+1)), 0o644))
	_, err := Load(huge)
	assert.ErrorContains(t, err, huge+": larger than 1 MiB")
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		yaml string
		want []string
	}{
		{
			name: "unknown top-level key",
			yaml: "image: img\nimgae: img\n",
			want: []string{`sandbox.yml:2:1: unknown key "imgae" (valid: agent, bundle, env, image, limits, network, relax, review, secrets, timeout, type, user)`},
		},
		{
			name: "unknown nested key",
			yaml: "limits:\n  memory: 2g\n  memroy: 2g\n",
			want: []string{`sandbox.yml:3:3: unknown key "memroy" in limits (valid: cpus, memory, pids)`},
		},
		{
			name: "unknown keys at several depths",
			yaml: "network:\n  mode: private\n  allowlist: [a.example.com]\nagent:\n  maxturns: 3\nrelax:\n  seccomp: true\n",
			want: []string{
				`sandbox.yml:3:3: unknown key "allowlist" in network (valid: allow, mode, model_base_url)`,
				`sandbox.yml:5:3: unknown key "maxturns" in agent (valid: allowed_tools, max_turns, model, name, prompt)`,
				`sandbox.yml:7:3: unknown key "seccomp" in relax (valid: capabilities, new_privileges, no_init, ptrace, root, writable_root)`,
			},
		},
		{
			name: "repeated key",
			yaml: "image: a\ntimeout: 5m\nimage: b\n",
			want: []string{`sandbox.yml:3:1: image: repeated key (first at line 1)`},
		},
		{
			name: "not a mapping",
			yaml: "- image\n- timeout\n",
			want: []string{`sandbox.yml:1:1: want a mapping of keys such as image: and limits:, got a list`},
		},
		{
			name: "scalar document",
			yaml: "image\n",
			want: []string{`sandbox.yml:1:1: want a mapping of keys such as image: and limits:, got "image"`},
		},
		{
			name: "two documents",
			yaml: "image: a\n---\nimage: b\n",
			want: []string{`sandbox.yml:2: only one YAML document is allowed`},
		},
		{
			name: "syntax error",
			yaml: "image: a\ntimeout: 5m: 6m\n",
			want: []string{`sandbox.yml:2: mapping values are not allowed in this context`},
		},
		{
			// yaml.v3 places this one a line early (it counts the
			// opening bracket's line from 0), so only the text is checked.
			name: "unclosed list",
			yaml: "image: a\nenv: [CI\n",
			want: []string{`did not find expected ',' or ']'`},
		},
		{
			name: "wrong kinds",
			yaml: "limits: 2g\nenv: CI\nimage: [a, b]\ntimeout: true\n",
			want: []string{
				`sandbox.yml:1:9: limits: want a mapping of keys, got "2g"`,
				`sandbox.yml:2:6: env: want a list, got "CI"`,
				`sandbox.yml:3:8: image: want a string, got a list`,
				`sandbox.yml:4:10: timeout: want a string, got "true"`,
			},
		},
		{
			name: "wrong nested kinds",
			yaml: "limits:\n  pids: lots\nrelax:\n  root: yes\nnetwork:\n  allow: [[a.example.com]]\nagent:\n  max_turns: 1.5\n",
			want: []string{
				`sandbox.yml:2:9: limits.pids: want an integer, got "lots"`,
				`sandbox.yml:4:9: relax.root: want true or false, got "yes"`,
				`sandbox.yml:6:11: network.allow[0]: want a string, got a list`,
				`sandbox.yml:8:14: agent.max_turns: want an integer, got "1.5"`,
			},
		},
		{
			name: "invalid limits",
			yaml: "limits:\n  memory: 2x\n  cpus: -1\n  pids: 0\n",
			want: []string{
				`sandbox.yml:2:11: limits.memory: invalid memory "2x": want a size such as 512m or 2g`,
				`sandbox.yml:3:9: limits.cpus: invalid cpus "-1": must not be negative`,
				`sandbox.yml:4:9: limits.pids: invalid pids 0: must be at least 1`,
			},
		},
		{
			name: "memory below Docker's minimum",
			yaml: "limits:\n  memory: 1m\n",
			want: []string{`sandbox.yml:2:11: limits.memory: invalid memory "1m": below Docker's minimum of 6m`},
		},
		{
			name: "cpus too precise",
			yaml: "limits:\n  cpus: 0.0000000001\n",
			want: []string{`sandbox.yml:2:9: limits.cpus: invalid cpus "0.0000000001": more precise than a billionth of a CPU`},
		},
		{
			name: "integer overflow",
			yaml: "limits:\n  pids: 99999999999999999999\n",
			want: []string{`sandbox.yml:2:9: limits.pids: want an integer, got "99999999999999999999"`},
		},
		{
			name: "bad durations",
			yaml: "timeout: 30\n",
			want: []string{`sandbox.yml:1:10: timeout: invalid timeout "30": want a duration such as 30m or 1h30m`},
		},
		{
			name: "negative duration",
			yaml: "timeout: -5m\n",
			want: []string{`sandbox.yml:1:10: timeout: invalid timeout "-5m": must be positive`},
		},
		{
			name: "unknown type and bundle",
			yaml: "type: fastest\nbundle: tiny\n",
			want: []string{
				`sandbox.yml:1:7: type: unknown sandbox type "fastest" (valid: gvisor, standard)`,
				`sandbox.yml:2:9: bundle: unknown bundle "tiny" (valid: locked-down, long-running, small, none)`,
			},
		},
		{
			name: "network",
			yaml: "network:\n  mode: host\n  allow:\n    - ok.example.com\n    - https://api.example.com\n",
			want: []string{
				`sandbox.yml:2:9: network.mode: unknown network mode "host" (valid: private, public)`,
				`sandbox.yml:5:7: network.allow[1]: invalid allow "https://api.example.com": want a host`,
			},
		},
		{
			name: "model base url",
			yaml: "network:\n  model_base_url: http://litellm.example.com\n",
			want: []string{`sandbox.yml:2:19: network.model_base_url: "http://litellm.example.com": scheme must be https (http only for a loopback address`},
		},
		{
			name: "user",
			yaml: "user: a b\n",
			want: []string{`sandbox.yml:1:7: user: invalid user "a b": must be numeric "UID" or "UID:GID"`},
		},
		{
			name: "env names",
			yaml: "env:\n  - CI\n  - 1X\n  - A-B\n  - \"\"\nsecrets:\n  - CI\n  - GITHUB_TOKEN\n  - KEY\n  - KEY\n",
			want: []string{
				`sandbox.yml:3:5: env[1]: invalid variable name "1X": want letters, digits and _, not starting with a digit`,
				`sandbox.yml:4:5: env[2]: invalid variable name "A-B"`,
				`sandbox.yml:5:5: env[3]: invalid variable name ""`,
				`sandbox.yml:7:5: secrets[0]: CI is already listed at env[0]`,
				`sandbox.yml:8:5: secrets[1]: GITHUB_TOKEN may not enter the sandbox: the action makes every GitHub write itself`,
				`sandbox.yml:10:5: secrets[3]: KEY is already listed at secrets[2]`,
			},
		},
		{
			name: "agent",
			yaml: "agent:\n  max_turns: 0\n  allowed_tools: [Read, \"\"]\n",
			want: []string{
				`sandbox.yml:2:14: agent.max_turns: must be at least 1, got 0`,
				`sandbox.yml:3:25: agent.allowed_tools[1]: empty tool name`,
			},
		},
		{
			name: "review",
			yaml: "review:\n  max_file_diff_bytes: 10\n  max_diff_bytes: -1\n",
			want: []string{
				`sandbox.yml:2:24: review.max_file_diff_bytes: must be at least 1024 bytes, got 10`,
				`sandbox.yml:3:19: review.max_diff_bytes: must be at least 1024 bytes, got -1`,
			},
		},
		{
			name: "review kinds",
			yaml: "review:\n  allow_approve: yes-please\n  max_diff_bytes: 1MB\n",
			want: []string{
				`sandbox.yml:2:18: review.allow_approve: want true or false, got "yes-please"`,
				`sandbox.yml:3:19: review.max_diff_bytes: want an integer, got "1MB"`,
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse([]byte(tc.yaml), "sandbox.yml")
			assert.Assert(t, err != nil, "parsed: %+v", f)
			assert.Assert(t, f == nil)
			for _, want := range tc.want {
				assert.ErrorContains(t, err, want)
			}
			assert.Equal(t, strings.Count(err.Error(), "sandbox.yml"), len(tc.want), "every error is reported once:\n%v", err)
		})
	}
}

// Each relax key gives up the hardening default of the same name.
func TestRelaxKeys(t *testing.T) {
	var keys []string
	for f := range reflect.TypeFor[Relax]().Fields() {
		keys = append(keys, f.Tag.Get("yaml"))
	}
	assert.DeepEqual(t, keys, features.RelaxNames())
	for _, name := range features.RelaxNames() {
		f, err := Parse([]byte("relax:\n  "+name+": true\n"), "sandbox.yml")
		assert.NilError(t, err)
		want, err := features.ParseRelax([]string{name})
		assert.NilError(t, err)
		assert.DeepEqual(t, f.Layer().Settings.Relax, want)
	}
}

func TestFind(t *testing.T) {
	for _, tc := range []struct {
		name    string
		files   []tfs.PathOp
		want    string
		wantErr string
		missing bool
	}{
		{name: "none", files: nil, missing: true, wantErr: "find config: no .github/sandbox.yml in "},
		{name: "yml", files: []tfs.PathOp{tfs.WithDir(".github", tfs.WithFile("sandbox.yml", "image: a\n"))}, want: ".github/sandbox.yml"},
		{name: "yaml", files: []tfs.PathOp{tfs.WithDir(".github", tfs.WithFile("sandbox.yaml", "image: a\n"))}, want: ".github/sandbox.yaml"},
		{
			name:    "both",
			files:   []tfs.PathOp{tfs.WithDir(".github", tfs.WithFile("sandbox.yml", ""), tfs.WithFile("sandbox.yaml", ""))},
			wantErr: "sandbox.yaml exist; keep one",
		},
		{
			name:    "directory",
			files:   []tfs.PathOp{tfs.WithDir(".github", tfs.WithDir("sandbox.yml"))},
			wantErr: "sandbox.yml is a directory",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := tfs.NewDir(t, "sbxtest-config", tc.files...)
			got, err := Find(dir.Path())
			if tc.wantErr != "" {
				assert.ErrorContains(t, err, tc.wantErr)
				assert.Equal(t, errors.Is(err, fs.ErrNotExist), tc.missing)
				return
			}
			assert.NilError(t, err)
			assert.Equal(t, got, filepath.Join(dir.Path(), tc.want))
			_, err = Load(got)
			assert.NilError(t, err)
		})
	}
}

// A YAML syntax error names the line where the broken construct is, as
// file:line, whether the YAML parser or its scanner found it.
func TestSyntaxErrorsNameTheRightLine(t *testing.T) {
	for _, tc := range []struct{ yml, want string }{
		{"image: x\nlimits:\n  memory: [2g\nnetwork: private\n", "sandbox.yml:3: did not find expected ',' or ']'"},
		{"image: x\nlimits:\n  memory: {a: 1\nnetwork: private\n", "sandbox.yml:3: did not find expected ',' or '}'"},
		{"image: x\nlimits:\n  memory: 2g\n bad: 1\n", "sandbox.yml:4: did not find expected key"},
		{"image: x\n\tlimits: 3\n", "sandbox.yml:2: found a tab character that violates indentation"},
		{"image: x\nenv: @x\n", "sandbox.yml:2: found character that cannot start any token"},
	} {
		_, err := Parse([]byte(tc.yml), "sandbox.yml")
		assert.Check(t, err != nil && err.Error() == tc.want, "%q: got %v", tc.yml, err)
	}
}

// Package examples holds the workflows users copy into .github/workflows.
// Its test lints them, and the project's own workflows, with actionlint.
package examples

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
	"go.yaml.in/yaml/v3"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// workflows are every workflow file this repository ships.
func workflows(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, pattern := range []string{"*.yml", "../.github/workflows/*.yml"} {
		m, err := filepath.Glob(pattern)
		assert.NilError(t, err)
		files = append(files, m...)
	}
	assert.Assert(t, len(files) >= 6, "workflows found: %v", files)
	return files
}

func TestWorkflowsPassActionlint(t *testing.T) {
	var out bytes.Buffer
	l, err := actionlint.NewLinter(&out, &actionlint.LinterOptions{})
	assert.NilError(t, err)
	for _, f := range workflows(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			out.Reset()
			errs, err := l.LintFile(f, nil)
			assert.NilError(t, err)
			assert.Check(t, is.Len(errs, 0), "actionlint:\n%s", out.String())
		})
	}
}

// The linter must see real problems: a script injection and a job
// without runs-on are findings.
func TestActionlintFindsProblems(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yml")
	assert.NilError(t, os.WriteFile(bad, []byte(`on: pull_request
jobs:
  x:
    runs-on: ubuntu-latest
    steps:
      - run: echo "${{ github.event.pull_request.title }}"
  y:
    steps:
      - run: true
`), 0o644))
	var out bytes.Buffer
	l, err := actionlint.NewLinter(&out, &actionlint.LinterOptions{})
	assert.NilError(t, err)
	errs, err := l.LintFile(bad, nil)
	assert.NilError(t, err)
	assert.Check(t, is.Len(errs, 2), "findings: %s", out.String())
	assert.Check(t, is.Contains(out.String(), "potentially untrusted"))
	assert.Check(t, is.Contains(out.String(), `"runs-on" section is missing`))
}

// workflow is the part of a workflow file the permission checks read.
type workflow struct {
	Permissions map[string]string `yaml:"permissions"`
	Concurrency struct {
		Group string `yaml:"group"`
	} `yaml:"concurrency"`
	Jobs map[string]struct {
		Permissions map[string]string `yaml:"permissions"`
		Steps       []struct {
			Uses string            `yaml:"uses"`
			With map[string]string `yaml:"with"`
			Run  string            `yaml:"run"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

func read(t *testing.T, path string) workflow {
	t.Helper()
	data, err := os.ReadFile(path)
	assert.NilError(t, err)
	var w workflow
	assert.NilError(t, yaml.Unmarshal(data, &w))
	return w
}

// Each example asks for the least it needs: read the code, write to pull
// requests, nothing else; and runs one at a time per pull request.
func TestExamplesAskForTheLeastPermissions(t *testing.T) {
	examples, err := filepath.Glob("*.yml")
	assert.NilError(t, err)
	assert.Assert(t, is.Len(examples, 3))
	for _, f := range examples {
		t.Run(f, func(t *testing.T) {
			w := read(t, f)
			assert.Check(t, is.DeepEqual(w.Permissions, map[string]string{"contents": "read", "pull-requests": "write"}))
			var uses []string
			for _, j := range w.Jobs {
				assert.Check(t, is.Len(j.Permissions, 0), "a job widens the permissions")
				for _, s := range j.Steps {
					uses = append(uses, s.Uses)
					if s.Uses == "org/sandbox-action@v1" {
						for k, v := range s.With {
							// Secrets come only from secrets, never inline.
							if strings.HasSuffix(k, "-api-key") {
								assert.Check(t, strings.HasPrefix(v, "${{ secrets."), "%s: %s", k, v)
							}
						}
					}
				}
			}
			assert.Check(t, is.Contains(uses, "org/sandbox-action@v1"))
			assert.Check(t, w.Concurrency.Group != "", "no concurrency group")
		})
	}
	w := read(t, "comment-commands.yml")
	assert.Check(t, is.Contains(w.Concurrency.Group, "github.event.issue.number || github.event.pull_request.number"), "commands are serialised per pull request")
}

// The release smoke-tests every CLI of the agents' image and its gateway
// settings before pushing it.
func TestReleaseSmokeTestsTheAgentImage(t *testing.T) {
	data, err := os.ReadFile("../.github/workflows/release.yml")
	assert.NilError(t, err)
	release := string(data)
	for _, want := range []string{
		"claude --version", "codex --version", "gemini --version",
		"/etc/gemini-cli/settings.json", "/etc/codex/managed_config.toml", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC",
		"--platform linux/amd64,linux/arm64", "linux/arm64", "imagetools create",
		"action.yml", `git tag -f "$major"`,
	} {
		assert.Check(t, is.Contains(release, want))
	}
	smoke := strings.Index(release, "name: Smoke test")
	push := strings.Index(release, "name: Push (amd64 and arm64)")
	assert.Check(t, smoke > 0 && push > smoke, "the agents' image is pushed before its smoke test")
}

// action.yml's inputs as a workflow uses them pass actionlint, which reads
// a local action's metadata and checks each `with:` key against it; an
// input action.yml lacks is a finding.
func TestActionInputsPassActionlint(t *testing.T) {
	meta, err := os.ReadFile("../action.yml")
	assert.NilError(t, err)
	root := t.TempDir()
	assert.NilError(t, os.MkdirAll(filepath.Join(root, ".git"), 0o755))
	assert.NilError(t, os.MkdirAll(filepath.Join(root, ".github", "workflows"), 0o755))
	assert.NilError(t, os.WriteFile(filepath.Join(root, "action.yml"), meta, 0o644))
	wf := func(extra string) string {
		return `on: pull_request
permissions:
  contents: read
  pull-requests: write
jobs:
  review:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: ./
        with:
          anthropic-api-key: ${{ secrets.ANTHROPIC_API_KEY }}
          model-base-url: https://llm.example.com/anthropic
          model-ca-cert: ${{ vars.CORP_CA_PEM }}
` + extra
	}
	for _, tc := range []struct {
		name  string
		extra string
		want  int
	}{
		{"known inputs", "", 0},
		{"an input action.yml lacks", "          model-url: https://llm.example.com\n", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(root, ".github", "workflows", "review.yml")
			assert.NilError(t, os.WriteFile(path, []byte(wf(tc.extra)), 0o644))
			var out bytes.Buffer
			l, err := actionlint.NewLinter(&out, &actionlint.LinterOptions{})
			assert.NilError(t, err)
			errs, err := l.LintFile(path, nil)
			assert.NilError(t, err)
			assert.Check(t, is.Len(errs, tc.want), "actionlint:\n%s", out.String())
			if tc.want > 0 {
				assert.Check(t, is.Contains(out.String(), `input "model-url" is not defined in action`))
			}
		})
	}
}

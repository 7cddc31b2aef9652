// Package agentimage holds the test of the agents' image. The image cannot
// be built here (no npm registry), so its Dockerfile is parsed with
// BuildKit's own parser and checked: pinned CLIs, the tools, a non-root
// user and the settings each CLI needs behind the credential gateway, taken
// from the agent adapters so the two cannot drift. The release workflow
// builds it and runs each CLI.
package agentimage

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/org/sandbox-action/pkg/agent"
	"github.com/org/sandbox-action/pkg/plan"
)

// The CLI versions the agent adapters were checked against (DESIGN.md:
// observed with Claude Code 2.1.332, Codex 0.169.0, Gemini CLI 0.61.0).
var pins = []struct{ pkg, arg, version string }{
	{"@anthropic-ai/claude-code", "CLAUDE_CODE_VERSION", "2.1.332"},
	{"@openai/codex", "CODEX_VERSION", "0.169.0"},
	{"@google/gemini-cli", "GEMINI_CLI_VERSION", "0.61.0"},
}

// image is the parsed Dockerfile: its one stage and the ARG defaults.
type image struct {
	stage instructions.Stage
	args  map[string]string
}

func parse(t *testing.T, path string) image {
	t.Helper()
	f, err := os.Open(path)
	assert.NilError(t, err)
	defer f.Close()
	res, err := parser.Parse(f)
	assert.NilError(t, err)
	var warnings []string
	lint := linter.New(&linter.Config{Warn: func(rule, desc, url, msg string, loc []parser.Range) {
		warnings = append(warnings, fmt.Sprintf("%s: %s (%s)", rule, msg, url))
	}})
	stages, metaArgs, err := instructions.Parse(res.AST, lint)
	assert.NilError(t, err)
	assert.Check(t, is.Len(warnings, 0), "BuildKit lint: %s", strings.Join(warnings, "\n"))
	assert.Assert(t, is.Len(stages, 1))

	img := image{stage: stages[0], args: map[string]string{}}
	for _, a := range metaArgs {
		for _, kv := range a.Args {
			img.args[kv.Key] = deref(kv.Value)
		}
	}
	for _, c := range img.stage.Commands {
		if a, ok := c.(*instructions.ArgCommand); ok {
			for _, kv := range a.Args {
				img.args[kv.Key] = deref(kv.Value)
			}
		}
	}
	return img
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// commands returns the stage's commands of type T.
func commands[T instructions.Command](img image) []T {
	var cs []T
	for _, c := range img.stage.Commands {
		if x, ok := c.(T); ok {
			cs = append(cs, x)
		}
	}
	return cs
}

// expand substitutes ${ARG} from the ARG defaults.
func (img image) expand(s string) string {
	return os.Expand(s, func(k string) string { return img.args[k] })
}

// word is a LABEL or ENV value as the builder sees it: unquoted, with the
// ARG defaults substituted.
func (img image) word(t *testing.T, s string) string {
	t.Helper()
	var env []string
	for k, v := range img.args {
		env = append(env, k+"="+v)
	}
	w, _, err := shell.NewLex('\\').ProcessWord(s, shell.EnvsFromSlice(env))
	assert.NilError(t, err)
	return w
}

func (img image) runs() string {
	var lines []string
	for _, r := range commands[*instructions.RunCommand](img) {
		lines = append(lines, img.expand(strings.Join(r.CmdLine, " ")))
	}
	return strings.Join(lines, "\n")
}

func (img image) env(t *testing.T) map[string]string {
	env := map[string]string{}
	for _, e := range commands[*instructions.EnvCommand](img) {
		for _, kv := range e.Env {
			env[kv.Key] = img.word(t, kv.Value)
		}
	}
	return env
}

func (img image) labels(t *testing.T) map[string]string {
	ls := map[string]string{}
	for _, l := range commands[*instructions.LabelCommand](img) {
		for _, kv := range l.Labels {
			ls[kv.Key] = img.word(t, kv.Value)
		}
	}
	return ls
}

func TestAgentImageBaseIsNodeLTS(t *testing.T) {
	img := parse(t, "Dockerfile")
	base := img.expand(img.stage.BaseName)
	m := regexp.MustCompile(`^node:(\d+)-bookworm-slim$`).FindStringSubmatch(base)
	assert.Assert(t, m != nil, "base image %q is not node:<major>-bookworm-slim", base)
	var major int
	_, err := fmt.Sscan(m[1], &major)
	assert.NilError(t, err)
	// Node's even majors are its long-term-support lines.
	assert.Check(t, major%2 == 0 && major >= 22, "node %d is not an LTS line", major)
}

func TestAgentImagePinsTheCLIs(t *testing.T) {
	img := parse(t, "Dockerfile")
	runs := img.runs()
	exact := regexp.MustCompile(`^\d+\.\d+\.\d+$`)
	for _, p := range pins {
		assert.Check(t, is.Equal(img.args[p.arg], p.version), "ARG %s", p.arg)
		assert.Check(t, exact.MatchString(img.args[p.arg]), "ARG %s=%q is not an exact version", p.arg, img.args[p.arg])
		assert.Check(t, is.Contains(runs, p.pkg+"@"+p.version))
	}
	// Nothing else comes from npm unpinned.
	for _, m := range regexp.MustCompile(`"?(@[a-z0-9-]+/[a-z0-9-]+)(@[^\s"]*)?"?`).FindAllStringSubmatch(runs, -1) {
		assert.Check(t, exact.MatchString(strings.TrimPrefix(m[2], "@")), "npm package %s is not pinned: %q", m[1], m[0])
	}
	for _, tool := range []string{"git", "ripgrep", "ca-certificates"} {
		assert.Check(t, regexp.MustCompile(`apt-get install [^\n]*\b`+tool+`\b`).MatchString(runs), "apt-get does not install %s", tool)
	}
}

func TestAgentImageRunsAsNonRoot(t *testing.T) {
	img := parse(t, "Dockerfile")
	users := commands[*instructions.UserCommand](img)
	assert.Assert(t, len(users) > 0, "no USER: the image would run as root")
	last := img.expand(users[len(users)-1].User)
	uid, _, _ := strings.Cut(last, ":")
	assert.Check(t, uid != "" && uid != "0" && uid != "root", "USER %q is root", last)
	assert.Check(t, is.Equal(img.env(t)["HOME"], "/home/sandbox"), "HOME is the sandbox's tmpfs")
}

// Each CLI's settings are where it reads them even under the sandbox's
// empty HOME, and say what the adapters need.
func TestAgentImageCarriesTheGatewaySettings(t *testing.T) {
	img := parse(t, "Dockerfile")
	copies := map[string]string{} // destination -> source
	for _, c := range commands[*instructions.CopyCommand](img) {
		for _, src := range c.SourcePaths {
			copies[c.DestPath] = src
		}
	}

	// Gemini CLI: its system settings file holds what the adapter would
	// have put in ~/.gemini/settings.json.
	src, ok := copies["/etc/gemini-cli/settings.json"]
	assert.Assert(t, ok, "no COPY to /etc/gemini-cli/settings.json: %v", copies)
	gemini, err := agent.Get("gemini")
	assert.NilError(t, err)
	var want, got any
	assert.NilError(t, json.Unmarshal([]byte(gemini.Setup().HomeFiles[".gemini/settings.json"]), &want))
	data, err := os.ReadFile(src)
	assert.NilError(t, err)
	assert.NilError(t, json.Unmarshal(data, &got))
	assert.Check(t, is.DeepEqual(got, want))

	// Codex: managed config with analytics and plugins off and the
	// gateway's provider.
	src, ok = copies["/etc/codex/managed_config.toml"]
	assert.Assert(t, ok, "no COPY to /etc/codex/managed_config.toml: %v", copies)
	data, err = os.ReadFile(src)
	assert.NilError(t, err)
	toml := tomlKeys(string(data))
	for k, v := range map[string]string{
		"analytics.enabled":                      "false",
		"features.plugins":                       "false",
		"model_providers.gw.wire_api":            `"responses"`,
		"model_providers.gw.env_key":             `"CODEX_API_KEY"`,
		"model_providers.gw.supports_websockets": "false",
	} {
		assert.Check(t, is.Equal(toml[k], v), "codex %s", k)
	}

	// Every adapter's fixed environment (Claude's non-essential traffic
	// off) is the image's too.
	env := img.env(t)
	for _, name := range agent.Names() {
		a, err := agent.Get(name)
		assert.NilError(t, err)
		for _, kv := range a.Setup().Env {
			k, v, _ := strings.Cut(kv, "=")
			assert.Check(t, is.Equal(env[k], v), "%s: ENV %s", name, k)
		}
	}
}

// The label tells the plan that these agents' settings are present, so it
// does not ask for them to be put in the image.
func TestAgentImageDeclaresItsSettings(t *testing.T) {
	img := parse(t, "Dockerfile")
	labels := img.labels(t)
	declared := strings.Split(labels[plan.LabelAgentSettings], ",")
	for _, name := range agent.Names() {
		if name == "command" {
			continue
		}
		assert.Check(t, slices.Contains(declared, name), "%s not declared in %s=%q", name, plan.LabelAgentSettings, labels[plan.LabelAgentSettings])
	}
	for _, k := range []string{"title", "description", "source", "version", "revision"} {
		assert.Check(t, labels["org.opencontainers.image."+k] != "", "OCI label %s missing", k)
	}
}

// tomlKeys reads the flat "table.key = value" pairs of a simple TOML file:
// [table] headers and key = value lines, which is all the image's file has.
func tomlKeys(doc string) map[string]string {
	keys := map[string]string{}
	table := ""
	for _, line := range strings.Split(doc, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			table = strings.Trim(line, "[]") + "."
		default:
			k, v, _ := strings.Cut(line, "=")
			keys[table+strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return keys
}

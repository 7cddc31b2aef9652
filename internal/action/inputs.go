package action

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/org/sandbox-action/pkg/agent"
	"github.com/org/sandbox-action/pkg/egress"
	"github.com/org/sandbox-action/pkg/features"
	"github.com/org/sandbox-action/pkg/github"
	"github.com/org/sandbox-action/pkg/spec"
)

// input is one input of action.yml: its name, its default, whether it is a
// secret, and how its text is read. The table is the single description
// of the inputs; a test checks action.yml against it.
type input struct {
	name string
	// def is action.yml's default; "" means none. The runner fills
	// defaults in, but a run outside a workflow (tests, act) may not.
	def    string
	secret bool
	// allowed says which values are valid, for the error message.
	allowed string
	// setting is the features.Options key the value is parsed with, for
	// sandbox settings.
	setting string
	// list splits the value on commas and newlines (allow).
	list  bool
	parse func(*inputs, string) error
}

// inputs are the action's inputs, parsed and checked.
type inputs struct {
	agent        string
	prompt       string
	trigger      string
	model        string
	maxTurns     int
	githubToken  string
	keys         map[string]string // model key variable name -> value
	modelBaseURL string
	modelCA      string // PEM text
	configPath   string
	required     github.Permission
	maxPRCostUSD float64 // zero: no limit
	dryRun       bool
	timeout      time.Duration // zero: config or default
	layer        features.Layer
	sandboxType  string
	networkGiven bool
	set          map[string]string // input name -> raw value, for the summary

	// proxyTransport is where a private run's proxy runs: host,
	// container or auto (transport.go decides).
	proxyTransport string
}

// DefaultTrigger and the other defaults are action.yml's.
const defaultConfig = ".github/sandbox.yml"

var inputTable = []input{
	{name: "agent", def: "claude", allowed: "one of " + strings.Join(agentNames(), ", "), parse: func(in *inputs, v string) error {
		if _, err := agent.Get(v); err != nil || v == "command" {
			return errors.New("unknown agent")
		}
		in.agent = v
		return nil
	}},
	{name: "prompt", allowed: "any text", parse: func(in *inputs, v string) error { in.prompt = v; return nil }},
	{name: "trigger", def: github.DefaultTrigger, allowed: "a mention such as @sandbox-bot (no spaces)", parse: func(in *inputs, v string) error {
		if strings.ContainsAny(v, " \t\n") {
			return errors.New("contains white space")
		}
		in.trigger = v
		return nil
	}},
	// No default here: private is the default of every front door
	// (features.Defaults), and a config file's network.mode applies when
	// the input is not given.
	{name: "network", setting: features.KeyNetwork},
	{name: "allow", setting: features.KeyAllow, list: true},
	{name: "sandbox-type", setting: features.KeyType},
	{name: "proxy-transport", def: transportAuto, allowed: "auto, host or container", parse: func(in *inputs, v string) error {
		switch v {
		case transportAuto, spec.TransportHost, spec.TransportContainer:
			in.proxyTransport = v
			return nil
		}
		return errors.New("unknown transport")
	}},
	{name: "bundle", setting: features.KeyBundle},
	{name: "image", setting: features.KeyImage},
	{name: "timeout-minutes", allowed: "a whole number of minutes, at least 1", parse: func(in *inputs, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return errors.New("not a whole number of minutes")
		}
		in.timeout = time.Duration(n) * time.Minute
		in.layer.Settings.Timeout = &in.timeout
		return nil
	}},
	{name: "max-turns", allowed: "a whole number, at least 1", parse: func(in *inputs, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return errors.New("not a whole number of turns")
		}
		in.maxTurns = n
		return nil
	}},
	{name: "model", allowed: "a model name", parse: func(in *inputs, v string) error { in.model = v; return nil }},
	{name: "github-token", def: "${{ github.token }}", secret: true, allowed: "a token", parse: func(in *inputs, v string) error { in.githubToken = v; return nil }},
	{name: "anthropic-api-key", secret: true, allowed: "an API key", parse: key("ANTHROPIC_API_KEY")},
	{name: "openai-api-key", secret: true, allowed: "an API key", parse: key("OPENAI_API_KEY", "CODEX_API_KEY")},
	{name: "gemini-api-key", secret: true, allowed: "an API key", parse: key("GEMINI_API_KEY")},
	// The model API and its CA come from the workflow only, never from a
	// file of the repository: the real key goes where they say.
	{name: "model-base-url", allowed: "an https:// URL (http:// only to a loopback address), e.g. https://litellm.example.com", parse: func(in *inputs, v string) error {
		if err := egress.ValidateUpstream(v); err != nil {
			return err
		}
		in.modelBaseURL = v
		return nil
	}},
	{name: "model-ca-cert", allowed: "PEM text of root certificates (-----BEGIN CERTIFICATE-----…)", parse: func(in *inputs, v string) error {
		if err := egress.CheckPEMCerts([]byte(v)); err != nil {
			return err
		}
		in.modelCA = v
		return nil
	}},
	{name: "config", def: defaultConfig, allowed: "a path inside the repository", parse: func(in *inputs, v string) error {
		if strings.HasPrefix(v, "/") || strings.Contains("/"+v+"/", "/../") {
			return errors.New("not a path inside the repository")
		}
		in.configPath = v
		return nil
	}},
	{name: "required-permission", def: "write", allowed: "read, triage, write, maintain or admin", parse: func(in *inputs, v string) error {
		p, err := github.ParsePermission(v)
		in.required = p
		return err
	}},
	{name: "max-pr-cost-usd", allowed: "a number of US dollars such as 5 or 2.50", parse: func(in *inputs, v string) error {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 {
			return errors.New("not a positive number")
		}
		in.maxPRCostUSD = f
		return nil
	}},
	{name: "dry-run", def: "false", allowed: "true or false", parse: func(in *inputs, v string) error {
		switch strings.ToLower(v) {
		case "true":
			in.dryRun = true
		case "false":
			in.dryRun = false
		default:
			return errors.New("not a boolean")
		}
		return nil
	}},
}

func agentNames() []string {
	var names []string
	for _, n := range agent.Names() {
		if n != "command" {
			names = append(names, n)
		}
	}
	return names
}

func key(envs ...string) func(*inputs, string) error {
	return func(in *inputs, v string) error {
		for _, e := range envs {
			in.keys[e] = v
		}
		return nil
	}
}

// readInputs reads every input through get (go-githubactions' GetInput:
// INPUT_<NAME>, trimmed). Secrets are passed to mask before anything else
// is read, so no later message can show them. Every bad value is reported,
// each naming its input and what it allows.
func readInputs(get func(string) string, mask func(string)) (*inputs, error) {
	for _, it := range inputTable {
		if it.secret {
			if v := get(it.name); v != "" {
				mask(v)
			}
		}
	}
	in := &inputs{keys: map[string]string{}, set: map[string]string{}}
	var errs []error
	for _, it := range inputTable {
		v := get(it.name)
		if v == "" && !strings.HasPrefix(it.def, "${{") {
			v = it.def
		}
		if v == "" {
			continue
		}
		if !it.secret {
			in.set[it.name] = v
		}
		if err := it.apply(in, v); err != nil {
			shown := strconv.Quote(v)
			if it.secret {
				shown = "(secret)"
			}
			errs = append(errs, fmt.Errorf("input %s: %s is not valid: %v; allowed: %s", it.name, shown, err, it.describe()))
		}
	}
	if in.trigger == "" {
		in.trigger = github.DefaultTrigger
	}
	if in.agent == "" {
		in.agent = "claude"
	}
	return in, errors.Join(errs...)
}

func (it input) apply(in *inputs, v string) error {
	if it.setting == "" {
		return it.parse(in, v)
	}
	values := []string{v}
	if it.list {
		values = splitList(v)
	}
	var errs []error
	for _, x := range values {
		errs = append(errs, features.Set(&in.layer, it.setting, x))
	}
	if it.setting == features.KeyNetwork {
		in.networkGiven = true
	}
	if it.setting == features.KeyType {
		in.sandboxType = v
	}
	return errors.Join(errs...)
}

// describe says what the input allows.
func (it input) describe() string {
	if it.setting != "" {
		o, _ := features.LookupOption(it.setting)
		if it.list {
			return o.Allowed + ", separated by commas or new lines"
		}
		return o.Allowed
	}
	return it.allowed
}

// splitList splits a list input on commas and new lines, dropping blanks.
func splitList(v string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '\n' }) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// secrets are the values nothing posted or logged may contain.
func (in *inputs) secrets() []string {
	out := []string{in.githubToken}
	for _, v := range in.keys {
		out = append(out, v)
	}
	return out
}

// unknownInputs refuses INPUT_ variables that name no input of the action:
// a misspelt `with:` key would otherwise be ignored without a word.
func unknownInputs(envNames []string) error {
	known := map[string]bool{}
	var names []string
	for _, it := range inputTable {
		known["INPUT_"+strings.ToUpper(it.name)] = true
		names = append(names, it.name)
	}
	var errs []error
	for _, k := range envNames {
		if strings.HasPrefix(k, "INPUT_") && !known[k] {
			name := strings.ToLower(strings.TrimPrefix(k, "INPUT_"))
			errs = append(errs, fmt.Errorf("input %s is not an input of this action; allowed: %s", name, strings.Join(names, ", ")))
		}
	}
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errors.Join(errs...)
}

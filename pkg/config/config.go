// Package config reads .github/sandbox.yml, the repository's sandbox
// settings shared by the sandbox CLI and the GitHub Action. Command-line
// flags and action inputs override it (see package features).
//
// The schema, every key optional:
//
//	image: ghcr.io/org/agents:1.2@sha256:…  # image reference
//	type: standard                           # sandbox type (features.TypeNames)
//	bundle: small                            # experiment bundle (features.BundleNames, or none)
//	network:
//	  mode: private                          # public | private
//	  allow: [api.example.com, "*.example.org"]  # egress allowlist (private mode)
//	  model_base_url: https://litellm.example.com  # the agent's model API, behind the gateway
//	limits:
//	  memory: 2g                             # as docker run --memory
//	  cpus: "1.5"                            # as docker run --cpus
//	  pids: 256                              # as docker run --pids-limit
//	timeout: 30m                             # wall-clock limit of the run
//	user: "1000:1000"                        # default: the workspace owner
//	env: [CI, NPM_CONFIG_REGISTRY]           # names passed through from the host or CI
//	secrets: [ANTHROPIC_API_KEY]             # names passed as secret env (never shown)
//	agent:
//	  name: claude
//	  model: claude-sonnet-4-5
//	  max_turns: 30
//	  allowed_tools: [Read, Edit, "Bash(go test:*)"]
//	  prompt: |
//	    Review this pull request.
//	review:                                  # pull request reviews (package review)
//	  allow_approve: false                   # the bot may approve (default: never)
//	  request_changes: false                 # post request_changes as REQUEST_CHANGES
//	  max_file_diff_bytes: 65536             # a file's diff beyond this is not reviewed
//	  max_diff_bytes: 524288                 # diff reviewed in one run, file by file
//	relax:                                   # hardening defaults given up, each logged
//	  root: false
//	  writable_root: false
//	  new_privileges: false
//	  capabilities: false
//	  no_init: false
//	  ptrace: false
//
// Parsing is strict: an unknown key, a value of the wrong kind and an invalid
// value are errors naming the file, line, column and key, so a typo cannot
// silently fall back to a default.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/org/sandbox-action/pkg/features"
)

// DefaultPath is where the config file lives, relative to the repository
// root.
const DefaultPath = ".github/sandbox.yml"

// altPath is the same file with the other common YAML extension.
const altPath = ".github/sandbox.yaml"

// File is a parsed, validated config file.
type File struct {
	Image   string   `yaml:"image"`
	Type    string   `yaml:"type"`
	Bundle  string   `yaml:"bundle"`
	Network Network  `yaml:"network"`
	Limits  Limits   `yaml:"limits"`
	Timeout string   `yaml:"timeout"`
	User    string   `yaml:"user"`
	Env     []string `yaml:"env"`
	Secrets []string `yaml:"secrets"`
	Agent   Agent    `yaml:"agent"`
	Review  Review   `yaml:"review"`
	Relax   Relax    `yaml:"relax"`

	name  string
	sum   string
	layer features.Layer
}

// Network is the network: block.
type Network struct {
	Mode  string   `yaml:"mode"`
	Allow []string `yaml:"allow"`
	// ModelBaseURL replaces the agent's vendor API as the credential
	// gateway's upstream: the real key goes there (see egress.Upstream).
	ModelBaseURL string `yaml:"model_base_url"`
}

// Limits is the limits: block. Memory and CPUs are strings in docker's
// notation; a bare YAML number is read as its text.
type Limits struct {
	Memory string `yaml:"memory"`
	CPUs   string `yaml:"cpus"`
	Pids   *int64 `yaml:"pids"`
}

// Agent is the agent: block, read by the agent adapters.
type Agent struct {
	Name         string   `yaml:"name"`
	Model        string   `yaml:"model"`
	MaxTurns     *int     `yaml:"max_turns"`
	AllowedTools []string `yaml:"allowed_tools"`
	Prompt       string   `yaml:"prompt"`
}

// Review is the review: block: how the agent's findings become a pull
// request review. Unset keys keep package review's defaults.
type Review struct {
	AllowApprove     *bool `yaml:"allow_approve"`
	RequestChanges   *bool `yaml:"request_changes"`
	MaxFileDiffBytes *int  `yaml:"max_file_diff_bytes"`
	MaxDiffBytes     *int  `yaml:"max_diff_bytes"`
}

// Relax is the relax: block: hardening defaults given up (true) or
// explicitly kept (false). Keys are features.RelaxNames.
type Relax struct {
	Root          *bool `yaml:"root"`
	WritableRoot  *bool `yaml:"writable_root"`
	NewPrivileges *bool `yaml:"new_privileges"`
	Capabilities  *bool `yaml:"capabilities"`
	NoInit        *bool `yaml:"no_init"`
	Ptrace        *bool `yaml:"ptrace"`
}

// Find returns the config file of a workspace: DefaultPath, or
// .github/sandbox.yaml. When there is none the error satisfies
// errors.Is(err, fs.ErrNotExist), which callers treat as "no config".
func Find(workspace string) (string, error) {
	var found []string
	for _, p := range []string{DefaultPath, altPath} {
		path := filepath.Join(workspace, p)
		fi, err := os.Stat(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case err != nil:
			return "", fmt.Errorf("find config: %w", err)
		case fi.IsDir():
			return "", fmt.Errorf("find config: %s is a directory", path)
		}
		found = append(found, path)
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("find config: no %s in %s: %w", DefaultPath, workspace, fs.ErrNotExist)
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("find config: both %s and %s exist; keep one", found[0], found[1])
}

// Load reads and parses a config file. A missing file is an error that
// satisfies errors.Is(err, fs.ErrNotExist).
//
// The file must be a regular file of at most 1 MiB: a sandbox can write the
// workspace's config, and a named pipe there would hang the next run, a
// huge file slow it down.
func Load(path string) (*File, error) {
	// Stat before opening: opening a named pipe blocks.
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("read config: %s: not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("read config: %s: not a regular file", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxConfigBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	if len(data) > maxConfigBytes {
		return nil, fmt.Errorf("read config: %s: larger than 1 MiB", path)
	}
	return Parse(data, path)
}

// maxConfigBytes bounds a config file.
const maxConfigBytes = 1 << 20

// Parse parses and validates a config file's contents; name is used in
// error messages and as the config layer's source. An empty file is a valid
// config that sets nothing.
func Parse(data []byte, name string) (*File, error) {
	f := &File{name: name, sum: sum(data)}
	doc, err := document(data, name)
	if err != nil {
		return nil, err
	}
	if doc == nil {
		return f, nil
	}
	pos := map[string]*yaml.Node{}
	if err := errors.Join(checkNode(doc, fileType, "", name, pos)...); err != nil {
		return nil, err
	}
	// checkNode has already refused unknown keys with the key path;
	// KnownFields is the decoder's own guard behind it.
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(f); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	layer, err := f.validate(pos)
	if err != nil {
		return nil, err
	}
	f.layer = layer
	return f, nil
}

// document returns the top-level mapping, or nil for a file without content.
func document(data []byte, name string) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, syntaxError(name, err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == nil:
		return nil, fmt.Errorf("%s:%d: only one YAML document is allowed", name, next.Line)
	case !errors.Is(err, io.EOF):
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	doc := root.Content[0]
	if doc.Tag == "!!null" {
		return nil, nil
	}
	if doc.Kind != yaml.MappingNode {
		return nil, posError(name, doc, "", fmt.Errorf("want a mapping of keys such as image: and limits:, got %s", describe(doc)))
	}
	return doc, nil
}

// Name is the file's name as given to Load or Parse.
func (f *File) Name() string { return f.name }

// Layer is the config file's layer for features.Resolve.
func (f *File) Layer() features.Layer { return f.layer }

// Input combines the explicit flags with the config file into the
// resolver's input. A nil File (no config file) contributes nothing.
func (f *File) Input(flags features.Layer) features.Input {
	if f == nil {
		return features.Input{Flags: flags}
	}
	return features.Input{Flags: flags, Config: f.layer, ConfigName: f.name}
}

// yamlLine matches the line number of a YAML syntax error.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parserErrors are the YAML parser's (not scanner's) messages. The YAML
// library numbers their lines from 0 (the scanner's from 1), so they named
// the line before the construct that failed.
var parserErrors = []string{
	"did not find expected key",
	"did not find expected node content",
	"did not find expected ',' or ']'",
	"did not find expected ',' or '}'",
	"did not find expected '-' indicator",
	"did not find expected <document start>",
}

// syntaxError names the file and the line of a YAML syntax error as an
// editor shows it: "sandbox.yml:3: did not find expected ',' or ']'".
func syntaxError(name string, err error) error {
	m := yamlLine.FindStringSubmatch(err.Error())
	if m == nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	line, _ := strconv.Atoi(m[1])
	if slices.Contains(parserErrors, m[2]) {
		line++
	}
	return fmt.Errorf("%s:%d: %s", name, line, m[2])
}

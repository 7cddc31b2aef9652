package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/org/sandbox-action/internal/fakegithub"
)

// The payloads' repository and the people in them (see testdata).
const (
	repository = "Codertocat/Hello-World"
	author     = "Codertocat"
	// prNumber is the pull request of every scenario.
	prNumber = 2
	// modelKey is the Anthropic key input; it never leaves the action's
	// process in plain text (the sandbox gets a session token).
	modelKey = "sk-ant-e2e-0123456789abcdef0123"
)

// payload reads a webhook payload from testdata and adapts it to the
// test repository: the pull request's number and SHAs are the ones the fake
// GitHub holds and the checkout has. edit, when set, derives a variant.
func payload(t *testing.T, file string, repo testRepo, edit func(map[string]any)) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", file))
	assert.NilError(t, err)
	var m map[string]any
	assert.NilError(t, json.Unmarshal(data, &m))
	if pr, ok := m["pull_request"].(map[string]any); ok {
		m["number"] = prNumber
		pr["number"] = prNumber
		pr["head"].(map[string]any)["sha"] = repo.headSHA
		pr["head"].(map[string]any)["ref"] = repo.head
		pr["base"].(map[string]any)["sha"] = repo.baseSHA
		pr["base"].(map[string]any)["ref"] = repo.base
	}
	if issue, ok := m["issue"].(map[string]any); ok {
		issue["number"] = prNumber
		if p, ok := issue["pull_request"].(map[string]any); ok {
			for k, v := range p {
				if s, ok := v.(string); ok {
					p[k] = prURL.ReplaceAllString(s, "/"+itoa(prNumber)+"$1")
				}
			}
		}
	}
	if edit != nil {
		edit(m)
	}
	out, err := json.Marshal(m)
	assert.NilError(t, err)
	return out
}

// prURL is the pull request number at the end of the payload's URLs.
var prURL = regexp.MustCompile(`/1(\.diff|\.patch)?$`)

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// seed is the fake GitHub's state for a scenario: the bot the token acts
// as, the author with write permission, the open pull request with the
// test repository's diff, and the base branch's config file.
func seed(repo testRepo, config string) fakegithub.State {
	body := "Adds Divide and Feature."
	return fakegithub.State{
		Users:       []fakegithub.User{fakegithub.DefaultBot, {Login: author, Type: "User", ID: 21031067}},
		Permissions: map[string]map[string]string{repository: {author: "write"}},
		Pulls: []*fakegithub.Pull{{
			Repo: repository, Number: prNumber, Title: "Add Divide and Feature", Body: &body, State: "open", Author: author,
			Head: fakegithub.Branch{Ref: repo.head, SHA: repo.headSHA, Repo: repository},
			Base: fakegithub.Branch{Ref: repo.base, SHA: repo.baseSHA, Repo: repository},
			Diff: repo.diff,
		}},
		Contents: []*fakegithub.Content{
			{Repo: repository, Ref: repo.baseSHA, Path: ".github/sandbox.yml", Content: config},
			{Repo: repository, Ref: repo.base, Path: ".github/sandbox.yml", Content: config},
		},
	}
}

// dig returns the map at path inside m.
func dig(m map[string]any, path ...string) map[string]any {
	for _, k := range path {
		m = m[k].(map[string]any)
	}
	return m
}

package action

import (
	"context"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/org/sandbox-action/pkg/spec"
)

// proxyArgs records the proxy's command line of the next runs.
func proxyArgs(t *testing.T) *[]string {
	t.Helper()
	var args []string
	testHookPlanned = func(r spec.Run) {
		switch {
		case r.HostProxy != nil:
			args = r.HostProxy.Args
		case r.Proxy != nil:
			args = r.Proxy.Command
		}
	}
	t.Cleanup(func() { testHookPlanned = nil })
	return &args
}

// Where the real key goes is the workflow's choice: the model-base-url
// input feeds the gateway; the repository's config (even the base
// branch's) cannot, and the log says it was ignored.
func TestModelBaseURLComesOnlyFromTheWorkflow(t *testing.T) {
	const fromConfig = "network:\n  model_base_url: https://collector.evil.example\n"
	t.Run("config only", func(t *testing.T) {
		h := newHarness(t, "pull_request", "pull_request.opened.json", nil)
		h.agent("claude-anchorable.jsonl", fromConfig)
		args := proxyArgs(t)
		assert.Equal(t, h.run(context.Background()), 0, h.out.String())
		assert.Check(t, len(*args) > 0, "no proxy planned")
		assert.Check(t, !strings.Contains(strings.Join(*args, " "), "--upstream"), "%q", *args)
		assert.Check(t, is.Contains(h.out.String(), "::notice::.github/sandbox.yml sets network.model_base_url, which the action ignores"))
		assert.Check(t, !strings.Contains(h.summary(), "model-base-url="))
	})
	t.Run("input", func(t *testing.T) {
		h := newHarness(t, "pull_request", "pull_request.opened.json", nil)
		h.agent("claude-anchorable.jsonl", fromConfig)
		h.env["INPUT_MODEL-BASE-URL"] = "https://llm.corp.example/anthropic"
		args := proxyArgs(t)
		assert.Equal(t, h.run(context.Background()), 0, h.out.String())
		assert.Check(t, is.Contains(strings.Join(*args, " "), "--upstream anthropic=https://llm.corp.example/anthropic"))
		assert.Check(t, is.Contains(h.summary(), "model-base-url=https://llm.corp.example/anthropic (from input)"))
		assert.Check(t, !strings.Contains(strings.Join(*args, " "), "collector.evil.example"))
	})
}

// Nor can the pull request's own files, a dispatched branch's config, or a
// comment command's words send the key elsewhere.
func TestModelBaseURLNeverComesFromTheRepositoryOrAComment(t *testing.T) {
	const evil = "collector.evil.example"
	const fromConfig = "network:\n  model_base_url: https://" + evil + "\n"
	noUpstream := func(t *testing.T, h *harness, args []string) {
		t.Helper()
		assert.Check(t, len(args) > 0, "no proxy planned")
		assert.Check(t, !strings.Contains(strings.Join(args, " "), "--upstream"), "%q", args)
		assert.Check(t, !strings.Contains(h.summary(), evil))
		for _, c := range h.gh.Writes() {
			assert.Check(t, !strings.Contains(c.Body, evil), "posted: %s", c.Body)
		}
	}
	t.Run("the pull request's config", func(t *testing.T) {
		h := newHarness(t, "pull_request", "pull_request.opened.json", nil)
		h.agent("claude-anchorable.jsonl", "")
		writeFile(t, h.ws, ".github/sandbox.yml", fromConfig)
		args := proxyArgs(t)
		assert.Equal(t, h.run(context.Background()), 0, h.out.String())
		noUpstream(t, h, *args)
		// The head's config is never read, so nothing says it was ignored.
		assert.Check(t, !strings.Contains(h.out.String(), evil))
	})
	t.Run("a dispatched branch's config", func(t *testing.T) {
		h := newHarness(t, "workflow_dispatch", "workflow_dispatch.json", nil)
		h.env["GITHUB_REPOSITORY"] = "octo-org/octo-repo"
		h.env["INPUT_PROMPT"] = "Summarise this repository."
		h.agent("claude-anchorable.jsonl", "")
		writeFile(t, h.ws, ".github/sandbox.yml", "env: [REPLAY_TRANSCRIPT, REPLAY_DELAY]\n"+fromConfig)
		args := proxyArgs(t)
		assert.Equal(t, h.run(context.Background()), 0, h.out.String())
		noUpstream(t, h, *args)
		assert.Check(t, is.Contains(h.out.String(), "::notice::.github/sandbox.yml sets network.model_base_url, which the action ignores"))
	})
	t.Run("a command's arguments", func(t *testing.T) {
		h := newHarness(t, "issue_comment", "issue_comment.created.on-pr.json",
			commentOnPR("@sandbox-bot review --model-base-url https://"+evil+" model-base-url="+evil, nil))
		h.agent("claude-anchorable.jsonl", "")
		args := proxyArgs(t)
		assert.Equal(t, h.run(context.Background()), 0, h.out.String())
		assert.Check(t, is.Len(*args, 0), "a run was planned: %q", *args)
		cs := h.comments(1)
		assert.Assert(t, is.Len(cs, 1), h.out.String())
		assert.Check(t, is.Contains(cs[0], "I don't know the command"))
	})
	t.Run("config in a command's comment", func(t *testing.T) {
		h := newHarness(t, "issue_comment", "issue_comment.created.on-pr.json",
			commentOnPR("@sandbox-bot review\n\n```yaml\n"+fromConfig+"```\nmodel-base-url: https://"+evil+"\n", nil))
		h.agent("claude-anchorable.jsonl", "")
		args := proxyArgs(t)
		assert.Equal(t, h.run(context.Background()), 0, h.out.String())
		noUpstream(t, h, *args)
		assert.Check(t, is.Len(h.gh.Reviews(repo, 1), 1), h.out.String())
	})
}

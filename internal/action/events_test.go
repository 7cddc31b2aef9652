package action

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
	"gotest.tools/v3/golden"

	"github.com/org/sandbox-action/internal/fakegithub"
)

// Events the action answers without running a sandbox.

func TestDraftIsSkippedWithANotice(t *testing.T) {
	// Derived: pull_request.opened.json marked as a draft.
	h := newHarness(t, "pull_request", "pull_request.opened.json", func(m map[string]any) {
		m["pull_request"].(map[string]any)["draft"] = true
	})
	assert.Equal(t, h.run(context.Background()), 0, h.out.String())
	assert.Check(t, is.Contains(h.out.String(), "::notice::"))
	assert.Check(t, is.Contains(strings.ToLower(h.out.String()), "draft"))
	assert.Check(t, is.Len(h.gh.Writes(), 0))
	assert.Check(t, is.Equal(h.outputs()["conclusion"], "skipped"))
}

func TestUnsupportedEventNamesWhatIsSupported(t *testing.T) {
	h := newHarness(t, "pull_request_review", "pull_request_review.submitted.json", nil)
	assert.Equal(t, h.run(context.Background()), 0, h.out.String())
	assert.Check(t, is.Contains(h.out.String(), "workflow_dispatch"))
	assert.Check(t, is.Len(h.gh.Requests(), 0))

	h = newHarness(t, "pull_request_target", "pull_request.opened.json", nil)
	assert.Equal(t, h.run(context.Background()), 0, h.out.String())
	assert.Check(t, is.Contains(h.out.String(), "pull_request_target"))
	assert.Check(t, is.Len(h.gh.Requests(), 0))
}

func TestEditedAndDeletedCommentsAreIgnored(t *testing.T) {
	for _, payload := range []string{"issue_comment.edited.json", "issue_comment.deleted.json"} {
		h := newHarness(t, "issue_comment", payload, func(m map[string]any) {
			m["issue"].(map[string]any)["pull_request"] = map[string]any{"url": "https://api.github.com/repos/Codertocat/Hello-World/pulls/1"}
			m["comment"].(map[string]any)["body"] = "@sandbox-bot review"
		})
		assert.Equal(t, h.run(context.Background()), 0, h.out.String())
		assert.Check(t, is.Len(h.gh.Writes(), 0), payload)
		assert.Check(t, is.Equal(h.outputs()["conclusion"], "skipped"), payload)
	}
}

// commentOnPR derives a comment on pull request 1 with body.
func commentOnPR(body string, edit func(comment map[string]any)) func(map[string]any) {
	return func(m map[string]any) {
		c := m["comment"].(map[string]any)
		c["body"] = body
		if edit != nil {
			edit(c)
		}
	}
}

func TestCommandReplies(t *testing.T) {
	for _, tc := range []struct {
		name, body, golden string
		edit               func(map[string]any)
		perm               string
	}{
		{name: "help", body: "@sandbox-bot help", golden: "reply-help.golden"},
		{name: "unknown", body: "@sandbox-bot dance", golden: "reply-unknown.golden"},
		{name: "not yet", body: "@sandbox-bot fix merge conflicts", golden: "reply-not-available.golden"},
		{name: "non-collaborator", body: "@sandbox-bot review", golden: "reply-refused.golden", perm: "read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, "issue_comment", "issue_comment.created.on-pr.json", commentOnPR(tc.body, tc.edit))
			if tc.perm != "" {
				h.gh.SetPermission(repo, "Codertocat", tc.perm)
			}
			assert.Equal(t, h.run(context.Background()), 0, h.out.String())
			cs := h.comments(1)
			assert.Assert(t, is.Len(cs, 1), h.out.String())
			golden.Assert(t, cs[0], tc.golden)
			assert.Check(t, is.Len(h.gh.Reactions(), 0), "no 👀 for a command it does not run")
			assert.Check(t, h.outputs()["comment-id"] != "")
		})
	}
}

func TestCommentsThatNeverTrigger(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(map[string]any)
	}{
		{"bot author", commentOnPR("@sandbox-bot review", func(c map[string]any) {
			c["user"].(map[string]any)["login"] = "renovate[bot]"
			c["user"].(map[string]any)["type"] = "Bot"
		})},
		{"own comment", commentOnPR("<!-- sandbox-action:reply -->\n@sandbox-bot review", nil)},
		{"no command", commentOnPR("LGTM, thanks @sandbox-bot", nil)},
		{"command in a quote", commentOnPR("> @sandbox-bot review\nagreed", nil)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, "issue_comment", "issue_comment.created.on-pr.json", tc.edit)
			assert.Equal(t, h.run(context.Background()), 0, h.out.String())
			assert.Check(t, is.Len(h.gh.Writes(), 0))
			assert.Check(t, is.Equal(h.outputs()["conclusion"], "skipped"))
		})
	}
}

func TestBadInputsFailNamingTheInputAndWhatIsAllowed(t *testing.T) {
	h := newHarness(t, "pull_request", "pull_request.opened.json", nil)
	h.env["INPUT_NETWORK"] = "internet"
	h.env["INPUT_TIMEOUT-MINUTES"] = "soon"
	h.env["INPUT_AGENT"] = "copilot"
	h.env["INPUT_DRY-RUN"] = "maybe"
	h.env["INPUT_REQUIRED-PERMISSION"] = "owner"
	h.env["INPUT_MODLE"] = "sonnet"
	h.env["INPUT_MODEL-BASE-URL"] = "http://llm.example.com"
	h.env["INPUT_MODEL-CA-CERT"] = "/etc/ssl/corp.pem"
	assert.Equal(t, h.run(context.Background()), 1, h.out.String())
	out := h.out.String()
	for _, want := range []string{
		`input network: "internet" is not valid`, "allowed: private or public",
		`input timeout-minutes: "soon"`, "a whole number of minutes",
		`input agent: "copilot"`, "one of claude, codex, gemini",
		`input dry-run: "maybe"`, "true or false",
		`input required-permission: "owner"`, "read, triage, write, maintain or admin",
		"input modle is not an input of this action; allowed: agent, prompt,",
		`input model-base-url: "http://llm.example.com" is not valid: "http://llm.example.com": scheme must be https (http only for a loopback address`,
		`input model-ca-cert: "/etc/ssl/corp.pem" is not valid: text outside PEM blocks; allowed: PEM text of root certificates`,
	} {
		assert.Check(t, is.Contains(out, want))
	}
	assert.Check(t, is.Len(h.gh.Requests(), 0))
	assert.Check(t, is.Equal(h.outputs()["conclusion"], "failure"))
}

func TestSecretInputsAreMaskedFirst(t *testing.T) {
	h := newHarness(t, "pull_request", "pull_request.opened.json", nil)
	h.env["INPUT_NETWORK"] = "internet"
	h.run(context.Background())
	out := h.out.String()
	assert.Assert(t, strings.HasPrefix(out, "::add-mask::"), out)
	assert.Check(t, is.Contains(out, "::add-mask::"+modelKey))
	assert.Check(t, is.Contains(out, "::add-mask::"+fakegithub.DefaultToken))
	assert.Check(t, strings.Index(out, "::add-mask::"+modelKey) < strings.Index(out, "::error"))
}

func TestForkWithoutSecretsExplainsAndStaysNeutral(t *testing.T) {
	// Derived: the head branch lives in a fork, and the key input is
	// empty, as GitHub runs pull_request from forks.
	h := newHarness(t, "pull_request", "pull_request.opened.json", func(m map[string]any) {
		head := m["pull_request"].(map[string]any)["head"].(map[string]any)
		head["repo"].(map[string]any)["full_name"] = "forker/Hello-World"
	})
	delete(h.env, "INPUT_ANTHROPIC-API-KEY")
	h.gh.AddUser(fakegithub.User{Login: "ro", Type: "Bot", Token: "ghs_readonly", ReadOnly: true})
	h.env["INPUT_GITHUB-TOKEN"] = "ghs_readonly"
	assert.Equal(t, h.run(context.Background()), 0, h.out.String())
	assert.Check(t, is.Contains(h.out.String(), "comes from the fork forker/Hello-World"))
	assert.Check(t, is.Contains(h.summary(), "The safe pattern"))
	assert.Check(t, is.Equal(h.outputs()["conclusion"], "skipped"))
}

// A runner whose file commands cannot be written (a missing directory, a
// read-only mount) gets a failed step that says why, not a crash: the
// library panics when it cannot open GITHUB_OUTPUT.
func TestUnwritableFileCommandsFailTheStepWithoutACrash(t *testing.T) {
	for _, name := range []string{"GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, "pull_request_review", "pull_request_review.submitted.json", nil)
			h.env[name] = filepath.Join(t.TempDir(), "missing", "file")
			assert.Equal(t, h.run(context.Background()), 1, h.out.String())
			assert.Check(t, is.Contains(h.out.String(), name))
			assert.Check(t, !strings.Contains(h.out.String(), "failed unexpectedly"), h.out.String())
		})
	}
}

package github

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

func TestParseEventPullRequest(t *testing.T) {
	tests := []struct {
		name     string
		file     string
		edits    []edit
		kind     Kind
		action   string
		reason   string
		body     string
		fork     bool
		headRepo string
	}{
		{name: "opened", file: "pull_request.opened.json", kind: KindReview, action: "opened",
			body: "This is a pretty simple change that we need to pull into master.", headRepo: "Codertocat/Hello-World"},
		{name: "synchronize", file: "pull_request.synchronize.json", kind: KindReview, action: "synchronize", headRepo: "Codertocat/Hello-World"},
		{name: "null body", file: "pull_request.opened.with-null-body.json", kind: KindReview, action: "opened", body: "", headRepo: "Codertocat/Hello-World"},
		{name: "reopened", file: "pull_request.opened.json", edits: []edit{set("action", "reopened")}, kind: KindReview, action: "reopened", headRepo: "Codertocat/Hello-World"},
		{name: "ready for review", file: "pull_request.opened.json", edits: []edit{set("action", "ready_for_review")}, kind: KindReview, action: "ready_for_review", headRepo: "Codertocat/Hello-World"},
		{name: "draft skipped", file: "pull_request.opened.json", edits: []edit{set("pull_request.draft", true)},
			kind: KindSkip, action: "opened", reason: "pull request #2 is a draft", headRepo: "Codertocat/Hello-World"},
		{name: "closed skipped", file: "pull_request.opened.json", edits: []edit{set("action", "closed")},
			kind: KindSkip, action: "closed", reason: `pull_request action "closed" needs no review`, headRepo: "Codertocat/Hello-World"},
		{name: "fork", file: "pull_request.opened.json", edits: []edit{set("pull_request.head.repo.full_name", "mallory/Hello-World")},
			kind: KindReview, action: "opened", fork: true, headRepo: "mallory/Hello-World"},
		{name: "deleted fork", file: "pull_request.opened.json", edits: []edit{set("pull_request.head.repo", nil)},
			kind: KindReview, action: "opened", fork: true, headRepo: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := ParseEvent("pull_request", payload(t, tc.file, tc.edits...))
			assert.NilError(t, err)
			assert.Equal(t, ev.Kind, tc.kind)
			assert.Equal(t, ev.Action, tc.action)
			assert.Equal(t, ev.Repo, Repo{Owner: "Codertocat", Name: "Hello-World"})
			assert.Check(t, is.Contains(ev.Reason, tc.reason))
			assert.Assert(t, ev.PR != nil)
			assert.Equal(t, ev.PR.Number, 2)
			assert.Equal(t, ev.PR.HeadRepo, tc.headRepo)
			assert.Equal(t, ev.PR.IsFork(), tc.fork)
			assert.Check(t, ev.PR.Complete())
			assert.Equal(t, ev.PR.Author, User{Login: "Codertocat", Type: "User"})
			if tc.body != "" || tc.name == "null body" {
				assert.Equal(t, ev.PR.Body, tc.body)
			}
			assert.Equal(t, len(ev.PR.HeadSHA), 40)
			assert.Equal(t, ev.PR.BaseRef, "master")
		})
	}
}

func TestParseEventComments(t *testing.T) {
	tests := []struct {
		name   string
		event  string
		file   string
		edits  []edit
		kind   Kind
		reason string
		author User
		ckind  CommentKind
	}{
		{name: "issue comment on a PR", event: "issue_comment", file: "issue_comment.created.on-pr.json", kind: KindCommand, ckind: CommentIssue},
		{name: "organization variant on a PR", event: "issue_comment", file: "issue_comment.created.with-organization.json",
			edits: []edit{set("issue.pull_request", map[string]any{"url": "https://api.github.com/repos/Codertocat/Hello-World/pulls/1"})}, kind: KindCommand, ckind: CommentIssue},
		{name: "comment on a plain issue", event: "issue_comment", file: "issue_comment.created.json", kind: KindSkip, reason: "not on a pull request"},
		{name: "edited comment ignored", event: "issue_comment", file: "issue_comment.edited.json",
			edits: []edit{set("issue.pull_request", map[string]any{"url": "x"})}, kind: KindSkip, reason: "comment was edited", ckind: CommentIssue},
		{name: "deleted comment ignored", event: "issue_comment", file: "issue_comment.deleted.json",
			edits: []edit{set("issue.pull_request", map[string]any{"url": "x"})}, kind: KindSkip, reason: "comment was deleted", ckind: CommentIssue},
		{name: "review comment", event: "pull_request_review_comment", file: "pull_request_review_comment.created.json", kind: KindCommand, ckind: CommentReview},
		{name: "review comment edited", event: "pull_request_review_comment", file: "pull_request_review_comment.created.json",
			edits: []edit{set("action", "edited")}, kind: KindSkip, reason: "comment was edited", ckind: CommentReview},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := ParseEvent(tc.event, payload(t, tc.file, tc.edits...))
			assert.NilError(t, err)
			assert.Equal(t, ev.Kind, tc.kind)
			assert.Check(t, is.Contains(ev.Reason, tc.reason))
			if tc.ckind == "" {
				assert.Check(t, ev.Comment == nil)
				return
			}
			assert.Assert(t, ev.Comment != nil)
			assert.Equal(t, ev.Comment.Kind, tc.ckind)
			assert.Equal(t, ev.Comment.Author, User{Login: "Codertocat", Type: "User"})
			assert.Check(t, ev.Comment.ID > 0)
			assert.Assert(t, ev.PR != nil)
			if tc.ckind == CommentReview {
				assert.Equal(t, ev.Comment.ID, int64(492700401))
				assert.Equal(t, ev.PR.Number, 2)
				assert.Check(t, ev.PR.Complete())
			} else {
				assert.Equal(t, ev.PR.Number, 1)
				assert.Check(t, !ev.PR.Complete(), "an issue comment does not carry the head")
			}
		})
	}
}

func TestParseEventCommentBodyAndBot(t *testing.T) {
	ev, err := ParseEvent("issue_comment", payload(t, "issue_comment.created.on-pr.json",
		set("comment.user.login", "renovate[bot]"), set("comment.user.type", "Bot")))
	assert.NilError(t, err)
	assert.Equal(t, ev.Comment.Body, "@sandbox-bot review")
	assert.Check(t, ev.Comment.Author.IsBot())
	assert.Check(t, screen(ev.Comment).Refused())
	assert.Check(t, is.Contains(screen(ev.Comment).Reason, "bots never trigger"))
	assert.Equal(t, screen(ev.Comment).Reply, "", "bots are not answered")
}

func TestParseEventWorkflowDispatch(t *testing.T) {
	ev, err := ParseEvent("workflow_dispatch", payload(t, "workflow_dispatch.json"))
	assert.NilError(t, err)
	assert.Equal(t, ev.Kind, KindTask)
	assert.Equal(t, ev.Repo, Repo{Owner: "octo-org", Name: "octo-repo"})
	assert.Equal(t, ev.Task.Ref, "refs/heads/master")
	assert.DeepEqual(t, ev.Task.Inputs, map[string]string{"name": "Mona the Octocat"})
	assert.Equal(t, ev.Task.Prompt, "")
	assert.Check(t, ev.PR == nil)

	ev, err = ParseEvent("workflow_dispatch", payload(t, "workflow_dispatch.json",
		set("inputs", map[string]any{"prompt": "Fix the flaky test", "pr": "#17", "dry": true})))
	assert.NilError(t, err)
	assert.Equal(t, ev.Task.Prompt, "Fix the flaky test")
	assert.Equal(t, ev.Task.PR, 17)
	assert.Equal(t, ev.PR.Number, 17)
	assert.Equal(t, ev.Task.Inputs["dry"], "true")

	ev, err = ParseEvent("workflow_dispatch", payload(t, "workflow_dispatch.json", set("inputs", nil)))
	assert.NilError(t, err)
	assert.Equal(t, len(ev.Task.Inputs), 0)
}

func TestParseEventUnsupported(t *testing.T) {
	for _, name := range []string{"push", "pull_request_target", "pull_request_review", "schedule"} {
		ev, err := ParseEvent(name, payload(t, "pull_request_review.submitted.json"))
		assert.NilError(t, err)
		assert.Equal(t, ev.Kind, KindUnsupported)
		assert.Check(t, is.Contains(ev.Reason, Supported))
		assert.Check(t, is.Contains(ev.Reason, name))
	}
	ev, _ := ParseEvent("pull_request_target", nil)
	assert.Check(t, is.Contains(ev.Reason, "gives a fork's code the repository's secrets"))
}

func TestParseEventMalformed(t *testing.T) {
	tests := []struct {
		name, event string
		payload     []byte
		want        string
	}{
		{"empty name", "", []byte(`{}`), "event name is empty"},
		{"not JSON", "pull_request", []byte(`{"action":`), "pull_request payload: not valid JSON"},
		{"no pull_request", "pull_request", payload(t, "pull_request.opened.json", set("pull_request", del)), "pull_request payload: pull_request: missing"},
		{"no head sha", "pull_request", payload(t, "pull_request.opened.json", set("pull_request.head.sha", del)), "pull_request.head.sha: missing"},
		{"number as string", "pull_request", payload(t, "pull_request.opened.json", set("pull_request.number", "two")), "pull_request.number"},
		{"no repository", "pull_request", payload(t, "pull_request.opened.json", set("repository", del)), "repository: missing"},
		{"bad full_name", "issue_comment", payload(t, "issue_comment.created.on-pr.json", set("repository.full_name", "nope")), `repository.full_name: repository "nope"`},
		{"no comment", "issue_comment", payload(t, "issue_comment.created.on-pr.json", set("comment", del)), "comment: missing"},
		{"no issue", "issue_comment", payload(t, "issue_comment.created.on-pr.json", set("issue", del)), "issue: missing"},
		{"review comment without PR", "pull_request_review_comment", payload(t, "pull_request_review_comment.created.json", set("pull_request", del)), "pull_request: missing"},
		{"inputs not an object", "workflow_dispatch", payload(t, "workflow_dispatch.json", set("inputs", []any{1})), "inputs: want an object"},
		{"bad pr input", "workflow_dispatch", payload(t, "workflow_dispatch.json", set("inputs", map[string]any{"pr": "abc"})), `inputs.pr: "abc" is not a pull request number`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseEvent(tc.event, tc.payload)
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

func TestReadEvent(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "event.json")
	assert.NilError(t, os.WriteFile(p, payload(t, "pull_request.opened.json"), 0o600))
	env := map[string]string{"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": p}
	ev, err := ReadEvent(func(k string) string { return env[k] })
	assert.NilError(t, err)
	assert.Equal(t, ev.Kind, KindReview)

	_, err = ReadEvent(func(string) string { return "" })
	assert.ErrorContains(t, err, "GITHUB_EVENT_NAME is not set")
	env["GITHUB_EVENT_PATH"] = filepath.Join(dir, "missing.json")
	_, err = ReadEvent(func(k string) string { return env[k] })
	assert.ErrorContains(t, err, "GITHUB_EVENT_PATH")
	assert.NilError(t, os.WriteFile(p, []byte("{"), 0o600))
	env["GITHUB_EVENT_PATH"] = p
	_, err = ReadEvent(func(k string) string { return env[k] })
	assert.ErrorContains(t, err, p+": pull_request payload: not valid JSON")
}

func TestParseRepo(t *testing.T) {
	r, err := ParseRepo("o/r")
	assert.NilError(t, err)
	assert.Equal(t, r.String(), "o/r")
	for _, bad := range []string{"", "o", "/r", "o/", "o/r/x"} {
		_, err := ParseRepo(bad)
		assert.Check(t, err != nil && strings.Contains(err.Error(), "want owner/name"), bad)
	}
}

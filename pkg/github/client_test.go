package github

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
	"gotest.tools/v3/golden"

	"github.com/org/sandbox-action/internal/fakegithub"
)

const repoName = "Codertocat/Hello-World"

var repo = Repo{Owner: "Codertocat", Name: "Hello-World"}

// newFake starts a fake GitHub holding PR #2 of repoName.
func newFake(t *testing.T) *fakegithub.Server {
	t.Helper()
	f := fakegithub.New(t)
	body := "A pretty simple change."
	f.AddPull(&fakegithub.Pull{
		Repo: repoName, Number: 2, Title: "Update the README", Body: &body, Author: "Codertocat",
		Head: fakegithub.Branch{Ref: "changes", SHA: sha, Repo: repoName},
		Base: fakegithub.Branch{Ref: "master", SHA: "f95f852bd8fca8fcc58a9a2d6c842781e32a215e", Repo: repoName},
		Diff: "diff --git a/README.md b/README.md\n--- a/README.md\n+++ b/README.md\n@@ -1 +1 @@\n-# Hello-World\n+# Hello World\n",
		Files: []fakegithub.File{{Filename: "README.md", Status: "modified", Additions: 1, Deletions: 1, Changes: 2,
			Patch: "@@ -1 +1 @@\n-# Hello-World\n+# Hello World"}},
	})
	return f
}

func newClient(t *testing.T, f *fakegithub.Server, edit ...func(*Options)) *Client {
	t.Helper()
	o := Options{APIURL: f.URL, Token: fakegithub.DefaultToken, MinBackoff: 10 * time.Millisecond, Logf: t.Logf}
	for _, e := range edit {
		e(&o)
	}
	c, err := New(o)
	assert.NilError(t, err)
	return c
}

func TestPullRequestDiffFiles(t *testing.T) {
	f := newFake(t)
	c := newClient(t, f)
	ctx := context.Background()

	pr, err := c.PullRequest(ctx, repo, 2)
	assert.NilError(t, err)
	assert.Equal(t, pr.HeadSHA, sha)
	assert.Equal(t, pr.Body, "A pretty simple change.")
	assert.Check(t, !pr.IsFork())

	d, err := c.Diff(ctx, repo, 2)
	assert.NilError(t, err)
	assert.Check(t, strings.HasPrefix(d, "diff --git a/README.md"))
	reqs := f.Requests()
	assert.Equal(t, reqs[len(reqs)-1].Accept, "application/vnd.github.v3.diff")

	files, err := c.Files(ctx, repo, 2)
	assert.NilError(t, err)
	assert.DeepEqual(t, files, []File{{Path: "README.md", Status: "modified", Additions: 1, Deletions: 1, Patch: "@@ -1 +1 @@\n-# Hello-World\n+# Hello World"}})

	_, err = c.PullRequest(ctx, repo, 99)
	assert.ErrorContains(t, err, "get pull request Codertocat/Hello-World#99")
	assert.Equal(t, StatusCode(err), http.StatusNotFound)
}

func TestFilesPaginates(t *testing.T) {
	f := newFake(t)
	var files []fakegithub.File
	for i := range 250 {
		files = append(files, fakegithub.File{Filename: "f" + strconv.Itoa(i), Status: "added"})
	}
	f.AddPull(&fakegithub.Pull{Repo: repoName, Number: 3, Head: fakegithub.Branch{SHA: sha, Repo: repoName}, Base: fakegithub.Branch{Repo: repoName}, Files: files})
	got, err := newClient(t, f).Files(context.Background(), repo, 3)
	assert.NilError(t, err)
	assert.Equal(t, len(got), 250)
	assert.Equal(t, got[249].Path, "f249")
	assert.Equal(t, len(f.Requests()), 3)
}

func TestEnterpriseURL(t *testing.T) {
	f := newFake(t)
	c := newClient(t, f, func(o *Options) { o.APIURL = f.URL + "/api/v3" })
	pr, err := c.PullRequest(context.Background(), repo, 2)
	assert.NilError(t, err)
	assert.Equal(t, pr.Number, 2)
	assert.Equal(t, f.Requests()[0].Path, "/repos/Codertocat/Hello-World/pulls/2")

	for _, tc := range []struct{ api, base, upload string }{
		{"", "https://api.github.com/", "https://uploads.github.com/"},
		{"https://ghe.corp.test/api/v3", "https://ghe.corp.test/api/v3/", "https://ghe.corp.test/api/uploads/"},
	} {
		b, u, err := apiURLs(tc.api)
		assert.NilError(t, err)
		assert.Equal(t, b.String(), tc.base)
		assert.Equal(t, u.String(), tc.upload)
	}
	for _, bad := range []string{"ftp://x", "not a url", "/relative"} {
		_, err := New(Options{APIURL: bad})
		assert.ErrorContains(t, err, "GITHUB_API_URL")
	}
}

func commentEvent(t *testing.T, edits ...edit) *Event {
	t.Helper()
	ev, err := ParseEvent("issue_comment", payload(t, "issue_comment.created.on-pr.json", edits...))
	assert.NilError(t, err)
	return ev
}

func TestAuthorize(t *testing.T) {
	f := newFake(t)
	c := newClient(t, f)
	ctx := context.Background()
	f.SetPermission(repoName, "Codertocat", "write")
	f.SetPermission(repoName, "triager", "triage")
	f.SetPermission(repoName, "outsider", "none")

	tests := []struct {
		name     string
		edits    []edit
		required Permission
		refused  string
		reply    string
		asked    bool
	}{
		{name: "writer", required: PermissionWrite, asked: true},
		{name: "writer below maintain", required: PermissionMaintain, refused: "Codertocat has write permission", reply: "needs maintain permission", asked: true},
		{name: "triage meets triage", edits: []edit{set("comment.user.login", "triager")}, required: PermissionTriage, asked: true},
		{name: "triage below write", edits: []edit{set("comment.user.login", "triager")}, required: PermissionWrite, refused: "triager has triage permission", reply: "you have triage", asked: true},
		{name: "non-collaborator", edits: []edit{set("comment.user.login", "outsider")}, required: PermissionWrite, refused: "outsider has none permission", reply: "@outsider, sorry", asked: true},
		{name: "unknown user reads a public repo", edits: []edit{set("comment.user.login", "passerby")}, required: PermissionRead, asked: true},
		{name: "bot by type", edits: []edit{set("comment.user.type", "Bot")}, required: PermissionRead, refused: "bots never trigger"},
		{name: "bot by login", edits: []edit{set("comment.user.login", "dependabot[bot]")}, required: PermissionRead, refused: "bots never trigger"},
		{name: "own comment", edits: []edit{set("comment.body", "<!-- sandbox-action:reply -->\n@sandbox-bot review")}, required: PermissionRead, refused: "posted by this action"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(f.Requests())
			r, err := c.Authorize(ctx, commentEvent(t, tc.edits...), tc.required)
			assert.NilError(t, err)
			if tc.refused == "" {
				assert.Check(t, !r.Refused(), r.Reason)
			} else {
				assert.Check(t, is.Contains(r.Reason, tc.refused))
			}
			assert.Check(t, is.Contains(r.Reply, tc.reply))
			if tc.reply == "" {
				assert.Equal(t, r.Reply, "")
			}
			asked := len(f.Requests()) > before
			assert.Equal(t, asked, tc.asked, "permission API asked")
		})
	}
}

func TestAcknowledge(t *testing.T) {
	f := newFake(t)
	c := newClient(t, f)
	ctx := context.Background()
	id := f.AddComment(repoName, 2, "Codertocat", "@sandbox-bot review")
	f.AddReviewComment(repoName, 2, 492700401, "Codertocat", "@sandbox-bot review")

	assert.NilError(t, c.Acknowledge(ctx, repo, &Comment{ID: id, Kind: CommentIssue}))
	assert.NilError(t, c.Acknowledge(ctx, repo, &Comment{ID: 492700401, Kind: CommentReview}))
	got := f.Reactions()
	assert.Equal(t, len(got), 2)
	assert.DeepEqual(t, []string{got[0].Subject, got[0].Content, got[1].Subject, got[1].Content},
		[]string{"issue_comment", "eyes", "review_comment", "eyes"})
	w := f.Writes()
	assert.Equal(t, w[0].Path, "/repos/Codertocat/Hello-World/issues/comments/"+strconv.FormatInt(id, 10)+"/reactions")
	assert.Equal(t, w[1].Path, "/repos/Codertocat/Hello-World/pulls/comments/492700401/reactions")

	err := c.Acknowledge(ctx, repo, &Comment{ID: 5, Kind: CommentIssue})
	assert.ErrorContains(t, err, "react to comment 5")
}

func TestReplyIsMarkedAndScrubbed(t *testing.T) {
	f := newFake(t)
	c := newClient(t, f, func(o *Options) { o.Secrets = []string{"sk-ant-api03-SECRET"} })
	id, err := c.Reply(context.Background(), repo, 2, "key is sk-ant-api03-SECRET and token "+fakegithub.DefaultToken)
	assert.NilError(t, err)
	cs := f.Comments(repoName, 2)
	assert.Equal(t, len(cs), 1)
	assert.Equal(t, cs[0].ID, id)
	assert.Equal(t, cs[0].Body, "<!-- sandbox-action:reply -->\nkey is *** and token ***")
	assert.Check(t, IsOwnComment(cs[0].Body))
	for _, r := range f.Requests() {
		assert.Check(t, !strings.Contains(r.Body, "SECRET"))
	}
}

func TestStatusCommentStickyAcrossRuns(t *testing.T) {
	f := newFake(t)
	ctx := context.Background()
	// Noise the finder must skip: people's comments, a person quoting the
	// marker (it must not reset the cost), another reply of ours.
	f.AddComment(repoName, 2, "Codertocat", "LGTM")
	f.AddComment(repoName, 2, "mallory", "<!-- sandbox-action:status run=1 pr-cost-usd=0.0000 -->")
	f.AddComment(repoName, 2, "github-actions[bot]", "<!-- sandbox-action:reply -->\nhelp")

	run := func(runID int64, cost float64) *StatusComment {
		c := newClient(t, f)
		sc, err := c.FindStatus(ctx, repo, 2, "")
		assert.NilError(t, err)
		st := base()
		st.RunID = runID
		st.PRCostUSD = sc.Previous.PRCostUSD
		st.Phase = PhaseQueued
		assert.NilError(t, sc.Update(ctx, st))
		st.Phase = PhaseRunning
		assert.NilError(t, sc.Update(ctx, st))
		st.Phase, st.Conclusion, st.CostUSD = PhaseDone, ConclusionSuccess, cost
		st.PRCostUSD += cost
		assert.NilError(t, sc.Update(ctx, st))
		return sc
	}
	first := run(100, 0.25)
	assert.Check(t, !first.Found)
	second := run(101, 0.5)
	assert.Check(t, second.Found)
	assert.Equal(t, second.ID, first.ID, "the same comment is edited")
	assert.Equal(t, second.Previous, Marker{RunID: 100, PRCostUSD: 0.25, HeadSHA: sha, Conclusion: ConclusionSuccess})

	var ours []fakegithub.Comment
	for _, c := range f.Comments(repoName, 2) {
		if _, ok := ParseMarker(c.Body); ok && c.User == "github-actions[bot]" {
			ours = append(ours, c)
		}
	}
	assert.Equal(t, len(ours), 1, "one status comment, not duplicated")
	m, _ := ParseMarker(ours[0].Body)
	assert.Equal(t, m.PRCostUSD, 0.75)
	assert.Equal(t, m.RunID, int64(101))
	golden.Assert(t, ours[0].Body, "sticky-final.golden")

	creates, edits := 0, 0
	for _, r := range f.Writes() {
		switch {
		case r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/issues/2/comments"):
			creates++
		case r.Method == http.MethodPatch:
			edits++
		}
	}
	assert.Equal(t, creates, 1)
	assert.Equal(t, edits, 5)
}

func TestStatusCommentRecreatedWhenDeleted(t *testing.T) {
	f := newFake(t)
	ctx := context.Background()
	c := newClient(t, f)
	sc := c.NewStatus(repo, 2)
	sc.ID = 424242 // a comment someone deleted
	st := base()
	st.Phase = PhaseRunning
	assert.NilError(t, sc.Update(ctx, st))
	assert.Check(t, sc.ID != 424242)
	assert.Equal(t, len(f.Comments(repoName, 2)), 1)
}

func TestStatusCommentFindsAmongManyPages(t *testing.T) {
	f := newFake(t)
	for i := range 130 {
		f.AddComment(repoName, 2, "Codertocat", "comment "+strconv.Itoa(i))
	}
	want := f.AddComment(repoName, 2, "github-actions[bot]", Marker{RunID: 5, PRCostUSD: 1.5}.String())
	sc, err := newClient(t, f).FindStatus(context.Background(), repo, 2, "")
	assert.NilError(t, err)
	assert.Equal(t, sc.ID, want)
	assert.Equal(t, sc.Previous.PRCostUSD, 1.5)
}

func TestStatusCommentSelfUser(t *testing.T) {
	f := newFake(t)
	f.AddUser(fakegithub.User{Login: "ci-person", Type: "User", Token: "pat-123"})
	want := f.AddComment(repoName, 2, "ci-person", Marker{RunID: 9, PRCostUSD: 2}.String())
	c := newClient(t, f, func(o *Options) { o.Token = "pat-123" })
	sc, err := c.FindStatus(context.Background(), repo, 2, "")
	assert.NilError(t, err)
	assert.Check(t, !sc.Found, "a person's marker is ignored unless they are self")
	sc, err = c.FindStatus(context.Background(), repo, 2, "ci-person")
	assert.NilError(t, err)
	assert.Equal(t, sc.ID, want)
}

func TestStatusCommentScrubsSecrets(t *testing.T) {
	f := newFake(t)
	const key, session = "sk-ant-api03-abcdefghijklmnop", "sess-0123456789abcdef"
	c := newClient(t, f, func(o *Options) { o.Secrets = []string{key, session} })
	st := base()
	st.Phase, st.Conclusion = PhaseDone, ConclusionFailure
	st.Reason = "agent failed"
	st.StderrTail = "Error: invalid x-api-key " + session + "\nANTHROPIC_API_KEY=" + key + "\n"
	st.Details = "I printed the token: " + fakegithub.DefaultToken
	sc := c.NewStatus(repo, 2)
	assert.NilError(t, sc.Update(context.Background(), st))
	body := f.Comments(repoName, 2)[0].Body
	for _, s := range []string{key, session, fakegithub.DefaultToken} {
		assert.Check(t, !strings.Contains(body, s), s)
	}
	assert.Check(t, is.Contains(body, "invalid x-api-key ***"))
	assert.Check(t, is.Contains(body, "ANTHROPIC_API_KEY=***"))
	assert.Equal(t, sc.Body, body)
}

func TestRetryServerErrorThenSuccess(t *testing.T) {
	f := newFake(t)
	f.Fail(fakegithub.ServerError(http.MethodPost, "/repos/*/*/issues/*/comments", 2))
	c := newClient(t, f)
	_, err := c.Reply(context.Background(), repo, 2, "hello")
	assert.NilError(t, err)
	var statuses []int
	for _, r := range f.Requests() {
		statuses = append(statuses, r.Status)
		assert.Check(t, is.Contains(r.Body, "hello"), "every attempt carries the body")
	}
	assert.DeepEqual(t, statuses, []int{500, 500, 201})
	assert.Equal(t, len(f.Comments(repoName, 2)), 1)
}

func TestRetrySecondaryRateLimit(t *testing.T) {
	f := newFake(t)
	f.Fail(fakegithub.SecondaryRateLimit(http.MethodPost, "/repos/*/*/issues/*/comments", 1))
	c := newClient(t, f)
	start := time.Now()
	_, err := c.Reply(context.Background(), repo, 2, "after the limit")
	assert.NilError(t, err)
	waited := time.Since(start)
	assert.Check(t, waited >= time.Second, "waited %s: Retry-After: 1 honoured", waited)
	reqs := f.Requests()
	assert.Equal(t, len(reqs), 2)
	assert.Equal(t, reqs[0].Status, http.StatusForbidden)
	assert.Equal(t, reqs[1].Status, http.StatusCreated)
	assert.Check(t, is.Contains(reqs[1].Body, "after the limit"), "the retried POST keeps its body")
}

func TestRetryRateLimitReset(t *testing.T) {
	f := newFake(t)
	// A 429 naming only x-ratelimit-reset: handled by our retry, not the
	// library's secondary limiter (no secondary message).
	reset := time.Now().Add(time.Second).Unix()
	f.Fail(fakegithub.Fault{Method: http.MethodGet, Path: "/repos/*/*/pulls/2", Status: http.StatusTooManyRequests,
		Headers: map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": strconv.FormatInt(reset, 10)}})
	c := newClient(t, f)
	_, err := c.PullRequest(context.Background(), repo, 2)
	assert.NilError(t, err)
	assert.Equal(t, len(f.Requests()), 2)
	assert.Check(t, !time.Now().Before(time.Unix(reset, 0)), "waited for the reset")
}

func TestRetriesStopAtDeadline(t *testing.T) {
	f := newFake(t)
	f.Fail(fakegithub.SecondaryRateLimit(http.MethodPost, "/repos/*/*/issues/*/comments", 60))
	c := newClient(t, f, func(o *Options) { o.Deadline = time.Now().Add(2 * time.Second) })
	start := time.Now()
	_, err := c.Reply(context.Background(), repo, 2, "x")
	assert.Check(t, time.Since(start) < time.Second, "gave up at once: the wait passes the deadline")
	var gu *GiveUpError
	assert.Assert(t, errors.As(err, &gu), "%v", err)
	assert.Equal(t, gu.Status, http.StatusForbidden)
	assert.Equal(t, gu.Wait, 60*time.Second)
	assert.Check(t, is.Contains(err.Error(), "would pass the deadline"))
	assert.Check(t, is.Contains(err.Error(), "secondary rate limit"))
	assert.Equal(t, len(f.Comments(repoName, 2)), 0)

	// 5xx forever: backoff until the context's deadline stops it.
	f.Fail(fakegithub.ServerError("", "", 1000))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	c = newClient(t, f, func(o *Options) { o.MinBackoff = 50 * time.Millisecond; o.MaxRetries = 100 })
	start = time.Now()
	_, err = c.PullRequest(ctx, repo, 2)
	assert.Check(t, time.Since(start) < 350*time.Millisecond, "took %s", time.Since(start))
	assert.Check(t, errors.As(err, &gu), "%v", err)
	assert.Equal(t, StatusCode(err), http.StatusInternalServerError)

	// And the retry budget.
	c = newClient(t, f, func(o *Options) { o.MinBackoff = time.Millisecond; o.MaxRetries = 2 })
	before := len(f.Requests())
	_, err = c.PullRequest(context.Background(), repo, 2)
	assert.Check(t, is.Contains(err.Error(), "retry budget of 2 spent"))
	assert.Equal(t, len(f.Requests())-before, 3)
}

func TestNoRetryOnClientErrors(t *testing.T) {
	f := newFake(t)
	f.AddUser(fakegithub.User{Login: "fork-token", Type: "Bot", Token: "ro", ReadOnly: true})
	c := newClient(t, f, func(o *Options) { o.Token = "ro" })
	_, err := c.Reply(context.Background(), repo, 2, "x")
	assert.Check(t, IsReadOnly(err), "%v", err)
	assert.Equal(t, len(f.Requests()), 1)

	c = newClient(t, f, func(o *Options) { o.Token = "wrong" })
	_, err = c.PullRequest(context.Background(), repo, 2)
	assert.Equal(t, StatusCode(err), http.StatusUnauthorized)
	assert.Check(t, !IsReadOnly(err))
	assert.Equal(t, len(f.Requests()), 2)
}

func TestCreateReview(t *testing.T) {
	f := newFake(t)
	c := newClient(t, f, func(o *Options) { o.Secrets = []string{"hunter2hunter2"} })
	ctx := context.Background()
	comments := []InlineComment{
		{Path: "README.md", Line: 1, Body: "Typo? hunter2hunter2"},
		{Path: "main.go", Line: 12, StartLine: 10, Body: "Range"},
		{Path: "old.go", Line: 3, Side: "LEFT", Body: "Removed line"},
	}
	id, err := c.CreateReview(ctx, repo, 2, sha, "Summary", ReviewComment, comments)
	assert.NilError(t, err)
	rs := f.Reviews(repoName, 2)
	assert.Equal(t, len(rs), 1)
	assert.Equal(t, rs[0].ID, id)
	assert.Equal(t, rs[0].CommitID, sha)
	assert.Equal(t, rs[0].Event, "COMMENT")
	assert.DeepEqual(t, rs[0].Comments, []fakegithub.ReviewComment{
		{Path: "README.md", Line: 1, Side: "RIGHT", Body: "Typo? ***"},
		{Path: "main.go", Line: 12, Side: "RIGHT", StartLine: 10, StartSide: "RIGHT", Body: "Range"},
		{Path: "old.go", Line: 3, Side: "LEFT", Body: "Removed line"},
	})

	listed, err := c.Reviews(ctx, repo, 2)
	assert.NilError(t, err)
	assert.DeepEqual(t, listed, []Review{{ID: id, Body: "Summary", CommitID: sha, State: "COMMENTED", Author: User{Login: "github-actions[bot]", Type: "Bot"}}})
}

func TestCreateReview422(t *testing.T) {
	f := newFake(t)
	c := newClient(t, f)
	ctx := context.Background()
	comments := []InlineComment{{Path: "README.md", Line: 1, Body: "ok"}, {Path: "main.go", Line: 99, Body: "outside the diff"}}

	// GitHub's usual answer names no comment.
	f.Fail(fakegithub.ReviewUnprocessable("outside the diff"))
	_, err := c.CreateReview(ctx, repo, 2, sha, "Summary", ReviewComment, comments)
	var re *ReviewError
	assert.Assert(t, errors.As(err, &re), "%v", err)
	assert.Equal(t, re.Comment, -1)
	assert.DeepEqual(t, re.Messages, []string{"Unprocessable Entity", "Line could not be resolved"})
	assert.Equal(t, StatusCode(err), http.StatusUnprocessableEntity)

	// When it names the path and line, the error names the comment.
	f.Fail(fakegithub.ReviewUnprocessable("outside the diff", "pull_request_review_thread.line: main.go line 99 must be part of the diff"))
	_, err = c.CreateReview(ctx, repo, 2, sha, "Summary", ReviewComment, comments)
	assert.Assert(t, errors.As(err, &re))
	assert.Equal(t, re.Comment, 1)
	assert.Check(t, is.Contains(err.Error(), "review refused (comment 1)"))

	// Or by index (the fake's own validation does).
	_, err = c.CreateReview(ctx, repo, 2, sha, "Summary", ReviewComment, []InlineComment{{Path: "a", Line: 1, Body: "x"}, {Path: "b", Line: 0, Body: "y"}})
	assert.Assert(t, errors.As(err, &re))
	assert.Equal(t, re.Comment, 1)

	// Moved into the body, the same review goes through: no retry of a 422
	// by the transport.
	id, err := c.CreateReview(ctx, repo, 2, sha, "Summary\n\nmain.go:99 outside the diff", ReviewComment, comments[:1])
	assert.NilError(t, err)
	assert.Check(t, id > 0)
	n422 := 0
	for _, r := range f.Requests() {
		if r.Status == http.StatusUnprocessableEntity {
			n422++
		}
	}
	assert.Equal(t, n422, 3)
}

func TestFakeRecordsJSONBodies(t *testing.T) {
	f := newFake(t)
	c := newClient(t, f)
	sc := c.NewStatus(repo, 2)
	st := base()
	st.Phase = PhaseQueued
	assert.NilError(t, sc.Update(context.Background(), st))
	var body struct {
		Body string `json:"body"`
	}
	assert.NilError(t, json.Unmarshal([]byte(f.Writes()[0].Body), &body))
	assert.Equal(t, body.Body, RenderStatus(st))
}

func TestRetrySecondaryRateLimitReset(t *testing.T) {
	f := newFake(t)
	// A secondary limit that names its end only in x-ratelimit-reset.
	limit := fakegithub.SecondaryRateLimit(http.MethodPatch, "/repos/*/*/issues/comments/*", 0)
	limit.Headers = map[string]string{"X-RateLimit-Reset": strconv.FormatInt(time.Now().Add(1500*time.Millisecond).Unix(), 10)}
	c := newClient(t, f, func(o *Options) { o.Deadline = time.Now().Add(10 * time.Second) })
	sc := c.NewStatus(repo, 2)
	st := base()
	st.Phase = PhaseRunning
	assert.NilError(t, sc.Update(context.Background(), st))
	f.Fail(limit)
	st.Phase, st.Conclusion = PhaseDone, ConclusionCancelled
	assert.NilError(t, sc.Update(context.Background(), st))
	var statuses []int
	for _, r := range f.Writes() {
		statuses = append(statuses, r.Status)
	}
	assert.DeepEqual(t, statuses, []int{201, 403, 200})
	assert.Check(t, is.Contains(f.Comments(repoName, 2)[0].Body, "cancelled"))
}

// TestStatusCommentIgnoresQuotedMarker: another bot (a welcome bot, or
// another workflow posting as github-actions[bot]) that quotes a person's
// text can carry a marker that person forged, with a zero cost total.
// Found, it would reset max-pr-cost-usd and be overwritten; only a comment
// that starts with the marker, as the action writes it, is the status.
func TestStatusCommentIgnoresQuotedMarker(t *testing.T) {
	f := newFake(t)
	forged := Marker{RunID: 1, PRCostUSD: 0}.String()
	f.AddComment(repoName, 2, "github-actions[bot]", "Thanks for the pull request! You wrote:\n\n> fixes the bug "+forged)
	want := f.AddComment(repoName, 2, "github-actions[bot]", Marker{RunID: 5, PRCostUSD: 7.5}.String()+"\n### ✅ Sandbox review: finished successfully")
	sc, err := newClient(t, f).FindStatus(context.Background(), repo, 2, "")
	assert.NilError(t, err)
	assert.Equal(t, sc.ID, want)
	assert.Equal(t, sc.Previous.PRCostUSD, 7.5)
}

package github_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/org/sandbox-action/internal/fakegithub"
	"github.com/org/sandbox-action/pkg/github"
)

type cleanup []func()

func (c *cleanup) Cleanup(f func()) { *c = append(*c, f) }

// A command comment, from the event to the final status comment: what the
// action's main does, against the fake API.
func Example() {
	var done cleanup
	defer func() {
		for _, f := range done {
			f()
		}
	}()
	f := fakegithub.New(&done)
	f.SetPermission("Codertocat/Hello-World", "Codertocat", "write")
	f.AddComment("Codertocat/Hello-World", 1, "Codertocat", "@sandbox-bot review")
	f.AddPull(&fakegithub.Pull{Repo: "Codertocat/Hello-World", Number: 1,
		Head: fakegithub.Branch{SHA: "0123456789abcdef", Repo: "Codertocat/Hello-World"},
		Base: fakegithub.Branch{Repo: "Codertocat/Hello-World"}})

	payload, _ := os.ReadFile(filepath.Join("testdata", "issue_comment.created.on-pr.json"))
	ev, err := github.ParseEvent("issue_comment", payload)
	if err != nil {
		panic(err)
	}
	cmd, _ := github.ParseCommand(github.DefaultTrigger, ev.Comment.Body)
	fmt.Println("kind:", ev.Kind, "verb:", cmd.Verb)

	ctx := context.Background()
	c, _ := github.New(github.Options{APIURL: f.URL, Token: fakegithub.DefaultToken})
	refusal, _ := c.Authorize(ctx, ev, github.PermissionWrite)
	fmt.Println("refused:", refusal.Refused())
	ev.Comment.ID = f.Comments("Codertocat/Hello-World", 1)[0].ID // the fake's id for it
	_ = c.Acknowledge(ctx, ev.Repo, ev.Comment)

	pr, _ := c.PullRequest(ctx, ev.Repo, ev.PR.Number)
	sc, _ := c.FindStatus(ctx, ev.Repo, pr.Number, "")
	st := github.Status{Job: "review", HeadSHA: pr.HeadSHA, RunID: 42, PRCostUSD: sc.Previous.PRCostUSD}
	st.Phase = github.PhaseRunning
	_ = sc.Update(ctx, st)
	st.Phase, st.Conclusion, st.CostUSD = github.PhaseDone, github.ConclusionSuccess, 0.12
	st.PRCostUSD += st.CostUSD
	_ = sc.Update(ctx, st)

	for _, r := range f.Writes() {
		fmt.Println(r.Method, r.Path, r.Status)
	}
	m, _ := github.ParseMarker(f.Comments("Codertocat/Hello-World", 1)[1].Body)
	fmt.Printf("marker: run %d, PR cost $%.2f, %s\n", m.RunID, m.PRCostUSD, m.Conclusion)
	// Output:
	// kind: command verb: review
	// refused: false
	// POST /repos/Codertocat/Hello-World/issues/comments/1001/reactions 201
	// POST /repos/Codertocat/Hello-World/issues/1/comments 201
	// PATCH /repos/Codertocat/Hello-World/issues/comments/1003 200
	// marker: run 42, PR cost $0.12, success
}

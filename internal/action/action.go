package action

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
	"time"

	"github.com/sethvargo/go-githubactions"

	"github.com/org/sandbox-action/pkg/github"
	"github.com/org/sandbox-action/pkg/redact"
)

// finalBudget bounds writing the final status comment once the run is
// over. After a cancel the runner kills the action 10 s after its first
// signal; the sandbox's teardown (engine.CleanupBudget) and this together
// must fit.
const finalBudget = 4 * time.Second

// action is one run of the action: its inputs, its event and everything it
// reports.
type action struct {
	getenv func(string) string
	// envNames are the names of the environment's variables, to find
	// inputs this action does not have.
	envNames []string
	gha      *githubactions.Action
	log      io.Writer // scrubbed view of the log
	in       *inputs
	ev       *github.Event
	gh       *github.Client
	scrub    *redact.Scrubber
	begin    time.Time

	// pr is the pull request the run is about, once known in full.
	pr *github.PullRequest
	// status is the pull request's status comment, once opened.
	status *statusLine

	// removeContext removes the run's context directory.
	removeContext func()

	// report collects the conclusion and outputs, written once at the end.
	report report
}

func newAction(getenv func(string) string, stdout io.Writer) *action {
	a := &action{getenv: getenv, begin: time.Now(), scrub: redact.New()}
	a.log = scrubWriter{w: stdout, scrub: func(s string) string { return a.scrub.Scrub(s) }}
	a.gha = githubactions.New(githubactions.WithGetenv(getenv), githubactions.WithWriter(a.log))
	a.report.outputs = map[string]string{}
	a.removeContext = func() {}
	return a
}

// main is the action from inputs to exit code. Whatever happens (a bad
// input, an API failure, a panic) it writes its outputs and a summary, and
// the step fails unless the run succeeded, was skipped, or could only be
// explained in the log (a fork without secrets).
func (a *action) main(ctx context.Context) (code int) {
	defer func() {
		if r := recover(); r != nil {
			a.gha.Errorf("the action failed unexpectedly: %v\n%s", r, debug.Stack())
			a.report.fail(github.ConclusionFailure, fmt.Sprintf("the action failed unexpectedly: %v", r))
			a.report.finalise(a)
		}
		code = a.finish()
	}()

	in, err := readInputs(a.gha.GetInput, a.gha.AddMask)
	err = errors.Join(err, unknownInputs(a.envNames))
	if in != nil {
		a.in = in
		a.scrub = redact.New(in.secrets()...)
	}
	if err != nil {
		a.gha.Errorf("%v", err)
		a.report.fail(github.ConclusionFailure, err.Error())
		return
	}
	ev, err := github.ReadEvent(a.getenv)
	if err != nil {
		a.gha.Errorf("read the event: %v", err)
		a.report.fail(github.ConclusionFailure, err.Error())
		return
	}
	a.ev = ev
	gh, err := github.New(github.Options{
		APIURL:   a.getenv("GITHUB_API_URL"),
		Token:    in.githubToken,
		Secrets:  in.secrets(),
		Deadline: a.deadline(),
		Logf:     func(format string, args ...any) { a.gha.Infof(format, args...) },
	})
	if err != nil {
		a.gha.Errorf("%v", err)
		a.report.fail(github.ConclusionFailure, err.Error())
		return
	}
	a.gh = gh
	a.dispatch(ctx)
	return
}

// deadline bounds API retries: the run's own timeout plus the time the
// action needs around it.
func (a *action) deadline() time.Time {
	d := 30 * time.Minute
	if a.in != nil && a.in.timeout > 0 {
		d = a.in.timeout
	}
	return a.begin.Add(d + 5*time.Minute)
}

// dispatch acts on the event.
func (a *action) dispatch(ctx context.Context) {
	ev := a.ev
	switch ev.Kind {
	case github.KindUnsupported, github.KindSkip:
		a.gha.Noticef("%s", ev.Reason)
		a.report.skip(ev.Reason)
	case github.KindReview:
		a.runOnPR(ctx, ev.PR, jobReview, false)
	case github.KindCommand:
		a.command(ctx)
	case github.KindTask:
		a.task(ctx)
	default:
		a.gha.Noticef("event %s (%s) asks for nothing this action does; supported: %s", ev.Name, ev.Action, github.Supported)
		a.report.skip("unsupported event")
	}
}

// command handles a comment on a pull request.
func (a *action) command(ctx context.Context) {
	ev := a.ev
	cmd, ok := github.ParseCommand(a.in.trigger, ev.Comment.Body)
	if !ok {
		a.gha.Noticef("the comment holds no %s command", a.in.trigger)
		a.report.skip("no command")
		return
	}
	refusal, err := a.gh.Authorize(ctx, ev, a.in.required)
	if err != nil {
		a.gha.Errorf("check %s's permission: %v", ev.Comment.Author.Login, err)
		a.report.fail(github.ConclusionFailure, err.Error())
		return
	}
	if refusal.Refused() {
		a.gha.Noticef("not acting on the comment: %s", refusal.Reason)
		a.report.skip(refusal.Reason)
		if refusal.Reply != "" {
			a.reply(ctx, refusal.Reply)
		}
		return
	}
	switch cmd.Verb {
	case github.VerbHelp:
		a.reply(ctx, github.HelpText(a.in.trigger))
		a.report.skip("help")
	case github.VerbUnknown:
		a.reply(ctx, github.UnknownText(a.in.trigger, cmd))
		a.report.skip("unknown command")
	case github.VerbFixConflicts, github.VerbAddress:
		a.reply(ctx, github.NotAvailableText(a.in.trigger, cmd.Verb))
		a.report.skip(string(cmd.Verb) + " is not available yet")
	case github.VerbReview:
		if !a.in.dryRun {
			if err := a.gh.Acknowledge(ctx, ev.Repo, ev.Comment); err != nil {
				a.gha.Warningf("could not add the 👀 reaction: %v", err)
			}
		}
		a.runOnPR(ctx, ev.PR, jobReview, true)
	}
}

// reply answers in the pull request's conversation (or, in a dry run, in
// the step summary).
func (a *action) reply(ctx context.Context, body string) {
	if a.in.dryRun {
		a.report.wouldPost("reply", body)
		return
	}
	id, err := a.gh.Reply(ctx, a.ev.Repo, a.ev.PR.Number, body)
	if err != nil {
		a.gha.Errorf("could not reply on #%d: %v", a.ev.PR.Number, err)
		a.report.fail(github.ConclusionFailure, "could not reply: "+err.Error())
		a.report.postFailed = true
		return
	}
	a.report.posted = true
	a.report.outputs["comment-id"] = fmt.Sprint(id)
}

// finish writes the outputs and the step summary and returns the exit code.
func (a *action) finish() int {
	r := &a.report
	if r.conclusion == "" {
		r.conclusion = github.ConclusionSuccess
	}
	r.outputs["conclusion"] = string(r.conclusion)
	r.outputs["duration-ms"] = fmt.Sprint(time.Since(a.begin).Milliseconds())
	written := a.fileCommand("GITHUB_OUTPUT", func() {
		for _, k := range outputNames {
			v, ok := r.outputs[k]
			if !ok {
				continue
			}
			if a.getenv("GITHUB_OUTPUT") == "" {
				// Outside a runner there is no output file (go-githubactions
				// would panic): show the outputs in the log.
				fmt.Fprintf(a.log, "output %s=%s\n", k, a.scrub.Scrub(v))
				continue
			}
			a.gha.SetOutput(k, a.scrub.Scrub(v))
		}
	})
	if a.getenv("GITHUB_STEP_SUMMARY") != "" {
		written = a.fileCommand("GITHUB_STEP_SUMMARY", func() {
			a.gha.AddStepSummary(a.scrub.Scrub(r.summary(a)))
		}) && written
	}
	switch {
	case !written:
		return 1
	case r.neutral:
		return 0
	case r.postFailed && !r.posted && !r.dryRun:
		// No silent green: a run that could not tell anyone fails.
		a.gha.Errorf("nothing could be posted to the pull request; see the errors above")
		return 1
	case r.finalFailed:
		a.gha.Errorf("the status comment could not be finalised; see the errors above")
		return 1
	case r.conclusion == github.ConclusionSuccess || r.conclusion == github.ConclusionSkipped:
		return 0
	}
	return 1
}

// fileCommand runs write, which appends to the runner's file named by the
// variable name. go-githubactions panics when that file cannot be opened; here
// it is an error that names the file, and the step fails: its outputs are lost.
func (a *action) fileCommand(name string, write func()) (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			a.gha.Errorf("could not write %s (%s): %v", name, a.getenv(name), r)
			ok = false
		}
	}()
	write()
	return true
}

// outputNames are action.yml's outputs, in its order.
var outputNames = []string{
	"conclusion", "comment-id", "review-id", "cost-usd", "session-id", "sandbox-type",
	"network", "duration-ms", "structured-output", "timings",
}

// scrubWriter scrubs every secret from what is written to the log. Writes
// are scrubbed one at a time; go-githubactions writes whole lines.
type scrubWriter struct {
	w     io.Writer
	scrub func(string) string
}

func (s scrubWriter) Write(b []byte) (int, error) {
	if _, err := io.WriteString(s.w, s.scrub(string(b))); err != nil {
		return 0, err
	}
	return len(b), nil
}

// errNothingPosted marks a status update that never reached GitHub.
var errNothingPosted = errors.New("nothing posted")

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

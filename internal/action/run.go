package action

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/org/sandbox-action/pkg/agent"
	"github.com/org/sandbox-action/pkg/config"
	"github.com/org/sandbox-action/pkg/engine"
	"github.com/org/sandbox-action/pkg/features"
	"github.com/org/sandbox-action/pkg/github"
	"github.com/org/sandbox-action/pkg/outcome"
	"github.com/org/sandbox-action/pkg/plan"
	"github.com/org/sandbox-action/pkg/review"
	"github.com/org/sandbox-action/pkg/spec"
)

// Jobs, as the status comment names them.
const (
	jobReview = "review"
	jobTask   = "task"
)

// testHookBeforeRun, set only by tests, runs just before the agent starts
// (a panic there proves the status comment still ends).
var testHookBeforeRun func()

// testHookPlanned, set only by tests, sees the run as planned, its context
// directory written: the agent's argv and what it reads are checked there,
// rather than in the log where the agent's two streams interleave.
var testHookPlanned func(spec.Run)

// DefaultAgentImage is the agent image a run uses when neither the image
// input nor the config names one: the project's agent image, released
// with the action.
const DefaultAgentImage = "ghcr.io/org/sandbox-agent:v1"

// runOnPR reviews (or runs a task on) a pull request, keeping its status
// comment from queued to a final state whatever happens.
func (a *action) runOnPR(ctx context.Context, pr *github.PullRequest, job string, force bool) {
	repo := a.ev.Repo
	if !pr.Complete() {
		full, err := a.gh.PullRequest(ctx, repo, pr.Number)
		if err != nil {
			a.gha.Errorf("fetch pull request #%d: %v", pr.Number, err)
			a.report.fail(github.ConclusionFailure, err.Error())
			a.report.postFailed = true
			return
		}
		pr = full
	}
	a.pr = pr
	a.gha.Group("Status comment")
	sl := a.openStatus(ctx, pr, job)
	a.gha.EndGroup()
	defer func() {
		if r := recover(); r != nil {
			sl.final(github.Status{Conclusion: github.ConclusionFailure, Reason: fmt.Sprintf("the action failed unexpectedly: %v", r)})
			panic(r)
		}
	}()

	if pr.IsFork() && a.in.keyFor(a.in.agent) == "" {
		a.forkWithoutSecrets(sl, pr)
		return
	}
	if max := a.in.maxPRCostUSD; max > 0 && sl.previousCost() >= max {
		reason := fmt.Sprintf("this pull request's runs have cost $%.2f, which reaches max-pr-cost-usd ($%.2f); no new run is started", sl.previousCost(), max)
		a.gha.Noticef("%s", reason)
		a.report.skip(reason)
		sl.final(github.Status{Conclusion: github.ConclusionSkipped, Reason: reason})
		return
	}
	sl.update(ctx, github.PhaseQueued)

	var rr *reviewRun
	if job == jobReview {
		var err error
		rr, err = a.prepareReview(ctx, pr, force)
		if err != nil {
			a.endFailed(sl, "could not prepare the review: "+err.Error())
			return
		}
		if d := rr.plan.Decision; d.Scope == review.ScopeSkip {
			a.gha.Noticef("%s", d.Reason)
			a.report.skip(d.Reason)
			sl.final(github.Status{Conclusion: github.ConclusionSkipped, Reason: d.Reason})
			return
		}
	}
	o, ok := a.sandbox(ctx, sl, a.taskPrompt(), rr)
	if !ok {
		return
	}
	st := github.Status{
		Conclusion: conclusionOf(o.Kind),
		Reason:     o.Reason,
		StderrTail: o.StderrTail,
		CostUSD:    o.CostUSD(),
		Turns:      o.Turns(),
		Duration:   o.Wall,
	}
	if o.Agent != nil {
		st.Model = o.Agent.Model
	}
	if o.Egress != nil {
		st.Egress = o.Egress.DenyReport().Body()
	}
	if o.OK() {
		st.Details = o.Text()
		if rr != nil {
			st.Details = a.postReview(ctx, pr, rr, *o.Agent)
			if a.report.conclusion == github.ConclusionFailure {
				st.Conclusion, st.Reason = github.ConclusionFailure, a.report.reason
			}
		}
	}
	sl.final(st)
}

// sandbox plans and runs the agent, with the status comment running, and
// finalised at once if the run is cancelled. ok is false when the run
// could not be planned (the status is final then). A review run (rr not
// nil) takes its prompt, schema and context files from the review's plan.
func (a *action) sandbox(ctx context.Context, sl *statusLine, prompt string, rr *reviewRun) (outcome.Outcome, bool) {
	a.gha.Group("Sandbox settings")
	e, p, err := a.plan(ctx, prompt, rr)
	a.gha.EndGroup()
	defer func() { a.removeContext() }()
	if err != nil {
		a.endFailed(sl, "the sandbox could not start: "+err.Error())
		return outcome.Outcome{}, false
	}
	defer e.Close()
	if sl != nil {
		sl.update(ctx, github.PhaseRunning)
	}

	// A cancel finalises the comment at once, while the engine stops the
	// sandbox: both must fit in the runner's cancel window.
	runDone := make(chan struct{})
	defer close(runDone)
	if sl != nil {
		go func() {
			select {
			case <-ctx.Done():
				sl.final(github.Status{Conclusion: github.ConclusionCancelled,
					Reason: "The workflow run was cancelled; the sandbox was stopped and removed."})
			case <-runDone:
			}
		}()
	}

	if a.pr != nil {
		restore, err := a.baseInstructions(ctx, a.workspace())
		if err != nil {
			a.endFailed(sl, "could not take the agent's instructions from the base branch: "+err.Error())
			return outcome.Outcome{}, false
		}
		defer restore()
	}
	if testHookBeforeRun != nil {
		testHookBeforeRun()
	}
	a.gha.Group("Agent")
	// What the sandbox prints is the agent's to choose, and the runner
	// reads workflow commands from every line of the log.
	out, resume := stopCommands(a.log)
	// A panic in the run must not leave the action's own error inside.
	defer resume()
	runCalled := time.Now()
	o := outcome.Run(ctx, e, p, outcome.Options{
		Stdout:  out,
		Stderr:  out,
		OnEvent: func(ev agent.Event) { fmt.Fprintln(out, eventLine(ev)) },
	})
	resume()
	a.gha.EndGroup()
	// The engine times its phases from runCalled: the sandbox started
	// after prepare, create and start; the agent exited Exit after the
	// start call began.
	t := o.Timings()
	a.report.sandboxStarted = runCalled.Add(t.Prepare + t.Create + t.Start).Sub(a.begin)
	a.report.agentExited = runCalled.Add(t.Prepare + t.Create + t.Exit)
	a.recordOutcome(o)
	if !o.OK() {
		a.gha.Errorf("%s", o.Reason)
	}
	return o, true
}

// plan opens the engine, resolves the settings (inputs > config > bundle >
// type > default) and assembles the run, with host paths in place of the
// action container's.
func (a *action) plan(ctx context.Context, prompt string, rr *reviewRun) (*engine.Engine, plan.Plan, error) {
	e, err := engine.Open(ctx)
	if err != nil {
		return nil, plan.Plan{}, err
	}
	p, err := a.assemble(ctx, e, prompt, rr)
	if err != nil {
		e.Close()
		return nil, p, err
	}
	return e, p, nil
}

func (a *action) assemble(ctx context.Context, e *engine.Engine, prompt string, rr *reviewRun) (plan.Plan, error) {
	me, err := selfContainer(ctx, e, a.getenv("HOSTNAME"), func() (selfProbe, func()) {
		return probeSelf("/", "/proc/self/cgroup")
	})
	if err != nil {
		return plan.Plan{}, err
	}
	if me.note != "" {
		fmt.Fprintln(a.log, me.note)
	}
	ws := a.workspace()
	layer := a.in.layer
	proxyImage := me.image
	if proxyImage == "" {
		// Not in a container (a self-hosted runner, tests): the proxy
		// runs in the image this names, else in plan.DefaultProxyImage.
		proxyImage = a.getenv(proxyImageEnv)
	}
	req := plan.Request{
		Workspace: ws,
		NoConfig:  true,
		Flags:     layer,
		Agent: plan.AgentChoice{
			Name:     a.in.agent,
			Prompt:   prompt,
			Model:    a.in.model,
			MaxTurns: a.in.maxTurns,
		},
		CreatedBy: "action",
		LookupEnv: a.lookupEnv,
		// The egress proxy of a private run in the container transport
		// is this very image, run as `sandbox proxy` (see main).
		ProxyImage: proxyImage,
		Egress:     a.egress(e, me),
	}
	var cfg *config.File
	var files map[string][]byte
	if rr != nil {
		req.Agent.Prompt, req.Agent.Schema, req.Agent.SchemaPath = rr.req.Prompt, rr.req.Schema, rr.req.SchemaPath
		cfg, files = rr.cfg, rr.files
	} else {
		var err error
		if cfg, err = a.config(ctx, ws); err != nil {
			return plan.Plan{}, err
		}
	}
	req.Config = a.withoutModelBaseURL(cfg)
	req.ModelBaseURL, req.ModelCA = a.in.modelBaseURL, a.in.modelCA
	dir, remove, err := a.writeContext(a.contextBase(me.paths), files)
	if err != nil {
		return plan.Plan{}, err
	}
	a.removeContext = remove
	fmt.Fprintf(a.log, "context: %s, read-only at %s\n", dir, ContextDir)
	req.Mounts = []spec.Mount{contextMount(dir)}
	if layer.Settings.Image == nil && (cfg == nil || cfg.Image == "") {
		img := DefaultAgentImage
		req.Flags.Settings.Image = &img
	}
	// The agents' image declares the CLI settings it carries: no notice.
	req.ImageLabels = e.ImageLabels
	p, settings, err := plan.Make(ctx, req, func(ctx context.Context) (features.Host, error) {
		h, err := e.Host(ctx)
		return features.Host{Runtimes: h.Runtimes, NCPU: h.NCPU}, err
	})
	if err != nil {
		return p, err
	}
	// Inputs are this front door's flags.
	for _, line := range slices.Concat(p.Summary(settings.Features), settings.ModelSummary(), settings.Egress.Summary()) {
		a.report.settings = append(a.report.settings, strings.ReplaceAll(line, "(from flag", "(from input"))
	}
	for _, s := range a.report.settings {
		fmt.Fprintln(a.log, s)
	}
	for _, n := range p.Notices {
		a.gha.Noticef("%s", n)
	}
	a.report.outputs["sandbox-type"] = settings.Features.Type.Name
	a.report.outputs["network"] = string(settings.Features.Network)
	if err := translate(&p.Run, me.paths); err != nil {
		return p, err
	}
	if testHookPlanned != nil {
		testHookPlanned(p.Run)
	}
	return p, p.Run.Validate()
}

// withoutModelBaseURL returns cfg without network.model_base_url, saying so
// when it was set. Where the real model key goes is the workflow's choice
// (the model-base-url input), never a file of the repository: a pull
// request (or a branch a dispatched run checks out) must not be able to
// send the key to a host of its own.
func (a *action) withoutModelBaseURL(cfg *config.File) *config.File {
	if cfg == nil || cfg.Network.ModelBaseURL == "" {
		return cfg
	}
	a.gha.Noticef("%s sets network.model_base_url, which the action ignores: the model API comes only from the workflow (input model-base-url)", cfg.Name())
	c := *cfg
	c.Network.ModelBaseURL = ""
	return &c
}

// translate puts host paths in place of the action container's in every
// path a sibling container mounts.
func translate(r *spec.Run, m pathMap) error {
	for _, s := range []*spec.RunSpec{&r.Sandbox, r.Proxy} {
		if s == nil {
			continue
		}
		if s.Workspace != "" {
			h, err := m.host(s.Workspace)
			if err != nil {
				return fmt.Errorf("workspace: %w", err)
			}
			s.Workspace = h
		}
		for i := range s.Mounts {
			h, err := m.host(s.Mounts[i].Source)
			if err != nil {
				return fmt.Errorf("mount %s: %w", s.Mounts[i].Target, err)
			}
			s.Mounts[i].Source = h
		}
	}
	return nil
}

// workspace is the checked-out repository, as the action sees it.
func (a *action) workspace() string {
	if ws := a.getenv("GITHUB_WORKSPACE"); ws != "" {
		return ws
	}
	return "/github/workspace"
}

// lookupEnv is the environment the plan may read: the model keys given as
// inputs, and the runner's variables, except the action's inputs and the
// runner's own tokens.
func (a *action) lookupEnv(name string) (string, bool) {
	if v := a.in.keys[name]; v != "" {
		return v, true
	}
	for _, p := range []string{"INPUT_", "ACTIONS_", "GITHUB_TOKEN", "RUNNER_"} {
		if strings.HasPrefix(name, p) {
			return "", false
		}
	}
	v := a.getenv(name)
	return v, v != ""
}

// keyFor returns the model key the agent needs, empty when not given.
func (in *inputs) keyFor(agentName string) string {
	a, err := agent.Get(agentName)
	if err != nil {
		return ""
	}
	return in.keys[a.Setup().CredentialEnv]
}

// recordOutcome sets the outputs of a run.
func (a *action) recordOutcome(o outcome.Outcome) {
	a.report.outcome = &o
	a.report.conclusion = conclusionOf(o.Kind)
	a.report.reason = o.Reason
	out := a.report.outputs
	out["cost-usd"] = fmt.Sprintf("%.6f", o.CostUSD())
	out["session-id"] = o.SessionID()
	if so := o.StructuredOutput(); len(so) > 0 {
		out["structured-output"] = string(so)
	}
	t := o.Timings()
	b, _ := json.Marshal(map[string]int64{
		"prepare_ms": t.Prepare.Milliseconds(), "proxy_ms": t.Proxy.Milliseconds(),
		"create_ms": t.Create.Milliseconds(), "start_ms": t.Start.Milliseconds(),
		"first_output_ms": t.FirstOutput.Milliseconds(), "exit_ms": t.Exit.Milliseconds(),
		"cleanup_ms": t.Cleanup.Milliseconds(), "total_ms": t.Total.Milliseconds(),
	})
	out["timings"] = string(b)
}

// endFailed finalises a run that failed before or around the sandbox.
func (a *action) endFailed(sl *statusLine, reason string) {
	a.gha.Errorf("%s", reason)
	a.report.fail(github.ConclusionFailure, reason)
	if sl != nil {
		sl.final(github.Status{Conclusion: github.ConclusionFailure, Reason: reason})
	}
}

// forkWithoutSecrets explains why a fork's pull_request run cannot review,
// and how to set it up safely; the step stays neutral.
func (a *action) forkWithoutSecrets(sl *statusLine, pr *github.PullRequest) {
	reason := fmt.Sprintf("Pull request #%d comes from the fork %s. GitHub gives pull_request runs from forks a read-only token and no secrets, so the %s key is not available and nothing can be reviewed here. "+
		"The safe pattern: keep this workflow on pull_request for branches of this repository, and let a maintainer start a review of a fork's pull request with a `%s review` comment (issue_comment runs in the base repository's context with its secrets); never check out a fork's code in a pull_request_target workflow that holds secrets.",
		pr.Number, pr.HeadRepo, a.in.agent, a.in.trigger)
	a.gha.Warningf("%s", reason)
	a.report.skip(reason)
	a.report.notices = append(a.report.notices, reason)
	a.report.neutral = true
	sl.final(github.Status{Conclusion: github.ConclusionSkipped, Reason: reason})
}

// task runs a workflow_dispatch task; with a pull request it keeps that
// pull request's status comment too.
func (a *action) task(ctx context.Context) {
	t := a.ev.Task
	if t != nil && t.Prompt != "" && a.in.prompt == "" {
		a.in.prompt = t.Prompt
	}
	if a.in.prompt == "" {
		reason := "workflow_dispatch needs a task: give the prompt input"
		a.gha.Errorf("%s", reason)
		a.report.fail(github.ConclusionFailure, reason)
		return
	}
	if a.ev.PR != nil {
		a.runOnPR(ctx, a.ev.PR, jobTask, true)
		return
	}
	o, ok := a.sandbox(ctx, nil, a.taskPrompt(), nil)
	if ok && o.OK() {
		a.report.notices = append(a.report.notices, o.Text())
	}
}

func (a *action) taskPrompt() string { return a.in.prompt }

// stopCommands stops the runner from reading workflow commands in the log
// until resume is called, and returns the writer for what comes in between:
// a line there such as ::set-output, ::error or ::stop-commands is text. The
// token that resumes commands is random, so nothing written in between can
// end the stop early, and it goes on a line of its own, so an unfinished
// last line cannot swallow it. Calls of resume after the first do nothing.
func stopCommands(log io.Writer) (w io.Writer, resume func()) {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	token := hex.EncodeToString(b)
	fmt.Fprintf(log, "::stop-commands::%s\n", token)
	lw := &lineWriter{w: log, atStart: true}
	return lw, func() {
		lw.mu.Lock()
		defer lw.mu.Unlock()
		if lw.resumed {
			return
		}
		lw.resumed = true
		if !lw.atStart {
			_, _ = io.WriteString(log, "\n")
		}
		fmt.Fprintf(log, "::%s::\n", token)
	}
}

// lineWriter passes writes on, remembering whether the last one ended a
// line. The sandbox's two streams write from their own goroutines.
type lineWriter struct {
	w       io.Writer
	mu      sync.Mutex
	atStart bool
	resumed bool
}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n, err := l.w.Write(p)
	if n > 0 {
		l.atStart = p[n-1] == '\n'
	}
	return n, err
}

// eventLine is one log line per agent event.
func eventLine(e agent.Event) string {
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Sprintf("%+v", e)
	}
	return string(b)
}

// proxyImageEnv names the image the egress proxy runs in when the action
// does not run in a container of its own image.
const proxyImageEnv = "SANDBOX_PROXY_IMAGE"

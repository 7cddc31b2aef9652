package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/org/sandbox-action/internal/fakegithub"
	"github.com/org/sandbox-action/internal/testimage"
	"github.com/org/sandbox-action/pkg/spec"
)

// baseConfig is the base branch's .github/sandbox.yml: it passes the
// replay agent's settings from the step's environment into the sandbox.
const baseConfig = "env: [REPLAY_TRANSCRIPT, REPLAY_DELAY, REPLAY_EXIT, REPLAY_FETCH, REPLAY_STDERR, REPLAY_MODEL_CALL]\n"

// scenario is one workflow run of the action, end to end.
type scenario struct {
	name string
	// event is GITHUB_EVENT_NAME; payload a file in testdata, adapted to
	// the test repository, and edit derives a variant of it.
	event   string
	payload string
	edit    func(map[string]any)
	// transcript is what the replay agent prints (testdata/*.jsonl).
	transcript string
	// env is the step's extra environment (REPLAY_*), inputs its `with:`.
	// In env values, {github} is the fake GitHub container's name.
	env    map[string]string
	inputs map[string]string
	// config is appended to baseConfig on the base branch.
	config string
	// state edits the fake GitHub's seed.
	state func(*fakegithub.State)
	// before runs once the job is laid out, before the action starts: it
	// may start more containers on network and set inputs and env.
	before func(t *testing.T, network string, j *job)
	// during runs while the action runs (e.g. docker stop).
	during func(t *testing.T, r *actionRun)
	// wantCode is the action container's exit code.
	wantCode int
	// check asserts on what GitHub received and on the step's files.
	check func(t *testing.T, res *result)
}

// result is what a finished scenario left behind.
type result struct {
	job     *job
	gh      *fakeGitHub
	repo    testRepo
	state   fakegithub.State
	outputs map[string]string
	summary string
	log     string
}

// comments are the pull request's conversation, oldest first.
func (r *result) comments() []*fakegithub.Comment {
	var out []*fakegithub.Comment
	for _, c := range r.state.Comments {
		if c.Repo == repository && c.Issue == prNumber {
			out = append(out, c)
		}
	}
	return out
}

// status is the status comment: the one carrying the action's marker.
// There must be exactly one.
func (r *result) status(t *testing.T) *fakegithub.Comment {
	t.Helper()
	var found []*fakegithub.Comment
	for _, c := range r.comments() {
		if strings.Contains(c.Body, "<!-- sandbox-action:status ") {
			found = append(found, c)
		}
	}
	assert.Equal(t, len(found), 1, "status comments: %+v", found)
	return found[0]
}

// assertFinal checks the status comment ended in phase (e.g. "finished
// successfully"), names the run, links its logs, and agrees with the
// outputs.
func (r *result) assertFinal(t *testing.T, phase, conclusion string) *fakegithub.Comment {
	t.Helper()
	c := r.status(t)
	assert.Check(t, is.Contains(c.Body, "Sandbox review: "+phase))
	assert.Check(t, is.Contains(c.Body, "run=4242 "))
	assert.Check(t, is.Contains(c.Body, "conclusion="+conclusion+" "))
	assert.Check(t, is.Contains(c.Body, "[View run logs](https://github.com/"+repository+"/actions/runs/4242)"))
	assert.Check(t, is.Equal(r.outputs["conclusion"], conclusion))
	assert.Check(t, is.Equal(r.outputs["comment-id"], strconv.FormatInt(c.ID, 10)))
	r.assertNoSecretShown(t)
	return c
}

// assertNoSecretShown checks that neither the model key nor the GitHub
// token appears in anything posted, in the log (but for the ::add-mask::
// commands that tell the runner to hide them) or in the step's files.
func (r *result) assertNoSecretShown(t *testing.T) {
	t.Helper()
	var shown []string
	for _, c := range r.comments() {
		shown = append(shown, c.Body)
	}
	for _, rv := range r.state.Reviews {
		shown = append(shown, reviewText(rv))
	}
	for _, line := range strings.Split(r.log, "\n") {
		if !strings.HasPrefix(line, "::add-mask::") {
			shown = append(shown, line)
		}
	}
	shown = append(shown, r.summary)
	for _, v := range r.outputs {
		shown = append(shown, v)
	}
	all := strings.Join(shown, "\n")
	for name, secret := range map[string]string{"model key": modelKey, "GitHub token": fakegithub.DefaultToken} {
		assert.Check(t, !strings.Contains(all, secret), "the %s was shown", name)
	}
}

// reviewScenario is a pull request opened with a review the agent
// reports as structured output.
func reviewScenario() scenario {
	return scenario{
		name: "pull request opened: one review with anchored comments", event: "pull_request", payload: "pull_request.opened.json",
		transcript: "claude-anchorable.jsonl",
		check: func(t *testing.T, res *result) {
			assert.Equal(t, len(res.state.Reviews), 1, "reviews: %+v", res.state.Reviews)
			rv := res.state.Reviews[0]
			assert.Check(t, is.Equal(rv.CommitID, res.repo.headSHA))
			assert.Check(t, is.Equal(rv.User, fakegithub.DefaultBot.Login))
			assert.Check(t, is.Equal(rv.Event, "COMMENT"), "the bot requests changes only when the config says so")
			assert.Check(t, len(rv.Comments) > 0, "no inline comment")
			for _, c := range rv.Comments {
				assert.Check(t, strings.Contains(res.repo.diff, "+++ b/"+c.Path) || strings.Contains(res.repo.diff, "--- a/"+c.Path),
					"inline comment on %s, which is not in the diff", c.Path)
			}
			// A finding with a suggestion arrives as a suggestion block.
			assert.Check(t, is.Contains(reviewText(rv), "```suggestion"))
			st := res.assertFinal(t, "finished successfully", "success")
			assert.Check(t, is.Contains(st.Body, fmt.Sprintf("(%d inline,", len(rv.Comments))))
			assert.Check(t, is.Equal(res.outputs["review-id"], strconv.FormatInt(rv.ID, 10)))
			assert.Check(t, is.Contains(res.outputs["structured-output"], `"verdict"`))
			assert.Check(t, res.outputs["session-id"] != "")
			assert.Check(t, is.Contains(res.summary, "| outcome | success |"))
		},
	}
}

func reviewText(rv *fakegithub.Review) string {
	var b strings.Builder
	b.WriteString(rv.Body)
	for _, c := range rv.Comments {
		b.WriteString("\n" + c.Body)
	}
	return b.String()
}

// TestActionAsTheRunnerRunsIt runs the action image the way the GitHub
// runner's container-action handler does, for each scenario, on the
// default bridge and on a job network.
func TestActionAsTheRunnerRunsIt(t *testing.T) {
	for _, sc := range []scenario{
		reviewScenario(),
		{
			name: "review command: eyes and a review", event: "issue_comment", payload: "issue_comment.created.on-pr.json",
			transcript: "claude-anchorable.jsonl", state: withComment(author, "@sandbox-bot review"),
			check: func(t *testing.T, res *result) {
				assert.Check(t, is.DeepEqual(reactions(res), []string{"eyes on " + commentIDString + " by " + fakegithub.DefaultBot.Login}))
				assert.Check(t, is.Len(res.state.Reviews, 1))
				res.assertFinal(t, "finished successfully", "success")
			},
		},
		{
			name: "unknown command: a reply listing the commands", event: "issue_comment", payload: "issue_comment.created.on-pr.json",
			edit: commentBody("@sandbox-bot deploy to production"), state: withComment(author, "@sandbox-bot deploy to production"),
			transcript: "claude-anchorable.jsonl",
			check: func(t *testing.T, res *result) {
				reply := res.onlyReply(t)
				assert.Check(t, is.Contains(reply, "I don't know the command `@sandbox-bot deploy to production`"))
				for _, c := range []string{"review", "fix merge conflicts", "address the issues", "help"} {
					assert.Check(t, is.Contains(reply, "`@sandbox-bot "+c+"`"))
				}
				assert.Check(t, is.Len(reactions(res), 0), "no eyes for a command it does not run")
				assert.Check(t, is.Len(res.state.Reviews, 0))
				res.assertNoSecretShown(t)
			},
		},
		{
			name: "non-collaborator: refused politely", event: "issue_comment", payload: "issue_comment.created.on-pr.json",
			edit: func(m map[string]any) { dig(m, "comment", "user")["login"] = "mallory" },
			state: func(s *fakegithub.State) {
				s.Users = append(s.Users, fakegithub.User{Login: "mallory", Type: "User", ID: 666})
				s.Permissions[repository]["mallory"] = "read"
				withComment("mallory", "@sandbox-bot review")(s)
			},
			transcript: "claude-anchorable.jsonl",
			check: func(t *testing.T, res *result) {
				reply := res.onlyReply(t)
				assert.Check(t, is.Contains(reply, "@mallory, sorry: running commands needs write permission on this repository, and you have read."))
				assert.Check(t, is.Len(res.state.Reviews, 0))
				assert.Check(t, is.Len(reactions(res), 0))
			},
		},
		{
			name: "agent fails: failed with its stderr tail", event: "pull_request", payload: "pull_request.opened.json",
			transcript: "auth-failure-not-logged-in-2.1.141.jsonl", wantCode: 1,
			env: map[string]string{"REPLAY_EXIT": "1", "REPLAY_STDERR": "Error: 529 overloaded_error (request req_e2e)"},
			check: func(t *testing.T, res *result) {
				st := res.assertFinal(t, "failed", "failure")
				assert.Check(t, is.Contains(st.Body, "Agent stderr (last lines)"))
				assert.Check(t, is.Contains(st.Body, "Error: 529 overloaded_error (request req_e2e)"))
				// The transcript's own error reaches the reason.
				assert.Check(t, is.Contains(st.Body, "Not logged in"))
				assert.Check(t, is.Len(res.state.Reviews, 0))
			},
		},
		{
			name: "no structured output: the fallback text", event: "pull_request", payload: "pull_request.opened.json",
			transcript: "stream-success-text-only-2.1.195.jsonl",
			check: func(t *testing.T, res *result) {
				st := res.assertFinal(t, "finished successfully", "success")
				assert.Check(t, is.Contains(st.Body, "Review completed but no structured output found"))
				final := finalText(t, "stream-success-text-only-2.1.195.jsonl")
				assert.Check(t, is.Contains(st.Body, firstLine(final)))
				assert.Check(t, is.Len(res.state.Reviews, 0))
			},
		},
		{
			name: "timeout: timed out", event: "pull_request", payload: "pull_request.opened.json",
			transcript: "claude-anchorable.jsonl", config: "timeout: 4s\n", env: map[string]string{"REPLAY_DELAY": "2s"}, wantCode: 1,
			check: func(t *testing.T, res *result) {
				res.assertFinal(t, "timed out", "timed_out")
				assert.Check(t, is.Len(res.state.Reviews, 0))
			},
		},
		cancelScenario("public", ""),
		cancelScenario("private", "host"),
		privateScenario("host"),
		privateScenario("container"),
		modelAPIScenario("host"),
		modelAPIScenario("container"),
		{
			name: "workflow_dispatch task: the answer in the step summary", event: "workflow_dispatch", payload: "workflow_dispatch.json",
			edit: func(m map[string]any) {
				// The run's own repository, and a task instead of the
				// example's input.
				r := dig(m, "repository")
				r["full_name"], r["name"] = repository, "Hello-World"
				dig(r, "owner")["login"] = author
				m["inputs"] = map[string]any{"prompt": "Summarise what calc.go does."}
			},
			transcript: "stream-success-text-only-2.1.195.jsonl",
			check: func(t *testing.T, res *result) {
				assert.Check(t, is.Equal(res.outputs["conclusion"], "success"))
				assert.Check(t, is.Contains(res.summary, firstLine(finalText(t, "stream-success-text-only-2.1.195.jsonl"))))
				assert.Check(t, is.Len(res.gh.writes(), 0), "a task without a pull request posts nothing")
				res.assertNoSecretShown(t)
			},
		},
		{
			name: "fork without secrets: the explanation, no crash", event: "pull_request", payload: "pull_request.opened.json",
			edit: func(m map[string]any) {
				dig(m, "pull_request", "head", "repo")["full_name"] = "forker/Hello-World"
			},
			// A fork's run gets no secrets and a read-only token.
			inputs: map[string]string{"anthropic-api-key": ""},
			state: func(s *fakegithub.State) {
				s.Users[0].ReadOnly = true
				s.Pulls[0].Head.Repo = "forker/Hello-World"
			},
			transcript: "claude-anchorable.jsonl",
			check: func(t *testing.T, res *result) {
				assert.Check(t, is.Contains(res.log, "comes from the fork forker/Hello-World"))
				assert.Check(t, is.Contains(res.summary, "comes from the fork forker/Hello-World"))
				assert.Check(t, is.Contains(res.summary, "never check out a fork's code in a pull_request_target workflow"))
				assert.Check(t, !strings.Contains(res.log, "panic"), "log: %s", res.log)
				assert.Check(t, is.Len(res.state.Reviews, 0))
				assert.Check(t, is.Len(res.comments(), 0), "a read-only token posts nothing")
			},
		},
	} {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			res := runScenario(t, sc, "bridge")
			sc.check(t, res)
			res.job.assertNothingLeft()
		})
	}
}

// TestActionOnAJobNetwork runs the review on a user-defined network, as
// the runner does when the job has services: the fake API is reached by
// its name there. A model API on the job's network (a service, such as a
// LiteLLM) is reached by the host transport's proxy, which runs in the
// action's container; the container transport's proxy sits on the default
// bridge, from which a job's network is not reachable.
func TestActionOnAJobNetwork(t *testing.T) {
	for _, sc := range []scenario{reviewScenario(), privateScenario("host"), privateScenario("container"),
		modelAPIScenario("host"), modelAPIByNameScenario()} {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			res := runScenario(t, sc, jobNetwork(t))
			sc.check(t, res)
			res.job.assertNothingLeft()
		})
	}
}

// TestActionInAnotherContainersNetwork runs the action as nektos/act and
// a job container's steps do: with --network container:<job container>,
// so its $HOSTNAME names the job container, not its own. The action must
// still find its own container's mounts (the workspace, /github/home) and
// image, or it mounts the wrong host paths.
func TestActionInAnotherContainersNetwork(t *testing.T) {
	network := jobNetwork(t)
	jobContainer := "sbxtest-e2e-jobcontainer-" + randomHex(4)
	docker(t, "run", "-d", "--name", jobContainer, "--label", testLabel, "--network", network,
		"--entrypoint", "/toolbox", testimage.Toolbox(t), "trap")
	t.Cleanup(func() { _ = exec.Command("docker", "rm", "-f", jobContainer).Run() })
	for _, sc := range []scenario{privateScenario("host"), privateScenario("container")} {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			res := runScenarioOn(t, sc, network, "container:"+jobContainer)
			sc.check(t, res)
			assert.Check(t, is.Contains(res.log, "sharing the network of "))
			res.job.assertNothingLeft()
		})
	}
}

// runScenario runs sc on network and collects what it left.
func runScenario(t *testing.T, sc scenario, network string) *result {
	t.Helper()
	return runScenarioOn(t, sc, network, network)
}

// runScenarioOn runs sc with the fake GitHub on network and the action
// container on actionNetwork (a network, or container:<name>).
func runScenarioOn(t *testing.T, sc scenario, network, actionNetwork string) *result {
	t.Helper()
	config := baseConfig + sc.config
	j := newJob(t, actionNetwork, repository)
	repo := makeRepo(t, j.workspace, config)
	state := seed(repo, config)
	if sc.state != nil {
		sc.state(&state)
	}
	gh := startFakeGitHub(t, network, state)

	j.env["GITHUB_API_URL"] = gh.url
	j.env["GITHUB_REF"] = "refs/pull/" + strconv.Itoa(prNumber) + "/merge"
	j.env["GITHUB_SHA"] = repo.headSHA
	j.env["GITHUB_HEAD_REF"], j.env["GITHUB_BASE_REF"] = repo.head, repo.base
	j.writeEvent(sc.event, payload(t, sc.payload, repo, sc.edit))
	for k, v := range map[string]string{
		"github-token":      fakegithub.DefaultToken,
		"anthropic-api-key": modelKey,
		"agent":             "claude",
		"network":           "public",
		"image":             agentImage(t),
	} {
		j.input(k, v)
	}
	for k, v := range sc.inputs {
		j.input(k, v)
		if v == "" {
			// Not given at all, as a secret a run does not get.
			delete(j.env, "INPUT_"+strings.ToUpper(k))
		}
	}
	j.env["REPLAY_TRANSCRIPT"] = "/recordings/e2e/" + sc.transcript
	j.env["REPLAY_DELAY"] = "5ms-10ms"
	for k, v := range sc.env {
		j.env[k] = strings.ReplaceAll(v, "{github}", gh.name)
	}

	if sc.before != nil {
		sc.before(t, network, j)
	}
	r := j.start(actionImage(t))
	if sc.during != nil {
		sc.during(t, r)
	}
	code := r.wait(3 * time.Minute)
	res := &result{job: j, gh: gh, repo: repo, state: gh.state(), outputs: j.outputs(), summary: j.summary(), log: r.log.String()}
	t.Logf("writes to GitHub: %s", strings.Join(gh.writes(), ", "))
	// The action's own overhead, as its step summary reports it.
	for _, line := range strings.Split(res.summary, "\n") {
		if strings.Contains(line, "→") && strings.HasPrefix(line, "| ") {
			t.Logf("timing: %s", line)
		}
	}
	assert.Equal(t, code, sc.wantCode, "action log:\n%s", res.log)
	return res
}

// commentID is the id of the payload's comment (issue_comment fixtures).
const (
	commentID       = 492700400
	commentIDString = "492700400"
)

// withComment seeds the payload's comment, by login, with body.
func withComment(login, body string) func(*fakegithub.State) {
	return func(s *fakegithub.State) {
		s.Comments = append(s.Comments, &fakegithub.Comment{ID: commentID, Repo: repository, Issue: prNumber, User: login, Body: body,
			CreatedAt: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC), UpdatedAt: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)})
	}
}

// commentBody derives a payload whose comment says body.
func commentBody(body string) func(map[string]any) {
	return func(m map[string]any) { dig(m, "comment")["body"] = body }
}

// reactions lists the reactions as "content on comment by user".
func reactions(res *result) []string {
	var out []string
	for _, r := range res.state.Reactions {
		out = append(out, fmt.Sprintf("%s on %d by %s", r.Content, r.CommentID, r.User))
	}
	return out
}

// onlyReply is the one comment the action posted besides the command:
// a reply, with no status comment.
func (r *result) onlyReply(t *testing.T) string {
	t.Helper()
	var posted []string
	for _, c := range r.comments() {
		if c.ID != commentID {
			posted = append(posted, c.Body)
		}
	}
	assert.Assert(t, is.Len(posted, 1), "comments posted: %q", posted)
	assert.Check(t, !strings.Contains(posted[0], "<!-- sandbox-action:status "), "a reply, not a status comment")
	return posted[0]
}

// finalText is the final answer a Claude transcript reports (its result
// line's "result").
func finalText(t *testing.T, transcript string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", transcript))
	assert.NilError(t, err)
	for _, line := range strings.Split(string(data), "\n") {
		var ev struct {
			Type   string `json:"type"`
			Result string `json:"result"`
		}
		if json.Unmarshal([]byte(line), &ev) == nil && ev.Type == "result" {
			return ev.Result
		}
	}
	t.Fatalf("%s has no result line", transcript)
	return ""
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}

// privateScenario is a review in private mode (the default network),
// its proxy on transport: the agent tries a host that is not on the
// allowlist (a container of ours) and calls the credential gateway without
// the session token. Both are refused inside this machine, reported in
// the step summary, and the review is still posted. The real key is never
// in the sandbox. The host transport is what the action chooses on a
// runner (the proxy a child of the action, its sockets under
// /github/home); the container transport is forced by the input.
func privateScenario(transport string) scenario {
	var sandbox container.InspectResponse
	const denied = "/repos/Codertocat/Hello-World/issues/99999"
	inputs := map[string]string{"network": "private"}
	if transport == spec.TransportContainer {
		inputs["proxy-transport"] = transport
	}
	return scenario{
		name: "private mode, " + transport + " transport: another host denied and reported, the key stays outside", event: "pull_request", payload: "pull_request.opened.json",
		transcript: "claude-anchorable.jsonl", inputs: inputs,
		env: map[string]string{
			"REPLAY_FETCH": "http://{github}:8080" + denied + " $ANTHROPIC_BASE_URL/v1/models",
			"REPLAY_DELAY": "200ms",
		},
		during: func(t *testing.T, r *actionRun) {
			sandbox = r.sandbox(t)
			if transport == spec.TransportHost {
				assertHostProxy(t, r.j.name)
			}
		},
		check: func(t *testing.T, res *result) {
			res.assertFinal(t, "finished successfully", "success")
			assert.Check(t, is.Len(res.state.Reviews, 1))

			// The sandbox holds the session token, never the key, and has
			// no network of its own to the outside.
			assert.Check(t, sandbox.Config != nil)
			var key, base string
			for _, kv := range sandbox.Config.Env {
				if v, ok := strings.CutPrefix(kv, "ANTHROPIC_API_KEY="); ok {
					key = v
				}
				if v, ok := strings.CutPrefix(kv, "ANTHROPIC_BASE_URL="); ok {
					base = v
				}
			}
			assert.Check(t, key != "" && key != modelKey, "the sandbox's key is the real one or missing")
			assert.Check(t, base != "", "no gateway base URL in the sandbox")
			assert.Check(t, sandbox.HostConfig.NetworkMode != "bridge" && sandbox.HostConfig.NetworkMode != "default",
				"a private sandbox on %s", sandbox.HostConfig.NetworkMode)
			assertTransport(t, res, sandbox, transport)

			// The denied request never reached the fake (a container of
			// ours), and both refusals are reported.
			for _, rq := range res.gh.requests() {
				assert.Check(t, rq.Path != denied, "the sandbox reached %s", rq.Path)
			}
			host := res.gh.name + ":8080"
			assert.Check(t, is.Regexp(`replayagent: fetch http://`+regexp.QuoteMeta(host+denied)+`: 4\d\d `, res.log))
			assert.Check(t, is.Regexp(`replayagent: fetch \S+/v1/models: 4\d\d `, res.log))
			assert.Check(t, is.Contains(res.summary, "#### Egress refused"))
			assert.Check(t, is.Contains(res.summary, "| `"+host+"` | 1 | not in the allowlist |"))
			assert.Check(t, is.Contains(res.summary, "The credential gateway refused 1 request"))
		},
	}
}

// modelAPIScenario is a review in private mode against a model API of the
// workflow's choice (the model-base-url input): our fake one, serving TLS
// with a CA made for this run (the model-ca-cert input). The agent calls it
// as Claude Code does, through the credential gateway with its session
// token; the API receives the real key, which the sandbox never holds. The
// agent also tries the same API directly, through the egress proxy: refused
// (it is not on the allowlist), never received, and reported in the step
// summary and the status comment.
func modelAPIScenario(transport string) scenario {
	var (
		sandbox container.InspectResponse
		model   *fakeModel
	)
	inputs := map[string]string{"network": "private"}
	if transport == spec.TransportContainer {
		inputs["proxy-transport"] = transport
	}
	return scenario{
		name: "private mode, " + transport + " transport: the model API of model-base-url through the gateway only, with the real key", event: "pull_request", payload: "pull_request.opened.json",
		transcript: "claude-anchorable.jsonl", inputs: inputs,
		before: func(t *testing.T, network string, j *job) {
			model = startFakeModel(t, network)
			j.input("model-base-url", model.url+"/anthropic")
			j.input("model-ca-cert", string(model.caPEM))
			j.env["REPLAY_MODEL_CALL"] = "1"
			j.env["REPLAY_FETCH"] = model.url + "/anthropic/v1/models"
			j.env["REPLAY_DELAY"] = "200ms"
		},
		during: func(t *testing.T, r *actionRun) { sandbox = r.sandbox(t) },
		check: func(t *testing.T, res *result) {
			st := res.assertFinal(t, "finished successfully", "success")
			assert.Check(t, is.Len(res.state.Reviews, 1))
			assert.Check(t, is.Contains(res.summary, "model-base-url="+model.url+"/anthropic (from input)"))

			// The sandbox holds the session token and the gateway's
			// address, never the key or the model API's address.
			assert.Assert(t, sandbox.Config != nil)
			var token string
			for _, kv := range sandbox.Config.Env {
				if v, ok := strings.CutPrefix(kv, "ANTHROPIC_API_KEY="); ok {
					token = v
				}
				assert.Check(t, !strings.Contains(kv, modelKey), "the sandbox holds the key in %s", kv)
				if !strings.HasPrefix(kv, "REPLAY_") { // the replay agent's own orders name it
					assert.Check(t, !strings.Contains(kv, model.ip), "the sandbox was given the model API's address in %s", kv)
				}
			}
			assert.Check(t, token != "", "no session token in the sandbox")
			assertTransport(t, res, sandbox, transport)

			// The model API received the agent's one call, with the real
			// key in place of the session token, and nothing else.
			got := model.requests()
			assert.Assert(t, is.Len(got, 1), "the model API received: %+v", got)
			assert.Check(t, is.Equal(got[0].Method, "POST"))
			assert.Check(t, is.Equal(got[0].Path, "/anthropic/v1/messages"))
			assert.Check(t, is.DeepEqual(got[0].Credentials, map[string]string{"X-Api-Key": modelKey}))
			assert.Check(t, is.Contains(res.log, "replayagent: model POST http://127.0.0.1:8080/anthropic/v1/messages: 200 OK"))

			// The direct try was refused by the proxy and reported: its
			// address is on a Docker network, which the proxy never dials
			// unless that exact address is allowed.
			target := model.ip + ":8443"
			assert.Check(t, is.Contains(res.log, "replayagent: fetch "+model.url+"/anthropic/v1/models: "))
			assert.Check(t, !strings.Contains(res.log, "replayagent: fetch "+model.url+"/anthropic/v1/models: 200"))
			for _, sum := range []string{res.summary, st.Body} {
				assert.Check(t, is.Contains(sum, "| `"+target+"` | 1 | a local address |"))
			}
			assert.Check(t, is.Contains(res.summary, "#### Egress refused"))
			assert.Check(t, is.Contains(st.Body, "<summary>Egress refused</summary>"))
		},
	}
}

// assertTransport checks that the run's proxy ran on transport, as the
// settings in the log and the sandbox's label say, and, for the host
// transport, that the sandbox mounted the run's socket directory from
// under the runner's home directory on the host.
func assertTransport(t *testing.T, res *result, sandbox container.InspectResponse, transport string) {
	t.Helper()
	assert.Check(t, is.Contains(res.log, "proxy-transport="+transport+" ("))
	assert.Check(t, is.Contains(res.summary, "proxy-transport="+transport+" ("))
	assert.Check(t, sandbox.Config != nil && sandbox.Config.Labels[spec.LabelTransport] == transport,
		"the sandbox's %s label", spec.LabelTransport)
	var egress []string
	for _, m := range sandbox.Mounts {
		if m.Destination == spec.SocketDir {
			egress = append(egress, string(m.Type)+" "+m.Source)
		}
	}
	want := "volume "
	if transport == spec.TransportHost {
		want = "bind " + filepath.Join(res.job.home, "sandbox-")
	}
	assert.Check(t, len(egress) == 1 && strings.HasPrefix(egress[0], want), "the sandbox's %s: %q, want %s…", spec.SocketDir, egress, want)
}

// cancelScenario is docker stop of the action container mid-run, as the
// runner cancels a container action (SIGTERM, SIGKILL after 10 s): the
// status comment says cancelled, and nothing of the run is left (the
// sandbox, a proxy container or child process, the socket directory, the
// volume).
func cancelScenario(network, transport string) scenario {
	name := "docker stop mid-run: cancelled, nothing left"
	inputs := map[string]string{"network": network}
	if transport != "" {
		name = "docker stop mid-run, " + network + " " + transport + ": cancelled, nothing left"
		inputs["proxy-transport"] = transport
	}
	var sandbox container.InspectResponse
	return scenario{
		name: name, event: "pull_request", payload: "pull_request.opened.json",
		transcript: "claude-anchorable.jsonl", env: map[string]string{"REPLAY_DELAY": "3s"}, inputs: inputs, wantCode: 1,
		during: func(t *testing.T, r *actionRun) {
			// The sandbox is being started once the agent's log group
			// opens; the replayed agent then runs for about 20 s.
			r.log.waitFor(t, regexp.MustCompile(`^::group::Agent`), 2*time.Minute)
			sandbox = r.sandbox(t)
			time.Sleep(2 * time.Second)
			began := time.Now()
			// As the runner cancels a container action: docker stop,
			// SIGTERM then SIGKILL after 10 s.
			out, err := exec.Command("docker", "stop", "-t", "10", r.j.name).CombinedOutput()
			assert.NilError(t, err, "%s", out)
			took := time.Since(began)
			t.Logf("docker stop took %s", took.Round(time.Millisecond))
			assert.Check(t, took < 10*time.Second, "the action needed SIGKILL: it took %s", took)
		},
		check: func(t *testing.T, res *result) {
			st := res.assertFinal(t, "cancelled", "cancelled")
			assert.Check(t, is.Contains(st.Body, "the sandbox was stopped and removed"))
			assert.Check(t, is.Len(res.state.Reviews, 0))
			if transport != "" {
				assertTransport(t, res, sandbox, transport)
			}
		},
	}
}

// assertHostProxy checks the host transport's proxy while it runs: a child
// of the action in the action's container, as nobody (the action runs as
// root), with the model key and the session token as its whole
// environment: never the GitHub token or the Docker socket's path.
func assertHostProxy(t *testing.T, action string) {
	t.Helper()
	out, err := exec.Command("docker", "top", action, "-eo", "pid,uid,args").CombinedOutput()
	assert.NilError(t, err, "%s", out)
	var pid, uid string
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) > 3 && f[3] == "proxy" {
			pid, uid = f[0], f[1]
		}
	}
	assert.Assert(t, pid != "", "no proxy process in the action's container:\n%s", out)
	assert.Check(t, is.Equal(uid, "65534"), "the proxy's uid")
	// The key and the session token reach it through an inherited pipe:
	// its environment, which any process of its uid could read, is empty.
	env, err := os.ReadFile("/proc/" + pid + "/environ")
	assert.NilError(t, err)
	assert.Check(t, is.Equal(string(env), ""), "the proxy's environment")
}

// modelAPIByNameScenario names the model API by its container's name, which
// the job network's DNS resolves to an address on that network: the
// gateway refuses to connect there (403), because only an upstream URL
// that names that exact address allows it, and the API receives nothing.
// The address check is the gateway's own, not the allowlist's: the e2e
// suite never turns it off.
func modelAPIByNameScenario() scenario {
	var model *fakeModel
	return scenario{
		name: "private mode, host transport: a model API named by a name resolving to a Docker network is refused", event: "pull_request", payload: "pull_request.opened.json",
		transcript: "claude-anchorable.jsonl", inputs: map[string]string{"network": "private"},
		before: func(t *testing.T, network string, j *job) {
			model = startFakeModel(t, network)
			j.input("model-base-url", "https://"+model.name+":8443/anthropic")
			j.input("model-ca-cert", string(model.caPEM))
			j.env["REPLAY_MODEL_CALL"] = "1"
		},
		check: func(t *testing.T, res *result) {
			res.assertFinal(t, "finished successfully", "success")
			assert.Check(t, is.Contains(res.log, "replayagent: model POST http://127.0.0.1:8080/anthropic/v1/messages: 403 Forbidden"))
			assert.Check(t, is.Len(model.requests(), 0), "the model API received a request")
		},
	}
}

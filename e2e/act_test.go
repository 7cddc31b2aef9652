package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/org/sandbox-action/internal/fakegithub"
	"github.com/org/sandbox-action/internal/testimage"
)

// actEnv names the nektos/act binary to run the example workflow with,
// when it is not the act on PATH.
const actEnv = "SANDBOX_E2E_ACT"

// actionRef is the image action.yml names; the test tags the locally built
// action image with it while act runs, so that act never pulls.
const actionRef = "ghcr.io/org/sandbox-action:v1"

// actJobImageTag is the job container's image under act: nothing but a
// `tail` that runs until stopped, which is all act runs in a job container
// whose steps are container actions.
const actJobImageTag = "sandbox-action-test/e2e-act-job:dev"

// actBinary returns the act to run: $SANDBOX_E2E_ACT if it names a path,
// else act on PATH. Without one the test fails in CI (CI=true), where act
// is installed, and is skipped elsewhere.
func actBinary(t *testing.T) string {
	t.Helper()
	if v := os.Getenv(actEnv); v != "" {
		_, err := os.Stat(v)
		assert.NilError(t, err, "%s names no act binary", actEnv)
		return v
	}
	p, err := exec.LookPath("act")
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("act (github.com/nektos/act) is not on PATH and %s names none: CI installs it (.ci/run does)", actEnv)
	}
	t.Skipf("act (github.com/nektos/act) is not on PATH and %s names none", actEnv)
	return ""
}

// TestExampleWorkflowUnderAct runs examples/pr-review.yml, unchanged,
// under nektos/act as a peer of the GitHub runner: act skips
// actions/checkout for the repository itself (the workspace is bound), runs
// org/sandbox-action@v1 from this tree as a container action in the job
// container's network, and the action posts its review to the fake GitHub
// API that GITHUB_API_URL names. Nothing is pulled or cloned: the images
// are local, the action is this checkout.
//
// The job runs in a job container (-P ubuntu-latest=<local image>), not
// on act's self-hosted platform (-P ubuntu-latest=-self-hosted): there act
// gives a container action GITHUB_EVENT_PATH, GITHUB_OUTPUT and
// GITHUB_WORKSPACE as host paths under its cache, while it mounts them at
// /var/run/act and at the workdir's own path, so the action finds no event.
func TestExampleWorkflowUnderAct(t *testing.T) {
	act := actBinary(t)
	root, err := testimage.ModuleRoot()
	assert.NilError(t, err)

	network := jobNetwork(t)
	// The base branch's config picks the replay agent image, as a user
	// picks an image of their own; the example's inputs stay as they are.
	config := baseConfig + "image: " + agentImage(t) + "\n"
	work := t.TempDir()
	workspace := filepath.Join(work, "Hello-World")
	assert.NilError(t, os.MkdirAll(workspace, 0o755))
	repo := makeRepo(t, workspace, config)
	// act reads the repository's name from its remote; nothing fetches it.
	gitIn(t, workspace, "remote", "add", "origin", "https://github.com/"+repository+".git")
	gh := startFakeGitHub(t, network, seed(repo, config))

	event := filepath.Join(work, "event.json")
	assert.NilError(t, os.WriteFile(event, payload(t, "pull_request.opened.json", repo, nil), 0o644))

	jobImage := testimage.Ensure(t, testimage.Spec{
		Tag:      actJobImageTag,
		Binaries: map[string]string{"/usr/bin/tail": "./internal/testimage/toolbox"},
	})
	tagActionImage(t, actionImage(t))
	toolcacheExisted := exec.Command("docker", "volume", "inspect", "act-toolcache").Run() == nil

	// act's own state (its cache, its config files) stays in the test's
	// directories.
	home := filepath.Join(work, "home")
	assert.NilError(t, os.MkdirAll(home, 0o755))
	args := []string{"pull_request",
		"-W", filepath.Join(root, "examples", "pr-review.yml"),
		"-C", workspace, "-e", event,
		"-b", "--rm", "--pull=false", "--action-offline-mode", "--no-cache-server",
		"--action-cache-path", filepath.Join(work, "act-cache"),
		"--local-repository", "org/sandbox-action@v1=" + root,
		"-P", "ubuntu-latest=" + jobImage,
		"--network", network,
		"--env", "GITHUB_API_URL=" + gh.url,
		"--env", "GITHUB_RUN_ID=4242",
		"--env", "REPLAY_TRANSCRIPT=/recordings/e2e/claude-anchorable.jsonl",
		"--env", "REPLAY_DELAY=5ms-10ms",
		"-s", "GITHUB_TOKEN", "-s", "ANTHROPIC_API_KEY",
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, act, args...)
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"XDG_CACHE_HOME="+filepath.Join(home, ".cache"),
		"GITHUB_TOKEN="+fakegithub.DefaultToken, "ANTHROPIC_API_KEY="+modelKey)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	began := time.Now()
	err = cmd.Run()
	took := time.Since(began)
	t.Logf("act took %s", took.Round(time.Millisecond))
	if !toolcacheExisted {
		// act keeps its tool cache volume across runs; this run made it.
		_ = exec.Command("docker", "volume", "rm", "act-toolcache").Run()
	}
	log := out.String()
	assert.NilError(t, err, "act:\n%s", log)

	state := gh.state()
	t.Logf("writes to GitHub: %s", strings.Join(gh.writes(), ", "))
	res := &result{job: &job{t: t, workspace: workspace, temp: work, home: home}, gh: gh, repo: repo, state: state, log: log}
	assert.Assert(t, is.Len(state.Reviews, 1), "act:\n%s", log)
	rv := state.Reviews[0]
	assert.Check(t, is.Equal(rv.CommitID, repo.headSHA))
	assert.Check(t, len(rv.Comments) > 0, "no inline comment")
	st := res.status(t)
	assert.Check(t, is.Contains(st.Body, "Sandbox review: finished successfully"))
	assert.Check(t, is.Contains(st.Body, "run=4242 "))
	assert.Check(t, is.Contains(log, "Success - Main org/sandbox-action@v1"))
	// Nothing was cloned: actions/checkout was skipped for the bound
	// workspace, the action came from this tree.
	assert.Check(t, !strings.Contains(log, "git clone"), "act cloned something:\n%s", log)
	// The example's defaults: private mode; the context directory on a
	// mount act makes from the host (its run directory), as act sets no
	// HOME.
	assert.Check(t, is.Contains(log, "network=private (default)"))
	assert.Check(t, is.Contains(log, "context: /var/run/act/workflow/sandbox-context-"))
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, "proxy-transport=") || strings.Contains(line, "own container") {
			t.Logf("action: %s", strings.TrimSpace(line))
		}
	}
	res.assertNoSecretShown(t)
	res.job.assertNothingLeft()
	assertActLeftNothing(t)
}

// tagActionImage tags image as the one action.yml names, for the test
// only. An image already under that name (a real release) is never
// overwritten.
func tagActionImage(t *testing.T, image string) {
	t.Helper()
	if exec.Command("docker", "image", "inspect", actionRef).Run() == nil {
		t.Fatalf("%s exists on this daemon; the test will not retag it", actionRef)
	}
	docker(t, "tag", image, actionRef)
	t.Cleanup(func() { _ = exec.Command("docker", "rmi", actionRef).Run() })
}

// assertActLeftNothing checks that act removed its job container and its
// volumes.
func assertActLeftNothing(t *testing.T) {
	t.Helper()
	cs := docker(t, "ps", "-a", "--filter", "name=^act-sandbox-review", "--format", "{{.Names}}")
	vs := docker(t, "volume", "ls", "--filter", "name=^act-sandbox-review", "--format", "{{.Name}}")
	assert.Check(t, is.Equal(cs+vs, ""), "act left: %s %s", cs, vs)
}

// gitIn runs git in dir.
func gitIn(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	assert.NilError(t, err, "git %s: %s", strings.Join(args, " "), out)
}

package e2e

import (
	"bufio"
	"context"
	"errors"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"gotest.tools/v3/assert"

	"github.com/org/sandbox-action/internal/testimage"
	"github.com/org/sandbox-action/pkg/spec"
)

// runnerUID owns the job's files, as the runner user does on GitHub's
// hosted runners.
const runnerUID = 1001

// job is one step of a workflow job that uses the action, laid out on this
// machine the way the runner lays it out under its work directory:
//
//	<work>/_temp                          RUNNER_TEMP (not mounted in the action)
//	<work>/_temp/_github_home             -> /github/home
//	<work>/_temp/_github_workflow         -> /github/workflow (event.json)
//	<work>/_temp/_runner_file_commands    -> /github/file_commands
//	<work>/<repo>/<repo>                  -> /github/workspace (the checkout)
type job struct {
	t    *testing.T
	work string
	// Host directories mounted into the action container.
	temp, home, workflow, fileCommands, workspace string
	// network is the job's network: "bridge" (no services) or a
	// user-defined one.
	network string
	// env is the action container's environment; inputs are INPUT_<NAME>
	// with the name upper-cased and its hyphens kept, as the runner sets
	// them (and go-githubactions' GetInput reads them).
	env map[string]string
	// name is the action container's name.
	name string
	// Container paths of GITHUB_OUTPUT and GITHUB_STEP_SUMMARY.
	outputName, summaryName string
}

// newJob prepares the runner's directories and the environment every
// container action step gets.
func newJob(t *testing.T, network, repository string) *job {
	t.Helper()
	work := filepath.Join(t.TempDir(), "work")
	_, repoName, _ := strings.Cut(repository, "/")
	j := &job{
		t: t, work: work, network: network,
		temp:         filepath.Join(work, "_temp"),
		home:         filepath.Join(work, "_temp", "_github_home"),
		workflow:     filepath.Join(work, "_temp", "_github_workflow"),
		fileCommands: filepath.Join(work, "_temp", "_runner_file_commands"),
		workspace:    filepath.Join(work, repoName, repoName),
		name:         "sbxtest-e2e-action-" + randomHex(4),
		outputName:   "set_output_" + randomHex(16),
		summaryName:  "step_summary_" + randomHex(16),
	}
	for _, d := range []string{j.home, j.workflow, j.fileCommands, j.workspace} {
		assert.NilError(t, os.MkdirAll(d, 0o755))
	}
	// The runner creates the file-command files before the step runs.
	for _, f := range []string{j.outputName, j.summaryName, "add_path_" + randomHex(8), "set_env_" + randomHex(8)} {
		assert.NilError(t, os.WriteFile(filepath.Join(j.fileCommands, f), nil, 0o644))
	}
	j.env = map[string]string{
		"HOME":                "/github/home",
		"CI":                  "true",
		"GITHUB_ACTIONS":      "true",
		"GITHUB_ACTION":       "__org_sandbox-action",
		"GITHUB_ACTION_REF":   "v1",
		"GITHUB_ACTOR":        "Codertocat",
		"GITHUB_API_URL":      "", // set by the test: the fake's address
		"GITHUB_EVENT_PATH":   "/github/workflow/event.json",
		"GITHUB_JOB":          "review",
		"GITHUB_OUTPUT":       "/github/file_commands/" + j.outputName,
		"GITHUB_REPOSITORY":   repository,
		"GITHUB_RUN_ATTEMPT":  "1",
		"GITHUB_RUN_ID":       "4242",
		"GITHUB_RUN_NUMBER":   "7",
		"GITHUB_SERVER_URL":   "https://github.com",
		"GITHUB_STEP_SUMMARY": "/github/file_commands/" + j.summaryName,
		"GITHUB_WORKFLOW":     "PR review",
		"GITHUB_WORKSPACE":    "/github/workspace",
		"RUNNER_ARCH":         "X64",
		"RUNNER_OS":           "Linux",
		"RUNNER_TEMP":         j.temp,
		"RUNNER_WORKSPACE":    filepath.Dir(j.workspace),
	}
	return j
}

// input sets an action input as the runner does.
func (j *job) input(name, value string) {
	j.env["INPUT_"+strings.ToUpper(strings.ReplaceAll(name, " ", "_"))] = value
}

// writeEvent writes the event payload where GITHUB_EVENT_PATH names it.
func (j *job) writeEvent(name string, payload []byte) {
	j.t.Helper()
	j.env["GITHUB_EVENT_NAME"] = name
	assert.NilError(j.t, os.WriteFile(filepath.Join(j.workflow, "event.json"), payload, 0o644))
}

// chown gives the job's files to the runner user, as on a hosted runner.
func (j *job) chown() {
	j.t.Helper()
	assert.NilError(j.t, filepath.Walk(j.work, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, runnerUID, runnerUID)
	}))
}

// dockerArgs is the runner's `docker run` for a container action: its
// name and label, the workspace as working directory, --rm, every variable
// by name (values travel in the docker CLI's environment, never on its
// command line), exactly five mounts, the job network if any, and
// action.yml's entrypoint and args.
func (j *job) dockerArgs(image string) []string {
	args := []string{"run", "--name", j.name, "--label", testLabel, "--workdir", "/github/workspace", "--rm"}
	for _, k := range slices.Sorted(maps.Keys(j.env)) {
		args = append(args, "-e", k)
	}
	for _, m := range [][2]string{
		{"/var/run/docker.sock", "/var/run/docker.sock"},
		{j.home, "/github/home"},
		{j.workflow, "/github/workflow"},
		{j.fileCommands, "/github/file_commands"},
		{j.workspace, "/github/workspace"},
	} {
		args = append(args, "-v", m[0]+":"+m[1])
	}
	if j.network != "bridge" {
		args = append(args, "--network", j.network)
	}
	entrypoint, extra := actionEntrypoint(j.t)
	if entrypoint != "" {
		args = append(args, "--entrypoint", entrypoint)
	}
	args = append(args, image)
	return append(args, extra...)
}

// actionRun is a started action container.
type actionRun struct {
	j    *job
	cmd  *exec.Cmd
	log  *watch
	done chan error
	// exited is closed once the container has exited.
	exited chan struct{}
	code   int
	took   time.Duration
}

// start starts the action container.
func (j *job) start(image string) *actionRun {
	j.t.Helper()
	j.chown()
	cmd := exec.Command("docker", j.dockerArgs(image)...)
	cmd.Env = os.Environ()
	for k, v := range j.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	r := &actionRun{j: j, cmd: cmd, log: newWatch(), done: make(chan error, 1), exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = r.log, r.log
	began := time.Now()
	assert.NilError(j.t, cmd.Start())
	go func() {
		err := cmd.Wait()
		r.took = time.Since(began)
		close(r.exited)
		r.done <- err
	}()
	j.t.Cleanup(func() {
		_ = exec.Command("docker", "rm", "-f", j.name).Run()
		_ = cmd.Process.Kill()
	})
	return r
}

// sandbox waits for the run's sandbox container and inspects it; it fails
// at once, with the action's log, if the action exits first.
func (r *actionRun) sandbox(t *testing.T) container.InspectResponse {
	t.Helper()
	return awaitSandbox(t, r.j.workspace, func() (bool, string) {
		select {
		case <-r.exited:
			return true, "the action exited first; its log:\n" + r.log.String()
		default:
			return false, ""
		}
	})
}

// wait waits for the action container to exit and returns its exit code.
func (r *actionRun) wait(d time.Duration) int {
	r.j.t.Helper()
	select {
	case err := <-r.done:
		var ee *exec.ExitError
		switch {
		case errors.As(err, &ee):
			r.code = ee.ExitCode()
		case err != nil:
			r.j.t.Fatalf("docker run: %v", err)
		}
		r.j.t.Logf("action container exited %d after %s", r.code, r.took.Round(time.Millisecond))
		return r.code
	case <-time.After(d):
		r.j.t.Fatalf("the action did not finish within %s; log:\n%s", d, r.log)
		return -1
	}
}

// outputs reads GITHUB_OUTPUT as the runner does (name=value lines and
// name<<DELIMITER blocks).
func (j *job) outputs() map[string]string {
	j.t.Helper()
	f, err := os.Open(filepath.Join(j.fileCommands, j.outputName))
	assert.NilError(j.t, err)
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if name, delim, ok := strings.Cut(line, "<<"); ok {
			var lines []string
			for sc.Scan() && sc.Text() != delim {
				lines = append(lines, sc.Text())
			}
			out[name] = strings.Join(lines, "\n")
			continue
		}
		if name, value, ok := strings.Cut(line, "="); ok {
			out[name] = value
		}
	}
	assert.NilError(j.t, sc.Err())
	return out
}

// summary is what the step wrote to GITHUB_STEP_SUMMARY.
func (j *job) summary() string {
	j.t.Helper()
	b, err := os.ReadFile(filepath.Join(j.fileCommands, j.summaryName))
	assert.NilError(j.t, err)
	return string(b)
}

// assertNothingLeft checks that no container, network or volume of the
// job's runs remains on the daemon (found by the workspace label the
// sandbox's objects carry: the workspace's host path, unique to the job),
// and that no socket is left under the job's directories.
func (j *job) assertNothingLeft() {
	j.t.Helper()
	c := testimage.NewClient(j.t)
	ctx := context.Background()
	f := client.Filters{}.Add("label", spec.LabelWorkspace+"="+j.workspace)
	cs, err := c.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	assert.NilError(j.t, err)
	ns, err := c.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	assert.NilError(j.t, err)
	vs, err := c.VolumeList(ctx, client.VolumeListOptions{Filters: f})
	assert.NilError(j.t, err)
	var left []string
	for _, x := range cs.Items {
		left = append(left, "container "+strings.Join(x.Names, ",")+" ("+string(x.State)+")")
	}
	for _, x := range ns.Items {
		left = append(left, "network "+x.Name)
	}
	for _, x := range vs.Items {
		left = append(left, "volume "+x.Name)
	}
	// Per-run files (sockets, the review's context) live under
	// /github/home, i.e. under RUNNER_TEMP on the host, and go with the run.
	_ = filepath.Walk(j.temp, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return nil
		}
		if fi.Mode()&os.ModeSocket != 0 {
			left = append(left, "socket "+p)
		}
		if fi.IsDir() && filepath.Dir(p) == j.home && strings.HasPrefix(fi.Name(), "sandbox-") {
			left = append(left, "directory "+p)
		}
		return nil
	})
	assert.Assert(j.t, len(left) == 0, "left on the Docker host:\n%s", strings.Join(left, "\n"))
}

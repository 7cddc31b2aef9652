package e2e

import (
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/client"
	"gotest.tools/v3/assert"
	"gotest.tools/v3/poll"

	"github.com/org/sandbox-action/internal/testimage"
	"github.com/org/sandbox-action/pkg/spec"
)

// TestActionAndPrintedCommandCreateTheSameSandbox is parity end to end:
// the sandbox container the action image creates on a runner and the one
// `sandbox cmd`'s printed command creates, for the same settings (the
// base branch's config, the agent, the image, the network, the workspace),
// inspect the same.
//
// What differs by design, and only that, is set aside:
//   - names, the run id, the created-by label (action vs cli) and the
//     origin label (who created it where: the action's container vs this
//     host);
//   - the agent's arguments after the program name: the action asks for a
//     review (its prompt and --json-schema), the command line for the
//     prompt given;
//   - the action's read-only /context mount (the PR, its diff and the
//     review schema), which only a review has;
//   - the order of Env;
//   - AutoRemove: the engine removes the sandbox itself once it has read
//     its final state (what `--rm` asks for, without racing the daemon);
//     that nothing is left is checked after the run;
//   - the session token's value and the run's volume's name (the action
//     is asked for the container transport, and the printed command for
//     the same).
//
// The workspace is the same host path: the action translates
// /github/workspace to it by inspecting its own container.
func TestActionAndPrintedCommandCreateTheSameSandbox(t *testing.T) {
	var fromAction container.InspectResponse
	sc := reviewScenario()
	sc.name = "parity"
	sc.env = map[string]string{"REPLAY_DELAY": "1s"}
	sc.inputs = map[string]string{"proxy-transport": "container"}
	sc.during = func(t *testing.T, r *actionRun) {
		fromAction = r.sandbox(t)
	}
	res := runScenario(t, sc, "bridge")
	res.job.assertNothingLeft()

	// The same settings on the command line: the checkout (the base
	// branch's config is in it, trusted as its owner would), the image and
	// network inputs, the agent.
	ws := res.job.workspace
	xdg := t.TempDir()
	env := append(os.Environ(), "XDG_CONFIG_HOME="+xdg, "ANTHROPIC_API_KEY="+modelKey)
	for k, v := range res.job.env {
		if strings.HasPrefix(k, "REPLAY_") {
			env = append(env, k+"="+v)
		}
	}
	trust := exec.Command(sandboxBin, "trust", "--workspace", ws)
	trust.Env = env
	out, err := trust.CombinedOutput()
	assert.NilError(t, err, "sandbox trust: %s", out)
	cmd := exec.Command(sandboxBin, "cmd", "--workspace", ws, "--image", agentImage(t), "--network", "public",
		"--proxy-transport", "container", "--agent", "claude", "--prompt", "Review this pull request.")
	cmd.Env = env
	script, err := cmd.Output()
	assert.NilError(t, err, "sandbox cmd: %s", stderrOf(err))
	// The sandbox's line (the last docker run; the proxy's runs -d), with
	// the session token it is given.
	var line, token string
	for _, l := range strings.Split(string(script), "\n") {
		switch {
		case strings.HasPrefix(l, "export SANDBOX_SESSION_TOKEN="):
			token = l
		case strings.Contains(l, "docker run ") && !strings.Contains(l, "docker run -d "):
			line = l
		}
	}
	assert.Assert(t, line != "", "no docker run line in:\n%s", script)
	create := exec.Command("bash", "-c", token+"\n"+strings.Replace(line, "docker run ", "docker create ", 1))
	create.Env = env
	idOut, err := create.Output()
	assert.NilError(t, err, "%s: %s", line, stderrOf(err))
	id := strings.TrimSpace(string(idOut))
	c := testimage.NewClient(t)
	// The container and the volume docker made for its mount, as the
	// pasted line alone leaves them.
	t.Cleanup(func() { gcRun(t, runIDOf(string(script))) })
	t.Cleanup(func() { _, _ = c.ContainerRemove(context.Background(), id, client.ContainerRemoveOptions{Force: true}) })
	ins, err := c.ContainerInspect(context.Background(), id, client.ContainerInspectOptions{})
	assert.NilError(t, err)
	fromCLI := ins.Container

	a, b := normalise(fromAction), normalise(fromCLI)
	assert.DeepEqual(t, a.Config, b.Config)
	assert.DeepEqual(t, a.HostConfig, b.HostConfig)
}

// runningSandbox waits for the sandbox container of the run in workspace
// and inspects it while it runs.
func runningSandbox(t *testing.T, workspace string) container.InspectResponse {
	t.Helper()
	return awaitSandbox(t, workspace, nil)
}

// awaitSandbox is runningSandbox for a run whose end closes gone: once it
// has, the sandbox will not come, and the wait fails at once with why.
func awaitSandbox(t *testing.T, workspace string, gone func() (bool, string)) container.InspectResponse {
	t.Helper()
	c := testimage.NewClient(t)
	f := client.Filters{}.Add("label", spec.LabelWorkspace+"="+workspace).Add("label", spec.LabelRole+"="+spec.RoleSandbox)
	var got container.InspectResponse
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		cs, err := c.ContainerList(context.Background(), client.ContainerListOptions{All: true, Filters: f})
		if err != nil {
			return poll.Error(err)
		}
		if len(cs.Items) == 0 {
			if gone != nil {
				if ended, why := gone(); ended {
					return poll.Error(fmt.Errorf("no sandbox container for %s, and none will come: %s", workspace, why))
				}
			}
			return poll.Continue("no sandbox container for %s yet", workspace)
		}
		res, err := c.ContainerInspect(context.Background(), cs.Items[0].ID, client.ContainerInspectOptions{})
		if err != nil {
			return poll.Continue("inspect: %v", err)
		}
		got = res.Container
		return poll.Success()
	}, poll.WithTimeout(2*time.Minute), poll.WithDelay(50*time.Millisecond))
	return got
}

// normalise sets aside what differs by design (see the test's comment).
func normalise(in container.InspectResponse) container.InspectResponse {
	out := in
	cfg := *in.Config
	host := *in.HostConfig
	cfg.Hostname = ""
	if len(cfg.Cmd) > 0 {
		cfg.Cmd = cfg.Cmd[:1]
	}
	cfg.Labels = map[string]string{}
	for k, v := range in.Config.Labels {
		switch k {
		case spec.LabelRunID, spec.LabelCreatedBy, spec.LabelOrigin:
		default:
			cfg.Labels[k] = v
		}
	}
	host.AutoRemove = false
	cfg.Env = slices.Clone(in.Config.Env)
	for i, e := range cfg.Env {
		cfg.Env[i] = sessionToken.ReplaceAllString(e, "${1}TOKEN")
	}
	slices.Sort(cfg.Env)
	host.Mounts = slices.DeleteFunc(slices.Clone(in.HostConfig.Mounts), func(m mount.Mount) bool { return m.Target == "/context" })
	for i, m := range host.Mounts {
		if m.Target == spec.SocketDir {
			host.Mounts[i].Source = "VOLUME"
			if o := m.VolumeOptions; o != nil {
				vo := *o
				vo.Labels = maps.Clone(o.Labels)
				for _, k := range []string{spec.LabelRunID, spec.LabelCreatedBy, spec.LabelOrigin} {
					delete(vo.Labels, k)
				}
				host.Mounts[i].VolumeOptions = &vo
			}
		}
	}
	host.Binds = slices.DeleteFunc(slices.Clone(in.HostConfig.Binds), func(b string) bool { return strings.Contains(b, ":/context") })
	out.Config, out.HostConfig = &cfg, &host
	return out
}

// sessionToken is a per-run session token as a variable's value.
var sessionToken = regexp.MustCompile(`^([A-Z_]+=)[0-9a-f]{64}$`)

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}

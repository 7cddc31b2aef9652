package action

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/client"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/org/sandbox-action/internal/testimage"
	"github.com/org/sandbox-action/pkg/spec"
)

// actionImageTag is the action's image as the Dockerfile ships it: the
// sandbox binary, `sandbox action` as entrypoint.
const actionImageTag = "sandbox-action-test/action:dev"

func actionImage(t testing.TB) string {
	t.Helper()
	return testimage.Ensure(t, testimage.Spec{
		Tag: actionImageTag,
		Binaries: map[string]string{
			"/usr/local/bin/sandbox": "./cmd/sandbox",
		},
		Entrypoint: []string{"/usr/local/bin/sandbox", "action"},
	})
}

// The action run the way GitHub's runner runs a container action: its own
// container with exactly the runner's five mounts, the workspace owned by
// UID 1001, the event under /github/workflow and the file commands under
// /github/file_commands. The sandbox it starts is a sibling on the host's
// daemon, so it must find the host paths of /github/workspace and
// /github/home by inspecting its own container. (The container joins the
// host's network only so that it reaches the fake API on loopback; the
// runner uses the default bridge or the job's network.)
func TestActionInItsContainerTranslatesHostPaths(t *testing.T) {
	// In private mode the egress proxy is the action's own image, started
	// with the arguments of `sandbox proxy` after its entrypoint.
	for _, network := range []string{"public", "private"} {
		t.Run(network, func(t *testing.T) { actionInContainer(t, network) })
	}
}

func actionInContainer(t *testing.T, network string) {
	h := newHarness(t, "pull_request", "pull_request.opened.json", nil)
	h.agent("claude-anchorable.jsonl", "")
	h.env["INPUT_NETWORK"] = network
	image := actionImage(t)
	c := testimage.NewClient(t)

	dirs := map[string]string{}
	for _, d := range []string{"home", "workflow", "file_commands"} {
		dirs[d] = filepath.Join(h.dir, "_"+d)
		assert.NilError(t, os.MkdirAll(dirs[d], 0o755))
	}
	event, err := os.ReadFile(h.env["GITHUB_EVENT_PATH"])
	assert.NilError(t, err)
	assert.NilError(t, os.WriteFile(filepath.Join(dirs["workflow"], "event.json"), event, 0o644))
	for _, f := range []string{"output", "summary"} {
		assert.NilError(t, os.WriteFile(filepath.Join(dirs["file_commands"], f), nil, 0o644))
	}

	name := "sbxtest-action-" + network + "-" + strings.ReplaceAll(time.Now().Format("150405.000000"), ".", "")
	env := []string{"HOSTNAME=" + name}
	for k, v := range h.env {
		switch k {
		case "GITHUB_EVENT_PATH":
			v = "/github/workflow/event.json"
		case "GITHUB_WORKSPACE":
			v = "/github/workspace"
		case "GITHUB_OUTPUT":
			v = "/github/file_commands/output"
		case "GITHUB_STEP_SUMMARY":
			v = "/github/file_commands/summary"
		}
		env = append(env, k+"="+v)
	}
	env = append(env, "HOME=/github/home")
	ctx := context.Background()
	created, err := c.ContainerCreate(ctx, client.ContainerCreateOptions{
		Name: name,
		Config: &container.Config{
			Image: image, Env: env, WorkingDir: "/github/workspace",
			Labels: map[string]string{"sandbox-action-test": "action-container"},
		},
		HostConfig: &container.HostConfig{
			NetworkMode: "host",
			Mounts: []mount.Mount{
				{Type: mount.TypeBind, Source: "/var/run/docker.sock", Target: "/var/run/docker.sock"},
				{Type: mount.TypeBind, Source: h.ws, Target: "/github/workspace"},
				{Type: mount.TypeBind, Source: dirs["home"], Target: "/github/home"},
				{Type: mount.TypeBind, Source: dirs["workflow"], Target: "/github/workflow"},
				{Type: mount.TypeBind, Source: dirs["file_commands"], Target: "/github/file_commands"},
			},
		},
	})
	assert.NilError(t, err)
	t.Cleanup(func() {
		_, _ = c.ContainerRemove(context.Background(), created.ID, client.ContainerRemoveOptions{Force: true})
	})
	wait := c.ContainerWait(ctx, created.ID, client.ContainerWaitOptions{Condition: container.WaitConditionNextExit})
	_, err = c.ContainerStart(ctx, created.ID, client.ContainerStartOptions{})
	assert.NilError(t, err)
	var code int64
	select {
	case st := <-wait.Result:
		code = st.StatusCode
	case err := <-wait.Error:
		t.Fatalf("wait for the action: %v", err)
	case <-time.After(3 * time.Minute):
		t.Fatal("the action did not finish")
	}
	logs := containerLogs(t, c, created.ID)
	assert.Equal(t, code, int64(0), logs)

	assert.Check(t, is.Len(h.gh.Reviews(repo, 2), 1), logs)
	assert.Check(t, is.Contains(finalStatus(t, h, 2), "finished successfully"))
	summary, err := os.ReadFile(filepath.Join(dirs["file_commands"], "summary"))
	assert.NilError(t, err)
	assert.Check(t, is.Contains(string(summary), "| outcome | success |"))
	assert.Check(t, is.Contains(string(summary), "network="+network))
	output, err := os.ReadFile(filepath.Join(dirs["file_commands"], "output"))
	assert.NilError(t, err)
	assert.Check(t, is.Contains(string(output), "conclusion<<"))
	// The context directory was made under /github/home, seen by the
	// sandbox at its host path, and removed.
	assert.Check(t, is.Contains(logs, "context: /github/home/sandbox-context-"))
	left, err := os.ReadDir(dirs["home"])
	assert.NilError(t, err)
	assert.Check(t, is.Len(left, 0))
	// Nothing of the sandbox is left.
	cs, err := c.ContainerList(ctx, client.ContainerListOptions{All: true,
		Filters: client.Filters{}.Add("label", spec.LabelWorkspace+"="+h.ws)})
	assert.NilError(t, err)
	assert.Check(t, is.Len(cs.Items, 0))
	ns, err := c.NetworkList(ctx, client.NetworkListOptions{
		Filters: client.Filters{}.Add("label", spec.LabelWorkspace+"="+h.ws)})
	assert.NilError(t, err)
	assert.Check(t, is.Len(ns.Items, 0))
}

func containerLogs(t *testing.T, c *client.Client, id string) string {
	t.Helper()
	rc, err := c.ContainerLogs(context.Background(), id, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true})
	assert.NilError(t, err)
	defer rc.Close()
	var buf bytes.Buffer
	_, _ = stdcopy.StdCopy(&buf, &buf, rc)
	return buf.String()
}

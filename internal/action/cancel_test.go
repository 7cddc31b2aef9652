package action

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
	"gotest.tools/v3/poll"

	"github.com/org/sandbox-action/internal/testimage"
	"github.com/org/sandbox-action/pkg/spec"
)

// buildAction compiles the sandbox binary, which the image ships and starts
// as `sandbox action`.
func buildAction(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "sandbox")
	assert.NilError(t, testimage.CompileStatic(context.Background(), "./cmd/sandbox", bin))
	return bin
}

// The runner cancels a job with SIGINT, then SIGTERM 7.5 s later, then
// SIGKILL 2.5 s after that: the real binary, with a real sandbox running,
// must finalise its status comment and leave nothing on Docker inside
// that window.
func TestCancelMidRunFinalisesAndLeavesNothing(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			h := newHarness(t, "pull_request", "pull_request.opened.json", nil)
			h.agent("claude-anchorable.jsonl", "")
			h.env["REPLAY_DELAY"] = "20s"
			bin := buildAction(t)

			cmd := exec.Command(bin, "action")
			for k, v := range h.env {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			cmd.Env = append(cmd.Env, "PATH="+os.Getenv("PATH"), "DOCKER_HOST="+os.Getenv("DOCKER_HOST"))
			cmd.Stdout, cmd.Stderr = &h.out, &h.out
			assert.NilError(t, cmd.Start())
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()

			c := testimage.NewClient(t)
			byWorkspace := client.Filters{}.Add("label", spec.LabelWorkspace+"="+h.ws)
			poll.WaitOn(t, func(poll.LogT) poll.Result {
				cs, err := c.ContainerList(context.Background(), client.ContainerListOptions{Filters: byWorkspace})
				if err != nil {
					return poll.Error(err)
				}
				if len(cs.Items) > 0 && strings.Contains(strings.Join(h.comments(2), ""), "running") {
					return poll.Success()
				}
				return poll.Continue("sandbox not running yet")
			}, poll.WithTimeout(60*time.Second), poll.WithDelay(50*time.Millisecond))

			sent := time.Now()
			assert.NilError(t, cmd.Process.Signal(sig))
			var err error
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatalf("still running 10 s after %s: the runner would have killed it\n%s", sig, h.out.String())
			}
			took := time.Since(sent)
			t.Logf("%s → exit in %s", sig, took)
			assert.Check(t, err != nil, "a cancelled run fails the step")

			st := finalStatus(t, h, 2)
			assert.Check(t, is.Contains(st, "cancelled"), st)
			assert.Check(t, is.Contains(st, "View run logs"))
			cs, err := c.ContainerList(context.Background(), client.ContainerListOptions{All: true, Filters: byWorkspace})
			assert.NilError(t, err)
			assert.Check(t, is.Len(cs.Items, 0), "containers left behind")
			ns, err := c.NetworkList(context.Background(), client.NetworkListOptions{Filters: byWorkspace})
			assert.NilError(t, err)
			assert.Check(t, is.Len(ns.Items, 0), "networks left behind")
		})
	}
}

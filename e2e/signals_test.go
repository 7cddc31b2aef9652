package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"gotest.tools/v3/assert"
	"gotest.tools/v3/poll"

	"github.com/org/sandbox-action/internal/testimage"
	"github.com/org/sandbox-action/pkg/engine"
	"github.com/org/sandbox-action/pkg/spec"
)

func contextBackground() context.Context { return context.Background() }

// proxyTag is an egress proxy image for these tests: the sandbox binary on
// scratch, as the product image has it.
const proxyTag = "sandbox-action-test/e2e-proxy:dev"

func proxyImage(t *testing.T) string {
	return testimage.Ensure(t, testimage.Spec{
		Tag:        proxyTag,
		Binaries:   map[string]string{"/usr/local/bin/sandbox": "./cmd/sandbox"},
		Entrypoint: []string{"/usr/local/bin/sandbox"},
	})
}

// process is a running `sandbox run`.
type process struct {
	cmd    *exec.Cmd
	stdout *watch
	stderr *watch
	done   chan error
}

// start runs the sandbox binary with a workspace the sandbox user can write.
func start(t *testing.T, args ...string) *process {
	t.Helper()
	ws := t.TempDir()
	assert.NilError(t, os.Chmod(ws, 0o777))
	argv := append([]string{"run", "--workspace", ws, "--user", "1000:1000", "--memory", "256m"}, args...)
	cmd := exec.Command(sandboxBin, argv...)
	p := &process{cmd: cmd, stdout: newWatch(), stderr: newWatch(), done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	assert.NilError(t, cmd.Start())
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
	})
	return p
}

// public opts a run out of the default, private network mode.
var public = []string{"--network", "public"}

var runIDLine = regexp.MustCompile(`sandbox: run ([0-9a-f]{12}):`)

// runID waits for the line that names the run.
func (p *process) runID(t *testing.T) string {
	t.Helper()
	line := p.stderr.waitFor(t, runIDLine, 30*time.Second)
	return runIDLine.FindStringSubmatch(line)[1]
}

// exitCode waits up to d for the process to exit.
func (p *process) exitCode(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case err := <-p.done:
		p.done <- err // for Cleanup
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		assert.NilError(t, err)
		return 0
	case <-time.After(d):
		t.Fatalf("sandbox did not exit within %s; stderr:\n%s", d, p.stderr)
		return -1
	}
}

// Every signal that stops a run cleans up the same way in every network
// mode and proxy transport: the agent is asked to stop, everything the run
// created (containers, the run's volume, the host transport's socket
// directory) is removed within the budget, and sandbox exits 128+N.
func TestSignalsStopAndRemoveEverythingWithinBudget(t *testing.T) {
	signals := []struct {
		name     string
		sig      syscall.Signal
		wantCode int
	}{
		{"SIGINT", syscall.SIGINT, 130},
		{"SIGTERM", syscall.SIGTERM, 143},
		// A closed terminal or a dropped SSH session sends SIGHUP; Ctrl-\
		// sends SIGQUIT. Both used to kill sandbox with the container left
		// running.
		{"SIGHUP", syscall.SIGHUP, 129},
		{"SIGQUIT", syscall.SIGQUIT, 131},
	}
	networks := []struct {
		name string
		args []string
	}{
		{"public", public},
		// No --network: private, the default, with the proxy on the host.
		{"default", nil},
		{"private host", []string{"--network", "private", "--proxy-transport", "host"}},
		{"private container", []string{"--network", "private", "--proxy-transport", "container", "--proxy-image", proxyImage(t)}},
	}
	for _, nw := range networks {
		for _, sg := range signals {
			t.Run(sg.name+" "+nw.name, func(t *testing.T) {
				args := append([]string{"--image", testimage.Toolbox(t)}, nw.args...)
				p := start(t, append(args, "--", "/toolbox", "trap")...)
				id := p.runID(t)
				p.stdout.waitFor(t, regexp.MustCompile("ready"), 30*time.Second)
				socketDir := filepath.Join(os.TempDir(), "sandbox-"+id)
				if nw.name == "private host" {
					_, err := os.Stat(socketDir)
					assert.NilError(t, err, "the host transport's socket directory")
				}
				sent := time.Now()
				assert.NilError(t, p.cmd.Process.Signal(sg.sig))
				code := p.exitCode(t, engine.CleanupBudget+2*time.Second)
				took := time.Since(sent)
				assert.Equal(t, code, sg.wantCode, "stderr:\n%s", p.stderr)
				// One message says what happened, once.
				assert.Equal(t, strings.Count(p.stderr.String(), "stopped and removed"), 1, "stderr:\n%s", p.stderr)
				assert.Assert(t, took < engine.CleanupBudget, "cleanup took %s", took)
				// The agent was asked to stop, not killed outright.
				assert.Assert(t, strings.Contains(p.stdout.String(), "got "), "stdout: %s", p.stdout)
				assertNothingLeft(t, id)
				_, err := os.Stat(socketDir)
				assert.Assert(t, os.IsNotExist(err), "socket directory %s left behind (%v)", socketDir, err)
			})
		}
	}
}

// A reader that goes away (`sandbox run … | head -1`) stops the run like a
// signal: SIGPIPE used to kill sandbox on its next write to the closed
// pipe, leaving the container running and the proxy's sockets on disk.
func TestClosedStdoutStopsAndRemovesEverything(t *testing.T) {
	for _, nw := range []struct {
		name string
		args []string
	}{
		{"public", public},
		{"default", nil},
	} {
		t.Run(nw.name, func(t *testing.T) {
			ws := t.TempDir()
			assert.NilError(t, os.Chmod(ws, 0o777))
			args := append([]string{"run", "--workspace", ws, "--user", "1000:1000", "--memory", "256m",
				"--image", testimage.Toolbox(t)}, nw.args...)
			cmd := exec.Command(sandboxBin, append(args, "--", "/toolbox", "stream", "600", "50ms")...)
			stderr := newWatch()
			cmd.Stderr = stderr
			r, w, err := os.Pipe()
			assert.NilError(t, err)
			cmd.Stdout = w
			assert.NilError(t, cmd.Start())
			assert.NilError(t, w.Close())
			t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

			line, err := bufio.NewReader(r).ReadString('\n')
			assert.NilError(t, err, "stderr:\n%s", stderr)
			assert.Equal(t, line, "out 1\n")
			id := runIDLine.FindStringSubmatch(stderr.waitFor(t, runIDLine, 30*time.Second))[1]
			closed := time.Now()
			assert.NilError(t, r.Close())

			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			var code int
			select {
			case err := <-done:
				var ee *exec.ExitError
				assert.Assert(t, errors.As(err, &ee), "%v; stderr:\n%s", err, stderr)
				code = ee.ExitCode()
			case <-time.After(engine.CleanupBudget + 2*time.Second):
				t.Fatalf("sandbox did not exit after its stdout was closed; stderr:\n%s", stderr)
			}
			assert.Equal(t, code, 141, "stderr:\n%s", stderr)
			assert.Assert(t, time.Since(closed) < engine.CleanupBudget, "cleanup took %s", time.Since(closed))
			assert.Equal(t, strings.Count(stderr.String(), "stopped and removed"), 1, "stderr:\n%s", stderr)
			assertNothingLeft(t, id)
			_, err = os.Stat(filepath.Join(os.TempDir(), "sandbox-"+id))
			assert.Assert(t, os.IsNotExist(err), "socket directory of run %s left behind (%v)", id, err)
		})
	}
}

func TestSIGKILLLeavesWhatGCRemoves(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		objects int
	}{
		{"public", public, 1},
		// The sandbox; its socket directory is checked below.
		{"private host", []string{"--network", "private", "--proxy-transport", "host"}, 1},
		// The sandbox, the proxy and the run's volume.
		{"private container", []string{"--network", "private", "--proxy-transport", "container", "--proxy-image", proxyImage(t)}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"--image", testimage.Toolbox(t)}, tc.args...)
			p := start(t, append(args, "--", "/toolbox", "trap")...)
			id := p.runID(t)
			p.stdout.waitFor(t, regexp.MustCompile("ready"), 30*time.Second)
			assert.NilError(t, p.cmd.Process.Kill())
			p.exitCode(t, 5*time.Second)

			// Nothing could clean up: the run's objects are still there…
			assert.Equal(t, len(runObjects(t, id)), tc.objects)
			socketDir := filepath.Join(os.TempDir(), "sandbox-"+id)
			_, err := os.Stat(socketDir)
			assert.Equal(t, err == nil, tc.name == "private host", "socket directory %s: %v", socketDir, err)
			lock := lockFileOf(t, p.cmd.Process.Pid)
			assert.Assert(t, lock != "", "no lock file names the killed run's pid")
			// …until gc, which sees the run's workspace lock is free. (It is
			// scoped to this run: other test packages' runs share the daemon.)
			out, err := exec.Command(sandboxBin, "gc", "--run", id).CombinedOutput()
			assert.NilError(t, err, "%s", out)
			assert.Assert(t, strings.Contains(string(out), id), "gc output: %s", out)
			assertNothingLeft(t, id)
			_, err = os.Stat(socketDir)
			assert.Assert(t, os.IsNotExist(err), "socket directory %s left after gc", socketDir)
			_, err = os.Stat(lock)
			assert.Assert(t, os.IsNotExist(err), "lock file %s left after gc", lock)
		})
	}
}

// lockFileOf is the workspace lock file that process pid wrote its pid in.
func lockFileOf(t *testing.T, pid int) string {
	t.Helper()
	dir := filepath.Join(os.TempDir(), "sandbox-action-locks")
	entries, err := os.ReadDir(dir)
	assert.NilError(t, err)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err == nil && strings.TrimSpace(string(b)) == strconv.Itoa(pid) {
			return filepath.Join(dir, e.Name())
		}
	}
	return ""
}

func runObjects(t *testing.T, runID string) []engine.Object {
	t.Helper()
	objs, err := engine.New(testimage.NewClient(t)).List(context.Background())
	assert.NilError(t, err)
	var mine []engine.Object
	for _, o := range objs {
		if o.RunID == runID {
			mine = append(mine, o)
		}
	}
	return mine
}

func assertNothingLeft(t *testing.T, runID string) {
	t.Helper()
	c := testimage.NewClient(t)
	f := client.Filters{}.Add("label", spec.LabelRunID+"="+runID)
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		cs, err := c.ContainerList(context.Background(), client.ContainerListOptions{All: true, Filters: f})
		if err != nil {
			return poll.Error(err)
		}
		ns, err := c.NetworkList(context.Background(), client.NetworkListOptions{Filters: f})
		if err != nil {
			return poll.Error(err)
		}
		vs, err := c.VolumeList(context.Background(), client.VolumeListOptions{Filters: f})
		if err != nil {
			return poll.Error(err)
		}
		if n := len(cs.Items) + len(ns.Items) + len(vs.Items); n > 0 {
			return poll.Continue("%d objects of run %s remain", n, runID)
		}
		// The run's volume by its default name: one docker made without
		// labels would escape the filter above.
		if _, err := c.VolumeInspect(context.Background(), "sandbox-"+runID+"-egress", client.VolumeInspectOptions{}); err == nil {
			return poll.Continue("volume sandbox-%s-egress remains", runID)
		}
		return poll.Success()
	}, poll.WithTimeout(time.Second))
}

// watch collects a stream and lets a test wait for a line.
type watch struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

func newWatch() *watch { return &watch{changed: make(chan struct{}, 1)} }

func (w *watch) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.buf.Write(p)
	w.mu.Unlock()
	select {
	case w.changed <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (w *watch) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// waitFor returns the first line matching re, failing after d.
func (w *watch) waitFor(t *testing.T, re *regexp.Regexp, d time.Duration) string {
	t.Helper()
	deadline := time.After(d)
	for {
		sc := bufio.NewScanner(strings.NewReader(w.String()))
		for sc.Scan() {
			if re.MatchString(sc.Text()) {
				return sc.Text()
			}
		}
		select {
		case <-w.changed:
		case <-deadline:
			t.Fatalf("no line matching %s within %s; got:\n%s", re, d, w.String())
		}
	}
}

var _ io.Writer = (*watch)(nil)

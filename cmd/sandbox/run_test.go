package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
	"gotest.tools/v3/golden"
	"gotest.tools/v3/poll"

	"github.com/org/sandbox-action/internal/testimage"
	"github.com/org/sandbox-action/pkg/plan"
	"github.com/org/sandbox-action/pkg/spec"
)

// cli runs the sandbox CLI in-process with env as its whole environment.
func cli(ctx context.Context, env map[string]string, args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = realMain(ctx, args, &streams{
		in: strings.NewReader(""), out: &out, err: &errOut,
		lookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
	})
	return code, out.String(), errOut.String()
}

// workspace is a temporary working tree the sandbox user (1000) can write.
func workspace(t *testing.T) string {
	t.Helper()
	ws := t.TempDir()
	assert.NilError(t, os.Chmod(ws, 0o777))
	return ws
}

// toolboxArgs runs the toolbox with --network public: the tests that use
// them are about everything but the network, and a private run in-process
// needs the proxy image (see privateArgs). The e2e tests run the real
// binary in the default, private mode.
func toolboxArgs(t *testing.T, ws string, extra ...string) []string {
	t.Helper()
	return append([]string{"run", "--image", testimage.Toolbox(t), "--workspace", ws, "--user", "1000:1000", "--memory", "256m", "--network", "public"}, extra...)
}

func TestRunExitStatus(t *testing.T) {
	ws := workspace(t)
	for _, tc := range []struct {
		name       string
		args       []string
		wantCode   int
		wantOut    string
		wantErrSub string
	}{
		{name: "success streams stdout", args: []string{"--", "/toolbox", "echo", "hello"}, wantCode: 0, wantOut: "hello\n"},
		{name: "agent exit code", args: []string{"--", "/toolbox", "exit", "42"}, wantCode: 42},
		{name: "command not in image", args: []string{"--", "/no/such/agent"}, wantCode: 127, wantErrSub: "/no/such/agent"},
		{name: "timeout", args: []string{"--timeout", "1s", "--", "/toolbox", "sleep", "60s"}, wantCode: 124, wantErrSub: "timed out after 1s (stopping it took"},
		{name: "out of memory", args: []string{"--memory", "32m", "--", "/toolbox", "alloc", "256"}, wantCode: 137, wantErrSub: "the command was killed for running out of memory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := cli(context.Background(), nil, toolboxArgs(t, ws, tc.args...)...)
			assert.Equal(t, code, tc.wantCode, "stderr: %s", errOut)
			if tc.wantOut != "" {
				assert.Equal(t, out, tc.wantOut)
			}
			assert.Check(t, is.Contains(errOut, tc.wantErrSub))
		})
	}
}

func TestRunRefusesBadInputClearly(t *testing.T) {
	ws := workspace(t)
	file := filepath.Join(ws, "file")
	assert.NilError(t, os.WriteFile(file, nil, 0o644))
	image := testimage.Toolbox(t)
	for _, tc := range []struct {
		name    string
		env     map[string]string
		args    []string
		wantErr string
	}{
		{"flag-like image", nil, []string{"run", "--image=-v", "--workspace", ws, "--", "x"}, `image "-v": must not start with "-"`},
		{"image with spaces", nil, []string{"run", "--image", "a b", "--workspace", ws, "--", "x"}, `image "a b"`},
		{"absent image", nil, []string{"run", "--image", "sandbox-action-test/absent:1", "--workspace", ws, "--", "x"}, "docker load"},
		{"env value with newline", nil, []string{"run", "--image", image, "--workspace", ws, "-e", "A=1\n2", "--", "x"}, "line break"},
		{"env name with =", nil, []string{"run", "--image", image, "--workspace", ws, "-e", "=x", "--", "x"}, "empty variable name"},
		{"secret with value on the command line", nil, []string{"run", "--image", image, "--workspace", ws, "--secret", "T=v", "--", "x"}, "give only the NAME"},
		{"unset secret", nil, []string{"run", "--image", image, "--workspace", ws, "--secret", "T", "--", "x"}, "secret T is not set"},
		{"missing workspace", nil, []string{"run", "--image", image, "--workspace", filepath.Join(ws, "nope"), "--", "x"}, "no such file or directory"},
		{"workspace is a file", nil, []string{"run", "--image", image, "--workspace", file, "--", "x"}, "is a file, not a directory"},
		{"unknown type", nil, []string{"run", "--image", image, "--workspace", ws, "--type", "fastest", "--", "x"}, "valid: gvisor, standard"},
		{"negative memory", nil, []string{"run", "--image", image, "--workspace", ws, "--memory", "-1g", "--", "x"}, "--memory"},
		{"nothing to run", nil, []string{"run", "--image", image, "--workspace", ws}, "nothing to run"},
		{"unknown agent", nil, []string{"run", "--image", image, "--workspace", ws, "--agent", "copilot", "--prompt", "hi"}, "unknown agent"},
		{"no daemon", map[string]string{}, []string{"run", "--image", image, "--workspace", ws, "--", "x"}, "not reachable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "no daemon" {
				t.Setenv("DOCKER_HOST", "unix://"+filepath.Join(t.TempDir(), "none.sock"))
			}
			code, _, errOut := cli(context.Background(), tc.env, tc.args...)
			assert.Equal(t, code, exitSandboxError, "stderr: %s", errOut)
			assert.Check(t, is.Contains(errOut, tc.wantErr))
		})
	}
}

func TestRunSecondRunOnSameWorkspace(t *testing.T) {
	ws := workspace(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &lockedBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- realMain(ctx, toolboxArgs(t, ws, "--", "/toolbox", "trap"),
			&streams{in: strings.NewReader(""), out: out, err: &bytes.Buffer{}, lookupEnv: noEnv})
	}()
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		if strings.Contains(out.String(), "ready") {
			return poll.Success()
		}
		return poll.Continue("first run not ready yet")
	}, poll.WithTimeout(30*time.Second), poll.WithDelay(20*time.Millisecond))
	code, _, errOut := cli(context.Background(), nil, toolboxArgs(t, ws, "--", "/toolbox", "echo")...)
	assert.Equal(t, code, exitSandboxError, errOut)
	assert.Check(t, is.Contains(errOut, "is using "+ws))
	assert.Check(t, is.Contains(errOut, "--wait"))
	cancel()
	assert.Equal(t, <-done, exitCancelled)
}

func noEnv(string) (string, bool) { return "", false }

func TestCmdPrintsTheDockerRunLine(t *testing.T) {
	ws := t.TempDir()
	code, out, errOut := cli(context.Background(), map[string]string{"API_TOKEN": "s3cret"},
		"cmd", "--image", "agents:1", "--workspace", ws, "--user", "1000:1000", "--name", "sandbox-golden", "--network", "public",
		"--memory", "1g", "--cpus", "1.5", "-e", "MODE=review", "--secret", "API_TOKEN",
		"--", "claude", "-p", "it's a test")
	assert.Equal(t, code, 0, errOut)
	assert.Assert(t, !strings.Contains(out, "s3cret"), "secret value printed: %s", out)
	// The run id and the workspace path vary from run to run.
	out = runIDPattern.ReplaceAllString(out, "run-id=RUNID")
	out = strings.ReplaceAll(out, ws, "/WORKSPACE")
	out = strings.ReplaceAll(out, spec.SeccompFile, "SECCOMP_FILE")
	out = strings.ReplaceAll(out, plan.LocalOrigin(), "UID@HOST")
	golden.Assert(t, out, "cmd-public.golden")
}

// proxyImageTag is the egress proxy image of in-process private runs.
const proxyImageTag = "sandbox-action-test/cmd-proxy:dev"

// proxyImage is an image of this tree's sandbox binary, whose `sandbox
// proxy` is the egress proxy and which holds the forwarder.
func proxyImage(t *testing.T) string {
	t.Helper()
	return testimage.Ensure(t, testimage.Spec{
		Tag:        proxyImageTag,
		Binaries:   map[string]string{"/usr/local/bin/sandbox": "./cmd/sandbox"},
		Entrypoint: []string{"/usr/local/bin/sandbox"},
	})
}

// privateArgs place a private run's proxy in a container from proxyImage:
// in-process the CLI is this test binary, which can be neither the host
// proxy nor the forwarder.
func privateArgs(t *testing.T) []string {
	t.Helper()
	return []string{"--proxy-transport", "container", "--proxy-image", proxyImage(t)}
}

var runIDPattern = regexp.MustCompile(`run-id=[0-9a-f]{12}`)

func TestCmdPrintsThePrivateModeScript(t *testing.T) {
	image := testimage.Toolbox(t)
	self, err := sandboxBinary()
	assert.NilError(t, err)
	for _, transport := range []string{"host", "container"} {
		t.Run(transport, func(t *testing.T) {
			ws := t.TempDir()
			code, out, errOut := cli(context.Background(), map[string]string{"ANTHROPIC_API_KEY": "sk-real"},
				"cmd", "--image", image, "--workspace", ws, "--user", "1000:1000", "--name", "sandbox-golden",
				"--network", "private", "--proxy-transport", transport, "--agent", "claude", "--prompt", "review")
			assert.Equal(t, code, 0, errOut)
			assert.Assert(t, !strings.Contains(out, "sk-real"), "key printed: %s", out)
			out = runIDPattern.ReplaceAllString(out, "run-id=RUNID")
			out = regexp.MustCompile(`sandbox-[0-9a-f]{12}`).ReplaceAllString(out, "sandbox-RUNID")
			out = strings.ReplaceAll(out, ws, "/WORKSPACE")
			out = strings.ReplaceAll(out, self, "/BIN/sandbox")
			out = strings.ReplaceAll(out, filepath.Join(os.TempDir(), "sandbox-RUNID"), "/TMP/sandbox-RUNID")
			out = strings.ReplaceAll(out, spec.SeccompFile, "SECCOMP_FILE")
			out = strings.ReplaceAll(out, image, "IMAGE")
			out = strings.ReplaceAll(out, plan.LocalOrigin(), "UID@HOST")
			golden.Assert(t, out, "cmd-private-"+transport+".golden")
		})
	}
}

var runIDLine = regexp.MustCompile(`sandbox: run ([0-9a-f]{12}):`)

func regexpQuote(s string) string { return regexp.QuoteMeta(s) }

func TestGitHubTokenNeverEntersTheSandbox(t *testing.T) {
	ws := t.TempDir()
	env := map[string]string{"GITHUB_TOKEN": "ghs_x", "GH_TOKEN": "ghs_y"}
	for _, args := range [][]string{
		{"-e", "GITHUB_TOKEN"},
		{"-e", "GITHUB_TOKEN=ghs_z"},
		{"--secret", "GH_TOKEN"},
	} {
		code, out, errOut := cli(context.Background(), env, append([]string{"cmd", "--image", "a:1", "--workspace", ws, "--user", "1000:1000"}, append(args, "--", "x")...)...)
		assert.Equal(t, code, exitSandboxError, "%v: %s", args, out)
		assert.Check(t, is.Contains(errOut, "is a GitHub credential, which never enters the sandbox"), "%v", args)
	}
}

// Private is the default network: the sandbox has no network of its own
// (a direct connect is "network unreachable"), and the summary says so;
// --network public opts out, and the summary says that too.
func TestRunIsPrivateByDefault(t *testing.T) {
	ws := workspace(t)
	base := []string{"run", "--image", testimage.Toolbox(t), "--workspace", ws, "--user", "1000:1000", "--memory", "256m"}
	dial := []string{"--", "/toolbox", "dial", "172.17.0.1:9"}

	code, out, errOut := cli(context.Background(), nil, slices.Concat(base, privateArgs(t), dial)...)
	assert.Check(t, is.Equal(code, 1), "stdout: %s\nstderr: %s", out, errOut)
	assert.Check(t, is.Contains(errOut, "network=private (default)"))
	assert.Check(t, is.Contains(errOut, "network is unreachable"))
	assert.Check(t, is.Contains(errOut, "sandbox: network private (default) with an empty allowlist: the sandbox can reach no host; add --allow HOST (or a bundle such as @go), or opt out with --network public\n"))

	code, _, errOut = cli(context.Background(), nil, slices.Concat(base, []string{"--network", "public"}, dial)...)
	assert.Check(t, is.Contains(errOut, "network=public (from flag, opting out of the private default)"))
	assert.Check(t, !strings.Contains(errOut, "network is unreachable"), "exit %d, stderr: %s", code, errOut)
}

// Where the default private mode cannot run, the error says how to opt out.
func TestPrivateWithoutItsProxyImageSaysHowToOptOut(t *testing.T) {
	ws := workspace(t)
	code, out, errOut := cli(context.Background(), nil, "run", "--image", testimage.Toolbox(t), "--workspace", ws, "--user", "1000:1000",
		"--proxy-transport", "container", "--proxy-image", "sandbox-action-test/absent:1", "--", "/toolbox", "echo", "ran")
	assert.Check(t, is.Equal(code, exitSandboxError))
	assert.Check(t, is.Equal(out, ""))
	assert.Check(t, is.Contains(errOut, "the egress proxy runs in a container here (--proxy-transport), from image sandbox-action-test/absent:1, which this Docker host does not have"))
	assert.Check(t, is.Contains(errOut, "or opt out of private mode (network private, default) with --network public"))
}

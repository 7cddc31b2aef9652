package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/moby/moby/client"

	"github.com/org/sandbox-action/pkg/spec"
)

// childRunEnv names a file holding a spec.Run: when it is set, the test
// binary runs that one run as the product would and exits, so that a test
// can SIGKILL a real runner process mid-run.
const childRunEnv = "SBXTEST_ENGINE_CHILD_RUN"

// childBindEnv is "PATH UID GID": when it is set, the test binary binds a
// host proxy's socket at PATH for a sandbox of UID:GID, as startHostProxy
// does, and exits (1 with the error on stderr): a test runs it as another
// user.
const childBindEnv = "SBXTEST_ENGINE_CHILD_BIND"

// childConnectEnv is a unix socket's path: when it is set, the test binary
// connects to it and exits (1 with the error on stderr): a test runs it as
// another user.
const childConnectEnv = "SBXTEST_ENGINE_CHILD_CONNECT"

func TestMain(m *testing.M) {
	if path := os.Getenv(childConnectEnv); path != "" {
		c, err := net.Dial("unix", path)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		c.Close()
		os.Exit(0)
	}
	if v := os.Getenv(childBindEnv); v != "" {
		var path string
		var uid, gid int
		if _, err := fmt.Sscan(v, &path, &uid, &gid); err != nil {
			fmt.Fprintln(os.Stderr, "child bind:", err)
			os.Exit(2)
		}
		f, err := bindSocket(path, uid, gid)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		f.Close()
		os.Exit(0)
	}
	if path := os.Getenv(childRunEnv); path != "" {
		if err := childRun(path); err != nil {
			fmt.Fprintln(os.Stderr, "child run:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// childRun performs the run described in path with the default lock
// directory, streaming the sandbox's output to this process's stdout.
func childRun(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var r spec.Run
	if err := json.Unmarshal(data, &r); err != nil {
		return err
	}
	c, err := client.New(client.FromEnv)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.Ping(context.Background(), client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		return err
	}
	_, err = New(c).Run(context.Background(), r, RunOptions{Stdout: os.Stdout, Stderr: os.Stderr})
	return err
}

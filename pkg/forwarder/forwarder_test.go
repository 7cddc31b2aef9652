package forwarder

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/org/sandbox-action/internal/syncbuf"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// roleEnv makes the test binary play a part in a test instead of running
// tests: "forward" runs Main on its arguments; "child" runs one of the
// commands in child.
const roleEnv = "FORWARDER_TEST_ROLE"

func TestMain(m *testing.M) {
	switch os.Getenv(roleEnv) {
	case "forward":
		os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	case "child":
		os.Exit(child(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// child is the command the forwarder runs in these tests.
func child(args []string) int {
	switch args[0] {
	case "exit":
		n, _ := strconv.Atoi(args[1])
		return n
	case "kill-self":
		syscall.Kill(os.Getpid(), syscall.SIGTERM)
		time.Sleep(5 * time.Second)
		return 0
	case "cat":
		io.Copy(os.Stdout, os.Stdin)
		fmt.Fprintln(os.Stderr, "to stderr")
		return 0
	case "touch":
		os.WriteFile(args[1], nil, 0o644)
		return 0
	case "dial":
		// dial PORT MESSAGE: send MESSAGE, close the write side, print
		// the answer.
		c, err := net.Dial("tcp", "127.0.0.1:"+args[1])
		if err != nil {
			fmt.Println("dial:", err)
			return 1
		}
		io.WriteString(c, args[2])
		c.(*net.TCPConn).CloseWrite()
		b, err := io.ReadAll(c)
		fmt.Printf("%s", b)
		if err != nil {
			return 1
		}
		return 0
	case "signals":
		// Counts SIGHUP and SIGINT until SIGTERM, then prints the counts.
		ch := make(chan os.Signal, 16)
		signal.Notify(ch, syscall.SIGHUP, syscall.SIGINT, syscall.SIGTERM)
		counts := map[string]int{}
		fmt.Println("ready")
		timeout := time.After(10 * time.Second)
		for {
			select {
			case s := <-ch:
				counts[s.String()]++
				if s == syscall.SIGTERM {
					fmt.Printf("hangup=%d interrupt=%d terminated=%d\n", counts["hangup"], counts["interrupt"], counts["terminated"])
					return 7
				}
			case <-timeout:
				fmt.Println("timeout")
				return 1
			}
		}
	case "interrupts":
		// Counts SIGINT for a while after saying ready, then prints it.
		ch := make(chan os.Signal, 16)
		signal.Notify(ch, syscall.SIGINT)
		fmt.Println("ready")
		n := 0
		deadline := time.After(10 * time.Second)
		for {
			select {
			case <-ch:
				n++
				if n == 1 {
					deadline = time.After(500 * time.Millisecond)
				}
			case <-deadline:
				fmt.Printf("interrupts=%d\n", n)
				return 0
			}
		}
	}
	return 99
}

// exitCode runs cmd and returns its exit code.
func exitCode(t *testing.T, err error) int {
	t.Helper()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	assert.NilError(t, err)
	return 0
}

// freePort returns a loopback port nothing listens on.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NilError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// upperServer serves socket as the egress proxy does (taking over the
// connections the forwarder hands over): it answers each connection with
// everything it received, in upper case, once the client has finished
// sending.
func upperServer(t *testing.T, socket string) {
	t.Helper()
	unix, err := net.Listen("unix", socket)
	assert.NilError(t, err)
	ln := HandoverListener(unix)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				b, _ := io.ReadAll(c)
				c.Write(bytes.ToUpper(b))
			}()
		}
	}()
}

// childEnv makes commands started by the forwarder process play "child".
func childEnv(cmd *exec.Cmd) {
	env := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, roleEnv+"=") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, roleEnv+"=forward")
}

func TestRelaysLoopbackPortsToSockets(t *testing.T) {
	dir := t.TempDir()
	proxy, gateway := filepath.Join(dir, "proxy.sock"), filepath.Join(dir, "gateway.sock")
	upperServer(t, proxy)
	upperServer(t, gateway)
	pp, gp := freePort(t), freePort(t)
	routes := []Route{{pp, proxy}, {gp, gateway}}

	for _, port := range []int{pp, gp} {
		msg := strings.Repeat("half-closed both ways ", 3000) + strconv.Itoa(port)
		cmd := childCommand(t, routes, "dial", strconv.Itoa(port), msg)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		assert.NilError(t, cmd.Run(), stderr.String())
		assert.Equal(t, stdout.String(), strings.ToUpper(msg))
	}
}

// childCommand runs the forwarder with routes around "child args".
func childCommand(t *testing.T, routes []Route, args ...string) *exec.Cmd {
	return childCommandWith(t, nil, routes, args...)
}

func childCommandWith(t *testing.T, extra []string, routes []Route, args ...string) *exec.Cmd {
	t.Helper()
	self, err := os.Executable()
	assert.NilError(t, err)
	// The forwarder runs the child through a tiny shim: the same binary,
	// whose role the forwarder's environment would otherwise make
	// "forward" again.
	argv := append(append([]string(nil), extra...), Args(routes, append([]string{"/usr/bin/env", roleEnv + "=child", self}, args...))...)
	cmd := exec.Command(self, argv...)
	childEnv(cmd)
	return cmd
}

func TestSocketThatDoesNotAnswerStopsBeforeTheCommand(t *testing.T) {
	dir := t.TempDir()
	for name, socket := range map[string]string{
		"missing": filepath.Join(dir, "missing.sock"),
		// A socket file nobody serves: its proxy has exited.
		"stale": staleSocket(t, filepath.Join(dir, "stale.sock")),
	} {
		t.Run(name, func(t *testing.T) {
			marker := filepath.Join(dir, name+"-ran")
			cmd := childCommandWith(t, []string{"--check-timeout", "100ms"}, []Route{{freePort(t), socket}}, "touch", marker)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			code := exitCode(t, cmd.Run())
			assert.Equal(t, code, ExitSetup)
			assert.Check(t, is.Contains(stderr.String(), "sandbox forward: the egress socket "+socket+" does not answer"))
			_, err := os.Stat(marker)
			assert.Check(t, errors.Is(err, os.ErrNotExist), "the command ran")

			// The check gives up after its timeout, not the default's.
			start := time.Now()
			assert.Check(t, check(socket, 50*time.Millisecond) != nil)
			assert.Check(t, time.Since(start) < DefaultCheckTimeout, "check took %s", time.Since(start))
		})
	}
}

// staleSocket leaves a socket file at path whose listener is closed.
func staleSocket(t *testing.T, path string) string {
	t.Helper()
	ln, err := net.Listen("unix", path)
	assert.NilError(t, err)
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	return path
}

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	notExec := filepath.Join(dir, "not-executable")
	assert.NilError(t, os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644))
	self, err := os.Executable()
	assert.NilError(t, err)
	for _, tc := range []struct {
		name string
		argv []string
		want int
	}{
		{"the command's own code", []string{"/usr/bin/env", roleEnv + "=child", self, "exit", "3"}, 3},
		{"success", []string{"/usr/bin/env", roleEnv + "=child", self, "exit", "0"}, 0},
		{"killed by a signal: 128+N", []string{"/usr/bin/env", roleEnv + "=child", self, "kill-self"}, 128 + int(syscall.SIGTERM)},
		{"not in PATH", []string{"no-such-command-in-path"}, ExitNotFound},
		{"no such file", []string{filepath.Join(dir, "missing")}, ExitNotFound},
		{"not executable", []string{notExec}, ExitNotExecutable},
		{"a directory", []string{dir}, ExitNotExecutable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(self, Args(nil, tc.argv)...)
			childEnv(cmd)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			assert.Equal(t, exitCode(t, cmd.Run()), tc.want, stderr.String())
		})
	}
}

func TestBadArgumentsExit125(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--route", "3128", "--", "true"}, `route "3128": want PORT=SOCKET`},
		{[]string{"--route", "0=/s", "--", "true"}, `port "0" is not a number from 1 to 65535`},
		{[]string{"--route", "80=rel.sock", "--", "true"}, `socket "rel.sock" is not an absolute path`},
		{[]string{"--route", "80=/s"}, "no command"},
		{[]string{"--bogus", "--", "true"}, `unexpected argument "--bogus"`},
		{[]string{"--check-timeout", "soon", "--", "true"}, "--check-timeout"},
	} {
		var stderr bytes.Buffer
		w, err := os.CreateTemp(t.TempDir(), "stderr")
		assert.NilError(t, err)
		code := Main(tc.args, nil, nil, w)
		w.Seek(0, io.SeekStart)
		io.Copy(&stderr, w)
		w.Close()
		assert.Check(t, is.Equal(code, ExitSetup), "%q", tc.args)
		assert.Check(t, is.Contains(stderr.String(), tc.want))
	}
}

func TestStdioIsTheCommands(t *testing.T) {
	cmd := childCommand(t, nil, "cat")
	cmd.Stdin = strings.NewReader("from stdin\n")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	assert.NilError(t, cmd.Run())
	assert.Equal(t, stdout.String(), "from stdin\n")
	assert.Equal(t, stderr.String(), "to stderr\n")
}

// Without a terminal, signals come from docker-init (docker stop, docker
// kill, a forwarded Ctrl-C): each reaches the command exactly once, and the
// command's own handling decides the exit code.
func TestSignalsReachTheCommandOnce(t *testing.T) {
	cmd := childCommand(t, nil, "signals")
	stdout, err := cmd.StdoutPipe()
	assert.NilError(t, err)
	assert.NilError(t, cmd.Start())
	lines := bufio.NewScanner(stdout)
	assert.Assert(t, lines.Scan() && lines.Text() == "ready", lines.Text())
	assert.NilError(t, cmd.Process.Signal(syscall.SIGHUP))
	assert.NilError(t, cmd.Process.Signal(syscall.SIGINT))
	time.Sleep(100 * time.Millisecond)
	assert.NilError(t, cmd.Process.Signal(syscall.SIGTERM))
	assert.Assert(t, lines.Scan())
	assert.Equal(t, lines.Text(), "hangup=1 interrupt=1 terminated=1")
	assert.Equal(t, exitCode(t, cmd.Wait()), 7)
}

// With a terminal (docker run -it), Ctrl-C is sent by the terminal to its
// foreground process group: the command must get it once, not once from the
// terminal and again from the forwarder.
func TestCtrlCFromATerminalReachesTheCommandOnce(t *testing.T) {
	master, slave := openPTY(t)
	cmd := childCommand(t, nil, "interrupts")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	// A session of its own with the terminal as controlling terminal, as
	// docker-init gives the forwarder under `docker run -it`.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	assert.NilError(t, cmd.Start())
	slave.Close()

	out := &lockedBuffer{}
	go io.Copy(out, master)
	waitFor(t, out, "ready")
	// ^C, as a person types it.
	_, err := master.Write([]byte{3})
	assert.NilError(t, err)
	waitFor(t, out, "interrupts=")
	assert.NilError(t, cmd.Wait())
	assert.Check(t, is.Contains(out.String(), "interrupts=1"))
}

func waitFor(t *testing.T, b *lockedBuffer, s string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(b.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in %q", s, b.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// lockedBuffer is written by goroutines while the test reads it.
type lockedBuffer = syncbuf.Buffer

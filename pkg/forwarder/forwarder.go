// Package forwarder is the first program of a private sandbox. The sandbox
// has no network (`--network none`): its only ways out are unix sockets in
// a directory mounted read-only from the run, served by the egress proxy and
// the credential gateway. Tools expect TCP (HTTP_PROXY=http://127.0.0.1:3128),
// so the forwarder listens on loopback ports and relays each connection to
// its socket, then runs the image's own command under it.
//
// It is the container's entrypoint, so its memory and threads count against
// the sandbox's limits: it runs on one OS thread for Go code, hands each
// connection over to the proxy (see HandOver) and relays bytes, with the
// kernel's splice, only where a descriptor cannot be passed.
package forwarder

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// Exit codes the forwarder uses for its own failures, as `docker run` does
// for the same ones.
const (
	// ExitSetup: a socket does not answer or a port cannot be bound; the
	// command was not started.
	ExitSetup = 125
	// ExitNotExecutable: the command exists but cannot be run.
	ExitNotExecutable = 126
	// ExitNotFound: the command is not in the image.
	ExitNotFound = 127
)

// DefaultCheckTimeout bounds how long the forwarder waits for a socket to
// answer before giving up with ExitSetup.
const DefaultCheckTimeout = 2 * time.Second

// Route relays connections to one loopback port to one unix socket.
type Route struct {
	// Port is the TCP port on 127.0.0.1.
	Port int
	// Socket is the unix socket's path inside the sandbox.
	Socket string
}

// String renders r as ParseRoute reads it: "PORT=SOCKET".
func (r Route) String() string { return strconv.Itoa(r.Port) + "=" + r.Socket }

// ParseRoute reads "PORT=SOCKET", e.g. "3128=/run/sandbox/proxy.sock".
func ParseRoute(s string) (Route, error) {
	port, sock, ok := strings.Cut(s, "=")
	if !ok {
		return Route{}, fmt.Errorf("route %q: want PORT=SOCKET", s)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 1 || p > 65535 {
		return Route{}, fmt.Errorf("route %q: port %q is not a number from 1 to 65535", s, port)
	}
	if !strings.HasPrefix(sock, "/") {
		return Route{}, fmt.Errorf("route %q: socket %q is not an absolute path", s, sock)
	}
	return Route{Port: p, Socket: sock}, nil
}

// Args returns the forwarder's arguments after the program and subcommand
// names: one --route per route, then "--", then argv. Main reads them.
func Args(routes []Route, argv []string) []string {
	var args []string
	for _, r := range routes {
		args = append(args, "--route", r.String())
	}
	return append(append(args, "--"), argv...)
}

// Config is one forwarder run.
type Config struct {
	Routes []Route
	// Argv is the command to run: the image's ENTRYPOINT followed by the
	// run's command (or the image's CMD).
	Argv []string
	// CheckTimeout bounds the wait for each socket (DefaultCheckTimeout
	// when zero).
	CheckTimeout time.Duration
	// Stdin, Stdout and Stderr are handed to the command untouched.
	Stdin, Stdout, Stderr *os.File
}

// Main parses args (see Args), runs the forwarder and returns the exit
// code. Its own messages go to stderr, prefixed "sandbox forward:".
func Main(args []string, stdin, stdout, stderr *os.File) int {
	cfg := Config{Stdin: stdin, Stdout: stdout, Stderr: stderr}
	for len(args) > 0 && args[0] != "--" {
		switch {
		case args[0] == "--route" && len(args) > 1:
			r, err := ParseRoute(args[1])
			if err != nil {
				fmt.Fprintf(stderr, "sandbox forward: %v\n", err)
				return ExitSetup
			}
			cfg.Routes = append(cfg.Routes, r)
			args = args[2:]
		case args[0] == "--check-timeout" && len(args) > 1:
			d, err := time.ParseDuration(args[1])
			if err != nil {
				fmt.Fprintf(stderr, "sandbox forward: --check-timeout: %v\n", err)
				return ExitSetup
			}
			cfg.CheckTimeout = d
			args = args[2:]
		default:
			fmt.Fprintf(stderr, "sandbox forward: unexpected argument %q: want [--route PORT=SOCKET]... -- COMMAND [ARG...]\n", args[0])
			return ExitSetup
		}
	}
	if len(args) < 2 {
		fmt.Fprintln(stderr, "sandbox forward: no command: want [--route PORT=SOCKET]... -- COMMAND [ARG...]")
		return ExitSetup
	}
	cfg.Argv = args[1:]
	code, err := Run(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "sandbox forward: %v\n", err)
	}
	return code
}

// Run binds every route, checks that each socket answers, then runs the
// command until it exits, relaying connections and passing on signals
// meanwhile. It returns the command's exit code (128+N when signal N
// killed it), or one of the Exit codes with an error.
func Run(cfg Config) (int, error) {
	timeout := cfg.CheckTimeout
	if timeout <= 0 {
		timeout = DefaultCheckTimeout
	}
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for _, r := range cfg.Routes {
		if err := check(r.Socket, timeout); err != nil {
			return ExitSetup, err
		}
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(r.Port))
		if err != nil {
			return ExitSetup, fmt.Errorf("listen for %s: %w", r.Socket, err)
		}
		lns = append(lns, ln)
		go serve(ln, r.Socket)
	}
	return runChild(cfg)
}

// check dials socket until it answers or timeout passes. A socket that
// exists but refuses means the proxy behind it has gone.
func check(socket string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("unix", socket, timeout)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the egress socket %s does not answer (%v): the run's proxy is not serving, so the sandbox would have no way out; nothing was started", socket, unwrapOp(err))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func unwrapOp(err error) error {
	var op *net.OpError
	if errors.As(err, &op) {
		return op.Err
	}
	return err
}

// serve relays every connection on ln to socket.
func serve(ln net.Listener, socket string) {
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of descriptors or similar: back off rather than spin.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		go relay(c.(*net.TCPConn), socket)
	}
}

// relay hands c over to the proxy behind socket or, where it cannot, copies
// both ways between c and a new connection to socket, passing on each side's
// end of stream, until both are done.
func relay(c *net.TCPConn, socket string) {
	defer c.Close()
	u, err := net.Dial("unix", socket)
	if err != nil {
		// The client sees its connection closed: as close as a relay gets
		// to "connection refused".
		return
	}
	uc := u.(*net.UnixConn)
	defer uc.Close()
	if taken, err := HandOver(uc, c); taken || err != nil {
		// The proxy holds the connection now, or it cannot be served.
		return
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		copyBytes(uc, c)
		_ = uc.CloseWrite()
	})
	copyBytes(c, uc)
	_ = c.CloseWrite()
	wg.Wait()
}

// relayBuffer is the size of each direction's buffer when relaying.
const relayBuffer = 64 << 10

// copyBytes copies src to dst through a buffer, never with splice: the
// relay is for where a descriptor cannot be handed over, which is gVisor,
// and there splicing between gVisor's own TCP socket and a host unix socket
// corrupts the stream (a 100 MB HTTPS download failed with "bad record
// MAC"), while plain reads and writes do not.
func copyBytes(dst, src net.Conn) {
	_, _ = io.CopyBuffer(struct{ io.Writer }{dst}, struct{ io.Reader }{src}, make([]byte, relayBuffer))
}

// forwarded are the signals passed on to the command. SIGCHLD and the
// terminal's job-control signals are not.
var forwarded = []os.Signal{
	syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGTERM,
	syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH, syscall.SIGALRM,
}

// runChild starts the command and waits for it, passing on signals.
//
// With a terminal on stdin (docker run -it), the command gets its own
// process group in the terminal's foreground: Ctrl-C then reaches the
// command once, from the terminal, and never a second time through us.
// Without one, signals arrive only from docker-init, and are passed on.
func runChild(cfg Config) (int, error) {
	path, err := exec.LookPath(cfg.Argv[0])
	if err != nil {
		return lookupExitCode(err), err
	}
	cmd := exec.Command(path)
	cmd.Args = cfg.Argv
	cmd.Stdin, cmd.Stdout, cmd.Stderr = cfg.Stdin, cfg.Stdout, cfg.Stderr
	if cfg.Stdin != nil && isTerminal(cfg.Stdin) {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Foreground: true, Ctty: 0}
		// Once the command owns the terminal we are in a background group:
		// writing or reading there must not stop us.
		signal.Ignore(syscall.SIGTTOU, syscall.SIGTTIN)
	}
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, forwarded...)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		return startExitCode(err), err
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				_ = cmd.Process.Signal(s)
			case <-done:
				return
			}
		}
	}()
	err = cmd.Wait()
	close(done)
	if err == nil {
		return 0, nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return ee.ExitCode(), nil
	}
	return ExitSetup, err
}

// lookupExitCode is docker's status for a command it could not find or run.
func lookupExitCode(err error) int {
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
		return ExitNotFound
	}
	return ExitNotExecutable
}

func startExitCode(err error) int {
	switch {
	case errors.Is(err, os.ErrNotExist):
		return ExitNotFound
	case errors.Is(err, os.ErrPermission), errors.Is(err, syscall.ENOEXEC), errors.Is(err, syscall.EISDIR):
		return ExitNotExecutable
	}
	return ExitSetup
}

// isTerminal reports whether f is a terminal.
func isTerminal(f *os.File) bool {
	var t syscall.Termios
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), syscall.TCGETS, uintptr(unsafe.Pointer(&t)))
	return errno == 0
}

package engine

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/org/sandbox-action/pkg/egress"
	"github.com/org/sandbox-action/pkg/spec"
)

// proxyUID is the unprivileged user the host proxy runs as when the engine
// runs as root (the action, a root shell): it holds only the model key, so
// a flaw in its parsing gives an attacker nobody's rights, not root's.
const proxyUID = 65534

// hostProxyStopTimeout bounds how long a stopped host proxy gets to print its
// counts before it is killed.
const hostProxyStopTimeout = 3 * time.Second

// hostProxy is `sandbox proxy` running as a child process on sockets this
// process created in the run's directory.
type hostProxy struct {
	cmd    *exec.Cmd
	dir    string
	stdout lockedBuffer
	log    *logWatcher
	exited chan struct{}
	err    error
}

// startHostProxy makes the run's socket directory (0711 once ready: the
// sandbox's user can reach a socket it knows the name of, and list
// nothing), binds the sockets there as the sandbox's user (mode 0600), and
// starts the proxy with them as inherited descriptors: the proxy, as
// nobody, never needs the directory itself. The sockets accept connections
// from the moment they are bound, so the sandbox need not wait for the
// proxy to be ready.
func startHostProxy(h *spec.HostProxy, s spec.RunSpec) (*hostProxy, error) {
	// Closed to everyone else until the sockets are the sandbox's user's:
	// a socket is connectable from its bind until its chmod.
	if err := os.Mkdir(h.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("egress socket directory: %w", err)
	}
	hp := &hostProxy{dir: h.Dir, exited: make(chan struct{})}
	hp.log = &logWatcher{}
	fail := func(err error) (*hostProxy, error) {
		hp.removeDir()
		return nil, err
	}
	uid, gid := userIDs(s.User)
	names := []string{spec.ProxySocket}
	if s.Egress.Gateway {
		names = append(names, spec.GatewaySocket)
	}
	var files []*os.File
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	for _, name := range names {
		f, err := bindSocket(filepath.Join(h.Dir, name), uid, gid)
		if err != nil {
			return fail(err)
		}
		files = append(files, f)
	}
	if s.Egress.Forwarder == "" {
		if err := copyFile(h.Binary, filepath.Join(h.Dir, spec.ForwarderInDir), 0o755); err != nil {
			return fail(fmt.Errorf("copy the forwarder: %w", err))
		}
	}
	// Chmod, not the mode of Mkdir, which the umask may have narrowed.
	if err := os.Chmod(h.Dir, 0o711); err != nil {
		return fail(fmt.Errorf("egress socket directory: %w", err))
	}

	gateway := ""
	if s.Egress.Gateway {
		gateway = "fd:4"
	}
	// The secrets (the model keys, the session token) go through a pipe,
	// never the proxy's environment: the environment block a process
	// starts with is readable in /proc by every process of its uid (nobody,
	// shared) until it makes itself undumpable, and its bytes stay there.
	env, err := envPipe(h.Env)
	if err != nil {
		return fail(fmt.Errorf("egress proxy environment: %w", err))
	}
	files = append(files, env)
	args := append(h.ProxyArgs("fd:3", gateway), "--"+egress.EnvFDFlag, strconv.Itoa(2+len(files)))
	cmd := exec.Command(h.Binary, args...)
	if os.Geteuid() == 0 {
		// Run as nobody, the binary is executed through a descriptor
		// opened here: nobody may lack search rights on its directory
		// (a build in a private temp dir, a binary under /root).
		bin, err := os.Open(h.Binary)
		if err != nil {
			return fail(fmt.Errorf("egress proxy binary: %w", err))
		}
		files = append(files, bin)
		cmd.Path = "/proc/self/fd/" + strconv.Itoa(2+len(files))
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: proxyUID, Gid: proxyUID, Groups: []uint32{}}}
	} else {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	// Nothing: never DOCKER_HOST, the Docker socket's path or a GitHub
	// token from this process's environment; its secrets come through env.
	cmd.Env = []string{}
	cmd.ExtraFiles = files
	cmd.Stdout, cmd.Stderr = &hp.stdout, hp.log
	cmd.Dir = "/"
	// Its own process group: a Ctrl-C in the terminal is for the run,
	// which stops the proxy itself once the sandbox is gone.
	cmd.SysProcAttr.Setpgid = true
	// A runner killed with SIGKILL takes its proxy with it.
	cmd.SysProcAttr.Pdeathsig = syscall.SIGTERM
	if err := cmd.Start(); err != nil {
		return fail(fmt.Errorf("start the egress proxy %s: %w", h.Binary, err))
	}
	hp.cmd = cmd
	go func() {
		hp.err = cmd.Wait()
		close(hp.exited)
	}()
	return hp, nil
}

// envPipe returns the read end of a pipe holding vars as NUL-terminated
// NAME=VALUE entries, for the proxy's --env-fd.
func envPipe(vars []spec.EnvVar) (*os.File, error) {
	var b bytes.Buffer
	for _, e := range vars {
		b.WriteString(e.Name + "=" + e.Value + "\x00")
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	// A pipe holds 64 KiB; a CA bundle could be more than that.
	go func() {
		w.Write(b.Bytes())
		w.Close()
	}()
	return r, nil
}

// bindSocket creates a listening unix socket at path owned by uid:gid with
// mode 0600 and returns it as a file to hand to the proxy. Whoever can
// connect to it can use the run's allowlist, so it is refused when it
// cannot be the sandbox's user's alone: made by another user than root
// for a sandbox running as someone else.
func bindSocket(path string, uid, gid int) (*os.File, error) {
	// sun_path holds 108 bytes with the terminating NUL.
	if len(path) > 107 {
		return nil, fmt.Errorf("egress socket %s: the path is %d bytes, and a unix socket's may have at most 107: use a shorter run directory", path, len(path))
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("egress socket: %w", err)
	}
	// The proxy's copy of the listener must keep the file after ours goes.
	ln.SetUnlinkOnClose(false)
	defer ln.Close()
	if err := os.Chmod(path, 0o600); err != nil {
		return nil, fmt.Errorf("egress socket: %w", err)
	}
	if err := os.Lchown(path, uid, gid); err != nil && uid != os.Geteuid() {
		// Not root, and the sandbox runs as someone else (--user). Mode
		// 0666 would let every local user who finds the directory use
		// the run's proxy.
		return nil, &SocketOwnerError{UID: uid, ProcessUID: os.Geteuid(), Err: err}
	}
	// Otherwise the socket is ours, mode 0600, and the sandbox runs as us:
	// only the group could not be set.
	f, err := ln.File()
	if err != nil {
		return nil, fmt.Errorf("egress socket: %w", err)
	}
	return f, nil
}

// SocketOwnerError says that the host transport cannot give the sandbox's
// user its sockets alone.
type SocketOwnerError struct {
	// UID is the sandbox's, ProcessUID this process's.
	UID, ProcessUID int
	Err             error
}

func (e *SocketOwnerError) Error() string {
	return fmt.Sprintf("egress socket: the sandbox runs as uid %d, and this process (uid %d, not root) cannot make a socket that user's alone (%v); "+
		"anyone else who could connect would use the run's proxy: run the sandbox as uid %d (--user %d:GID), run sandbox as root, or use --proxy-transport container",
		e.UID, e.ProcessUID, e.Err, e.ProcessUID, e.ProcessUID)
}

func (e *SocketOwnerError) Unwrap() error { return e.Err }

// userIDs reads "UID[:GID]"; empty (a relaxed root run) is root.
func userIDs(user string) (int, int) {
	u, g, ok := strings.Cut(user, ":")
	uid, _ := strconv.Atoi(u)
	if !ok {
		return uid, uid
	}
	gid, _ := strconv.Atoi(g)
	return uid, gid
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// failed reports, without waiting, whether the proxy has already exited.
func (hp *hostProxy) failed() error {
	if hp == nil {
		return nil
	}
	select {
	case <-hp.exited:
		return fmt.Errorf("egress proxy exited (%v):\n%s", hp.err, hp.log.tail())
	default:
		return nil
	}
}

// stop asks the proxy to shut down, which makes it print its final counts,
// and returns them.
func (hp *hostProxy) stop() ([]byte, error) {
	_ = hp.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-hp.exited:
	case <-time.After(hostProxyStopTimeout):
		_ = hp.cmd.Process.Kill()
		<-hp.exited
		return nil, fmt.Errorf("egress proxy did not stop within %s", hostProxyStopTimeout)
	}
	var ee *exec.ExitError
	if hp.err != nil && !errors.As(hp.err, &ee) {
		return nil, fmt.Errorf("egress proxy: %w", hp.err)
	}
	if hp.err != nil && len(bytes.TrimSpace(hp.stdout.Bytes())) == 0 {
		return nil, fmt.Errorf("egress proxy failed (%v):\n%s", hp.err, hp.log.tail())
	}
	return bytes.TrimSpace(hp.stdout.Bytes()), nil
}

// close kills the proxy if it still runs and removes the run's directory.
func (hp *hostProxy) close() error {
	if hp == nil {
		return nil
	}
	if hp.cmd != nil {
		select {
		case <-hp.exited:
		default:
			_ = hp.cmd.Process.Kill()
			<-hp.exited
		}
	}
	return hp.removeDir()
}

func (hp *hostProxy) removeDir() error {
	if err := os.RemoveAll(hp.dir); err != nil {
		return fmt.Errorf("cleanup: %w", err)
	}
	return nil
}

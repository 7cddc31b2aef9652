// Command gvisorsetup registers gVisor's runtime with the local Docker
// daemon, idempotently: it merges the runtimes this project recommends
// (gvisor.Recommended) into daemon.json, keeping every other setting, has
// dockerd reload its configuration (SIGHUP, no restart: running containers
// are untouched) and waits until `docker info` lists them as registered.
//
// It needs root (daemon.json and dockerd belong to root) and the runsc
// binary (Debian: apt-get install runsc). `make gvisor` and `.ci/run` run
// it; it exits non-zero when the daemon does not end up with the runtimes.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/org/sandbox-action/pkg/engine"
	"github.com/org/sandbox-action/pkg/gvisor"
)

func main() {
	config := flag.String("config", "/etc/docker/daemon.json", "the daemon's configuration file")
	runsc := flag.String("runsc", "", "the runsc binary (default: runsc on PATH)")
	pidfile := flag.String("pidfile", "/var/run/docker.pid", "dockerd's pid file, for the reload signal")
	wait := flag.Duration("wait", 30*time.Second, "how long to wait for the daemon to list the runtimes")
	flag.Parse()
	if err := run(*config, *runsc, *pidfile, *wait); err != nil {
		fmt.Fprintf(os.Stderr, "gvisorsetup: %v\n", err)
		os.Exit(1)
	}
}

func run(config, runsc, pidfile string, wait time.Duration) error {
	path, err := findRunsc(runsc)
	if err != nil {
		return err
	}
	want := gvisor.Recommended(path)
	changed, err := register(config, want)
	if err != nil {
		return err
	}
	if len(changed) > 0 {
		fmt.Printf("gvisorsetup: %s: registered %s\n", config, strings.Join(changed, ", "))
		if err := reload(pidfile); err != nil {
			return err
		}
	} else {
		fmt.Printf("gvisorsetup: %s already registers %s\n", config, names(want))
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	got, err := awaitRegistered(ctx, want)
	if err != nil {
		return err
	}
	for _, r := range got {
		fmt.Printf("gvisorsetup: docker info: %s\n", r)
	}
	return nil
}

// findRunsc resolves the runsc binary and checks that it runs.
func findRunsc(flagPath string) (string, error) {
	p := flagPath
	if p == "" {
		var err error
		if p, err = exec.LookPath("runsc"); err != nil {
			return "", errors.New("runsc is not installed (Debian: apt-get install runsc; elsewhere see https://gvisor.dev/docs/user_guide/install/)")
		}
	}
	p, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	if out, err := exec.Command(p, "--version").CombinedOutput(); err != nil {
		return "", fmt.Errorf("%s --version: %w: %s", p, err, out)
	}
	return p, nil
}

// register merges rs into the daemon.json at path, creating it when absent,
// and returns the runtimes it added or replaced. The file is replaced
// atomically, keeping its permissions, so dockerd never reads half of it.
func register(path string, rs []gvisor.Runtime) ([]string, error) {
	data, err := os.ReadFile(path)
	mode := os.FileMode(0o644)
	switch {
	case errors.Is(err, os.ErrNotExist):
		data = nil
	case err != nil:
		return nil, err
	default:
		if st, err := os.Stat(path); err == nil {
			mode = st.Mode().Perm()
		}
	}
	out, changed, err := gvisor.Merge(data, rs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (nothing was changed)", path, err)
	}
	if len(changed) == 0 {
		return nil, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".daemon.json-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(out); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	return changed, os.Rename(tmp.Name(), path)
}

// reload sends dockerd SIGHUP, which makes it reread daemon.json; runtimes
// are among the settings it applies without a restart.
func reload(pidfile string) error {
	pid, err := dockerdPID(pidfile)
	if err != nil {
		return err
	}
	if err := syscall.Kill(pid, syscall.SIGHUP); err != nil {
		return fmt.Errorf("reload dockerd (pid %d): %w", pid, err)
	}
	fmt.Printf("gvisorsetup: sent SIGHUP to dockerd (pid %d)\n", pid)
	return nil
}

// dockerdPID reads dockerd's pid file, or finds the process by name when
// the daemon was started without one.
func dockerdPID(pidfile string) (int, error) {
	if data, err := os.ReadFile(pidfile); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil && isDockerd(pid) {
			return pid, nil
		}
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/comm")
	for _, p := range procs {
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		if isDockerd(pid) {
			return pid, nil
		}
	}
	return 0, fmt.Errorf("no dockerd process found (pid file %s): is the daemon local and running?", pidfile)
}

func isDockerd(pid int) bool {
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	return err == nil && strings.TrimSpace(string(comm)) == "dockerd"
}

// awaitRegistered polls the daemon until it reports every runtime in want
// with the same path and arguments.
func awaitRegistered(ctx context.Context, want []gvisor.Runtime) ([]gvisor.Runtime, error) {
	c, err := engine.Connect(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	e := engine.New(c)
	var missing []string
	for {
		h, err := e.Host(ctx)
		if err == nil {
			missing = missing[:0]
			var got []gvisor.Runtime
			for _, w := range want {
				i := slices.IndexFunc(h.Runtimes, func(r gvisor.Runtime) bool { return r.Name == w.Name })
				if i < 0 || h.Runtimes[i].Path != w.Path || !slices.Equal(h.Runtimes[i].Args, w.Args) {
					missing = append(missing, w.String())
					continue
				}
				got = append(got, h.Runtimes[i])
			}
			if len(missing) == 0 {
				return got, nil
			}
		}
		select {
		case <-ctx.Done():
			if err != nil {
				return nil, err
			}
			return nil, fmt.Errorf("the daemon does not list %s after the reload (dockerd started with --add-runtime of the same name, or another --config-file?)", strings.Join(missing, ", "))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func names(rs []gvisor.Runtime) string {
	ns := make([]string, len(rs))
	for i, r := range rs {
		ns[i] = r.Name
	}
	return strings.Join(ns, ", ")
}

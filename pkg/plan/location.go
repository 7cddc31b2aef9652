package plan

import (
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
)

// DefaultDockerSocket is where the Docker daemon listens unless DOCKER_HOST
// names another unix socket.
const DefaultDockerSocket = "/var/run/docker.sock"

// insideLocations are system directories a workspace may not be, contain or
// lie inside: mounting one writable gives the sandbox the host's kernel
// interfaces, configuration, boot files, the daemon's data or its socket.
var insideLocations = []string{"/proc", "/sys", "/dev", "/run", "/var/run", "/etc", "/boot", "/var/lib/docker"}

// containLocations may hold a workspace but may not be one or lie inside
// one: home directories, which hold the user's keys, shell start-up files
// and agent credentials. (The root directory contains everything.)
var containLocations = []string{"/root"}

// DockerSocket returns the path of the daemon's unix socket: DOCKER_HOST's
// when it names one, else the default. It returns "" when DOCKER_HOST names
// a TCP or SSH daemon, whose socket is not on this host.
func DockerSocket(getenv func(string) string) string {
	host := getenv("DOCKER_HOST")
	if host == "" {
		return DefaultDockerSocket
	}
	u, err := url.Parse(host)
	if err != nil || u.Scheme != "unix" {
		return ""
	}
	return u.Path
}

// checkLocation refuses a workspace (absolute, symlinks resolved) that is,
// contains or lies inside a system location, or that has a unix socket in
// its top two levels.
func checkLocation(ws, home, socket string) error {
	if ws == "/" {
		return fmt.Errorf("workspace / is the root directory; choose a project directory")
	}
	inside := append([]string(nil), insideLocations...)
	// A socket directly in / adds nothing: / itself is refused above, and
	// every workspace lies inside it.
	if socket != "" && filepath.Dir(socket) != "/" {
		inside = append(inside, filepath.Dir(socket))
	}
	contain := append([]string(nil), containLocations...)
	if home != "" {
		contain = append(contain, home)
	}
	for _, loc := range inside {
		for _, l := range resolved(loc) {
			switch {
			case ws == l:
				return fmt.Errorf("workspace %s is a system location; choose a project directory", ws)
			case within(l, ws):
				return fmt.Errorf("workspace %s contains the system location %s; choose a project directory", ws, l)
			case within(ws, l):
				return fmt.Errorf("workspace %s lies inside the system location %s; choose a project directory", ws, l)
			}
		}
	}
	for _, loc := range contain {
		for _, l := range resolved(loc) {
			switch {
			case ws == l:
				return fmt.Errorf("workspace %s is a home directory; choose a project directory inside it", ws)
			case within(l, ws):
				return fmt.Errorf("workspace %s contains the home directory %s; choose a project directory", ws, l)
			}
		}
	}
	return findSocket(ws)
}

// resolved returns loc cleaned and, when different, with its symlinks
// resolved (/var/run is often a link to /run).
func resolved(loc string) []string {
	loc = filepath.Clean(loc)
	out := []string{loc}
	if r, err := filepath.EvalSymlinks(loc); err == nil && r != loc {
		out = append(out, r)
	}
	return out
}

// within reports whether path lies strictly inside dir.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != "." && filepath.IsLocal(rel)
}

// findSocket refuses a workspace with a unix socket in its top two levels:
// a daemon's socket there (Docker's, an SSH agent's) would be reachable from
// inside the sandbox. Symlinks are not followed: inside the sandbox they
// point into the container, not the host.
func findSocket(ws string) error {
	top, err := os.ReadDir(ws)
	if err != nil {
		return fmt.Errorf("workspace %s: %w", ws, err)
	}
	for _, e := range top {
		p := filepath.Join(ws, e.Name())
		if e.Type()&fs.ModeSocket != 0 {
			return socketErr(ws, p)
		}
		if !e.IsDir() {
			continue
		}
		// An unreadable directory is left alone: the sandbox, running as
		// the same user, cannot list it either.
		sub, _ := os.ReadDir(p)
		for _, s := range sub {
			if s.Type()&fs.ModeSocket != 0 {
				return socketErr(ws, filepath.Join(p, s.Name()))
			}
		}
	}
	return nil
}

func socketErr(ws, path string) error {
	return fmt.Errorf("workspace %s holds the unix socket %s, which the sandbox could use to reach a host service; "+
		"remove it or choose another directory", ws, path)
}

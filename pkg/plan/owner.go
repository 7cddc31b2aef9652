package plan

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// Workspace resolves dir to the absolute, symlink-free path of a directory
// and returns it with its owner as "UID:GID". It refuses a directory that is
// not safe to mount writable into a sandbox: one that is, contains or lies
// inside a system location (/proc, /etc, /run, the Docker socket's
// directory…), the root or the user's home directory itself, or one with a
// unix socket in its top two levels. Both front doors call it.
func Workspace(dir string) (path, owner string, err error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", "", fmt.Errorf("workspace %q: %w", dir, err)
	}
	abs, err = filepath.EvalSymlinks(abs)
	if err != nil {
		return "", "", fmt.Errorf("workspace %q: %w", dir, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return "", "", fmt.Errorf("workspace %q: %w", dir, err)
	}
	if !fi.IsDir() {
		return "", "", fmt.Errorf("workspace %q is a file, not a directory", dir)
	}
	home, _ := os.UserHomeDir()
	if err := checkLocation(abs, home, DockerSocket(os.Getenv)); err != nil {
		return "", "", err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return abs, "", nil
	}
	return abs, fmt.Sprintf("%d:%d", st.Uid, st.Gid), nil
}

// LocalOrigin is "UID@HOST" for this process: the origin label of the runs
// it starts, and what `sandbox gc` without --run limits itself to.
func LocalOrigin() string {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown-host"
	}
	return fmt.Sprintf("%d@%s", os.Getuid(), host)
}

package plan

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// Workspace resolves dir to the absolute, symlink-free path of a directory
// and returns it with its owner as "UID:GID".
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
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return abs, "", nil
	}
	return abs, fmt.Sprintf("%d:%d", st.Uid, st.Gid), nil
}

package plan

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// socketGroup returns the path and group of the Docker daemon's socket on
// this host; ok is false when there is no local socket to stat. A variable
// so tests can name a group.
var socketGroup = func() (path string, gid uint32, ok bool) {
	path = DockerSocket(os.Getenv)
	if path == "" {
		return "", 0, false
	}
	fi, err := os.Stat(path)
	if err != nil {
		return path, 0, false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return path, 0, false
	}
	return path, st.Gid, true
}

// checkGroup refuses a user given explicitly (--user, config user; source
// says which) whose
// group gives the sandbox power over the host: root's group, or the group
// of the Docker socket (which answers the Engine API, root on the host, to
// its members). A UID alone is refused too: docker then takes the group
// from the image's /etc/passwd, or 0 when the image has none. Relaxing root
// (--relax root) allows all of them.
func checkGroup(user, source string, relaxRoot bool) error {
	if relaxRoot {
		return nil
	}
	name := fmt.Sprintf("user %q (from %s)", user, source)
	uid, gid, ok := strings.Cut(user, ":")
	if !ok {
		return fmt.Errorf("%s gives no group, so docker picks the image's group for UID %s or 0 (root): give UID:GID, or relax root", name, uid)
	}
	n, err := strconv.ParseUint(gid, 10, 32)
	if err != nil {
		return fmt.Errorf("%s: group %q is not a number", name, gid)
	}
	if n == 0 {
		return fmt.Errorf("%s runs with group 0 (root): give another GID, or relax root", name)
	}
	if path, sg, ok := socketGroup(); ok && uint32(n) == sg {
		return fmt.Errorf("%s runs with group %d, which owns the Docker socket %s and so controls the host: give another GID, or relax root", name, n, path)
	}
	return nil
}

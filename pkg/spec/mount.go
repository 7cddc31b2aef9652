package spec

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"unicode"
)

// Mount is an extra bind mount of a host path into the sandbox, besides the
// workspace: the workspace's git directory laid read-only over itself, or a
// read-only context directory for the agent.
type Mount struct {
	// Source is the absolute host path (a file or a directory).
	Source string
	// Target is the absolute path inside the sandbox.
	Target string
	// ReadOnly makes the mount read-only, recursively on engines that
	// support it.
	ReadOnly bool
}

// systemTargets are paths inside the container that a mount may neither
// replace nor lie under: the kernel's and the runtime's own file systems,
// and the directories the sandbox itself provides (tmpfs HOME and /tmp).
var systemTargets = []string{"/proc", "/sys", "/dev", "/etc", TmpDir, HomeDir}

// mountValue renders the --mount value: docker's CSV syntax, with
// "readonly" when the mount is read-only.
func (m Mount) mountValue() string {
	return bindMountValue(filepath.Clean(m.Source), filepath.Clean(m.Target), m.ReadOnly)
}

// checkMountPath refuses what a mount path must never be: relative, with a
// ".." element, flag-like, or with control characters or commas that a
// person pasting the command would misread.
func checkMountPath(p string) string {
	switch {
	case p == "":
		return "required"
	case strings.IndexFunc(p, unicode.IsControl) >= 0:
		return "must not contain control characters"
	case strings.HasPrefix(p, "-"):
		return `must not start with "-"`
	case !filepath.IsAbs(p):
		return "must be an absolute path"
	case slices.Contains(strings.Split(p, "/"), ".."):
		return `must not contain ".."`
	}
	return ""
}

// masks accepts only paths strictly inside the workspace.
func (v *validator) masks(ms []string, role string) {
	if len(ms) > 0 && role != RoleSandbox {
		v.add("masks", "", "only the sandbox takes masks")
	}
	for i, m := range ms {
		field := fmt.Sprintf("masks[%d]", i)
		if r := checkMountPath(m); r != "" {
			v.add(field, m, r)
			continue
		}
		if !strings.HasPrefix(filepath.Clean(m), WorkspaceDir+"/") {
			v.add(field, m, "must lie inside "+WorkspaceDir)
		}
	}
}

func (v *validator) mounts(ms []Mount, role string) {
	if len(ms) > 0 && role != RoleSandbox {
		v.add("mounts", "", "only the sandbox takes extra mounts")
	}
	seen := map[string]int{}
	for i, m := range ms {
		field := fmt.Sprintf("mounts[%d]", i)
		if r := checkMountPath(m.Source); r != "" {
			v.add(field+".source", m.Source, r)
		}
		if r := checkMountPath(m.Target); r != "" {
			v.add(field+".target", m.Target, r)
			continue
		}
		t := filepath.Clean(m.Target)
		switch {
		case t == "/":
			v.add(field+".target", m.Target, "must not replace the container's root")
		case t == WorkspaceDir:
			v.add(field+".target", m.Target, "is where the workspace is mounted")
		case seen[t] > 0:
			v.add(field+".target", m.Target, fmt.Sprintf("duplicate of mounts[%d]", seen[t]-1))
		default:
			for _, sys := range systemTargets {
				if t == sys || strings.HasPrefix(t, sys+"/") {
					v.add(field+".target", m.Target, fmt.Sprintf("overlaps %s, which the sandbox's runtime provides", sys))
					break
				}
			}
		}
		seen[t] = i + 1
	}
}

package plan

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/org/sandbox-action/pkg/spec"
)

// TestGitStillReadsAReadOnlyGitDirectory lays ProtectGit's mounts read-only
// over a real repository, as the sandbox does, in a private mount namespace
// of a user namespace (unshare -rm: no privileges needed), and runs the
// host's git there: what an agent does to look at the change (status,
// diff, log, show) works; committing fails on the read-only file system.
func TestGitStillReadsAReadOnlyGitDirectory(t *testing.T) {
	ws := newRepo(t)
	lib := newRepo(t)
	git(t, ws, "submodule", "add", "-q", lib, "lib")
	git(t, ws, "commit", "-qm", "submodule")
	assert.NilError(t, os.WriteFile(filepath.Join(ws, "README"), []byte("hi\nchanged\n"), 0o644))

	g, err := ProtectGit(ws, ws)
	assert.NilError(t, err)
	assert.Assert(t, is.Len(g.Mounts, 2))
	var script []string
	for _, m := range g.Mounts {
		// Target inside the sandbox is WorkspaceDir/REL; here the tree is
		// at ws.
		dst := filepath.Join(ws, strings.TrimPrefix(m.Target, spec.WorkspaceDir))
		script = append(script, "mount --bind "+quote(m.Source)+" "+quote(dst), "mount -o remount,bind,ro "+quote(dst))
	}
	const gitc = "git -c safe.directory=* -c user.name=t -c user.email=t@example.invalid"
	script = append(script,
		"set +e",
		gitc+" status --porcelain; echo status=$?",
		gitc+" diff --stat; echo diff=$?",
		gitc+" log --oneline; echo log=$?",
		gitc+" show --stat HEAD~1; echo show=$?",
		gitc+" -C lib log --oneline; echo sublog=$?",
		gitc+" commit -qam x 2>&1; echo commit=$?",
		"touch .git/planted 2>&1; echo touch=$?",
	)
	cmd := exec.Command("unshare", "-rm", "sh", "-ec", strings.Join(script, "\n"))
	cmd.Dir = ws
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null")
	out, err := cmd.CombinedOutput()
	assert.NilError(t, err, "%s", out)
	got := string(out)
	for _, want := range []string{" M README\n", "status=0", "README | 1 +", "diff=0", "submodule\n", "log=0", "show=0", "sublog=0"} {
		assert.Check(t, is.Contains(got, want))
	}
	assert.Check(t, is.Contains(got, "Read-only file system"))
	assert.Check(t, is.Contains(got, "commit=128"))
	assert.Check(t, !strings.Contains(got, "touch=0"), "%s", got)
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

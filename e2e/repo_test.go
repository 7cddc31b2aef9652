package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
)

// testRepo is the pull request's repository, made with the host's git:
// a base branch and a PR branch whose difference reproduces the files of
// pkg/review/testdata/diff/pr.diff, which the replayed review is about.
type testRepo struct {
	base, head       string // branch names
	baseSHA, headSHA string
	// diff is `git diff base head`, what GitHub serves as the PR's diff.
	diff string
}

// lines returns "<prefix> 1" … "<prefix> n", one a line.
func lines(prefix string, n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "%s %d\n", prefix, i)
	}
	return b.String()
}

// makeRepo creates the checkout in dir: the base branch with config (the
// base branch's .github/sandbox.yml), the PR branch on top, checked out
// detached at the PR's head as actions/checkout leaves a pull request.
func makeRepo(t *testing.T, dir, config string) testRepo {
	t.Helper()
	r := testRepo{base: "master", head: "changes"}
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.name=Codertocat", "-c", "user.email=codertocat@users.noreply.github.com",
			"-c", "init.defaultBranch=master", "-c", "commit.gpgsign=false"}, args...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir,
			"GIT_AUTHOR_DATE=2026-11-30T12:00:00Z", "GIT_COMMITTER_DATE=2026-11-30T12:00:00Z")
		out, err := cmd.CombinedOutput()
		assert.NilError(t, err, "git %s: %s", strings.Join(args, " "), out)
		return strings.TrimSpace(string(out))
	}
	write := func(rel, content string) {
		t.Helper()
		p := filepath.Join(dir, rel)
		assert.NilError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		assert.NilError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	calc := func(l5, l53 string) string {
		body := lines("// line", 60)
		body = strings.Replace(body, "// line 5\n", l5, 1)
		body = strings.Replace(body, "// line 53\n", l53, 1)
		return "package calc\n\n" + body
	}

	git("init", "-q")
	write("calc.go", calc("// line 5\n", "// line 53\n"))
	write("go.sum", "example.com/a v1.0.0 h1:abc=\n")
	write("logo.png", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR old")
	write("old_helper.go", "package calc\n\n// Helper is deprecated.\nfunc Helper() int {\n\treturn 42\n}\n")
	write("util.go", "package calc\n\n"+lines("// util", 30)+"func Util() {}\n")
	write(".github/sandbox.yml", config)
	git("add", "-A")
	git("commit", "-q", "-m", "Base")
	r.baseSHA = git("rev-parse", "HEAD")

	git("checkout", "-q", "-b", r.head)
	write("calc.go", calc("// line 5 changed: divide(a, b) without zero check\nfunc Divide(a, b int) int { return a / b }\n",
		"// line 53 changed\nvar password = \"hunter2-secret\"\n"))
	write("go.sum", "example.com/a v1.0.0 h1:abc=\nexample.com/b v1.1.0 h1:def=\n")
	write("logo.png", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR new")
	write("new_feature.go", "package calc\n\n// Feature adds.\nfunc Feature(a, b int) int {\n\treturn a + b\n}\n")
	assert.NilError(t, os.Remove(filepath.Join(dir, "old_helper.go")))
	assert.NilError(t, os.MkdirAll(filepath.Join(dir, "utils"), 0o755))
	git("mv", "util.go", "utils/util.go")
	write("utils/util.go", "package calc\n\n"+lines("// util", 30)+"func Util() error { return nil }\n")
	git("add", "-A")
	git("commit", "-q", "-m", "Add Divide and Feature")
	r.headSHA = git("rev-parse", "HEAD")
	r.diff = git("diff", "-M", r.baseSHA, r.headSHA) + "\n"
	git("checkout", "-q", "--detach", r.headSHA)
	return r
}

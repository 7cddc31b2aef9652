package plan

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

func TestWorkspace(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	assert.NilError(t, os.WriteFile(file, nil, 0o600))
	link := filepath.Join(t.TempDir(), "link")
	assert.NilError(t, os.Symlink(dir, link))

	// A symlink is resolved: the bind mount and the lock name the real tree.
	path, owner, err := Workspace(link)
	assert.NilError(t, err)
	real, _ := filepath.EvalSymlinks(dir)
	assert.Check(t, is.Equal(path, real))
	// The test made dir, so it belongs to this process's user and group.
	assert.Check(t, is.Equal(owner, fmt.Sprintf("%d:%d", os.Getuid(), os.Getgid())))

	_, _, err = Workspace(filepath.Join(dir, "missing"))
	assert.Check(t, is.ErrorContains(err, "no such file or directory"))
	_, _, err = Workspace(file)
	assert.Check(t, is.ErrorContains(err, "is a file, not a directory"))
}

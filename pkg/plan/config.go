package plan

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/org/sandbox-action/pkg/config"
)

// WorkspaceConfig is a config file found for a workspace.
type WorkspaceConfig struct {
	// File is the parsed file.
	File *config.File
	// Path is its absolute path with symlinks resolved: what trust is
	// recorded against.
	Path string
	// InWorkspace says the file lies in the workspace, so that a sandbox
	// run (or a checked-out branch) may have written it: its privileged
	// settings need trust. A file named explicitly outside the workspace
	// is the person's own.
	InWorkspace bool
}

// FindConfig reads the config file of the workspace ws (absolute, symlinks
// resolved, as Workspace returns it; given is the workspace as the person
// wrote it): path when set, else ws/.github/sandbox.yml. Without a file
// and without path the error satisfies errors.Is(err, fs.ErrNotExist).
//
// A config file in the workspace that is a symlink leading out of it is
// refused: it would make the run read a host file a sandbox chose, under
// the workspace's name.
func FindConfig(path, given, ws string) (WorkspaceConfig, error) {
	var c WorkspaceConfig
	if path == "" {
		var err error
		if path, err = config.Find(ws); err != nil {
			return c, err
		}
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return c, fmt.Errorf("config %s: %w", path, err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return c, fmt.Errorf("read config: %w", err)
	}
	// In the workspace as written, or as it really is.
	c.InWorkspace = inside(ws, real)
	if !c.InWorkspace {
		for _, dir := range []string{ws, given} {
			if d, err := filepath.Abs(dir); dir != "" && err == nil && inside(d, abs) {
				return c, fmt.Errorf("config %s: a symlink to %s, outside the workspace; refusing to follow it", path, real)
			}
		}
	}
	c.Path = real
	if fi, err := os.Stat(real); err == nil && !fi.Mode().IsRegular() {
		return c, fmt.Errorf("config %s: not a regular file", path)
	}
	c.File, err = LoadConfig(real, ws)
	return c, err
}

// loadConfig reads the request's config file and checks that its privileged
// settings are trusted; a workspace without a config file has none.
func loadConfig(req Request, ws string) (*config.File, error) {
	if req.NoConfig && req.ConfigPath == "" {
		return nil, nil
	}
	c, err := FindConfig(req.ConfigPath, req.Workspace, ws)
	if errors.Is(err, fs.ErrNotExist) && req.ConfigPath == "" {
		// No config file is fine unless one was named explicitly.
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if c.InWorkspace {
		if err := config.CheckTrust(c.File, c.Path, req.Trust, ""); err != nil {
			return c.File, err
		}
	}
	return c.File, nil
}

// checkEnvFiles refuses an env file inside the workspace ws that copies a
// variable from the caller's environment (a line with a NAME alone). Such a
// file is data a sandbox may have written, like the config file: a line
// added to it would copy a host secret into the next run. Lines that set
// NAME=VALUE only give the sandbox values it could have written itself.
func checkEnvFiles(files []string, ws string) error {
	for _, f := range files {
		abs, err := filepath.Abs(f)
		if err != nil {
			continue // reading the file reports it
		}
		real, err := filepath.EvalSymlinks(abs)
		if err != nil || !inside(ws, real) {
			continue
		}
		lines, err := readEnvFile(f)
		if err != nil {
			return err
		}
		for _, l := range lines {
			if !strings.Contains(l, "=") {
				return fmt.Errorf("--env-file %s: %s copies a value from your environment, which an env file inside the workspace "+
					"(data a sandbox run may have written) may not do: pass -e %s, or keep the file outside the workspace", f, l, l)
			}
		}
	}
	return nil
}

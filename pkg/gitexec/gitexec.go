// Package gitexec runs git on a working tree a sandbox has touched, without
// running anything the repository chose.
//
// Git runs programs named by its configuration and attributes: an fsmonitor,
// hooks, filter drivers, diff and merge drivers, an ssh command, credential
// helpers, a pager, an editor. A sandboxed agent that could write them (the
// sandbox mounts the git directory read-only, but a tree may arrive with
// them planted) would have the host run its code at the next `git status`.
// Every git command this project runs on such a tree goes through Command,
// which:
//
//   - pins each command-valued setting git reads by a fixed name
//     (core.fsmonitor, core.hooksPath, core.sshCommand, credential.helper,
//     core.askPass, diff.external, gpg signing…) to an inert value;
//   - lists the repository's configuration first (reading configuration runs
//     nothing) and blanks every driver it defines under a name of its own
//     choosing: filter.<name>.clean/smudge/process, diff.<name>.textconv and
//     command, merge.<name>.driver, remote.<name>.uploadpack/receivepack/vcs,
//     credential.<url>.helper, gpg.*program. Attributes (.gitattributes is
//     worktree data a sandbox writes freely) can only name drivers defined
//     in configuration, so no attribute reaches a program;
//   - gives these values through GIT_CONFIG_COUNT/KEY/VALUE, which beat
//     every configuration file and, unlike `-c`, cannot be confused by a
//     subsection name containing "=";
//   - ignores the system configuration and system attributes, refuses the
//     ext:: and git:// transports, never pages, prompts or opens an editor,
//     and does not recurse into submodules' working trees;
//   - adds --no-ext-diff and --no-textconv to diff, log, show and
//     format-patch.
//
// The person's global configuration (~/.gitconfig: name, e-mail) still
// applies: it is theirs, not the repository's, and the pinned values win
// over it too. safe.directory is set to the tree: git's ownership check
// exists to stop another user's repository from running its configuration,
// which Command already prevents, and the GitHub Action runs as root on a
// tree the runner user owns.
//
// Command needs git 2.31 or later (GIT_CONFIG_COUNT); an older git is
// refused rather than run unprotected.
package gitexec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// fixed pins the settings git reads under fixed names.
var fixed = [][2]string{
	// Empty reads as false where core.fsmonitor is a boolean (git 2.36
	// and later) and as no hook before.
	{"core.fsmonitor", ""},
	{"core.hooksPath", os.DevNull},
	{"core.sshCommand", "ssh"},
	{"core.askPass", ""},
	{"core.pager", "cat"},
	{"core.editor", ":"},
	{"sequence.editor", ":"},
	{"core.attributesFile", os.DevNull},
	{"credential.helper", ""},
	{"diff.external", ""},
	{"diff.ignoreSubmodules", "dirty"},
	{"submodule.recurse", "false"},
	{"status.submoduleSummary", "false"},
	{"protocol.ext.allow", "never"},
	{"protocol.git.allow", "never"},
	{"commit.gpgSign", "false"},
	{"tag.gpgSign", "false"},
	{"push.gpgSign", "false"},
	{"log.showSignature", "false"},
	{"gc.auto", "0"},
	{"maintenance.auto", "false"},
}

// drivers pins what a repository defines under names of its own: section,
// variable (lowercase, as git lists them) and the inert value.
var drivers = []struct {
	section, variable, value string
}{
	{"filter", "clean", ""},
	{"filter", "smudge", ""},
	{"filter", "process", ""},
	{"filter", "required", "false"},
	{"diff", "textconv", ""},
	{"diff", "command", ""},
	{"merge", "driver", ""},
	{"remote", "uploadpack", "git-upload-pack"},
	{"remote", "receivepack", "git-receive-pack"},
	{"remote", "vcs", ""},
	{"credential", "helper", ""},
	{"gpg", "program", "false"},
	{"gpg", "defaultkeycommand", ""},
}

// diffCommands take --no-ext-diff and --no-textconv.
var diffCommands = []string{"diff", "log", "show", "format-patch"}

// Command returns git running args (a subcommand and its arguments, no
// global options) in dir with every repository-controlled program disabled.
// It runs `git config --list` in dir first, so it fails when dir is not
// readable, and when git is missing or older than 2.31. The caller may add
// to the returned command's Env (for example GIT_AUTHOR_NAME) and set its
// standard streams.
func Command(ctx context.Context, dir string, args ...string) (*exec.Cmd, error) {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return nil, fmt.Errorf("gitexec: want a git subcommand first, got %q", args)
	}
	if err := checkVersion(); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("gitexec: %w", err)
	}
	pins := slices.Clone(fixed)
	pins = append(pins, [2]string{"safe.directory", abs})
	list := exec.CommandContext(ctx, "git", "--no-pager", "config", "--list", "--name-only", "-z")
	list.Dir = abs
	list.Env = environ(pins)
	var stderr bytes.Buffer
	list.Stderr = &stderr
	out, err := list.Output()
	// Outside a repository `git config --list` still lists the global
	// configuration; an error here is a real one (unreadable config).
	if err != nil {
		return nil, fmt.Errorf("gitexec: list configuration in %s: %w: %s", abs, err, strings.TrimSpace(stderr.String()))
	}
	pins = append(pins, driverPins(out)...)

	full := []string{"--no-pager", args[0]}
	if slices.Contains(diffCommands, args[0]) {
		full = append(full, "--no-ext-diff", "--no-textconv")
	}
	cmd := exec.CommandContext(ctx, "git", append(full, args[1:]...)...)
	cmd.Dir = abs
	cmd.Env = environ(pins)
	return cmd, nil
}

// Output runs Command and returns its standard output; a failure carries
// git's standard error.
func Output(ctx context.Context, dir string, args ...string) ([]byte, error) {
	cmd, err := Command(ctx, dir, args...)
	if err != nil {
		return nil, err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// driverPins returns a pin for every configured key that names a program
// under a name of the repository's choosing. keys is `git config --list
// --name-only -z` output: section[.subsection].variable, with section and
// variable in lowercase.
func driverPins(keys []byte) [][2]string {
	var pins [][2]string
	seen := map[string]bool{}
	for _, key := range strings.Split(string(keys), "\x00") {
		first, last := strings.Index(key, "."), strings.LastIndex(key, ".")
		if first < 0 || seen[key] {
			continue
		}
		section, variable, named := key[:first], key[last+1:], first != last
		for _, d := range drivers {
			// Only gpg.program is a driver without a name of its own.
			if section == d.section && variable == d.variable && (named || section == "gpg") {
				pins = append(pins, [2]string{key, d.value})
				seen[key] = true
			}
		}
	}
	return pins
}

// environ is this process's environment without any GIT_* variable (they
// could point git at another repository, or carry configuration), plus the
// protections and pins.
func environ(pins [][2]string) []string {
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "GIT_")
	})
	env = append(env,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_ATTR_NOSYSTEM=1",
		"GIT_TERMINAL_PROMPT=0",
		"GIT_PAGER=cat",
		"GIT_EDITOR=:",
		"GIT_SEQUENCE_EDITOR=:",
		"GIT_CONFIG_COUNT="+strconv.Itoa(len(pins)),
	)
	for i, p := range pins {
		n := strconv.Itoa(i)
		env = append(env, "GIT_CONFIG_KEY_"+n+"="+p[0], "GIT_CONFIG_VALUE_"+n+"="+p[1])
	}
	return env
}

var (
	versionOnce sync.Once
	versionErr  error
	versionRE   = regexp.MustCompile(`^git version (\d+)\.(\d+)`)
)

// checkVersion refuses a git without GIT_CONFIG_COUNT, which would ignore
// every pin silently.
func checkVersion() error {
	versionOnce.Do(func() {
		// Not ctx: a cancelled first caller must not fail every later one.
		out, err := exec.Command("git", "version").Output()
		if err != nil {
			versionErr = fmt.Errorf("gitexec: git not runnable: %w", err)
			return
		}
		m := versionRE.FindStringSubmatch(string(out))
		if m == nil {
			versionErr = fmt.Errorf("gitexec: unrecognised %q", strings.TrimSpace(string(out)))
			return
		}
		major, _ := strconv.Atoi(m[1])
		minor, _ := strconv.Atoi(m[2])
		if major < 2 || major == 2 && minor < 31 {
			versionErr = errors.New("gitexec: " + strings.TrimSpace(string(out)) +
				" is too old to run safely on an untrusted tree: 2.31 or later is needed (GIT_CONFIG_COUNT)")
		}
	})
	return versionErr
}

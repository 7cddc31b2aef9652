package spec

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

//go:embed seccomp.json
var seccompSource []byte

// seccompProfile is the profile as the docker CLI sends it to the daemon:
// compacted JSON. The Engine API rendering uses exactly these bytes, so both
// renderings give the container the same security option.
var seccompProfile = func() []byte {
	var b bytes.Buffer
	if err := json.Compact(&b, seccompSource); err != nil {
		panic(fmt.Sprintf("spec: seccomp.json: %v", err))
	}
	return b.Bytes()
}()

// SeccompProfile returns the sandbox's seccomp profile (compact JSON): Docker's
// default policy with ptrace and its relatives refused (see seccomp.json).
// Relax.Ptrace gives the container Docker's own default profile instead.
func SeccompProfile() []byte { return bytes.Clone(seccompProfile) }

// SeccompFile is the file the docker run line names for the profile: the
// docker CLI reads a profile only from a file, the Engine API takes it
// inline. Its name carries a hash of the profile, so a line printed by one
// version never picks up another version's profile. EnsureSeccompFile
// writes it; `sandbox cmd` does so before printing a line.
var SeccompFile = defaultSeccompFile()

func defaultSeccompFile() string {
	sum := sha256.Sum256(seccompProfile)
	name := "seccomp-" + hex.EncodeToString(sum[:6]) + ".json"
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = filepath.Join(os.TempDir(), fmt.Sprintf("sandbox-action-%d", os.Getuid()))
		return filepath.Join(dir, name)
	}
	return filepath.Join(dir, "sandbox-action", name)
}

// EnsureSeccompFile writes the profile to SeccompFile unless it is already
// there, and returns its path. The directory must belong to this user and
// be writable by nobody else: a profile another user could replace would
// let them loosen the sandbox a pasted line creates.
func EnsureSeccompFile() (string, error) {
	path := SeccompFile
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("seccomp profile: %w", err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return "", fmt.Errorf("seccomp profile: %w", err)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && (int(st.Uid) != os.Getuid() || fi.Mode().Perm()&0o022 != 0) {
		return "", fmt.Errorf("seccomp profile: directory %s belongs to another user or is writable by others", dir)
	}
	if got, err := os.ReadFile(path); err == nil && bytes.Equal(got, seccompProfile) {
		return path, nil
	}
	tmp, err := os.CreateTemp(dir, ".seccomp-*")
	if err != nil {
		return "", fmt.Errorf("seccomp profile: %w", err)
	}
	_, err = tmp.Write(seccompProfile)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("seccomp profile: %w", err)
	}
	return path, nil
}

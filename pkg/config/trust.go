package config

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// A workspace's config file is data: an earlier sandbox run on the same tree
// could have written it, and so could the author of a branch being checked
// out. Settings that weaken the sandbox or bring host values into it are
// therefore privileged: they apply only once the person has trusted that
// exact content (in the spirit of `direnv allow`), recorded outside any
// workspace. Every other setting (image, type, bundle, limits, timeout, the
// agent block) only shapes what runs inside the hardened sandbox and applies
// without trust.

// Privilege is one privileged setting a config file makes.
type Privilege struct {
	// Key is the setting's key path, e.g. "relax.root" or "env".
	Key string
	// Value is the value as written.
	Value string
	// Effect says what the setting allows.
	Effect string
}

// Privileges lists f's privileged settings in file order; nil when it
// has none. A relaxation set to false and network mode private keep a
// default and need no trust.
func (f *File) Privileges() []Privilege {
	if f == nil {
		return nil
	}
	var ps []Privilege
	add := func(key, value, effect string) { ps = append(ps, Privilege{Key: key, Value: value, Effect: effect}) }
	if f.Network.Mode != "" && f.Network.Mode != "private" {
		add("network.mode", f.Network.Mode, "gives the sandbox direct access to the network")
	}
	if len(f.Network.Allow) > 0 {
		add("network.allow", list(f.Network.Allow), "lets the sandbox reach these hosts through the egress proxy")
	}
	if f.Network.ModelBaseURL != "" {
		add("network.model_base_url", f.Network.ModelBaseURL, "sends your model API key to this address instead of the vendor's API")
	}
	if f.User != "" {
		add("user", f.User, "runs the sandbox as this user and group instead of the workspace owner")
	}
	if len(f.Env) > 0 {
		add("env", list(f.Env), "copies these variables from your environment into the sandbox")
	}
	if len(f.Secrets) > 0 {
		add("secrets", list(f.Secrets), "copies these secret variables from your environment into the sandbox")
	}
	for _, r := range []struct {
		key    string
		on     *bool
		effect string
	}{
		{"relax.root", f.Relax.Root, "lets the sandbox run as root"},
		{"relax.writable_root", f.Relax.WritableRoot, "makes the sandbox's root file system writable"},
		{"relax.new_privileges", f.Relax.NewPrivileges, "lets processes gain privileges (setuid binaries)"},
		{"relax.capabilities", f.Relax.Capabilities, "keeps the image's Linux capabilities"},
		{"relax.no_init", f.Relax.NoInit, "runs the command as PID 1 without an init process"},
	} {
		if r.on != nil && *r.on {
			add(r.key, "true", r.effect)
		}
	}
	return ps
}

func list(names []string) string { return "[" + strings.Join(names, ", ") + "]" }

// Sum is the hash of the file's content that trust is recorded against,
// "sha256:HEX".
func (f *File) Sum() string { return f.sum }

func sum(data []byte) string {
	h := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(h[:])
}

// Trust says whether a person trusted the content with hash sum of the
// config file at path (absolute, symlinks resolved).
type Trust interface {
	Trusted(path, sum string) (bool, error)
}

// UntrustedError is returned when a workspace config makes privileged
// settings its content has not been trusted for.
type UntrustedError struct {
	// Name is the file as shown to people, e.g. ".github/sandbox.yml".
	Name string
	// Keys are the privileged settings' keys.
	Keys []string
	// Fix is the command that trusts the file, e.g. "sandbox trust
	// --workspace /src/project".
	Fix string
}

func (e *UntrustedError) Error() string {
	msg := fmt.Sprintf("%s sets %s, which weaken the sandbox or copy host values into it: "+
		"they apply only once you have trusted this exact content (an earlier sandbox run or a checked-out branch may have written it)",
		e.Name, strings.Join(e.Keys, ", "))
	if e.Fix != "" {
		msg += "; review it, then run: " + e.Fix
	}
	return msg
}

// CheckTrust returns an *UntrustedError when f, read from path (absolute,
// symlinks resolved), makes privileged settings and t does not trust its
// content. A nil t trusts nothing. fix is the command the message offers.
func CheckTrust(f *File, path string, t Trust, fix string) error {
	ps := f.Privileges()
	if len(ps) == 0 {
		return nil
	}
	if t != nil {
		ok, err := t.Trusted(path, f.Sum())
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
	}
	keys := make([]string, len(ps))
	for i, p := range ps {
		keys[i] = p.Key
	}
	return &UntrustedError{Name: f.Name(), Keys: keys, Fix: fix}
}

// TrustStore records trusted config files in a directory outside every
// workspace: one file per config path holding the trusted content's hash,
// so trusting a new version of a file replaces the old one.
type TrustStore struct {
	dir string
}

// NewTrustStore returns the store in dir.
func NewTrustStore(dir string) TrustStore { return TrustStore{dir: dir} }

// DefaultTrustStore returns the store at $XDG_CONFIG_HOME/sandbox-action/trust,
// or ~/.config/sandbox-action/trust; getenv reads the environment.
func DefaultTrustStore(getenv func(string) string) (TrustStore, error) {
	base := getenv("XDG_CONFIG_HOME")
	if !filepath.IsAbs(base) {
		// The XDG spec: a relative value is invalid and ignored.
		home := getenv("HOME")
		if !filepath.IsAbs(home) {
			return TrustStore{}, errors.New("trust store: neither XDG_CONFIG_HOME nor HOME is set to an absolute path")
		}
		base = filepath.Join(home, ".config")
	}
	return NewTrustStore(filepath.Join(base, "sandbox-action", "trust")), nil
}

// Dir is the store's directory.
func (s TrustStore) Dir() string { return s.dir }

// entry is the file recording path's trusted hash.
func (s TrustStore) entry(path string) string {
	h := sha256.Sum256([]byte(path))
	return filepath.Join(s.dir, hex.EncodeToString(h[:16]))
}

// Trusted implements Trust.
func (s TrustStore) Trusted(path, sum string) (bool, error) {
	data, err := os.ReadFile(s.entry(path))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("trust store: %w", err)
	}
	gotSum, gotPath, _ := strings.Cut(strings.TrimSuffix(string(data), "\n"), " ")
	return gotSum == sum && gotPath == path, nil
}

// Add records that the content with hash sum of the config file at path is
// trusted, replacing what was trusted for that path before.
func (s TrustStore) Add(path, sum string) error {
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return fmt.Errorf("trust store: %w", err)
	}
	tmp, err := os.CreateTemp(s.dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("trust store: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := fmt.Fprintf(tmp, "%s %s\n", sum, path); err != nil {
		tmp.Close()
		return fmt.Errorf("trust store: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("trust store: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.entry(path)); err != nil {
		return fmt.Errorf("trust store: %w", err)
	}
	return nil
}

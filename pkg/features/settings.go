package features

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/org/sandbox-action/pkg/egress"
	"github.com/org/sandbox-action/pkg/spec"
)

// Settings is one layer's partial set of run options: a nil pointer or an
// empty slice leaves the option to weaker layers.
type Settings struct {
	// Image is the image reference.
	Image *string
	// Network is public or private mode.
	Network *spec.NetworkMode
	// Allow is the egress allowlist used in private mode (hosts, "*.suffix"
	// wildcards, optionally with ":port"). Empty leaves it to weaker layers
	// and, in the end, to the agent's default allowlist.
	Allow []string
	// Memory is the memory limit in bytes.
	Memory *int64
	// CPUs is the CPU limit in nano CPUs.
	CPUs *int64
	// Pids is the process limit.
	Pids *int64
	// Timeout is the wall-clock limit of the run.
	Timeout *time.Duration
	// User is "UID" or "UID:GID". Unset means the owner of the workspace,
	// which the caller fills in.
	User *string
	// Relax gives up or keeps individual hardening defaults.
	Relax Relax
}

// Values are the fully resolved run options.
type Values struct {
	Image   string
	Network spec.NetworkMode
	// Allow is empty when the agent's default allowlist applies, and always
	// empty in public mode.
	Allow   []string
	Memory  int64
	CPUs    int64
	Pids    int64
	Timeout time.Duration
	// User is empty when the caller should use the workspace owner.
	User  string
	Relax spec.Relax
}

// Keys of the options, as used by Resolved.Source and in summaries.
const (
	KeyImage   = "image"
	KeyNetwork = "network"
	KeyAllow   = "allow"
	KeyMemory  = "memory"
	KeyCPUs    = "cpus"
	KeyPids    = "pids"
	KeyTimeout = "timeout"
	KeyUser    = "user"
	// KeyRelaxPrefix prefixes the relax keys, e.g. "relax.no_init".
	KeyRelaxPrefix = "relax."
)

// field is one option: how to tell whether a layer sets it, how to take it
// from that layer, how to check and how to show it. One table drives
// validation, resolution and display, so adding an option is one entry.
type field struct {
	key   string
	isSet func(*Settings) bool
	take  func(*Values, *Settings)
	check func(*Settings) error
	// show renders the resolved value; "" leaves it out of summaries.
	show func(*Values) string
}

// ptrField builds a field for an option held as *T in Settings and T in
// Values.
func ptrField[T any](key string, opt func(*Settings) *T, val func(*Values) *T, check func(T) error, show func(T) string) field {
	return field{
		key:   key,
		isSet: func(s *Settings) bool { return opt(s) != nil },
		take:  func(v *Values, s *Settings) { *val(v) = *opt(s) },
		check: func(s *Settings) error {
			p := opt(s)
			if p == nil || check == nil {
				return nil
			}
			if err := check(*p); err != nil {
				return fmt.Errorf("%s %s: %w", key, show(*p), err)
			}
			return nil
		},
		show: func(v *Values) string { return show(*val(v)) },
	}
}

var fields = append([]field{
	ptrField(KeyImage,
		func(s *Settings) *string { return s.Image }, func(v *Values) *string { return &v.Image },
		checkImage, func(s string) string { return s }),
	ptrField(KeyNetwork,
		func(s *Settings) *spec.NetworkMode { return s.Network }, func(v *Values) *spec.NetworkMode { return &v.Network },
		checkNetwork, func(m spec.NetworkMode) string { return string(m) }),
	{
		key:   KeyAllow,
		isSet: func(s *Settings) bool { return len(s.Allow) > 0 },
		take:  func(v *Values, s *Settings) { v.Allow = append([]string(nil), s.Allow...) },
		check: func(s *Settings) error { return checkAllow(s.Allow) },
		show:  func(v *Values) string { return strings.Join(v.Allow, ",") },
	},
	ptrField(KeyMemory,
		func(s *Settings) *int64 { return s.Memory }, func(v *Values) *int64 { return &v.Memory },
		checkMemory, FormatMemory),
	ptrField(KeyCPUs,
		func(s *Settings) *int64 { return s.CPUs }, func(v *Values) *int64 { return &v.CPUs },
		checkCPUs, FormatCPUs),
	ptrField(KeyPids,
		func(s *Settings) *int64 { return s.Pids }, func(v *Values) *int64 { return &v.Pids },
		checkPids, func(n int64) string { return strconv.FormatInt(n, 10) }),
	ptrField(KeyTimeout,
		func(s *Settings) *time.Duration { return s.Timeout }, func(v *Values) *time.Duration { return &v.Timeout },
		checkTimeout, FormatTimeout),
	ptrField(KeyUser,
		func(s *Settings) *string { return s.User }, func(v *Values) *string { return &v.User },
		spec.CheckUser, showUser),
}, relaxFields()...)

func relaxFields() []field {
	fs := make([]field, len(relaxations))
	for i, x := range relaxations {
		fs[i] = ptrField(KeyRelaxPrefix+x.name,
			func(s *Settings) *bool { return *x.opt(&s.Relax) }, func(v *Values) *bool { return x.val(&v.Relax) },
			nil, func(b bool) string {
				if !b {
					return "" // kept defaults are the norm; summaries list only what is given up
				}
				return "true"
			})
	}
	return fs
}

// Validate checks every option the layer sets.
func (s Settings) Validate() error { return errors.Join(s.problems()...) }

func (s Settings) problems() []error {
	var errs []error
	for _, f := range fields {
		if err := f.check(&s); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// String renders the options the layer sets, e.g. "memory=1g cpus=1" (for
// help texts listing what a type or bundle does).
func (s Settings) String() string {
	var v Values
	var parts []string
	for _, f := range fields {
		if f.isSet(&s) {
			f.take(&v, &s)
			if shown := f.show(&v); shown != "" {
				parts = append(parts, f.key+"="+shown)
			}
		}
	}
	return strings.Join(parts, " ")
}

func checkImage(s string) error {
	// The full reference syntax is spec.Validate's job; an empty image here
	// would only resurface there without saying which layer set it.
	if s == "" {
		return errors.New("must not be empty")
	}
	return nil
}

// allowEntry is a host name or IP literal, optionally "*." wildcarded and
// with a port. It keeps URLs, paths and blanks out of the allowlist; what a
// host may be in detail is the egress proxy's business.
var allowEntry = regexp.MustCompile(`^(\*\.)?[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$`)

// ParseAllow checks one egress allowlist entry: a host ("api.example.com"),
// a wildcard ("*.example.com") or an IP literal, optionally with a port, or
// a bundle ("@go", see egress.AllowBundles).
func ParseAllow(host string) (string, error) {
	if !strings.HasPrefix(host, egress.BundlePrefix) && !allowEntry.MatchString(host) {
		return "", fmt.Errorf("invalid allow %q: want a host such as api.example.com, *.example.com or example.com:8443", host)
	}
	// The proxy's own parser has the last word (a port out of range, a
	// malformed IP, an unknown bundle), so a bad entry fails here rather
	// than at proxy start.
	if err := egress.ValidateAllowEntry(host); err != nil {
		return "", fmt.Errorf("invalid allow %q: %w", host, err)
	}
	return host, nil
}

func checkAllow(hosts []string) error {
	for _, h := range hosts {
		if _, err := ParseAllow(h); err != nil {
			return err
		}
	}
	return nil
}

// ParseUser checks a user as the sandbox takes it (see spec.CheckUser).
func ParseUser(u string) (string, error) {
	if err := spec.CheckUser(u); err != nil {
		return "", fmt.Errorf("invalid user %q: %w", u, err)
	}
	return u, nil
}

// isRoot reports whether a valid user names UID 0.
func isRoot(u string) bool {
	uid, _, _ := strings.Cut(u, ":")
	n, err := strconv.ParseUint(uid, 10, 32)
	return err == nil && n == 0
}

func showUser(u string) string {
	if u == "" {
		return "workspace owner"
	}
	return u
}

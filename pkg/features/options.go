package features

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Option is one setting a person can give as text: a `sandbox run` flag, a
// GitHub Action input or a config value. Every front door turns its strings
// into a Layer through the same table, so a value means the same thing, and
// is refused with the same words, wherever it is given.
type Option struct {
	// Key is the option's name in this table ("memory", "allow", "relax").
	Key string
	// Allowed says in a few words which values are valid, for error
	// messages and input documentation.
	Allowed string
	// List options (allow, relax) add each value to what the layer has;
	// the others replace it.
	List bool
	set  func(*Layer, string) error
}

// Option keys not already named by Key* constants.
const (
	KeyRelax = "relax"
)

// Options is the table, in the order help texts list it.
func Options() []Option { return slices.Clone(options) }

var options = []Option{
	{Key: KeyType, Allowed: "one of " + strings.Join(TypeNames(), ", "), set: func(l *Layer, s string) error {
		if _, err := LookupType(s); err != nil {
			return err
		}
		l.Type = s
		return nil
	}},
	{Key: KeyBundle, Allowed: "one of " + strings.Join(BundleNames(), ", "), set: func(l *Layer, s string) error {
		if _, err := LookupBundle(s); err != nil {
			return err
		}
		l.Bundle = s
		return nil
	}},
	{Key: KeyImage, Allowed: "an image reference", set: func(l *Layer, s string) error {
		// The reference syntax is checked by spec validation, which names
		// the image; an empty string is what the flag gave.
		l.Settings.Image = &s
		return nil
	}},
	{Key: KeyNetwork, Allowed: "private or public", set: func(l *Layer, s string) error {
		m, err := ParseNetwork(s)
		l.Settings.Network = &m
		return err
	}},
	{Key: KeyAllow, List: true, Allowed: "hosts such as api.example.com, *.example.com or example.com:8443", set: func(l *Layer, s string) error {
		v, err := ParseAllow(s)
		l.Settings.Allow = append(l.Settings.Allow, v)
		return err
	}},
	{Key: KeyMemory, Allowed: "a size such as 512m or 2g", set: func(l *Layer, s string) error {
		v, err := ParseMemory(s)
		l.Settings.Memory = &v
		return err
	}},
	{Key: KeyCPUs, Allowed: "a number of CPUs such as 1.5", set: func(l *Layer, s string) error {
		v, err := ParseCPUs(s)
		l.Settings.CPUs = &v
		return err
	}},
	{Key: KeyPids, Allowed: "a whole number of processes, at least 1", set: func(l *Layer, s string) error {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("invalid pids %q: want a whole number", s)
		}
		v, err := ParsePids(n)
		l.Settings.Pids = &v
		return err
	}},
	{Key: KeyTimeout, Allowed: "a duration such as 30m or 1h30m", set: func(l *Layer, s string) error {
		v, err := ParseTimeout(s)
		l.Settings.Timeout = &v
		return err
	}},
	{Key: KeyUser, Allowed: "UID or UID:GID", set: func(l *Layer, s string) error {
		v, err := ParseUser(s)
		l.Settings.User = &v
		return err
	}},
	{Key: KeyRelax, List: true, Allowed: "one of " + strings.Join(RelaxNames(), ", "), set: func(l *Layer, s string) error {
		r, err := ParseRelax([]string{s})
		if err != nil {
			return err
		}
		for _, x := range relaxations {
			if v := *x.opt(&r); v != nil {
				*x.opt(&l.Settings.Relax) = v
			}
		}
		return nil
	}},
}

// LookupOption returns the option named key.
func LookupOption(key string) (Option, bool) {
	i := slices.IndexFunc(options, func(o Option) bool { return o.Key == key })
	if i < 0 {
		return Option{}, false
	}
	return options[i], true
}

// Set parses value and records it in l; a list option adds it. The error
// says what was wrong with the value; callers prefix the name the person
// used (a flag, an input).
//
// An empty value is refused by every option alike: `--type ”` and
// `--network ”` are the same mistake (an unset shell variable, say) and
// must not silently mean "the default" for one and fail for the other.
func (o Option) Set(l *Layer, value string) error {
	if value == "" {
		return fmt.Errorf("empty value: want %s", o.Allowed)
	}
	return o.set(l, value)
}

// Set parses value for the option key into l (see Option.Set). An unknown
// key is a programming error, reported as such.
func Set(l *Layer, key, value string) error {
	o, ok := LookupOption(key)
	if !ok {
		return fmt.Errorf("unknown setting %q", key)
	}
	return o.Set(l, value)
}

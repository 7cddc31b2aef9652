package features

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	units "github.com/docker/go-units"

	"github.com/org/sandbox-action/pkg/spec"
)

// minNanoCPUs is 0.01 CPU: the kernel's CFS quota must be at least 1 ms per
// 100 ms period, which is what Docker turns --cpus into.
const minNanoCPUs = 1e7

// ParseMemory parses a memory limit the way `docker run --memory` does
// ("512m", "2g", "1.5GiB"; no suffix means bytes), and rejects values
// below spec.MinMemory. There is no way to ask for "unlimited": the limit is a
// hardening default.
func ParseMemory(s string) (int64, error) {
	if strings.HasPrefix(strings.TrimSpace(s), "-") {
		return 0, fmt.Errorf("invalid memory %q: must not be negative", s)
	}
	n, err := units.RAMInBytes(s)
	if err != nil {
		return 0, fmt.Errorf("invalid memory %q: want a size such as 512m or 2g", s)
	}
	if err := checkMemory(n); err != nil {
		return 0, fmt.Errorf("invalid memory %q: %w", s, err)
	}
	return n, nil
}

func checkMemory(n int64) error {
	switch {
	case n < 0:
		// RAMInBytes rejects negative input, so a negative result is a
		// float that overflowed int64.
		return errors.New("too large")
	case n < spec.MinMemory:
		return fmt.Errorf("below Docker's minimum of %s", FormatMemory(spec.MinMemory))
	}
	return nil
}

// FormatMemory renders bytes in the largest binary unit that divides them
// exactly, in the notation ParseMemory reads ("4g", "1536m", "100").
func FormatMemory(n int64) string {
	for _, u := range []struct {
		size   int64
		suffix string
	}{{units.TiB, "t"}, {units.GiB, "g"}, {units.MiB, "m"}, {units.KiB, "k"}} {
		if n != 0 && n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}

// ParseCPUs parses a CPU limit the way `docker run --cpus` does: a decimal or
// rational number of CPUs, returned in nano CPUs. It must be at least 0.01
// and may not be more precise than a nano CPU.
func ParseCPUs(s string) (int64, error) {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return 0, fmt.Errorf("invalid cpus %q: want a number such as 1.5", s)
	}
	nano := r.Mul(r, big.NewRat(1e9, 1))
	if !nano.IsInt() {
		return 0, fmt.Errorf("invalid cpus %q: more precise than a billionth of a CPU", s)
	}
	if !nano.Num().IsInt64() {
		return 0, fmt.Errorf("invalid cpus %q: too large", s)
	}
	n := nano.Num().Int64()
	if err := checkCPUs(n); err != nil {
		return 0, fmt.Errorf("invalid cpus %q: %w", s, err)
	}
	return n, nil
}

func checkCPUs(n int64) error {
	switch {
	case n < 0:
		return errors.New("must not be negative")
	case n < minNanoCPUs:
		return errors.New("below the minimum of 0.01")
	}
	return nil
}

// FormatCPUs renders nano CPUs the way ParseCPUs reads them ("1.5").
func FormatCPUs(nano int64) string {
	return new(big.Rat).SetFrac64(nano, 1e9).FloatString(decimals(nano))
}

// decimals is how many decimal places nano CPUs need to be shown exactly.
func decimals(nano int64) int {
	d := 9
	for d > 0 && nano%10 == 0 {
		nano /= 10
		d--
	}
	return d
}

// ParseTimeout parses a wall-clock limit such as "30m" or "1h30m". It must be
// positive: every run has a timeout.
func ParseTimeout(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid timeout %q: want a duration such as 30m or 1h30m", s)
	}
	if err := checkTimeout(d); err != nil {
		return 0, fmt.Errorf("invalid timeout %q: %w", s, err)
	}
	return d, nil
}

func checkTimeout(d time.Duration) error {
	if d <= 0 {
		return errors.New("must be positive")
	}
	return nil
}

// FormatTimeout renders a duration without the trailing zero units that
// time.Duration.String adds ("30m", not "30m0s").
func FormatTimeout(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// ParseNetwork parses a network mode, "public" or "private".
func ParseNetwork(s string) (spec.NetworkMode, error) {
	m := spec.NetworkMode(s)
	if err := checkNetwork(m); err != nil {
		return "", err
	}
	return m, nil
}

func checkNetwork(m spec.NetworkMode) error {
	switch m {
	case spec.Public, spec.Private:
		return nil
	}
	return fmt.Errorf("unknown network mode %q (valid: %s, %s)", m, spec.Private, spec.Public)
}

// ParsePids checks a process limit: at least 1. There is no way to ask for
// "unlimited": the limit is a hardening default.
func ParsePids(n int64) (int64, error) {
	if err := checkPids(n); err != nil {
		return 0, fmt.Errorf("invalid pids %d: %w", n, err)
	}
	return n, nil
}

func checkPids(n int64) error {
	if n < 1 {
		return errors.New("must be at least 1")
	}
	return nil
}

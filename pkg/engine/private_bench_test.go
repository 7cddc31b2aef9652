package engine

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/org/sandbox-action/internal/testimage"
	"github.com/org/sandbox-action/pkg/features"
	"github.com/org/sandbox-action/pkg/plan"
	"github.com/org/sandbox-action/pkg/spec"
)

// BenchmarkPrivateOverhead measures what private mode adds to a run's wall
// time: each iteration runs `/toolbox echo hi` once in public and once in
// private mode, alternating which goes first so that drift of the machine
// falls on both evenly. It reports both medians and their difference
// (target: private ≤ public + 250 ms), and logs the median private phases.
func BenchmarkPrivateOverhead(b *testing.B) {
	c := testimage.NewClient(b)
	e := New(c)
	public := toolboxInput(b, spec.Public, features.Settings{}, "/toolbox", "echo", "hi")
	private := privateInput(b, spec.TransportHost, nil, features.Settings{}, "/toolbox", "echo", "hi")

	run := func(in plan.Input) (time.Duration, Timings) {
		in.RunID = plan.NewRunID()
		in.Name = "sbxtest-" + in.RunID
		p, err := plan.Build(in)
		if err != nil {
			b.Fatal(err)
		}
		p.Run.Sandbox.Labels = testLabels
		if p.Run.Proxy != nil {
			p.Run.Proxy.Labels = testLabels
		}
		start := time.Now()
		res, err := e.Run(context.Background(), p.Run, RunOptions{})
		d := time.Since(start)
		if err != nil || res.ExitCode != 0 {
			b.Fatalf("run: exit %d, %v", res.ExitCode, err)
		}
		return d, res.Timings
	}
	// One unmeasured pair warms the daemon and the page cache.
	run(public)
	run(private)

	var pub, priv []time.Duration
	var phases []Timings
	for i := 0; b.Loop(); i++ {
		order := []plan.Input{public, private}
		if i%2 == 1 {
			order[0], order[1] = order[1], order[0]
		}
		for _, in := range order {
			d, tm := run(in)
			if in.Resolved.Network == spec.Private {
				priv, phases = append(priv, d), append(phases, tm)
			} else {
				pub = append(pub, d)
			}
		}
	}
	mp, mq := median(pub), median(priv)
	b.ReportMetric(ms(mp), "public-ms")
	b.ReportMetric(ms(mq), "private-ms")
	b.ReportMetric(ms(mq-mp), "overhead-ms")
	b.Logf("%d pairs; median private phases: %s", len(priv), medianTimings(phases))
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// medianTimings takes the median of each phase separately.
func medianTimings(ts []Timings) Timings {
	phase := func(f func(Timings) time.Duration) time.Duration {
		ds := make([]time.Duration, len(ts))
		for i, t := range ts {
			ds[i] = f(t)
		}
		return median(ds)
	}
	return Timings{
		Prepare:     phase(func(t Timings) time.Duration { return t.Prepare }),
		Proxy:       phase(func(t Timings) time.Duration { return t.Proxy }),
		Create:      phase(func(t Timings) time.Duration { return t.Create }),
		Start:       phase(func(t Timings) time.Duration { return t.Start }),
		FirstOutput: phase(func(t Timings) time.Duration { return t.FirstOutput }),
		Exit:        phase(func(t Timings) time.Duration { return t.Exit }),
		Cleanup:     phase(func(t Timings) time.Duration { return t.Cleanup }),
		Total:       phase(func(t Timings) time.Duration { return t.Total }),
	}
}

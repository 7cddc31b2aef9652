package action

import (
	"context"
	"testing"
	"time"
)

// Goals of the action's own overhead around the agent, against the
// loopback fake API with the images present.
const (
	goalStart  = 1000 * time.Millisecond // action start → sandbox container started
	goalFinish = 500 * time.Millisecond  // agent exit → final status comment written
)

// BenchmarkActionOverhead runs the whole action on a pull_request event
// (status comment, diff, sandbox with the replay agent, review, final
// comment) and reports the two overheads beside their goals:
//
//	go test ./internal/action -run X -bench ActionOverhead -benchtime 5x
func BenchmarkActionOverhead(b *testing.B) {
	var start, finish, docker time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		h := newHarness(b, "pull_request", "pull_request.opened.json", nil)
		h.agent("claude-anchorable.jsonl", "")
		h.env["REPLAY_DELAY"] = "0"
		b.StartTimer()
		a := newAction(h.getenv, &h.out)
		if code := a.main(context.Background()); code != 0 {
			b.Fatalf("exit %d\n%s", code, h.out.String())
		}
		start += a.report.sandboxStarted
		finish += a.report.afterExit
		t := a.report.outcome.Timings()
		docker += t.Create + t.Start
	}
	n := time.Duration(b.N)
	b.ReportMetric(float64((start / n).Milliseconds()), "start-ms")
	b.ReportMetric(float64((finish / n).Milliseconds()), "finish-ms")
	b.ReportMetric(float64(start/n)/float64(goalStart), "start/goal")
	b.ReportMetric(float64(finish/n)/float64(goalFinish), "finish/goal")
	// The daemon's create and start calls are part of the first figure
	// and grow with the machine's load; the rest is the action's own.
	b.ReportMetric(float64((docker / n).Milliseconds()), "docker-create+start-ms")
	b.ReportMetric(float64(((start - docker) / n).Milliseconds()), "own-start-ms")
	b.Logf("action start → sandbox started: %s (goal %s, ratio %.2f); agent exit → final comment: %s (goal %s, ratio %.2f)",
		start/n, goalStart, float64(start/n)/float64(goalStart), finish/n, goalFinish, float64(finish/n)/float64(goalFinish))
}

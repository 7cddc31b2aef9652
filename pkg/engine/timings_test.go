package engine

import (
	"testing"
	"time"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

func TestTimingsStringLeavesOutPhasesThatDidNotHappen(t *testing.T) {
	ms := time.Millisecond
	silent := Timings{Prepare: ms, Create: 2 * ms, Start: 3 * ms, Exit: 4 * ms, Cleanup: 5 * ms, Total: 15 * ms}
	assert.Check(t, is.Equal(silent.String(), "prepare=1ms create=2ms start=3ms exit=4ms cleanup=5ms total=15ms"))
	loud := silent
	loud.Proxy, loud.FirstOutput = 6*ms, 3500*time.Microsecond
	assert.Check(t, is.Equal(loud.String(), "prepare=1ms proxy-ready=6ms create=2ms start=3ms first-output=3.5ms exit=4ms cleanup=5ms total=15ms"))
}

package github

import (
	"fmt"
	"strconv"
)

// CostExceeded reports whether the pull request has already cost maxUSD or
// more (the max-pr-cost-usd setting; 0 means no limit), with the sentence
// the skipped status comment shows.
func CostExceeded(prev Marker, maxUSD float64) (reason string, exceeded bool) {
	if maxUSD <= 0 || prev.PRCostUSD < maxUSD {
		return "", false
	}
	return fmt.Sprintf("This pull request has cost $%s so far, reaching `max-pr-cost-usd` ($%s): no new run was started. "+
		"Raise the limit in the workflow to run again.",
		strconv.FormatFloat(prev.PRCostUSD, 'f', 4, 64), strconv.FormatFloat(maxUSD, 'f', 2, 64)), true
}

// ForkText explains, for the log and the step summary, why a pull request
// from a fork is not reviewed by its own pull_request run, and what to do
// instead. GitHub gives such runs a read-only token and no secrets; the
// action says so rather than failing.
func ForkText(trigger string, pr *PullRequest) string {
	head := "a fork"
	if pr != nil && pr.HeadRepo != "" {
		head = "the fork `" + pr.HeadRepo + "`"
	}
	return fmt.Sprintf(`This pull request comes from %s. GitHub runs `+"`pull_request`"+` workflows of forks with a read-only token and without secrets, so the agent cannot reach its model and nothing can be posted. That protects the repository; it is not an error.

To review it safely, a maintainer comments `+"`%s review`"+` on the pull request: the comment workflow (`+"`issue_comment`"+`) runs the base branch's workflow and sandbox config with the repository's secrets, and only for people with the required permission. Do not switch to `+"`pull_request_target`"+`: it hands the fork's code the repository's secrets.
`, head, trigger)
}

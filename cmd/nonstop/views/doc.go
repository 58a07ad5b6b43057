// Package views renders what nonstop has to show: plans, drift reports and the
// progress of an apply.
//
// The lower floors only produce data: the planner a planner.Plan and
// []planner.DriftItem, the executor a stream of executor.Event. The commands pick
// a view by the output flags (-json, -format, whether stdout is a terminal) and
// hand it the data, as Terraform's command/views does:
//
//   - plans: RenderPlan (terminal text), RenderPlanMarkdown (pull-request
//     comments, split to fit), RenderPlanJSON;
//   - drift: RenderDrift, RenderDriftMarkdown, RenderDriftJSON;
//   - apply progress, each an executor.EventSink: TTYSink (bars redrawn in place),
//     LineSink (one timestamped line per event, for logs and CI) and JSONSink
//     (machine-readable lines in the shape of Terraform's -json UI).
//
// Every rendering depends only on its input, so the golden files under testdata/
// (and the plan.txt beside each planner golden case's plan.json) pin it byte for
// byte.
package views

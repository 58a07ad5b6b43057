// Package planner turns the desired state (a lang.Config) and the live state (a
// refresh of the providers) into a Plan: the ordered, safe steps of a zero-downtime
// release, and the field-level changes a reviewer reads.
//
// The pipeline is refresh (Refresh) → diff and strategy (MakePlan) → safety replay
// (CheckSafety) → render (RenderHuman, RenderMarkdown) or save (WritePlanFile). The
// planner never writes to a live system; the executor applies the plan.
//
// Every service's steps are built against a mutable copy of its live state
// (serviceModel) with the same applyStep the safety replay uses, so the plan and
// the check agree on what each step does. Strategies (rolling, blue_green, canary)
// produce stages of parallel chains; order.go numbers them ("order-service.3") and
// links them with After edges, across services by depends_on.
package planner

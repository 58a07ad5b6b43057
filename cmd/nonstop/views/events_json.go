package views

import (
	"encoding/json"
	"io"
	"sync"
	"time"

	"github.com/nonstop-release/nonstop/executor"
)

// jsonTimeFormat is Terraform's machine-readable timestamp layout.
const jsonTimeFormat = "2006-01-02T15:04:05.000000Z07:00"

// jsonEvent is one line of the machine-readable stream.
type jsonEvent struct {
	Level     string    `json:"@level"`
	Message   string    `json:"@message"`
	Module    string    `json:"@module"`
	Timestamp string    `json:"@timestamp"`
	Type      string    `json:"type"`
	Hook      *jsonHook `json:"hook,omitempty"`
}

// jsonHook carries an event's details, like Terraform's "hook" object.
type jsonHook struct {
	Service        string         `json:"service,omitempty"`
	Step           *jsonStep      `json:"step,omitempty"`
	ElapsedSeconds float64        `json:"elapsed_seconds,omitempty"`
	Error          string         `json:"error,omitempty"`
	Totals         map[string]int `json:"totals,omitempty"`
	Gate           *jsonGate      `json:"gate,omitempty"`
	// Phase, StepsDone and StepsTotal describe a service in a fleet's
	// service_phase and service_summary events; Services counts the services
	// per phase in fleet_summary.
	Phase      string         `json:"phase,omitempty"`
	StepsDone  int            `json:"steps_done,omitempty"`
	StepsTotal int            `json:"steps_total,omitempty"`
	Services   map[string]int `json:"services,omitempty"`
}

// jsonGate is the value one analysis of a gate.analysis read.
type jsonGate struct {
	Analysis string   `json:"analysis"`
	Value    *float64 `json:"value,omitempty"`
	MaxValue float64  `json:"max_value"`
	Result   string   `json:"result"`
}

type jsonStep struct {
	ID     string `json:"id"`
	Kind   string `json:"kind"`
	Target string `json:"target,omitempty"`
}

// JSONSink writes one JSON object per line per event: "@level", "@message",
// "@module", "@timestamp", "type" and a "hook" object with the service, the step,
// elapsed seconds, the error and a gate's value, as Terraform's -json UI does.
// A step still running is reported every HeartbeatEvery (type step_progress,
// "still waiting: ...", hook.elapsed_seconds). An apply of more than
// FleetThreshold services adds service_phase, fleet_summary and
// service_summary events (hook.phase, hook.steps_done, hook.steps_total,
// hook.services: the count per phase).
func JSONSink(w io.Writer) executor.EventSink {
	return withHeartbeat(newFleetSink(&jsonSink{w: w}, true), time.Now, heartbeatTick)
}

type jsonSink struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *jsonSink) Emit(e executor.Event) { s.emitFleet(e, fleetInfo{}) }

// emitFleet writes e with what a fleet view adds to it.
func (s *jsonSink) emitFleet(e executor.Event, fi fleetInfo) {
	out := jsonEvent{Level: e.Level, Message: e.Message, Module: "nonstop", Timestamp: e.Time.Format(jsonTimeFormat), Type: e.Type}
	h := jsonHook{Service: e.Service, ElapsedSeconds: e.Elapsed.Seconds(), Error: e.Error, Totals: e.Totals,
		Phase: fi.phase, StepsDone: fi.done, StepsTotal: fi.total, Services: fi.counts}
	if g := e.Gate; g != nil {
		h.Gate = &jsonGate{Analysis: g.Analysis, Value: g.Value, MaxValue: g.Max, Result: g.Result}
	}
	if e.Step != nil {
		h.Step = &jsonStep{ID: e.Step.ID, Kind: string(e.Step.Kind), Target: e.Step.Target}
		if h.Service == "" {
			h.Service = e.Step.Service
		}
	}
	if h.Service != "" || h.Step != nil || h.ElapsedSeconds != 0 || h.Error != "" || len(h.Totals) > 0 || h.Gate != nil ||
		h.Phase != "" || len(h.Services) > 0 {
		out.Hook = &h
	}
	b, err := json.Marshal(out)
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, _ = s.w.Write(append(b, '\n'))
}

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
// "still waiting: ...", hook.elapsed_seconds).
func JSONSink(w io.Writer) executor.EventSink {
	return withHeartbeat(&jsonSink{w: w}, time.Now, heartbeatTick)
}

type jsonSink struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *jsonSink) Emit(e executor.Event) {
	out := jsonEvent{Level: e.Level, Message: e.Message, Module: "nonstop", Timestamp: e.Time.Format(jsonTimeFormat), Type: e.Type}
	h := jsonHook{Service: e.Service, ElapsedSeconds: e.Elapsed.Seconds(), Error: e.Error, Totals: e.Totals}
	if g := e.Gate; g != nil {
		h.Gate = &jsonGate{Analysis: g.Analysis, Value: g.Value, MaxValue: g.Max, Result: g.Result}
	}
	if e.Step != nil {
		h.Step = &jsonStep{ID: e.Step.ID, Kind: string(e.Step.Kind), Target: e.Step.Target}
		if h.Service == "" {
			h.Service = e.Step.Service
		}
	}
	if h.Service != "" || h.Step != nil || h.ElapsedSeconds != 0 || h.Error != "" || len(h.Totals) > 0 || h.Gate != nil {
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

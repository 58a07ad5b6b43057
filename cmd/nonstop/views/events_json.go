package views

import (
	"encoding/json"
	"io"
	"sync"

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
}

type jsonStep struct {
	ID     string `json:"id"`
	Kind   string `json:"kind"`
	Target string `json:"target,omitempty"`
}

// JSONSink writes one JSON object per line per event: "@level", "@message",
// "@module", "@timestamp", "type" and a "hook" object with the service, the step,
// elapsed seconds and the error, as Terraform's -json UI does.
func JSONSink(w io.Writer) executor.EventSink { return &jsonSink{w: w} }

type jsonSink struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *jsonSink) Emit(e executor.Event) {
	out := jsonEvent{Level: e.Level, Message: e.Message, Module: "nonstop", Timestamp: e.Time.Format(jsonTimeFormat), Type: e.Type}
	h := jsonHook{Service: e.Service, ElapsedSeconds: e.Elapsed.Seconds(), Error: e.Error, Totals: e.Totals}
	if e.Step != nil {
		h.Step = &jsonStep{ID: e.Step.ID, Kind: string(e.Step.Kind), Target: e.Step.Target}
		if h.Service == "" {
			h.Service = e.Step.Service
		}
	}
	if h.Service != "" || h.Step != nil || h.ElapsedSeconds != 0 || h.Error != "" || len(h.Totals) > 0 {
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

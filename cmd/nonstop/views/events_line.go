package views

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/nonstop-release/nonstop/executor"
)

// LineSink writes one timestamped line per step start and end and per apply,
// rollback and pause event: the view for logs and CI, where the terminal is not a
// TTY. A step still running says so every HeartbeatEvery ("still waiting: ...").
// An apply of more than FleetThreshold services shows a line per service phase
// and a summary line instead of every step (see fleetSink).
func LineSink(w io.Writer) executor.EventSink {
	return withHeartbeat(newFleetSink(&lineSink{w: w}, false), time.Now, heartbeatTick)
}

type lineSink struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *lineSink) Emit(e executor.Event) {
	line := e.Message
	if e.Error != "" && e.Type != executor.EventApplyErrored {
		line += ": " + e.Error
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(s.w, "%s %-5s %s\n", e.Time.UTC().Format(time.RFC3339), e.Level, line)
}

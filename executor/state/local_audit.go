package state

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
)

// localAuditFile is the audit log in a local state directory: one JSON entry
// a line, appended.
const localAuditFile = "audit.jsonl"

// AppendAudit appends e as one line of audit.jsonl and fsyncs it. It needs no
// lock: each entry is one write to a file opened for appending, which other
// writers' lines do not tear on a local file system.
func (b *Local) AppendAudit(ctx context.Context, e AuditEntry) error {
	line, err := json.Marshal(e)
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := os.MkdirAll(b.dir, 0o755); err != nil {
		return fmt.Errorf("create state directory: %w", err)
	}
	f, err := os.OpenFile(b.path(localAuditFile), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("open the audit log: %w", err)
	}
	_, err = f.Write(append(line, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("append to the audit log %s: %w", b.path(localAuditFile), err)
	}
	return nil
}

// readAudit returns the newest MaxAudit entries of audit.jsonl, oldest first.
// A line torn by a crash, or one that does not read as an entry, is skipped:
// the audit log informs, it must never stop an apply.
func (b *Local) readAudit() ([]AuditEntry, error) {
	data, err := os.ReadFile(b.path(localAuditFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if i := bytes.LastIndexByte(data, '\n'); i+1 < len(data) {
		data = data[:i+1]
	}
	var out []AuditEntry
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		var e AuditEntry
		if json.Unmarshal(sc.Bytes(), &e) != nil || e.Action == "" {
			continue
		}
		out = append(out, e)
	}
	if len(out) > MaxAudit {
		out = out[len(out)-MaxAudit:]
	}
	return out, nil
}

var _ Auditor = (*Local)(nil)

package state

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// journalLine is one line of journal.jsonl: an entry and the apply it belongs to.
type journalLine struct {
	ApplyID string `json:"apply_id"`
	JournalEntry
}

// Load reads state.json and folds the entries of its journal from
// journal.jsonl into it. It does not need the lock.
func (b *Local) Load(ctx context.Context) (*State, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s, _, err := b.readState()
	if err != nil {
		return nil, err
	}
	if s == nil {
		s = NewState()
	}
	if s.Journal != nil {
		entries, err := b.readJournal(s.Journal.ApplyID)
		if err != nil {
			return nil, err
		}
		s.Journal.Entries = entries
	}
	if s.Audit, err = b.readAudit(); err != nil {
		return nil, fmt.Errorf("read the audit log: %w", err)
	}
	if b.lockFile != nil {
		b.journalApply = s.Journal.applyID()
	}
	return s, nil
}

// readState returns the stored state and its bytes; nil when there is none.
func (b *Local) readState() (*State, []byte, error) {
	data, err := os.ReadFile(b.path(localStateFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	s := &State{}
	if err := json.Unmarshal(data, s); err != nil {
		return nil, nil, fmt.Errorf("read %s: %w (the previous state is in %s)", b.path(localStateFile), err, localBackupFile)
	}
	if s.Version > FormatVersion {
		return nil, nil, fmt.Errorf("%s has format version %d; this nonstop reads up to version %d: upgrade nonstop", b.path(localStateFile), s.Version, FormatVersion)
	}
	if s.Deployed == nil {
		s.Deployed = map[string]map[string]string{}
	}
	return s, data, nil
}

// readJournal returns the entries of journal.jsonl that belong to applyID. A
// last line without its newline was torn by a crash and is ignored.
func (b *Local) readJournal(applyID string) ([]JournalEntry, error) {
	data, err := os.ReadFile(b.path(localJournalFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if i := bytes.LastIndexByte(data, '\n'); i+1 < len(data) {
		data = data[:i+1]
	}
	var entries []JournalEntry
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 16<<20)
	for n := 1; sc.Scan(); n++ {
		var l journalLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", b.path(localJournalFile), n, err)
		}
		if l.ApplyID == applyID {
			entries = append(entries, l.JournalEntry)
		}
	}
	return entries, sc.Err()
}

// Save writes s to state.json atomically, keeping the previous file as
// state.json.backup, and starts, keeps or drops journal.jsonl as Backend.Save
// describes. A crash between the two leaves a journal whose apply ID no longer
// matches the state's, which Load ignores.
func (b *Local) Save(ctx context.Context, s *State) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.lockFile == nil {
		return fmt.Errorf("save state: %w", ErrNotLocked)
	}
	if err := b.verifyLocked(); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	stored, storedData, err := b.readState()
	if err != nil {
		return err
	}
	next, err := prepareSave(s, stored)
	if err != nil {
		return err
	}
	data, err := json.MarshalIndent(next, "", "  ")
	if err != nil {
		return err
	}
	if storedData != nil {
		if err := writeFileAtomic(b.path(localBackupFile), storedData); err != nil {
			return fmt.Errorf("write state backup: %w", err)
		}
	}
	if err := writeFileAtomic(b.path(localStateFile), append(data, '\n')); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	var storedJournal *Journal
	if stored != nil {
		storedJournal = stored.Journal
	}
	if err := b.saveJournal(s.Journal, storedJournal.applyID()); err != nil {
		return err
	}
	afterSave(s, next)
	return nil
}

// saveJournal makes journal.jsonl hold j's journal after a Save.
func (b *Local) saveJournal(j *Journal, storedApply string) error {
	b.journalApply = j.applyID()
	if j != nil && j.ApplyID == storedApply {
		return nil
	}
	if b.journal != nil {
		b.journal.Close()
		b.journal = nil
	}
	if j == nil {
		err := os.Remove(b.path(localJournalFile))
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	var buf bytes.Buffer
	for _, e := range j.Entries {
		line, err := json.Marshal(journalLine{ApplyID: j.ApplyID, JournalEntry: e})
		if err != nil {
			return err
		}
		buf.Write(append(line, '\n'))
	}
	return writeFileAtomic(b.path(localJournalFile), buf.Bytes())
}

// AppendJournal appends e to journal.jsonl and fsyncs it.
func (b *Local) AppendJournal(ctx context.Context, e JournalEntry) error {
	if err := checkJournalEntry(e); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.lockFile == nil {
		return fmt.Errorf("append to journal: %w", ErrNotLocked)
	}
	if err := b.verifyLocked(); err != nil {
		return fmt.Errorf("append to journal: %w", err)
	}
	if b.journalApply == "" {
		return ErrNoJournal
	}
	if e.At.IsZero() {
		e.At = time.Now().UTC()
	}
	line, err := json.Marshal(journalLine{ApplyID: b.journalApply, JournalEntry: e})
	if err != nil {
		return err
	}
	if b.journal == nil {
		f, err := openJournalForAppend(b.path(localJournalFile))
		if err != nil {
			return err
		}
		b.journal = f
	}
	if _, err := b.journal.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("append to journal: %w", err)
	}
	if err := b.journal.Sync(); err != nil {
		return fmt.Errorf("sync journal: %w", err)
	}
	return nil
}

// openJournalForAppend opens the journal for appending, first cutting off a
// line torn by a crash so that new entries start on a line of their own.
func openJournalForAppend(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(f)
	if err == nil && len(data) > 0 && data[len(data)-1] != '\n' {
		err = f.Truncate(int64(bytes.LastIndexByte(data, '\n') + 1))
	}
	if err == nil {
		_, err = f.Seek(0, io.SeekEnd)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open journal: %w", err)
	}
	return f, nil
}

// writeFileAtomic replaces path with data: a temporary file in the same
// directory is written, fsynced and renamed over path, and the directory is
// fsynced, so a crash leaves either the old file or the new one.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return syncDir(dir)
}

// syncDir fsyncs a directory, making renames in it durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

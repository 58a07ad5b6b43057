package state

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"
)

// TestOpen checks backend selection and attribute validation.
func TestOpen(t *testing.T) {
	tests := map[string]struct {
		kind    string
		attrs   map[string]cty.Value
		wantDir string // for local backends, relative to the config dir
		wantErr string
	}{
		"default is local .nonstop": {kind: "", wantDir: ".nonstop"},
		"local relative path":       {kind: "local", attrs: map[string]cty.Value{"path": cty.StringVal("state/prod")}, wantDir: "state/prod"},
		"local null path":           {kind: "local", attrs: map[string]cty.Value{"path": cty.NullVal(cty.String)}, wantDir: ".nonstop"},
		"local empty path":          {kind: "local", attrs: map[string]cty.Value{"path": cty.StringVal("")}, wantErr: "must not be empty"},
		"local number path":         {kind: "local", attrs: map[string]cty.Value{"path": cty.NumberIntVal(1)}, wantErr: "must be a known string"},
		"local unknown attribute":   {kind: "local", attrs: map[string]cty.Value{"dsn": cty.StringVal("x")}, wantErr: `has no attribute "dsn"`},
		"postgres without dsn":      {kind: "postgres", wantErr: `"dsn" is required`},
		"postgres bad dsn":          {kind: "postgres", attrs: map[string]cty.Value{"dsn": cty.StringVal("postgres://u:s3cret@h:notaport/db")}, wantErr: "not a valid PostgreSQL connection string"},
		"postgres empty workspace":  {kind: "postgres", attrs: map[string]cty.Value{"dsn": cty.StringVal("postgres://h/db"), "workspace": cty.StringVal("")}, wantErr: "workspace must not be empty"},
		"postgres ok":               {kind: "postgres", attrs: map[string]cty.Value{"dsn": cty.StringVal("postgres://h/db")}},
		"unknown kind":              {kind: "etcd", wantErr: `unknown state backend "etcd"`},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			b, err := Open(tt.kind, tt.attrs, dir)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Open error = %v, want one containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Errorf("error reveals the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if local, ok := b.(*Local); ok {
				if diff := cmp.Diff(filepath.Join(dir, tt.wantDir), local.Dir()); diff != "" {
					t.Errorf("dir (-want +got):\n%s", diff)
				}
			} else if tt.wantDir != "" {
				t.Errorf("Open returned %T, want *Local", b)
			}
		})
	}
}

// TestLocalFiles checks the local layout: atomic saves keep the previous
// state as a backup and leave no temporary files; lock.json exists exactly
// while the lock is held.
func TestLocalFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", ".nonstop")
	b := NewLocal(dir)
	id, err := lockFor(b, 0)
	if err != nil {
		t.Fatal(err)
	}
	var held LockInfo
	readJSON(t, filepath.Join(dir, localLockInfo), &held)
	if held.ID != id {
		t.Errorf("lock.json ID = %q, want %q", held.ID, id)
	}
	s := mustLoad(t, b)
	s.Commit = "first"
	if err := b.Save(ctx, s); err != nil {
		t.Fatal(err)
	}
	s.Commit = "second"
	if err := b.Save(ctx, s); err != nil {
		t.Fatal(err)
	}
	var current, backup State
	readJSON(t, filepath.Join(dir, localStateFile), &current)
	readJSON(t, filepath.Join(dir, localBackupFile), &backup)
	if current.Serial != 2 || current.Commit != "second" || backup.Serial != 1 || backup.Commit != "first" {
		t.Errorf("state.json serial %d %q, backup serial %d %q; want 2 second, 1 first",
			current.Serial, current.Commit, backup.Serial, backup.Commit)
	}
	if err := b.Unlock(id); err != nil {
		t.Fatal(err)
	}
	names, _ := filepath.Glob(filepath.Join(dir, "*"))
	hidden, _ := filepath.Glob(filepath.Join(dir, ".*"))
	for i := range names {
		names[i] = filepath.Base(names[i])
	}
	if diff := cmp.Diff([]string{localLockFile, localStateFile, localBackupFile}, names); diff != "" || len(hidden) > 0 {
		t.Errorf("files after unlock (-want +got):\n%s\nhidden: %v", diff, hidden)
	}
}

// TestLocalTornJournal checks that a journal line torn by a crash is ignored
// by Load and cut off before the next append.
func TestLocalTornJournal(t *testing.T) {
	b := NewLocal(t.TempDir())
	s := lockAndLoad(t, b)
	s.Journal = &Journal{ApplyID: "a1", Started: at(0)}
	if err := b.Save(ctx, s); err != nil {
		t.Fatal(err)
	}
	first := JournalEntry{StepID: "001", Kind: "deploy", Event: EventStart, At: at(1)}
	if err := b.AppendJournal(ctx, first); err != nil {
		t.Fatal(err)
	}
	b.journal.Close() // as after a crash: the next append reopens the file
	b.journal = nil
	f, err := os.OpenFile(filepath.Join(b.Dir(), localJournalFile), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"apply_id":"a1","step_id":"002","ki`)
	f.Close()
	if diff := cmp.Diff([]JournalEntry{first}, mustLoad(t, b).Journal.Entries); diff != "" {
		t.Errorf("entries with a torn last line (-want +got):\n%s", diff)
	}
	second := JournalEntry{StepID: "002", Kind: "deploy", Event: EventEnd, At: at(2)}
	if err := b.AppendJournal(ctx, second); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]JournalEntry{first, second}, mustLoad(t, b).Journal.Entries); diff != "" {
		t.Errorf("entries after appending past a torn line (-want +got):\n%s", diff)
	}
}

// TestLocalCorruptState checks that a damaged state.json is reported, pointing
// at the backup, and that a newer format is refused.
func TestLocalCorruptState(t *testing.T) {
	tests := map[string]struct {
		content string
		wantErr string
	}{
		"truncated":    {content: `{"version": 1, "ser`, wantErr: localBackupFile},
		"newer format": {content: `{"version": 99, "serial": 3}`, wantErr: "upgrade nonstop"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			b := NewLocal(t.TempDir())
			if err := os.WriteFile(filepath.Join(b.Dir(), localStateFile), []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := b.Load(ctx); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Load error = %v, want one mentioning %q", err, tt.wantErr)
			}
		})
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

package operation

import (
	"os"
	"path/filepath"

	"github.com/nonstop-release/nonstop/executor/state"
)

// ResumePath returns the file `nonstop resume` appends step ids to and a running
// apply watches: "resume" in the state directory of a local backend, and
// .nonstop/resume in the configuration directory for other backends (the resume
// must then be given on the machine that runs the apply).
func ResumePath(b state.Backend, dir string) string {
	if l, ok := b.(*state.Local); ok {
		return filepath.Join(l.Dir(), "resume")
	}
	return filepath.Join(dir, ".nonstop", "resume")
}

// clearResumeFile removes the resume file, so that resumes given to an earlier
// apply (whose step ids the new plan may reuse) do not resume this one.
func clearResumeFile(path string) error {
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		return err
	}
	return nil
}

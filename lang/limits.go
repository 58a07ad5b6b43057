package lang

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/nonstop-release/nonstop/lang/diags"
)

// MaxSourceSize is the largest configuration file or -var-file nonstop reads:
// 1 MiB, some 25,000 lines. The HCL parser holds about a hundred bytes per
// token, so parsing the worst 1 MiB takes some 350 MB and a second or two; a
// larger file is refused before it is read.
const MaxSourceSize = 1 << 20

// MaxConfigSize is the most the configuration files of one directory may
// hold together: 4 MiB.
const MaxConfigSize = 4 << 20

// MaxFileSize is the largest file file() reads: 4 MiB. Its contents become a
// string and are not parsed as HCL.
const MaxFileSize = 4 << 20

// ErrNotRegular is returned for a path that is a device, FIFO, socket or
// directory: nonstop reads only regular files, so that /dev/urandom or a pipe
// that never ends cannot exhaust its memory or hang it.
var ErrNotRegular = errors.New("not a regular file")

// FileTooLargeError reports a file over its limit.
type FileTooLargeError struct {
	Path string
	// Size is the file's size, or Limit+1 when it grew while being read.
	Size  int64
	Limit int64
}

func (e *FileTooLargeError) Error() string {
	return fmt.Sprintf("%s is %s, more than the limit of %s", e.Path, byteSize(e.Size), byteSize(e.Limit))
}

// ReadSourceFile reads the regular file at path, of at most MaxSourceSize
// bytes: use it for every file nonstop parses as HCL. It refuses anything else
// without reading it, with ErrNotRegular (wrapped) or a *FileTooLargeError.
func ReadSourceFile(path string) ([]byte, error) {
	return readRegularFile(path, MaxSourceSize)
}

// readRegularFile reads the regular file at path, of at most limit bytes, through
// an io.LimitReader: a file that grows while it is read is refused too.
func readRegularFile(path string, limit int64) ([]byte, error) {
	// Stat first: opening a FIFO blocks until a writer comes.
	if st, err := os.Stat(path); err != nil {
		return nil, err
	} else if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w (%s)", path, ErrNotRegular, fileKind(st.Mode()))
	}
	// O_NONBLOCK keeps the open from blocking should path have become a FIFO
	// since the Stat; the Stat of the open file below is what counts.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w (%s)", path, ErrNotRegular, fileKind(st.Mode()))
	}
	if st.Size() > limit {
		return nil, &FileTooLargeError{Path: path, Size: st.Size(), Limit: limit}
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, &FileTooLargeError{Path: path, Size: int64(len(b)), Limit: limit}
	}
	return b, nil
}

// fileKind names what a non-regular file is, for error messages.
func fileKind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeNamedPipe != 0:
		return "a FIFO"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeCharDevice != 0:
		return "a character device"
	case m&os.ModeDevice != 0:
		return "a device"
	}
	return "not a regular file"
}

// byteSize renders n as "4 MiB", "5.2 MiB", "812 KiB" or "17 bytes".
func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// configTooLarge is the error of a directory whose files hold more than
// MaxConfigSize together.
func configTooLarge(dir string) diags.Diagnostic {
	return diags.Sourceless(diags.Error, "Configuration too large", fmt.Sprintf(
		"The *%s files of %s hold more than %s together: nonstop parses at most %s of configuration, so that no input can exhaust its memory.",
		FileSuffix, dir, byteSize(MaxConfigSize), byteSize(MaxConfigSize)))
}

// readDiagnostic turns an error of ReadSourceFile into a diagnostic whose summary
// says what was being read ("configuration file", "variables file").
func readDiagnostic(what string, err error) diags.Diagnostic {
	var big *FileTooLargeError
	switch {
	case errors.As(err, &big):
		return diags.Sourceless(diags.Error, capitalize(what)+" too large", fmt.Sprintf(
			"The %s %s: nonstop parses configuration files and variables files of at most %s, so that no input can exhaust its memory.",
			what, big.Error(), byteSize(MaxSourceSize)))
	case errors.Is(err, ErrNotRegular):
		return diags.Sourceless(diags.Error, "Cannot read "+what, fmt.Sprintf(
			"%s; nonstop reads only regular files, so that a device or a pipe cannot exhaust its memory or hang it.",
			capitalize(err.Error())))
	}
	return diags.Sourceless(diags.Error, "Cannot read "+what, err.Error()+".")
}

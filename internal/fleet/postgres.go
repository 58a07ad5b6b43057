package fleet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Postgres is a throwaway PostgreSQL server on 127.0.0.1, initialised into its
// own temporary directory. It trusts every local connection, so it must never
// listen anywhere but the loopback address.
type Postgres struct {
	// DSN connects to the "postgres" database as the "postgres" superuser.
	DSN string
	// Dir holds the data directory, the Unix socket and the server log.
	Dir  string
	Port int

	cmd  *exec.Cmd
	done chan error
	bin  string
	cred *syscall.Credential
}

// LaunchPostgres starts a PostgreSQL server and returns it; the caller stops it
// with Stop. It is meant for TestMain, where one server serves a whole test
// package. When the process runs as root the server runs as the "postgres" OS
// user created by the Debian package, because postgres refuses to run as root.
func LaunchPostgres() (*Postgres, error) {
	bin, err := postgresBinDir()
	if err != nil {
		return nil, err
	}
	cred, err := postgresCredential()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "nonstop-pg-")
	if err != nil {
		return nil, err
	}
	pg := &Postgres{Dir: dir}
	if err := pg.start(bin, cred); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return pg, nil
}

func (pg *Postgres) start(bin string, cred *syscall.Credential) error {
	if cred != nil {
		if err := os.Chown(pg.Dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return err
		}
		if err := traversable(filepath.Dir(pg.Dir)); err != nil {
			return err
		}
	}
	data := filepath.Join(pg.Dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres",
		"--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %v\n%s", err, lastLines(out, 30))
	}
	port, err := FreePort()
	if err != nil {
		return err
	}
	pg.Port, pg.bin, pg.cred = port, bin, cred
	pg.DSN = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	return pg.run()
}

// run starts the server on the initialised data directory and waits until it
// answers.
func (pg *Postgres) run() error {
	bin, cred, port := pg.bin, pg.cred, pg.Port
	data := filepath.Join(pg.Dir, "data")
	logPath := filepath.Join(pg.Dir, "postgres.log")
	logFile, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logFile.Close()
	if cred != nil {
		if err := logFile.Chown(int(cred.Uid), int(cred.Gid)); err != nil {
			return err
		}
	}
	pg.cmd = exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-k", pg.Dir,
		"-p", strconv.Itoa(port), "-c", "listen_addresses=127.0.0.1",
		// A test server: durability across power loss is not what is tested.
		"-c", "fsync=off", "-c", "full_page_writes=off", "-c", "max_connections=50")
	pg.cmd.Stdout, pg.cmd.Stderr = logFile, logFile
	pg.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true}
	if err := pg.cmd.Start(); err != nil {
		return fmt.Errorf("postgres: %v", err)
	}
	pg.done = make(chan error, 1)
	go func() { pg.done <- pg.cmd.Wait() }()
	if err := pg.waitReady(15 * time.Second); err != nil {
		pg.Stop()
		log, _ := os.ReadFile(logPath)
		return fmt.Errorf("%v\n%s", err, lastLines(log, 30))
	}
	return nil
}

// waitReady waits until the server answers a query (it accepts connections
// before it has finished starting up), exits, or timeout passes.
func (pg *Postgres) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		err := pingPostgres(pg.DSN)
		if err == nil {
			return nil
		}
		select {
		case exitErr := <-pg.done:
			pg.done <- exitErr
			return fmt.Errorf("postgres exited during start: %v", exitErr)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres did not answer within %s: %v", timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// pingPostgres connects to dsn and runs SELECT 1.
func pingPostgres(dsn string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var one int
	return conn.QueryRow(ctx, "SELECT 1").Scan(&one)
}

// Restart stops the server with a fast shutdown, which ends every session
// (and releases their advisory locks), and starts it again on the same port
// and data directory.
func (pg *Postgres) Restart() error {
	if err := pg.halt(); err != nil {
		return err
	}
	return pg.run()
}

// Stop shuts the server down with a fast shutdown (SIGINT), waits for it, and
// removes its directory.
func (pg *Postgres) Stop() error {
	stopErr := pg.halt()
	if err := os.RemoveAll(pg.Dir); err != nil && stopErr == nil {
		stopErr = err
	}
	return stopErr
}

// halt shuts the server down with a fast shutdown (SIGINT) and waits for it.
func (pg *Postgres) halt() error {
	var stopErr error
	if pg.cmd != nil && pg.cmd.Process != nil {
		pg.cmd.Process.Signal(syscall.SIGINT)
		select {
		case err := <-pg.done:
			var exit *exec.ExitError
			if err != nil && !errors.As(err, &exit) {
				stopErr = err
			}
		case <-time.After(20 * time.Second):
			syscall.Kill(-pg.cmd.Process.Pid, syscall.SIGKILL)
			<-pg.done
			stopErr = errors.New("postgres did not stop within 20s after SIGINT; killed")
		}
		pg.cmd = nil
	}
	return stopErr
}

// postgresBinDir finds Debian's /usr/lib/postgresql/<version>/bin, the newest
// version when several are installed.
func postgresBinDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	var found []string
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "postgres")); err == nil {
			found = append(found, d)
		}
	}
	if len(found) == 0 {
		return "", errors.New("no PostgreSQL server in /usr/lib/postgresql/*/bin (apt-get install postgresql)")
	}
	sort.Slice(found, func(i, j int) bool { return pgVersion(found[i]) < pgVersion(found[j]) })
	return found[len(found)-1], nil
}

// pgVersion reads the major version out of /usr/lib/postgresql/<version>/bin.
func pgVersion(bin string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(bin)))
	return v
}

// postgresCredential returns the credential of the "postgres" OS user when the
// process runs as root, and nil (run as ourselves) otherwise.
func postgresCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root needs the postgres OS user: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// traversable makes dir and its ancestors searchable by other users, so the
// postgres user can reach its directory below them. Directories that already
// are (such as /tmp) are left alone.
func traversable(dir string) error {
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o001 == 0 {
			if err := os.Chmod(d, fi.Mode().Perm()|0o001); err != nil {
				return fmt.Errorf("make %s traversable for postgres: %v", d, err)
			}
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

// lastLines returns at most n trailing lines of b, for error messages.
func lastLines(b []byte, n int) []byte {
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return bytes.Join(lines, []byte("\n"))
}

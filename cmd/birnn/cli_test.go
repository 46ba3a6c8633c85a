package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/birnn/birnn/internal/modeltest"
	"github.com/birnn/birnn/model"
)

var (
	binDir  string // the test binaries' folder, removed when the tests end
	cliOnce sync.Once
	cliPath string
	cliErr  error
)

// TestMain gives the built binaries a folder of their own and removes it
// once every test has run.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "birnn-cli-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	if err := os.RemoveAll(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}

// cliBinary builds the birnn binary once per test process and returns its path,
// so CLI tests exercise the real program: flags, exit codes, stdout/stderr.
func cliBinary(t *testing.T) string {
	t.Helper()
	cliOnce.Do(func() {
		cliPath = filepath.Join(binDir, "birnn")
		out, err := exec.Command("go", "build", "-o", cliPath, ".").CombinedOutput()
		if err != nil {
			cliErr = errors.New("go build: " + err.Error() + "\n" + string(out))
		}
	})
	if cliErr != nil {
		t.Fatal(cliErr)
	}
	return cliPath
}

// runCLI runs birnn with args (stdin may be nil) and returns its stdout,
// stderr and exit code. env entries are added to the test's environment,
// less its BIRNN_* variables.
func runCLI(t *testing.T, stdin io.Reader, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(cliBinary(t), args...)
	cmd.Stdin = stdin
	// The child sees the test's BIRNN_* settings only: a BIRNN_DATA or
	// BIRNN_TRAIN_EPOCHS in the caller's shell must not leak into it.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BIRNN_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatalf("running birnn %s: %v", strings.Join(args, " "), err)
	}
	return o.String(), e.String(), code
}

func TestConfigShow(t *testing.T) {
	out, errOut, code := runCLI(t, nil, []string{"BIRNN_TRAIN_EPOCHS=9", "BIRNN_TRAIN_BATCH_SIZE=64"},
		"config", "show", "deep_bilstm_rmsprop_dropout", "--set", "train.epochs=3")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"name: deep_bilstm_rmsprop_dropout", "epochs: 3", "batch_size: 64",
		"name: rmsprop", "recurrent_dropout: 0.2", "recurrent_initializer: glorot_uniform"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestConfigShowErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("train: {epoch: 3}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		env  []string
		want string
	}{
		{[]string{"config", "show", bad}, nil, "train.epoch: unknown key"},
		{[]string{"config", "show", "nope"}, nil, "no run named"},
		{[]string{"config", "show", "bilstm", "--set", "data.padding=middle"}, nil, "data.padding"},
		{[]string{"config", "show", "bilstm", "--set", "epochs"}, nil, "want key=value"},
		{[]string{"config", "show", "bilstm"}, []string{"BIRNN_DATA_MAXLEN=long"}, "BIRNN_DATA_MAXLEN"},
	}
	for _, tc := range cases {
		_, errOut, code := runCLI(t, nil, tc.env, tc.args...)
		if code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("birnn %v: exit %d, stderr %q; want an error mentioning %q", tc.args, code, errOut, tc.want)
		}
	}
}

// TestCLITestsCleanUp runs one CLI test in a child go test with its own
// TMPDIR: the folder of the binaries it built must be gone afterwards.
func TestCLITestsCleanUp(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test again; skipped with -short")
	}
	if os.Getenv("BIRNN_CLEANUP_CHILD") != "" {
		t.Skip("in the child")
	}
	tmp := t.TempDir()
	cmd := exec.Command("go", "test", "-count=1", "-run", "^TestConfigShow$", ".")
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp, "BIRNN_CLEANUP_CHILD=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go test: %v\n%s", err, out)
	}
	left, err := filepath.Glob(filepath.Join(tmp, "birnn-*"))
	if err != nil || len(left) > 0 {
		t.Errorf("the CLI tests left %v in TMPDIR (%v)", left, err)
	}
}

// studyCheckpoint writes the study's run with random weights as a
// checkpoint after epoch epochs at path, creating its folder.
func studyCheckpoint(t *testing.T, run, path string, epoch int) {
	t.Helper()
	m := modeltest.StudyModel(t, run)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := model.SaveCheckpoint(path, &model.Checkpoint{Model: m, Epoch: epoch}); err != nil {
		t.Fatal(err)
	}
}

// openFile opens path for reading until the test ends.
func openFile(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

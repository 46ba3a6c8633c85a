package export_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/birnn/birnn/export"
	"github.com/birnn/birnn/internal/modeltest"
	"github.com/birnn/birnn/internal/testutil"
	"github.com/birnn/birnn/onnx"
)

// TestONNXChecker runs onnx.checker.check_model(full_check=True) on the
// export of every architecture, through scripts/onnxcheck/check.py and the
// Python named by BIRNN_ONNX_CHECKER (scripts/onnxcheck/setup.sh prints it).
func TestONNXChecker(t *testing.T) {
	py := os.Getenv("BIRNN_ONNX_CHECKER")
	if py == "" {
		testutil.Missing(t, "BIRNN_ONNX_CHECKER is not set: run scripts/onnxcheck/setup.sh and set it to the python it prints")
	}
	dir := t.TempDir()
	var files []string
	for i, a := range modeltest.Architectures(t) {
		m := modeltest.RandomModel(t, a.Cfg, uint64(i+1))
		for _, o := range []export.Options{
			{},
			{Opset: export.MinOpset, InputDType: "float32", TestMetrics: map[string]float64{"accuracy": 0.8}},
			{Opset: export.MaxOpset},
		} {
			mp := modeltest.ExportProto(t, m, o)
			p := filepath.Join(dir, fmt.Sprintf("%s_opset%d_%s.onnx", a.Name, mp.GetOpsetImport()[0].GetVersion(), o.InputDType))
			if err := onnx.WriteModel(p, mp); err != nil {
				t.Fatal(err)
			}
			files = append(files, p)
		}
	}
	out, err := exec.Command(py, append([]string{filepath.Join("..", "scripts", "onnxcheck", "check.py")}, files...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ONNX checker: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}

package export_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/birnn/birnn/export"
	"github.com/birnn/birnn/internal/modeltest"
	"github.com/birnn/birnn/model"
	"github.com/birnn/birnn/onnx"
	"github.com/birnn/birnn/onnximport"
)

// TestExportImportExport checks that import then export gives back the
// same bytes, for every architecture and several option sets.
func TestExportImportExport(t *testing.T) {
	optSets := []export.Options{
		{},
		{Opset: 13, InputDType: "float32", Version: "1.2.3"},
		{Opset: 21, TestMetrics: map[string]float64{"loss": 0.3869, "accuracy": 0.8348}, WordIndexSHA256: strings.Repeat("ab", 32)},
	}
	for i, a := range modeltest.Architectures(t) {
		t.Run(a.Name, func(t *testing.T) {
			m := modeltest.RandomModel(t, a.Cfg, uint64(i+100))
			for _, opts := range optSets {
				b1 := modeltest.Export(t, m, opts)
				mp := modeltest.Decode(t, b1)
				m2, err := onnximport.Import(mp)
				if err != nil {
					t.Fatalf("import: %v", err)
				}
				modeltest.SameParams(t, m2, m)
				o2, err := export.OptionsOf(mp)
				if err != nil {
					t.Fatal(err)
				}
				if b2 := modeltest.Export(t, m2, o2); !bytes.Equal(b1, b2) {
					t.Fatalf("options %+v: export → import → export changed the bytes (%d → %d)", opts, len(b1), len(b2))
				}
			}
		})
	}
}

// TestOptionsErrors checks the Options validation.
func TestOptionsErrors(t *testing.T) {
	m := modeltest.RandomModel(t, modeltest.Architectures(t)[1].Cfg, 1)
	for _, o := range []export.Options{{Opset: 12}, {Opset: 22}, {InputDType: "int64"}} {
		if _, err := export.Model(m, o); !errors.Is(err, export.ErrOptions) {
			t.Errorf("%+v: error %v, want ErrOptions", o, err)
		}
	}
	bad := m.Clone()
	bad.Param("lstm_0.R").Data = bad.Param("lstm_0.R").Data[:10]
	if _, err := export.Model(bad, export.Options{}); err == nil || !strings.Contains(err.Error(), "lstm_0.R") {
		t.Errorf("truncated weight: error %v, want one naming lstm_0.R", err)
	}
}

// TestMetadata checks the metadata_props of an export.
func TestMetadata(t *testing.T) {
	a := modeltest.Architectures(t)[2] // deep_bilstm
	m := modeltest.RandomModel(t, a.Cfg, 1)
	mp := modeltest.ExportProto(t, m, export.Options{TestMetrics: map[string]float64{"accuracy": 0.5}, WordIndexSHA256: "abc", Version: "9"})
	got := map[string]string{}
	for _, kv := range mp.MetadataProps {
		got[kv.GetKey()] = kv.GetValue()
	}
	want := map[string]string{
		model.MetaNumWords: "4000", model.MetaMaxLen: "100", model.MetaPadding: "post",
		model.MetaTruncating: "pre", model.MetaIndexFrom: "3", model.MetaStartChar: "1",
		model.MetaOOVChar: "2", model.MetaTokenizer: "keras_text_to_word_sequence/v1",
		model.MetaWordIndexSHA256: "abc", model.MetaTestMetrics: `{"accuracy":0.5}`, model.MetaVersion: "9",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if !strings.Contains(got[model.MetaConfig], "name: deep_bilstm") {
		t.Errorf("%s does not hold the config:\n%s", model.MetaConfig, got[model.MetaConfig])
	}
	if mp.GetProducerName() != "birnn" || mp.GetIrVersion() != 8 {
		t.Errorf("producer %q IR %d, want birnn 8", mp.GetProducerName(), mp.GetIrVersion())
	}
	in := mp.Graph.Input[0].GetType().GetTensorType()
	if in.GetElemType() != int32(onnx.TensorProto_INT32) || in.GetShape().GetDim()[0].GetDimParam() != "batch" || in.GetShape().GetDim()[1].GetDimParam() != "sequence" {
		t.Errorf("input %v, want int32 [batch, sequence]", in)
	}
}

package export

import (
	"encoding/json"
	"fmt"

	"github.com/birnn/birnn/model"
	"github.com/birnn/birnn/onnx"
)

// OptionsOf recovers the Options a birnn export was written with (opset,
// input dtype and the birnn.* metadata), so that exporting the imported
// model again gives the same bytes. Fields the file does not record keep
// their defaults. Errors: birnn.test_metrics that is not a JSON object of
// numbers.
func OptionsOf(mp *onnx.ModelProto) (Options, error) {
	var o Options
	for _, op := range mp.GetOpsetImport() {
		if op.GetDomain() == "" || op.GetDomain() == "ai.onnx" {
			o.Opset = int(op.GetVersion())
		}
	}
	if ins := mp.GetGraph().GetInput(); len(ins) > 0 &&
		onnx.TensorProto_DataType(ins[0].GetType().GetTensorType().GetElemType()) == onnx.TensorProto_FLOAT {
		o.InputDType = "float32"
	}
	for _, kv := range mp.GetMetadataProps() {
		switch kv.GetKey() {
		case model.MetaTokenizer:
			o.Tokenizer = kv.GetValue()
		case model.MetaWordIndexSHA256:
			o.WordIndexSHA256 = kv.GetValue()
		case model.MetaVocabulary:
			o.Vocabulary = kv.GetValue()
		case model.MetaLabels:
			o.Labels = kv.GetValue()
		case model.MetaVersion:
			o.Version = kv.GetValue()
		case model.MetaTestMetrics:
			if err := json.Unmarshal([]byte(kv.GetValue()), &o.TestMetrics); err != nil {
				return o, fmt.Errorf("export: metadata %s: %w", model.MetaTestMetrics, err)
			}
		}
	}
	return o, nil
}

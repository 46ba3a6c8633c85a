package infer

import (
	"fmt"
	"math"
	"slices"

	"github.com/birnn/birnn/onnx"
)

// NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss, the losses a
// classifier exports with it: input [N, C, d…] (log-probabilities or
// scores), target [N, d…] class ids, optional weight [C].

func init() {
	registerOp("", "NegativeLogLikelihoodLoss", 12, 0, func(n *onnx.NodeProto, opset int64) (opKernel, error) { return buildLoss(n, false) })
	registerOp("", "SoftmaxCrossEntropyLoss", 12, 0, func(n *onnx.NodeProto, opset int64) (opKernel, error) { return buildLoss(n, true) })
}

func buildLoss(n *onnx.NodeProto, softmax bool) (opKernel, error) {
	a := attrs(n)
	reduction := a.String("reduction", "mean")
	hasIgnore := a.Has("ignore_index")
	ignore := a.Int("ignore_index", 0)
	if err := a.Err(); err != nil {
		return nil, err
	}
	switch reduction {
	case "mean", "sum", "none":
	default:
		return nil, fmt.Errorf("reduction %q is not mean, sum or none", reduction)
	}
	return fn(func(in []*Tensor) ([]*Tensor, error) {
		if err := need(in, 2); err != nil {
			return nil, err
		}
		x, target := in[0], in[1]
		if !x.DType.float() {
			return nil, fmt.Errorf("input is %s, want a floating-point type", x.DType)
		}
		if x.Rank() < 2 || target.Rank() != x.Rank()-1 || target.Shape[0] != x.Shape[0] || !slices.Equal(target.Shape[1:], x.Shape[2:]) {
			return nil, fmt.Errorf("input %v and target %v must be [N, C, d…] and [N, d…]", x.Shape, target.Shape)
		}
		c, inner := x.Shape[1], numel(x.Shape[2:])
		xf, err := floatsOf(x)
		if err != nil {
			return nil, err
		}
		var logProb *Tensor
		if softmax {
			lp := make([]float64, len(xf))
			copy(lp, softmaxT(xf, x.Shape[0], c, inner, true))
			xf = lp
			if logProb, err = Cast(New(x.Shape, lp), x.DType); err != nil {
				return nil, err
			}
		}
		tg, err := target.Ints()
		if err != nil {
			return nil, err
		}
		var w []float64
		if len(in) > 2 && in[2] != nil {
			if w, err = floatsOf(in[2]); err != nil {
				return nil, err
			}
			if len(w) != c {
				return nil, fmt.Errorf("weight %v must hold %d classes", in[2].Shape, c)
			}
		}
		loss := make([]float64, len(tg))
		var sum, wsum float64
		for i, t := range tg {
			if hasIgnore && t == ignore {
				continue
			}
			if t < 0 || t >= int64(c) {
				return nil, fmt.Errorf("target %d is out of range [0, %d)", t, c)
			}
			wt := 1.0
			if w != nil {
				wt = w[t]
			}
			nIdx, d := i/inner, i%inner
			loss[i] = -xf[(nIdx*c+int(t))*inner+d] * wt
			sum += loss[i]
			wsum += wt
		}
		var out *Tensor
		switch reduction {
		case "none":
			out = New(target.Shape, loss)
		case "sum":
			out = New(nil, []float64{sum})
		default:
			v := sum / wsum
			if wsum == 0 {
				v = 0
				if len(tg) > 0 && !hasIgnore {
					v = math.NaN()
				}
			}
			out = New(nil, []float64{v})
		}
		y, err := Cast(out, x.DType)
		if err != nil {
			return nil, err
		}
		if softmax {
			return []*Tensor{y, logProb}, nil
		}
		return []*Tensor{y}, nil
	}), nil
}

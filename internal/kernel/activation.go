package kernel

import (
	"fmt"
	"math"
	"strings"
)

// ActivationKind names one of the activation functions the ONNX recurrent
// operators (LSTM, GRU, RNN) accept in their activations attribute.
type ActivationKind int

// The recurrent activation functions, with f(x) for parameters α and β.
const (
	ActSigmoid         ActivationKind = iota // 1/(1+e^−x)
	ActTanh                                  // tanh(x)
	ActRelu                                  // max(0, x)
	ActHardSigmoid                           // min(1, max(0, α·x+β)); α 0.2, β 0.5
	ActAffine                                // α·x+β
	ActLeakyRelu                             // x ≥ 0 ? x : α·x; α 0.01
	ActThresholdedRelu                       // x > α ? x : 0
	ActScaledTanh                            // α·tanh(β·x)
	ActElu                                   // x ≥ 0 ? x : α·(e^x−1); α 1
	ActSoftsign                              // x/(1+|x|)
	ActSoftplus                              // log(1+e^x)
)

type actInfo struct {
	name             string
	kind             ActivationKind
	alphas, betas    bool    // whether the function consumes activation_alpha/beta entries
	defAlpha, defBet float32 // used when the attribute lists run out
}

// actTable follows ONNX Runtime's reading of activation_alpha/activation_beta:
// each function takes the next alpha (beta) entry only if it has such a
// parameter, and falls back to the default when the list is exhausted.
var actTable = []actInfo{
	{"sigmoid", ActSigmoid, false, false, 0, 0},
	{"tanh", ActTanh, false, false, 0, 0},
	{"relu", ActRelu, false, false, 0, 0},
	{"hardsigmoid", ActHardSigmoid, true, true, 0.2, 0.5},
	{"affine", ActAffine, true, true, 0, 0},
	{"leakyrelu", ActLeakyRelu, true, false, 0.01, 0},
	{"thresholdedrelu", ActThresholdedRelu, true, false, 0, 0},
	{"scaledtanh", ActScaledTanh, true, true, 0, 0},
	{"elu", ActElu, true, false, 1, 0},
	{"softsign", ActSoftsign, false, false, 0, 0},
	{"softplus", ActSoftplus, false, false, 0, 0},
}

// Activation is an activation function with its parameters.
type Activation struct {
	Kind        ActivationKind
	Alpha, Beta float32
}

// String returns the ONNX spelling of the function, e.g. "HardSigmoid".
func (a Activation) String() string {
	names := [...]string{"Sigmoid", "Tanh", "Relu", "HardSigmoid", "Affine", "LeakyRelu",
		"ThresholdedRelu", "ScaledTanh", "Elu", "Softsign", "Softplus"}
	if int(a.Kind) < 0 || int(a.Kind) >= len(names) {
		return fmt.Sprintf("ActivationKind(%d)", int(a.Kind))
	}
	return names[a.Kind]
}

// ParseActivations resolves the activations attribute of a recurrent operator
// together with its activation_alpha and activation_beta lists. Names are
// matched without regard to case. Alphas and betas are consumed in order by
// the functions that take them (HardSigmoid, Affine, LeakyRelu,
// ThresholdedRelu, ScaledTanh, Elu); functions left without an entry get the
// defaults HardSigmoid α 0.2 β 0.5, LeakyRelu α 0.01, Elu α 1, else 0.
//
// It returns an error naming the first unknown function.
func ParseActivations(names []string, alphas, betas []float32) ([]Activation, error) {
	out := make([]Activation, len(names))
	ai, bi := 0, 0
	for i, n := range names {
		var info *actInfo
		for j := range actTable {
			if strings.EqualFold(actTable[j].name, n) {
				info = &actTable[j]
				break
			}
		}
		if info == nil {
			return nil, fmt.Errorf("unsupported activation function %q", n)
		}
		a := Activation{Kind: info.kind, Alpha: info.defAlpha, Beta: info.defBet}
		if info.alphas && ai < len(alphas) {
			a.Alpha = alphas[ai]
			ai++
		}
		if info.betas && bi < len(betas) {
			a.Beta = betas[bi]
			bi++
		}
		out[i] = a
	}
	return out, nil
}

// ApplyActivation replaces every x[i] with f(x[i]) for the activation a.
// Sigmoid and Tanh on float32 use the vectorised SigmoidSlice32 and
// TanhSlice32.
func ApplyActivation[T Float](a Activation, x []T) { applyActivation(a, x) }

func applyActivation[T Float](a Activation, x []T) {
	alpha, beta := T(a.Alpha), T(a.Beta)
	if x32, ok := any(x).([]float32); ok {
		switch a.Kind {
		case ActSigmoid:
			SigmoidSlice32(x32)
			return
		case ActTanh:
			TanhSlice32(x32)
			return
		}
	}
	switch a.Kind {
	case ActSigmoid:
		for i, v := range x {
			x[i] = Sigmoid(v)
		}
	case ActTanh:
		for i, v := range x {
			x[i] = Tanh(v)
		}
	case ActRelu:
		for i, v := range x {
			if v < 0 {
				x[i] = 0
			}
		}
	case ActHardSigmoid:
		for i, v := range x {
			x[i] = min(1, max(0, alpha*v+beta))
		}
	case ActAffine:
		for i, v := range x {
			x[i] = alpha*v + beta
		}
	case ActLeakyRelu:
		for i, v := range x {
			if v < 0 {
				x[i] = alpha * v
			}
		}
	case ActThresholdedRelu:
		for i, v := range x {
			if !(v > alpha) {
				x[i] = 0
			}
		}
	case ActScaledTanh:
		for i, v := range x {
			x[i] = alpha * Tanh(beta*v)
		}
	case ActElu:
		for i, v := range x {
			if v < 0 {
				x[i] = alpha * T(math.Expm1(float64(v)))
			}
		}
	case ActSoftsign:
		for i, v := range x {
			x[i] = v / (1 + T(math.Abs(float64(v))))
		}
	case ActSoftplus:
		for i, v := range x {
			x[i] = T(softplus(float64(v)))
		}
	default:
		panic(fmt.Sprintf("kernel: unknown activation kind %d", int(a.Kind)))
	}
}

// softplus is log(1+e^x) without overflow for large x.
func softplus(x float64) float64 {
	if x > 0 {
		return x + math.Log1p(math.Exp(-x))
	}
	return math.Log1p(math.Exp(x))
}

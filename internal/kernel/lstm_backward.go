package kernel

import "math"

// LSTMCellBackward is the adjoint of one row of LSTMForward (gate order i,
// o, f, c, default activations) for the trainer's backpropagation through
// time. It works on one batch row so that callers may keep gates and
// states in any row stride (the trainer's time-major layouts hold both
// directions side by side) and needs no allocation.
//
// Args:
//
//	g      [4H] the activated gates i, o, f, g LSTMForward left in z.
//	cPrev  [H] the cell state before the step; nil for zeros.
//	c      [H] the cell state after the step.
//	dh     [H] ∂L/∂h(t), every path summed.
//	dc     [H] ∂L/∂c(t) from the next step; on return ∂L/∂c(t−1).
//	dz     [4H] written with ∂L/∂z, the pre-activation gradient; it may
//	       be g (each unit's four gates are read before they are written).
//	tc     [H] scratch: tanh(c) is computed here, with TanhSlice32 for
//	       float32 (the function LSTMForward32 applied to the same state).
func LSTMCellBackward[T Float](g, cPrev, c, dh, dc, dz, tc []T) {
	hidden := len(c)
	g, dz = g[:4*hidden], dz[:4*hidden]
	dh, dc, tc = dh[:hidden], dc[:hidden], tc[:hidden]
	copy(tc, c)
	if t32, ok := any(tc).([]float32); ok {
		TanhSlice32(t32)
	} else {
		for j, v := range tc {
			tc[j] = T(math.Tanh(float64(v)))
		}
	}
	for j := range hidden {
		ig, og, fg, gg := g[j], g[hidden+j], g[2*hidden+j], g[3*hidden+j]
		t := tc[j]
		dct := dc[j] + dh[j]*og*(1-t*t)
		var cp T
		if cPrev != nil {
			cp = cPrev[j]
		}
		dz[j] = dct * gg * ig * (1 - ig)
		dz[hidden+j] = dh[j] * t * og * (1 - og)
		dz[2*hidden+j] = dct * cp * fg * (1 - fg)
		dz[3*hidden+j] = dct * ig * (1 - gg*gg)
		dc[j] = dct * fg
	}
}

// ColumnSums adds the sums over rows of a [rows, n] (row stride lda) to
// dst [n], row by row in order, so the result does not depend on how a
// caller splits columns.
func ColumnSums[T Float](dst []T, rows, n int, a []T, lda int) {
	dst = dst[:n]
	for r := range rows {
		for j, v := range a[r*lda : r*lda+n] {
			dst[j] += v
		}
	}
}

// PackGateMatrix is NewGateMatrix reusing the memory of m when it is large
// enough (m may be nil): the trainer repacks its recurrent weights after
// every optimizer step without allocating.
func PackGateMatrix(m *GateMatrix, l Gates, w []float32, k int) *GateMatrix {
	if m == nil || cap(m.data) < k*l.LD {
		return NewGateMatrix(l, w, k)
	}
	m.L, m.K, m.data = l, k, m.data[:k*l.LD]
	clear(m.data)
	for g := range l.G {
		for j := range l.H {
			col := l.Col(g, j)
			row := w[(g*l.H+j)*k : (g*l.H+j+1)*k]
			for p, v := range row {
				m.data[p*l.LD+col] = v
			}
		}
	}
	return m
}

package kernel

import (
	"math"
	"sync"

	"gonum.org/v1/gonum/blas"
)

// Int8 recurrent products (dynamic quantization, as ONNX Runtime's
// DynamicQuantizeLSTM): weights are int8 with a scale per output column
// (symmetric, zero point 0), activations are quantized row by row when
// they are used, to 7 bits with a zero point:
//
//	a ≈ sa·(qa − za), qa ∈ [0, 127];  w ≈ sw[j]·qw, qw ∈ [−128, 127]
//	Σp a[p]·w[p,j] ≈ sa·sw[j]·(Σp qa[p]·qw[p,j] − za·Σp qw[p,j])
//
// The integer sums are exact (int32); with 7-bit activations a pair of
// products never leaves int16 (2·127·128 < 2¹⁵), which lets AVX2 use
// VPMADDUBSW without VNNI and without saturation. Quantizing each row on
// its own keeps rows independent, so results do not depend on how rows are
// split among threads.

// QMax is the largest quantized activation.
const QMax = 127

// QGateMatrix is a GateMatrix with int8 weights: Wᵀ [K, LD] in quads of
// four k per column ([K4][LD][4] bytes, K padded with zeros to a multiple
// of 8), a scale per column and each column's sum of weights (for the
// activations' zero point).
type QGateMatrix struct {
	L      Gates
	K, K4  int
	data   []int8
	scale  []float32 // [LD], 0 in the padding
	colSum []int32   // [LD]

	// codes holds the weights as float32 [4·K4, LD] for the portable
	// product, made on its first use.
	codesOnce sync.Once
	codes     []float32
}

// NewQGateMatrix packs quantized weights w [G·H, k] (ONNX row order, row i
// the weights of output i) with scale [G·H], output i's scale, for l.
func NewQGateMatrix(l Gates, w []int8, scale []float32, k int) *QGateMatrix {
	k4 := (k + 7) / 8 * 2 // k padded to a multiple of 8: codes go 8 at a time
	m := &QGateMatrix{L: l, K: k, K4: k4, data: make([]int8, k4*l.LD*4),
		scale: make([]float32, l.LD), colSum: make([]int32, l.LD)}
	for g := range l.G {
		for j := range l.H {
			row, col := g*l.H+j, l.Col(g, j)
			m.scale[col] = scale[row]
			for p, v := range w[row*k : (row+1)*k] {
				m.data[((p>>2)*l.LD+col)*4+p&3] = v
				m.colSum[col] += int32(v)
			}
		}
	}
	return m
}

// QuantizeRows quantizes rows of x (k values each, row stride ldx) into q
// (row stride ldq ≥ 4·⌈k/4⌉ bytes, the tail zero) with a scale and zero
// point per row: the range [min(x, 0), max(x, 0)] maps onto [0, 127],
// rounding to nearest even. A row of zeros gets scale 1, zero point 0.
func QuantizeRows(rows, k int, x []float32, ldx int, q []uint8, ldq int, scale []float32, zp []int32) {
	quantizeRows(rows, k, x, ldx, q, ldq, scale, zp)
}

func quantizeRowsGo(rows, k int, x []float32, ldx int, q []uint8, ldq int, scale []float32, zp []int32) {
	for r := range rows {
		xr, qr := x[r*ldx:r*ldx+k], q[r*ldq:r*ldq+ldq]
		lo, hi := float32(0), float32(0)
		for _, v := range xr {
			lo, hi = min(lo, v), max(hi, v)
		}
		s, z, inv := float32(1), int32(0), float32(1)
		if hi > lo {
			s = (hi - lo) / QMax
			inv = QMax / (hi - lo)
			z = int32(math.RoundToEven(float64(-lo * inv)))
		}
		for p, v := range xr {
			qv := int32(math.RoundToEven(float64(v*inv))) + z
			qr[p] = uint8(min(max(qv, 0), QMax))
		}
		clear(qr[k:])
		scale[r], zp[r] = s, z
	}
}

// qRowBlock returns the rows of the next block of an int8 product or step:
// the int8 kernels take 4, 2 or 1 rows.
func qRowBlock(left int) int {
	switch {
	case left >= 4:
		return 4
	case left >= 2:
		return 2
	}
	return 1
}

// QScratch is the scratch of int8 steps and projections: quantized rows,
// their scales and zero points, and int32 sums.
type QScratch struct {
	q      []uint8
	scale  []float32
	zp     []int32
	acc    []int32
	fa, fc []float32 // the portable product's float copies
}

func (s *QScratch) reserve(rows, ldq, ld int) {
	if cap(s.q) < rows*ldq {
		s.q = make([]uint8, rows*ldq)
	}
	if cap(s.scale) < rows {
		s.scale, s.zp = make([]float32, rows), make([]int32, rows)
	}
	if cap(s.acc) < stepRows*ld {
		s.acc = make([]int32, stepRows*ld)
	}
	s.q, s.scale, s.zp, s.acc = s.q[:rows*ldq], s.scale[:rows], s.zp[:rows], s.acc[:stepRows*ld]
}

// MulAddQ adds a·Wᵀ to c for rows of a (k = m.K values each, row stride
// lda), quantizing a on the way; with bias non-nil, c = bias + a·Wᵀ.
// c [rows, LD] has row stride ldc.
func (m *QGateMatrix) MulAddQ(rows int, a []float32, lda int, bias, c []float32, ldc int, s *QScratch) {
	if rows <= 0 {
		return
	}
	ld, ldq := m.L.LD, 4*m.K4
	s.reserve(rows, ldq, ld)
	QuantizeRows(rows, m.K, a, lda, s.q, ldq, s.scale, s.zp)
	for b, n := 0, 0; b < rows; b += n {
		n = qRowBlock(rows - b)
		qgemm(m, n, s.q[b*ldq:], ldq, s.acc, ld, s)
		m.dequant(n, s.acc, ld, s.scale[b:], s.zp[b:], bias, c[b*ldc:], ldc)
	}
}

// dequantGo adds (or, with bias, writes bias plus) the dequantized sums
// acc [rows, ld] to c.
func (m *QGateMatrix) dequantGo(rows int, acc []int32, lda int, sa []float32, za []int32, bias, c []float32, ldc int) {
	ld := m.L.LD
	for r := range rows {
		ar, cr := acc[r*lda:r*lda+ld], c[r*ldc:r*ldc+ld]
		s, z := sa[r], za[r]
		for j, v := range ar {
			d := float32(v-z*m.colSum[j]) * float32(s*m.scale[j])
			if bias != nil {
				cr[j] = bias[j] + d
			} else {
				cr[j] += d
			}
		}
	}
}

// qgemmGo computes acc [rows, LD] = q · Wᵀ in int32 (row stride of q ldq
// bytes, of acc lda) with gonum's float32 GEMM: codes are integers below
// 2⁷ and 2⁷ in magnitude, so while 4·K4·127·128 < 2²⁴ every partial sum is
// an integer float32 holds exactly and the result is the integer one.
// Longer rows take an integer loop.
func qgemmGo(m *QGateMatrix, rows int, q []uint8, ldq int, acc []int32, lda int, s *QScratch) {
	ld, k := m.L.LD, 4*m.K4
	if k*QMax*128 >= 1<<24 {
		qgemmInt(m, rows, q, ldq, acc, lda)
		return
	}
	m.codesOnce.Do(func() {
		m.codes = make([]float32, k*ld)
		for p := range k {
			for j := range ld {
				m.codes[p*ld+j] = float32(m.data[((p>>2)*ld+j)*4+p&3])
			}
		}
	})
	if cap(s.fa) < rows*k {
		s.fa = make([]float32, rows*k)
	}
	if cap(s.fc) < rows*ld {
		s.fc = make([]float32, rows*ld)
	}
	a, c := s.fa[:rows*k], s.fc[:rows*ld]
	for r := range rows {
		for p, v := range q[r*ldq : r*ldq+k] {
			a[r*k+p] = float32(v)
		}
	}
	impl.Sgemm(blas.NoTrans, blas.NoTrans, rows, ld, k, 1, a, k, m.codes, ld, 0, c, ld)
	for r := range rows {
		for j, v := range c[r*ld : (r+1)*ld] {
			acc[r*lda+j] = int32(v)
		}
	}
}

// qgemmInt is qgemmGo in integers, two quads of k per pass over a row.
func qgemmInt(m *QGateMatrix, rows int, q []uint8, ldq int, acc []int32, lda int) {
	ld := m.L.LD
	for r := range rows {
		ar := acc[r*lda : r*lda+ld]
		clear(ar)
		qr := q[r*ldq : r*ldq+4*m.K4]
		for p4 := 0; p4 < m.K4; p4 += 2 {
			a := qr[4*p4 : 4*p4+8]
			a0, a1, a2, a3 := int32(a[0]), int32(a[1]), int32(a[2]), int32(a[3])
			a4, a5, a6, a7 := int32(a[4]), int32(a[5]), int32(a[6]), int32(a[7])
			w0 := m.data[p4*ld*4 : (p4+1)*ld*4]
			w1 := m.data[(p4+1)*ld*4 : (p4+2)*ld*4]
			w0, w1 = w0[:4*len(ar)], w1[:4*len(ar)]
			for j := range ar {
				u, v := w0[4*j:4*j+4:4*j+4], w1[4*j:4*j+4:4*j+4]
				ar[j] += a0*int32(u[0]) + a1*int32(u[1]) + a2*int32(u[2]) + a3*int32(u[3]) +
					a4*int32(v[0]) + a5*int32(v[1]) + a6*int32(v[2]) + a7*int32(v[3])
			}
		}
	}
}

// QLSTMStep is LSTMStep with int8 recurrent weights: each block's hPrev
// rows are quantized and multiplied in int8, the dequantized product lands
// on z, then the same cells run.
func QLSTMStep(r *QGateMatrix, rows int, z, hPrev, h, c []float32, s *QScratch) {
	l := r.L
	for b, n := 0, 0; b < rows; b += n {
		n = qRowBlock(rows - b)
		r.MulAddQ(n, hPrev[b*l.Hp:], l.Hp, nil, z[b*l.LD:], l.LD, s)
		lstmCells(l, n, z[b*l.LD:], c[b*l.Hp:], h[b*l.Hp:])
	}
}

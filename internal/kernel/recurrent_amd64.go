//go:build amd64 && !purego

package kernel

//go:generate go run ./asmgen -out recurrent_amd64.s

//go:noescape
func gemm6xN(k, n16 int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, bias *float32)

//go:noescape
func gemm5xN(k, n16 int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, bias *float32)

//go:noescape
func gemm4xN(k, n16 int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, bias *float32)

//go:noescape
func gemm2xN(k, n16 int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, bias *float32)

//go:noescape
func gemm1xN(k, n16 int, a *float32, b *float32, ldb int, c *float32, bias *float32)

//go:noescape
func gemmZ6xN(k, n16 int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, bias *float32)

//go:noescape
func gemmZ5xN(k, n16 int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, bias *float32)

//go:noescape
func gemmZ4xN(k, n16 int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, bias *float32)

//go:noescape
func gemmZ2xN(k, n16 int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, bias *float32)

//go:noescape
func gemmZ1xN(k, n16 int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, bias *float32)

//go:noescape
func lstmCellsAVX512(rows, groups int, z *float32, ldz int, c *float32, h *float32, ldh int)

//go:noescape
func lstmCellsAVX2(rows, groups int, z *float32, ldz int, c *float32, h *float32, ldh int)

//go:noescape
func gruCellsAVX2(rows, groups int, x *float32, acc *float32, ld int, h *float32, hout *float32, ldh int)

//go:noescape
func gruGates0AVX2(rows, groups int, x *float32, ldx int, acc *float32, lda int, h *float32, zs *float32, rs *float32, ldh int)

//go:noescape
func gruCand0AVX2(rows, groups int, x *float32, ldx int, acc *float32, lda int, zs *float32, h *float32, hout *float32, ldh int)

// checkRows panics unless s holds rows rows of stride ld whose last row
// has need elements: the assembly kernels read and write without bounds
// checks.
func checkRows(s []float32, rows, ld, need int) {
	if rows > 0 && len(s) < (rows-1)*ld+need {
		panic("kernel: recurrent step buffer too short")
	}
}

// mulAddGates computes c += a·Wᵀ, or c = bias + a·Wᵀ when bias is not
// nil, for rows of a; m.K > 0.
func mulAddGates(m *GateMatrix, rows int, a []float32, lda int, bias, c []float32, ldc int) {
	if !useAsm {
		mulAddGatesGo(m, rows, a, lda, bias, c, ldc)
		return
	}
	ld := m.L.LD
	checkRows(a, rows, lda, m.K)
	checkRows(c, rows, ldc, ld)
	var bp *float32
	if bias != nil {
		checkRows(bias, 1, ld, ld)
		bp = &bias[0]
	}
	kern := &gemmRowsAVX2
	if useZ {
		kern = &gemmRowsZ
	}
	for i := 0; i < rows; {
		n := rowBlock(rows - i)
		kern[n](m.K, ld/16, &a[i*lda], lda, &m.data[0], ld, &c[i*ldc], ldc, bp)
		i += n
	}
}

// gemmRowsKernel is the signature of the row-block product kernels.
type gemmRowsKernel func(k, n16 int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, bias *float32)

// gemmRowsAVX2 and gemmRowsZ are the product kernels by rows of the
// block (rowBlock's sizes: 1, 2, 4, 5, 6).
var (
	gemmRowsAVX2 = [stepRows + 1]gemmRowsKernel{1: gemm1xNRows, 2: gemm2xN, 4: gemm4xN, 5: gemm5xN, 6: gemm6xN}
	gemmRowsZ    = [stepRows + 1]gemmRowsKernel{1: gemmZ1xN, 2: gemmZ2xN, 4: gemmZ4xN, 5: gemmZ5xN, 6: gemmZ6xN}
)

// gemm1xNRows is gemm1xN with the row kernels' signature.
func gemm1xNRows(k, n16 int, a *float32, _ int, b *float32, ldb int, c *float32, _ int, bias *float32) {
	gemm1xN(k, n16, a, b, ldb, c, bias)
}

func lstmCells(l Gates, rows int, z, c, h []float32) {
	if !useAsm {
		lstmCellsGo(l, rows, z, c, h)
		return
	}
	checkRows(z, rows, l.LD, 4*l.Hp)
	checkRows(c, rows, l.Hp, l.Hp)
	checkRows(h, rows, l.Hp, l.Hp)
	switch {
	case rows <= 0:
	case useZ:
		lstmCellsAVX512(rows, l.Groups(), &z[0], l.LD, &c[0], &h[0], l.Hp)
	default:
		lstmCellsAVX2(rows, l.Groups(), &z[0], l.LD, &c[0], &h[0], l.Hp)
	}
}

func gruCells(l Gates, rows int, x, acc, h, hout []float32) {
	if !useAsm {
		gruCellsGo(l, rows, x, acc, h, hout)
		return
	}
	checkRows(x, rows, l.LD, 3*l.Hp)
	checkRows(acc, rows, l.LD, 3*l.Hp)
	checkRows(h, rows, l.Hp, l.Hp)
	checkRows(hout, rows, l.Hp, l.Hp)
	if rows > 0 {
		gruCellsAVX2(rows, l.Groups(), &x[0], &acc[0], l.LD, &h[0], &hout[0], l.Hp)
	}
}

func gruGates0(l Gates, rows int, x []float32, ldx int, acc, h, zs, rs []float32) {
	if !useAsm {
		gruGates0Go(l, rows, x, ldx, acc, h, zs, rs)
		return
	}
	checkRows(x, rows, ldx, 3*l.Hp)
	checkRows(acc, rows, l.LD, 2*l.Hp)
	for _, s := range [][]float32{h, zs, rs} {
		checkRows(s, rows, l.Hp, l.Hp)
	}
	if rows > 0 {
		gruGates0AVX2(rows, l.Groups(), &x[0], ldx, &acc[0], l.LD, &h[0], &zs[0], &rs[0], l.Hp)
	}
}

func gruCandidate0(l Gates, rows int, x []float32, ldx int, acc []float32, lda int, zs, h, hout []float32) {
	if !useAsm {
		gruCandidate0Go(l, rows, x, ldx, acc, lda, zs, h, hout)
		return
	}
	checkRows(x, rows, ldx, 3*l.Hp)
	checkRows(acc, rows, lda, l.Hp)
	checkRows(zs, rows, l.Hp, l.Hp)
	checkRows(h, rows, l.Hp, l.Hp)
	checkRows(hout, rows, l.Hp, l.Hp)
	if rows > 0 {
		gruCand0AVX2(rows, l.Groups(), &x[0], ldx, &acc[0], lda, &zs[0], &h[0], &hout[0], l.Hp)
	}
}

//go:noescape
func qgemm4xN(k4, n16 int, a *uint8, lda int, b *int8, ldb int, c *int32, ldc int)

//go:noescape
func qgemm2xN(k4, n16 int, a *uint8, lda int, b *int8, ldb int, c *int32, ldc int)

//go:noescape
func qgemm1xN(k4, n16 int, a *uint8, lda int, b *int8, ldb int, c *int32, ldc int)

//go:noescape
func qgemmZ4xN(k4, n16 int, a *uint8, lda int, b *int8, ldb int, c *int32, ldc int)

//go:noescape
func qgemmZ2xN(k4, n16 int, a *uint8, lda int, b *int8, ldb int, c *int32, ldc int)

//go:noescape
func qgemmZ1xN(k4, n16 int, a *uint8, lda int, b *int8, ldb int, c *int32, ldc int)

// qgemm computes acc [rows, LD] = q · Wᵀ in int32 for rows ≤ 6.
func qgemm(m *QGateMatrix, rows int, q []uint8, ldq int, acc []int32, lda int, s *QScratch) {
	if !useAsm {
		qgemmGo(m, rows, q, ldq, acc, lda, s)
		return
	}
	ld := m.L.LD
	if rows <= 0 || m.K4 == 0 {
		for r := range rows {
			clear(acc[r*lda : r*lda+ld])
		}
		return
	}
	if len(q) < (rows-1)*ldq+4*m.K4 || len(acc) < (rows-1)*lda+ld {
		panic("kernel: int8 product buffer too short")
	}
	if useVNNI {
		for i := 0; i < rows; {
			switch {
			case rows-i >= 4:
				qgemmZ4xN(m.K4, ld/16, &q[i*ldq], ldq, &m.data[0], ld, &acc[i*lda], lda)
				i += 4
			case rows-i >= 2:
				qgemmZ2xN(m.K4, ld/16, &q[i*ldq], ldq, &m.data[0], ld, &acc[i*lda], lda)
				i += 2
			default:
				qgemmZ1xN(m.K4, ld/16, &q[i*ldq], ldq, &m.data[0], ld, &acc[i*lda], lda)
				i++
			}
		}
		return
	}
	for i := 0; i < rows; {
		n := 1
		switch {
		case rows-i >= 4:
			n = 4
			qgemm4xN(m.K4, ld/16, &q[i*ldq], ldq, &m.data[0], ld, &acc[i*lda], lda)
		case rows-i >= 2:
			n = 2
			qgemm2xN(m.K4, ld/16, &q[i*ldq], ldq, &m.data[0], ld, &acc[i*lda], lda)
		default:
			qgemm1xN(m.K4, ld/16, &q[i*ldq], ldq, &m.data[0], ld, &acc[i*lda], lda)
		}
		i += n
	}
}

//go:noescape
func quantRowsAVX2(rows, k8 int, x *float32, ldx int, q *uint8, ldq int, scale *float32, zp *int32)

//go:noescape
func qdequantAVX2(rows, n8 int, acc *int32, lda int, colSum *int32, wscale *float32, sa *float32, za *int32, bias *float32, c *float32, ldc int)

// quantizeRows is QuantizeRows on AVX2 when rows hold a multiple of 8
// values and the codes fill their rows.
func quantizeRows(rows, k int, x []float32, ldx int, q []uint8, ldq int, scale []float32, zp []int32) {
	if !useAsm || k%8 != 0 || ldq != k || rows <= 0 || k == 0 {
		quantizeRowsGo(rows, k, x, ldx, q, ldq, scale, zp)
		return
	}
	if len(x) < (rows-1)*ldx+k || len(q) < rows*ldq || len(scale) < rows || len(zp) < rows {
		panic("kernel: quantization buffer too short")
	}
	quantRowsAVX2(rows, k/8, &x[0], ldx, &q[0], ldq, &scale[0], &zp[0])
}

func (m *QGateMatrix) dequant(rows int, acc []int32, lda int, sa []float32, za []int32, bias, c []float32, ldc int) {
	ld := m.L.LD
	if !useAsm || rows <= 0 {
		m.dequantGo(rows, acc, lda, sa, za, bias, c, ldc)
		return
	}
	checkRows(c, rows, ldc, ld)
	if len(acc) < (rows-1)*lda+ld || len(sa) < rows || len(za) < rows || (bias != nil && len(bias) < ld) {
		panic("kernel: dequantization buffer too short")
	}
	var bp *float32
	if bias != nil {
		bp = &bias[0]
	}
	qdequantAVX2(rows, ld/8, &acc[0], lda, &m.colSum[0], &m.scale[0], &sa[0], &za[0], bp, &c[0], ldc)
}

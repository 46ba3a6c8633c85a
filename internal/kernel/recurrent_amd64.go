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
	for i := 0; i < rows; {
		n := rowBlock(rows - i)
		ai, ci := &a[i*lda], &c[i*ldc]
		switch n {
		case 6:
			gemm6xN(m.K, ld/16, ai, lda, &m.data[0], ld, ci, ldc, bp)
		case 5:
			gemm5xN(m.K, ld/16, ai, lda, &m.data[0], ld, ci, ldc, bp)
		case 4:
			gemm4xN(m.K, ld/16, ai, lda, &m.data[0], ld, ci, ldc, bp)
		case 2:
			gemm2xN(m.K, ld/16, ai, lda, &m.data[0], ld, ci, ldc, bp)
		default:
			gemm1xN(m.K, ld/16, ai, &m.data[0], ld, ci, bp)
		}
		i += n
	}
}

func lstmCells(l Gates, rows int, z, c, h []float32) {
	if !useAsm {
		lstmCellsGo(l, rows, z, c, h)
		return
	}
	checkRows(z, rows, l.LD, 4*l.Hp)
	checkRows(c, rows, l.Hp, l.Hp)
	checkRows(h, rows, l.Hp, l.Hp)
	if rows > 0 {
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

package kernel

import "sync"

// The float32 GEMM behind Gemm on CPUs with AVX2 and FMA: C is updated in
// 6×16 tiles by an assembly micro-kernel that streams a packed [k][6] panel
// of alpha·A against 16 columns of a row-major B. B is used in place when it
// is not transposed and its width is a multiple of 16, and packed
// (transposed, zero-padded) otherwise; PackB lets a caller that multiplies by the same B
// many times (the recurrent weights of every time step) pack it once.
const (
	tileM = 6
	tileN = 16
)

// PackedB is a float32 right-hand side op(B) [k, n] laid out for the
// assembly SGEMM: row-major [k, ceil(n/16)·16], zero-padded.
type PackedB struct {
	k, n, ld int
	data     []float32
}

// PackB lays out op(B) [k, n] (B stored in b with row stride ldb,
// transposed when transB) for repeated use with GemmPacked.
func PackB(transB bool, k, n int, b []float32, ldb int) *PackedB {
	ld := (n + tileN - 1) / tileN * tileN
	p := &PackedB{k: k, n: n, ld: ld, data: make([]float32, k*ld)}
	packB(p.data, transB, k, n, b, ldb, ld)
	return p
}

func packB(dst []float32, transB bool, k, n int, b []float32, ldb, ld int) {
	for p := 0; p < k; p++ {
		row := dst[p*ld : p*ld+ld]
		if transB {
			for j := 0; j < n; j++ {
				row[j] = b[j*ldb+p]
			}
		} else {
			copy(row[:n], b[p*ldb:p*ldb+n])
		}
		clear(row[n:])
	}
}

// GemmPacked computes C = alpha·op(A)·B + beta·C like Gemm with a packed B
// [k, n]. It uses the same implementation Gemm would.
func GemmPacked(transA bool, m int, alpha float32, a []float32, lda int, b *PackedB, beta float32, c []float32, ldc int) {
	if !useAsm {
		// Packed B is op(B) row-major with stride ld.
		Gemm(transA, false, m, b.n, b.k, alpha, a, lda, b.data, b.ld, beta, c, ldc)
		return
	}
	sgemmTiles(transA, m, b.n, b.k, alpha, a, lda, b.data, b.ld, beta, c, ldc)
}

// rowsMax is the row count below which sgemmTiles multiplies row by row
// (sgemmKernel1x64) instead of by a 6-row panel (sgemmKernel6x16): for
// products of fewer rows, and for the rows after the last full panel.
const rowsMax = 5

// kBlock is the k extent of one pass of sgemmTiles: a 6×kBlock panel of
// A (6 KB) and kBlock rows of B fit in L1 and L2.
const kBlock = 256

var tilePool = sync.Pool{New: func() any { return new(sgemmScratch) }}

type sgemmScratch struct {
	a    []float32 // packed [k][6] panel
	tile [tileM * tileN]float32
	b    []float32
}

// sgemmAsm is Gemm for float32 on AVX2/FMA machines.
func sgemmAsm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if !transB && n%tileN == 0 {
		sgemmTiles(transA, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	s := tilePool.Get().(*sgemmScratch)
	defer tilePool.Put(s)
	ld := (n + tileN - 1) / tileN * tileN
	if cap(s.b) < k*ld {
		s.b = make([]float32, k*ld)
	}
	pb := s.b[:k*ld]
	packB(pb, transB, k, n, b, ldb, ld)
	sgemmTiles(transA, m, n, k, alpha, a, lda, pb, ld, beta, c, ldc)
}

// packA lays out alpha·op(A)[i0:i0+mr, 0:k] as a [k][6] panel in pa,
// zero rows beyond mr. op(A) rows are read along their storage: columns
// of A when transA, rows of A otherwise.
func packA(pa []float32, transA bool, i0, mr, k int, alpha float32, a []float32, lda int) {
	pa = pa[:k*tileM]
	if mr < tileM {
		clear(pa)
	}
	switch {
	case transA && mr == tileM:
		// Six consecutive elements per p: spelled out, as a copy call
		// would cost more than the elements.
		for p := 0; p < k; p++ {
			src := a[p*lda+i0:][:tileM]
			dst := pa[p*tileM:][:tileM]
			dst[0], dst[1], dst[2] = alpha*src[0], alpha*src[1], alpha*src[2]
			dst[3], dst[4], dst[5] = alpha*src[3], alpha*src[4], alpha*src[5]
		}
	case transA:
		for p := 0; p < k; p++ {
			for r, v := range a[p*lda+i0:][:mr] {
				pa[p*tileM+r] = alpha * v
			}
		}
	default:
		for r := 0; r < mr; r++ {
			for p, v := range a[(i0+r)*lda:][:k] {
				pa[p*tileM+r] = alpha * v
			}
		}
	}
}

// sgemmTiles computes C = alpha·op(A)·B + beta·C with B row-major [k, ≥n]
// of row stride ldb, where ldb and the readable width are multiples of 16.
func sgemmTiles(transA bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		switch beta {
		case 1:
		case 0:
			clear(row)
		default:
			for j := range row {
				row[j] *= beta
			}
		}
	}
	if k == 0 || alpha == 0 {
		return
	}
	s := tilePool.Get().(*sgemmScratch)
	defer tilePool.Put(s)
	// k is cut into blocks so that a panel of A and the block of B it
	// meets stay in cache across the tiles of a row of C: a weight
	// gradient over a whole sequence has k = seq·batch in the thousands.
	for p0 := 0; p0 < k; p0 += kBlock {
		ap := a[p0:]
		if transA {
			ap = a[p0*lda:]
		}
		sgemmPanels(transA, m, n, min(kBlock, k-p0), alpha, ap, lda, b[p0*ldb:], ldb, c, ldc, s)
	}
}

// sgemmPanels adds alpha·op(A)·B to C for one block of k, as sgemmTiles.
func sgemmPanels(transA bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, s *sgemmScratch) {
	if cap(s.a) < k*tileM {
		s.a = make([]float32, k*tileM)
	}
	pa := s.a[:k*tileM]
	// Rows left over after the full 6-row panels, when fewer than
	// rowsMax, are done one by one: a panel for them would mostly
	// multiply zeros.
	panelRows := m
	if rem := m % tileM; rem < rowsMax {
		panelRows = m - rem
	}
	for i := panelRows; i < m; i++ {
		// Row i of op(A), read in place when it is stored contiguous.
		var ar []float32
		switch {
		case !transA && alpha == 1:
			ar = a[i*lda : i*lda+k]
		case transA:
			ar = pa[:k]
			for p := range ar {
				ar[p] = alpha * a[p*lda+i]
			}
		default:
			ar = pa[:k]
			for p, v := range a[i*lda : i*lda+k] {
				ar[p] = alpha * v
			}
		}
		sgemmRow(k, n, ar, b, ldb, c[i*ldc:i*ldc+n], s.tile[:])
	}
	m = panelRows
	for i0 := 0; i0 < m; i0 += tileM {
		mr := min(tileM, m-i0)
		// A transposed already holds each column's six values side by
		// side, lda apart: a full panel of it is read in place.
		panel, sa := pa, tileM
		if transA && alpha == 1 && mr == tileM {
			panel, sa = a[i0:], lda
		} else {
			packA(pa, transA, i0, mr, k, alpha, a, lda)
		}
		for j0 := 0; j0 < n; j0 += tileN {
			nr := min(tileN, n-j0)
			if mr == tileM && nr == tileN {
				sgemmMicro(k, panel, sa, b[j0:], ldb, c[i0*ldc+j0:], ldc)
				continue
			}
			t := s.tile[:]
			clear(t)
			sgemmMicro(k, panel, sa, b[j0:], ldb, t, tileN)
			for r := 0; r < mr; r++ {
				dst := c[(i0+r)*ldc+j0 : (i0+r)*ldc+j0+nr]
				for j, v := range t[r*tileN : r*tileN+nr] {
					dst[j] += v
				}
			}
		}
	}
}

// Float32Impl names the float32 GEMM and gate implementation in use:
// "avx512 recurrent steps, avx2+fma gemm", "avx2+fma assembly" or "gonum
// (pure Go)". Benchmarks report it.
func Float32Impl() string {
	if useZ {
		if useVNNI {
			return "avx512 assembly (recurrent steps; VNNI int8 products; avx2+fma dense GEMM)"
		}
		return "avx512 assembly (recurrent steps; avx2+fma dense GEMM)"
	}
	if useAsm {
		return "avx2+fma assembly"
	}
	return "gonum (pure Go)"
}

//go:build !amd64 || purego

package kernel

func mulAddGates(m *GateMatrix, rows int, a []float32, lda int, bias, c []float32, ldc int) {
	mulAddGatesGo(m, rows, a, lda, bias, c, ldc)
}

func lstmCells(l Gates, rows int, z, c, h []float32) { lstmCellsGo(l, rows, z, c, h) }

func gruCells(l Gates, rows int, x, acc, h, hout []float32) { gruCellsGo(l, rows, x, acc, h, hout) }

func gruGates0(l Gates, rows int, x []float32, ldx int, acc, h, zs, rs []float32) {
	gruGates0Go(l, rows, x, ldx, acc, h, zs, rs)
}

func gruCandidate0(l Gates, rows int, x []float32, ldx int, acc []float32, lda int, zs, h, hout []float32) {
	gruCandidate0Go(l, rows, x, ldx, acc, lda, zs, h, hout)
}

func qgemm(m *QGateMatrix, rows int, q []uint8, ldq int, acc []int32, lda int, s *QScratch) {
	qgemmGo(m, rows, q, ldq, acc, lda, s)
}

func quantizeRows(rows, k int, x []float32, ldx int, q []uint8, ldq int, scale []float32, zp []int32) {
	quantizeRowsGo(rows, k, x, ldx, q, ldq, scale, zp)
}

func (m *QGateMatrix) dequant(rows int, acc []int32, lda int, sa []float32, za []int32, bias, c []float32, ldc int) {
	m.dequantGo(rows, acc, lda, sa, za, bias, c, ldc)
}

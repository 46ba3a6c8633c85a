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

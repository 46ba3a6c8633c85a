//go:build amd64 && !purego

#include "textflag.h"

// func sgemmKernel6x16(k int, a *float32, sa int, b *float32, ldb int, c *float32, ldc int)
//
// C[0:6, 0:16] += Σp a[p*sa+r] · b[p*ldb+j]: a holds, for each p, the six
// values of A's column p for the tile's rows, consecutive, sa elements
// after the previous p's (a packed [k][6] panel has sa = 6; a transposed A
// read in place has sa = its row stride). b points at 16 consecutive
// columns of a row-major B, c at the top-left of the C tile (row stride
// ldc). AVX2 + FMA: 12 ymm accumulators, 2 for B, 2 for broadcasts of A.
TEXT ·sgemmKernel6x16(SB), NOSPLIT, $0-56
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ sa+16(FP), R10
	SHLQ $2, R10
	MOVQ b+24(FP), DI
	MOVQ ldb+32(FP), R8
	SHLQ $2, R8
	MOVQ c+40(FP), DX
	MOVQ ldc+48(FP), R9
	SHLQ $2, R9
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	TESTQ CX, CX
	JEQ store
loop:
	VMOVUPS (DI), Y12
	VMOVUPS 32(DI), Y13
	VBROADCASTSS 0(SI), Y14
	VFMADD231PS Y12, Y14, Y0
	VFMADD231PS Y13, Y14, Y1
	VBROADCASTSS 4(SI), Y15
	VFMADD231PS Y12, Y15, Y2
	VFMADD231PS Y13, Y15, Y3
	VBROADCASTSS 8(SI), Y14
	VFMADD231PS Y12, Y14, Y4
	VFMADD231PS Y13, Y14, Y5
	VBROADCASTSS 12(SI), Y15
	VFMADD231PS Y12, Y15, Y6
	VFMADD231PS Y13, Y15, Y7
	VBROADCASTSS 16(SI), Y14
	VFMADD231PS Y12, Y14, Y8
	VFMADD231PS Y13, Y14, Y9
	VBROADCASTSS 20(SI), Y15
	VFMADD231PS Y12, Y15, Y10
	VFMADD231PS Y13, Y15, Y11
	ADDQ R10, SI
	ADDQ R8, DI
	DECQ CX
	JNZ loop
store:
	VADDPS (DX), Y0, Y0
	VMOVUPS Y0, (DX)
	VADDPS 32(DX), Y1, Y1
	VMOVUPS Y1, 32(DX)
	ADDQ R9, DX
	VADDPS (DX), Y2, Y2
	VMOVUPS Y2, (DX)
	VADDPS 32(DX), Y3, Y3
	VMOVUPS Y3, 32(DX)
	ADDQ R9, DX
	VADDPS (DX), Y4, Y4
	VMOVUPS Y4, (DX)
	VADDPS 32(DX), Y5, Y5
	VMOVUPS Y5, 32(DX)
	ADDQ R9, DX
	VADDPS (DX), Y6, Y6
	VMOVUPS Y6, (DX)
	VADDPS 32(DX), Y7, Y7
	VMOVUPS Y7, 32(DX)
	ADDQ R9, DX
	VADDPS (DX), Y8, Y8
	VMOVUPS Y8, (DX)
	VADDPS 32(DX), Y9, Y9
	VMOVUPS Y9, 32(DX)
	ADDQ R9, DX
	VADDPS (DX), Y10, Y10
	VMOVUPS Y10, (DX)
	VADDPS 32(DX), Y11, Y11
	VMOVUPS Y11, 32(DX)
	VZEROUPPER
	RET

// func sgemmKernel1x64(k int, a *float32, b *float32, ldb int, c *float32)
//
// c[0:64] += Σp a[p] · b[p*ldb : p*ldb+64]: one row of A times 64 columns
// of a row-major B, for products with too few rows to fill a 6-row panel
// (a batch-1 recurrent step). 8 ymm accumulators, 1 broadcast.
TEXT ·sgemmKernel1x64(SB), NOSPLIT, $0-40
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ ldb+24(FP), R8
	SHLQ $2, R8
	MOVQ c+32(FP), DX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	TESTQ CX, CX
	JEQ store64
loop64:
	VBROADCASTSS (SI), Y15
	VFMADD231PS (DI), Y15, Y0
	VFMADD231PS 32(DI), Y15, Y1
	VFMADD231PS 64(DI), Y15, Y2
	VFMADD231PS 96(DI), Y15, Y3
	VFMADD231PS 128(DI), Y15, Y4
	VFMADD231PS 160(DI), Y15, Y5
	VFMADD231PS 192(DI), Y15, Y6
	VFMADD231PS 224(DI), Y15, Y7
	ADDQ $4, SI
	ADDQ R8, DI
	DECQ CX
	JNZ loop64
store64:
	VADDPS (DX), Y0, Y0
	VMOVUPS Y0, (DX)
	VADDPS 32(DX), Y1, Y1
	VMOVUPS Y1, 32(DX)
	VADDPS 64(DX), Y2, Y2
	VMOVUPS Y2, 64(DX)
	VADDPS 96(DX), Y3, Y3
	VMOVUPS Y3, 96(DX)
	VADDPS 128(DX), Y4, Y4
	VMOVUPS Y4, 128(DX)
	VADDPS 160(DX), Y5, Y5
	VMOVUPS Y5, 160(DX)
	VADDPS 192(DX), Y6, Y6
	VMOVUPS Y6, 192(DX)
	VADDPS 224(DX), Y7, Y7
	VMOVUPS Y7, 224(DX)
	VZEROUPPER
	RET

// func sgemmKernel1x16(k int, a *float32, b *float32, ldb int, c *float32)
//
// c[0:16] += Σp a[p] · b[p*ldb : p*ldb+16], the 16-column remainder of
// sgemmKernel1x64. Even and odd p go to separate accumulators so that
// consecutive FMAs do not wait on each other.
TEXT ·sgemmKernel1x16(SB), NOSPLIT, $0-40
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ ldb+24(FP), R8
	SHLQ $2, R8
	MOVQ c+32(FP), DX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	CMPQ CX, $2
	JLT tail16
pair16:
	VBROADCASTSS (SI), Y14
	VFMADD231PS (DI), Y14, Y0
	VFMADD231PS 32(DI), Y14, Y1
	ADDQ R8, DI
	VBROADCASTSS 4(SI), Y15
	VFMADD231PS (DI), Y15, Y2
	VFMADD231PS 32(DI), Y15, Y3
	ADDQ R8, DI
	ADDQ $8, SI
	SUBQ $2, CX
	CMPQ CX, $2
	JGE pair16
tail16:
	TESTQ CX, CX
	JEQ store16
	VBROADCASTSS (SI), Y14
	VFMADD231PS (DI), Y14, Y0
	VFMADD231PS 32(DI), Y14, Y1
store16:
	VADDPS Y2, Y0, Y0
	VADDPS Y3, Y1, Y1
	VADDPS (DX), Y0, Y0
	VMOVUPS Y0, (DX)
	VADDPS 32(DX), Y1, Y1
	VMOVUPS Y1, 32(DX)
	VZEROUPPER
	RET

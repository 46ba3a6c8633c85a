//go:build amd64 && !purego

#include "textflag.h"

// Kernels of the fused recurrent steps (recurrent.go), AVX2 + FMA.
//
// rc holds the constants of the exp approximation (the same Cephes
// reduction and polynomial as exp32 in activation_fast.go) as full 8-lane
// vectors, so that they can be used as memory operands; offsets:
// log2e 0, 0.5 32, c1 64, c2 96, p0…p5 128…288, 127 320, sign 352,
// clamp hi 384 and lo 416, 1 448, 2 480.
DATA rc<>+0(SB)/4, $0x3fb8aa3b
DATA rc<>+4(SB)/4, $0x3fb8aa3b
DATA rc<>+8(SB)/4, $0x3fb8aa3b
DATA rc<>+12(SB)/4, $0x3fb8aa3b
DATA rc<>+16(SB)/4, $0x3fb8aa3b
DATA rc<>+20(SB)/4, $0x3fb8aa3b
DATA rc<>+24(SB)/4, $0x3fb8aa3b
DATA rc<>+28(SB)/4, $0x3fb8aa3b
DATA rc<>+32(SB)/4, $0x3f000000
DATA rc<>+36(SB)/4, $0x3f000000
DATA rc<>+40(SB)/4, $0x3f000000
DATA rc<>+44(SB)/4, $0x3f000000
DATA rc<>+48(SB)/4, $0x3f000000
DATA rc<>+52(SB)/4, $0x3f000000
DATA rc<>+56(SB)/4, $0x3f000000
DATA rc<>+60(SB)/4, $0x3f000000
DATA rc<>+64(SB)/4, $0x3f318000
DATA rc<>+68(SB)/4, $0x3f318000
DATA rc<>+72(SB)/4, $0x3f318000
DATA rc<>+76(SB)/4, $0x3f318000
DATA rc<>+80(SB)/4, $0x3f318000
DATA rc<>+84(SB)/4, $0x3f318000
DATA rc<>+88(SB)/4, $0x3f318000
DATA rc<>+92(SB)/4, $0x3f318000
DATA rc<>+96(SB)/4, $0xb95e8083
DATA rc<>+100(SB)/4, $0xb95e8083
DATA rc<>+104(SB)/4, $0xb95e8083
DATA rc<>+108(SB)/4, $0xb95e8083
DATA rc<>+112(SB)/4, $0xb95e8083
DATA rc<>+116(SB)/4, $0xb95e8083
DATA rc<>+120(SB)/4, $0xb95e8083
DATA rc<>+124(SB)/4, $0xb95e8083
DATA rc<>+128(SB)/4, $0x39506967
DATA rc<>+132(SB)/4, $0x39506967
DATA rc<>+136(SB)/4, $0x39506967
DATA rc<>+140(SB)/4, $0x39506967
DATA rc<>+144(SB)/4, $0x39506967
DATA rc<>+148(SB)/4, $0x39506967
DATA rc<>+152(SB)/4, $0x39506967
DATA rc<>+156(SB)/4, $0x39506967
DATA rc<>+160(SB)/4, $0x3ab743ce
DATA rc<>+164(SB)/4, $0x3ab743ce
DATA rc<>+168(SB)/4, $0x3ab743ce
DATA rc<>+172(SB)/4, $0x3ab743ce
DATA rc<>+176(SB)/4, $0x3ab743ce
DATA rc<>+180(SB)/4, $0x3ab743ce
DATA rc<>+184(SB)/4, $0x3ab743ce
DATA rc<>+188(SB)/4, $0x3ab743ce
DATA rc<>+192(SB)/4, $0x3c088908
DATA rc<>+196(SB)/4, $0x3c088908
DATA rc<>+200(SB)/4, $0x3c088908
DATA rc<>+204(SB)/4, $0x3c088908
DATA rc<>+208(SB)/4, $0x3c088908
DATA rc<>+212(SB)/4, $0x3c088908
DATA rc<>+216(SB)/4, $0x3c088908
DATA rc<>+220(SB)/4, $0x3c088908
DATA rc<>+224(SB)/4, $0x3d2aa9c1
DATA rc<>+228(SB)/4, $0x3d2aa9c1
DATA rc<>+232(SB)/4, $0x3d2aa9c1
DATA rc<>+236(SB)/4, $0x3d2aa9c1
DATA rc<>+240(SB)/4, $0x3d2aa9c1
DATA rc<>+244(SB)/4, $0x3d2aa9c1
DATA rc<>+248(SB)/4, $0x3d2aa9c1
DATA rc<>+252(SB)/4, $0x3d2aa9c1
DATA rc<>+256(SB)/4, $0x3e2aaaaa
DATA rc<>+260(SB)/4, $0x3e2aaaaa
DATA rc<>+264(SB)/4, $0x3e2aaaaa
DATA rc<>+268(SB)/4, $0x3e2aaaaa
DATA rc<>+272(SB)/4, $0x3e2aaaaa
DATA rc<>+276(SB)/4, $0x3e2aaaaa
DATA rc<>+280(SB)/4, $0x3e2aaaaa
DATA rc<>+284(SB)/4, $0x3e2aaaaa
DATA rc<>+288(SB)/4, $0x3f000000
DATA rc<>+292(SB)/4, $0x3f000000
DATA rc<>+296(SB)/4, $0x3f000000
DATA rc<>+300(SB)/4, $0x3f000000
DATA rc<>+304(SB)/4, $0x3f000000
DATA rc<>+308(SB)/4, $0x3f000000
DATA rc<>+312(SB)/4, $0x3f000000
DATA rc<>+316(SB)/4, $0x3f000000
DATA rc<>+320(SB)/4, $0x0000007f
DATA rc<>+324(SB)/4, $0x0000007f
DATA rc<>+328(SB)/4, $0x0000007f
DATA rc<>+332(SB)/4, $0x0000007f
DATA rc<>+336(SB)/4, $0x0000007f
DATA rc<>+340(SB)/4, $0x0000007f
DATA rc<>+344(SB)/4, $0x0000007f
DATA rc<>+348(SB)/4, $0x0000007f
DATA rc<>+352(SB)/4, $0x80000000
DATA rc<>+356(SB)/4, $0x80000000
DATA rc<>+360(SB)/4, $0x80000000
DATA rc<>+364(SB)/4, $0x80000000
DATA rc<>+368(SB)/4, $0x80000000
DATA rc<>+372(SB)/4, $0x80000000
DATA rc<>+376(SB)/4, $0x80000000
DATA rc<>+380(SB)/4, $0x80000000
DATA rc<>+384(SB)/4, $0x42b0999a
DATA rc<>+388(SB)/4, $0x42b0999a
DATA rc<>+392(SB)/4, $0x42b0999a
DATA rc<>+396(SB)/4, $0x42b0999a
DATA rc<>+400(SB)/4, $0x42b0999a
DATA rc<>+404(SB)/4, $0x42b0999a
DATA rc<>+408(SB)/4, $0x42b0999a
DATA rc<>+412(SB)/4, $0x42b0999a
DATA rc<>+416(SB)/4, $0xc2ae999a
DATA rc<>+420(SB)/4, $0xc2ae999a
DATA rc<>+424(SB)/4, $0xc2ae999a
DATA rc<>+428(SB)/4, $0xc2ae999a
DATA rc<>+432(SB)/4, $0xc2ae999a
DATA rc<>+436(SB)/4, $0xc2ae999a
DATA rc<>+440(SB)/4, $0xc2ae999a
DATA rc<>+444(SB)/4, $0xc2ae999a
DATA rc<>+448(SB)/4, $0x3f800000
DATA rc<>+452(SB)/4, $0x3f800000
DATA rc<>+456(SB)/4, $0x3f800000
DATA rc<>+460(SB)/4, $0x3f800000
DATA rc<>+464(SB)/4, $0x3f800000
DATA rc<>+468(SB)/4, $0x3f800000
DATA rc<>+472(SB)/4, $0x3f800000
DATA rc<>+476(SB)/4, $0x3f800000
DATA rc<>+480(SB)/4, $0x40000000
DATA rc<>+484(SB)/4, $0x40000000
DATA rc<>+488(SB)/4, $0x40000000
DATA rc<>+492(SB)/4, $0x40000000
DATA rc<>+496(SB)/4, $0x40000000
DATA rc<>+500(SB)/4, $0x40000000
DATA rc<>+504(SB)/4, $0x40000000
DATA rc<>+508(SB)/4, $0x40000000
GLOBL rc<>(SB), RODATA|NOPTR, $512

// The cell kernels keep the clamp bounds in Y15 (hi) and Y14 (lo), 1 in
// Y13 and 2 in Y12. The clamps take x as their second operand so that a
// NaN input stays NaN.
#define LOADCELLCONSTS \
	VMOVUPS rc<>+384(SB), Y15 \
	VMOVUPS rc<>+416(SB), Y14 \
	VMOVUPS rc<>+448(SB), Y13 \
	VMOVUPS rc<>+480(SB), Y12

// EXPV replaces X with exp(X); T1 and T2 are clobbered.
#define EXPV(X, T1, T2) \
	VMINPS X, Y15, X \
	VMAXPS X, Y14, X \
	VMOVUPS rc<>+32(SB), T1 \
	VFMADD231PS rc<>+0(SB), X, T1 \
	VROUNDPS $1, T1, T1 \
	VFNMADD231PS rc<>+64(SB), T1, X \
	VFNMADD231PS rc<>+96(SB), T1, X \
	VMOVUPS rc<>+128(SB), T2 \
	VFMADD213PS rc<>+160(SB), X, T2 \
	VFMADD213PS rc<>+192(SB), X, T2 \
	VFMADD213PS rc<>+224(SB), X, T2 \
	VFMADD213PS rc<>+256(SB), X, T2 \
	VFMADD213PS rc<>+288(SB), X, T2 \
	VMULPS X, T2, T2 \
	VFMADD213PS X, X, T2 \
	VADDPS Y13, T2, T2 \
	VCVTTPS2DQ T1, T1 \
	VPADDD rc<>+320(SB), T1, T1 \
	VPSLLD $23, T1, T1 \
	VMULPS T1, T2, X

// SIGV replaces X with 1/(1+exp(−X)).
#define SIGV(X, T1, T2) \
	VXORPS rc<>+352(SB), X, X \
	EXPV(X, T1, T2) \
	VADDPS Y13, X, X \
	VDIVPS X, Y13, X

// TANHV replaces X with 1 − 2/(exp(2X)+1).
#define TANHV(X, T1, T2) \
	VADDPS X, X, X \
	EXPV(X, T1, T2) \
	VADDPS Y13, X, X \
	VDIVPS X, Y12, X \
	VSUBPS X, Y13, X

// func gemm6xN(k, n16 int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int)
//
// C[0:6, 0:16·n16] += A[0:6, 0:k] · B[0:k, 0:16·n16]: A row-major with row
// stride lda, read in place (six row broadcasts per p through scaled
// indexes), B and C row-major with strides ldb and ldc. Per 16-column
// tile: 12 accumulators, 2 B vectors, 2 broadcasts; every element of C is
// one chain of FMAs over p from 0, added to C at the end, exactly as
// gemm1xN computes it.
TEXT ·gemm6xN(SB), NOSPLIT, $0-64
	MOVQ k+0(FP), AX
	MOVQ n16+8(FP), BX
	MOVQ a+16(FP), SI
	MOVQ lda+24(FP), R11
	SHLQ $2, R11
	LEAQ (R11)(R11*2), R12
	LEAQ (R11)(R11*4), R13
	MOVQ b+32(FP), DI
	MOVQ ldb+40(FP), R8
	SHLQ $2, R8
	MOVQ c+48(FP), DX
	MOVQ ldc+56(FP), R9
	SHLQ $2, R9
	TESTQ BX, BX
	JEQ done
tile:
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
	MOVQ DI, R10
	MOVQ AX, CX
	TESTQ CX, CX
	JEQ store
loop:
	VMOVUPS (R10), Y12
	VMOVUPS 32(R10), Y13
	VBROADCASTSS (SI), Y14
	VFMADD231PS Y12, Y14, Y0
	VFMADD231PS Y13, Y14, Y1
	VBROADCASTSS (SI)(R11*1), Y15
	VFMADD231PS Y12, Y15, Y2
	VFMADD231PS Y13, Y15, Y3
	VBROADCASTSS (SI)(R11*2), Y14
	VFMADD231PS Y12, Y14, Y4
	VFMADD231PS Y13, Y14, Y5
	VBROADCASTSS (SI)(R12*1), Y15
	VFMADD231PS Y12, Y15, Y6
	VFMADD231PS Y13, Y15, Y7
	VBROADCASTSS (SI)(R11*4), Y14
	VFMADD231PS Y12, Y14, Y8
	VFMADD231PS Y13, Y14, Y9
	VBROADCASTSS (SI)(R13*1), Y15
	VFMADD231PS Y12, Y15, Y10
	VFMADD231PS Y13, Y15, Y11
	ADDQ $4, SI
	ADDQ R8, R10
	DECQ CX
	JNZ loop
	MOVQ AX, CX
	SHLQ $2, CX
	SUBQ CX, SI
store:
	MOVQ DX, R10
	VADDPS (R10), Y0, Y0
	VMOVUPS Y0, (R10)
	VADDPS 32(R10), Y1, Y1
	VMOVUPS Y1, 32(R10)
	ADDQ R9, R10
	VADDPS (R10), Y2, Y2
	VMOVUPS Y2, (R10)
	VADDPS 32(R10), Y3, Y3
	VMOVUPS Y3, 32(R10)
	ADDQ R9, R10
	VADDPS (R10), Y4, Y4
	VMOVUPS Y4, (R10)
	VADDPS 32(R10), Y5, Y5
	VMOVUPS Y5, 32(R10)
	ADDQ R9, R10
	VADDPS (R10), Y6, Y6
	VMOVUPS Y6, (R10)
	VADDPS 32(R10), Y7, Y7
	VMOVUPS Y7, 32(R10)
	ADDQ R9, R10
	VADDPS (R10), Y8, Y8
	VMOVUPS Y8, (R10)
	VADDPS 32(R10), Y9, Y9
	VMOVUPS Y9, 32(R10)
	ADDQ R9, R10
	VADDPS (R10), Y10, Y10
	VMOVUPS Y10, (R10)
	VADDPS 32(R10), Y11, Y11
	VMOVUPS Y11, 32(R10)
	ADDQ $64, DI
	ADDQ $64, DX
	DECQ BX
	JNZ tile
done:
	VZEROUPPER
	RET

// func gemm1xN(k, n16 int, a *float32, b *float32, ldb int, c *float32)
//
// c[0:16·n16] += a[0:k] · B[0:k, 0:16·n16] for one row a, B row-major with
// stride ldb: 64 columns at a time (8 accumulators), then 32, then 16.
// Each element is one chain of FMAs over p, as in gemm6xN. k must be > 0.
TEXT ·gemm1xN(SB), NOSPLIT, $0-48
	MOVQ k+0(FP), AX
	MOVQ n16+8(FP), BX
	MOVQ a+16(FP), SI
	MOVQ b+24(FP), DI
	MOVQ ldb+32(FP), R8
	SHLQ $2, R8
	MOVQ c+40(FP), DX
c64:
	CMPQ BX, $4
	JLT c64_next
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	MOVQ SI, R10
	MOVQ DI, R11
	MOVQ AX, CX
c64_loop:
	VBROADCASTSS (R10), Y15
	VFMADD231PS 0(R11), Y15, Y0
	VFMADD231PS 32(R11), Y15, Y1
	VFMADD231PS 64(R11), Y15, Y2
	VFMADD231PS 96(R11), Y15, Y3
	VFMADD231PS 128(R11), Y15, Y4
	VFMADD231PS 160(R11), Y15, Y5
	VFMADD231PS 192(R11), Y15, Y6
	VFMADD231PS 224(R11), Y15, Y7
	ADDQ $4, R10
	ADDQ R8, R11
	DECQ CX
	JNZ c64_loop
	VADDPS 0(DX), Y0, Y0
	VMOVUPS Y0, 0(DX)
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
	ADDQ $256, DI
	ADDQ $256, DX
	SUBQ $4, BX
	JMP c64
c64_next:
c32:
	CMPQ BX, $2
	JLT c32_next
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	MOVQ SI, R10
	MOVQ DI, R11
	MOVQ AX, CX
c32_loop:
	VBROADCASTSS (R10), Y15
	VFMADD231PS 0(R11), Y15, Y0
	VFMADD231PS 32(R11), Y15, Y1
	VFMADD231PS 64(R11), Y15, Y2
	VFMADD231PS 96(R11), Y15, Y3
	ADDQ $4, R10
	ADDQ R8, R11
	DECQ CX
	JNZ c32_loop
	VADDPS 0(DX), Y0, Y0
	VMOVUPS Y0, 0(DX)
	VADDPS 32(DX), Y1, Y1
	VMOVUPS Y1, 32(DX)
	VADDPS 64(DX), Y2, Y2
	VMOVUPS Y2, 64(DX)
	VADDPS 96(DX), Y3, Y3
	VMOVUPS Y3, 96(DX)
	ADDQ $128, DI
	ADDQ $128, DX
	SUBQ $2, BX
	JMP c32
c32_next:
c16:
	CMPQ BX, $1
	JLT c16_next
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	MOVQ SI, R10
	MOVQ DI, R11
	MOVQ AX, CX
c16_loop:
	VBROADCASTSS (R10), Y15
	VFMADD231PS 0(R11), Y15, Y0
	VFMADD231PS 32(R11), Y15, Y1
	ADDQ $4, R10
	ADDQ R8, R11
	DECQ CX
	JNZ c16_loop
	VADDPS 0(DX), Y0, Y0
	VMOVUPS Y0, 0(DX)
	VADDPS 32(DX), Y1, Y1
	VMOVUPS Y1, 32(DX)
	ADDQ $64, DI
	ADDQ $64, DX
	SUBQ $1, BX
	JMP c16
c16_next:
	VZEROUPPER
	RET

// func lstmCellsAVX2(rows, groups int, z *float32, ldz int, c *float32, h *float32, ldh int)
//
// The LSTM cell update of LSTMStep for rows of z [rows, ldz] (per group of
// 8 units: i o f c pre-activations, 128 bytes, overwritten with the
// activated gates) and states c, h [rows, ldh]: c = σ(f)·c + σ(i)·tanh(g),
// h = σ(o)·tanh(c).
TEXT ·lstmCellsAVX2(SB), NOSPLIT, $0-56
	MOVQ rows+0(FP), R8
	MOVQ groups+8(FP), R9
	SHLQ $5, R9
	MOVQ z+16(FP), SI
	MOVQ ldz+24(FP), R10
	SHLQ $2, R10
	MOVQ c+32(FP), DI
	MOVQ h+40(FP), DX
	MOVQ ldh+48(FP), R11
	SHLQ $2, R11
	TESTQ R8, R8
	JEQ done
	TESTQ R9, R9
	JEQ done
	LOADCELLCONSTS
row:
	// Pass 1: the four gate activations of every group, in place in z;
	// the groups are independent, so their exp chains overlap.
	XORQ R12, R12
act:
	VMOVUPS (SI)(R12*4), Y0
	SIGV(Y0, Y1, Y2)
	VMOVUPS 32(SI)(R12*4), Y3
	SIGV(Y3, Y4, Y5)
	VMOVUPS 64(SI)(R12*4), Y6
	SIGV(Y6, Y7, Y8)
	VMOVUPS 96(SI)(R12*4), Y9
	TANHV(Y9, Y10, Y11)
	VMOVUPS Y0, (SI)(R12*4)
	VMOVUPS Y3, 32(SI)(R12*4)
	VMOVUPS Y6, 64(SI)(R12*4)
	VMOVUPS Y9, 96(SI)(R12*4)
	ADDQ $32, R12
	CMPQ R12, R9
	JLT act
	// Pass 2: c = f·c + i·g, h = o·tanh(c), two groups at a time where
	// there are two.
	XORQ R12, R12
state:
	VMOVUPS 64(SI)(R12*4), Y3
	VMULPS (DI)(R12*1), Y3, Y3
	VMOVUPS (SI)(R12*4), Y0
	VFMADD231PS 96(SI)(R12*4), Y0, Y3
	VMOVUPS Y3, (DI)(R12*1)
	TANHV(Y3, Y1, Y2)
	VMULPS 32(SI)(R12*4), Y3, Y3
	VMOVUPS Y3, (DX)(R12*1)
	ADDQ $32, R12
	CMPQ R12, R9
	JLT state
	ADDQ R10, SI
	ADDQ R11, DI
	ADDQ R11, DX
	DECQ R8
	JNZ row
done:
	VZEROUPPER
	RET

// func gruCellsAVX2(rows, groups int, x *float32, acc *float32, ld int, h *float32, ldh int)
//
// The linear_before_reset GRU update of GRUStep: per group of 8 units, x
// and acc hold z r h (96 bytes); z = σ(xz+az), r = σ(xr+ar),
// n = tanh(xh + r·ah), h = n + z·(h − n).
TEXT ·gruCellsAVX2(SB), NOSPLIT, $0-56
	MOVQ rows+0(FP), R8
	MOVQ groups+8(FP), R9
	SHLQ $5, R9
	MOVQ x+16(FP), SI
	MOVQ acc+24(FP), DI
	MOVQ ld+32(FP), R10
	SHLQ $2, R10
	MOVQ h+40(FP), DX
	MOVQ ldh+48(FP), R11
	SHLQ $2, R11
	TESTQ R8, R8
	JEQ done
	TESTQ R9, R9
	JEQ done
	LOADCELLCONSTS
row:
	XORQ R12, R12
	MOVQ SI, AX
	MOVQ DI, BX
group:
	VMOVUPS (AX), Y0
	VADDPS (BX), Y0, Y0
	SIGV(Y0, Y1, Y2)
	VMOVUPS 32(AX), Y3
	VADDPS 32(BX), Y3, Y3
	SIGV(Y3, Y4, Y5)
	VMULPS 64(BX), Y3, Y6
	VADDPS 64(AX), Y6, Y6
	TANHV(Y6, Y7, Y8)
	VMOVUPS (DX)(R12*1), Y9
	VSUBPS Y6, Y9, Y9
	VFMADD231PS Y9, Y0, Y6
	VMOVUPS Y6, (DX)(R12*1)
	ADDQ $96, AX
	ADDQ $96, BX
	ADDQ $32, R12
	CMPQ R12, R9
	JLT group
	ADDQ R10, SI
	ADDQ R10, DI
	ADDQ R11, DX
	DECQ R8
	JNZ row
done:
	VZEROUPPER
	RET

// func gruGates0AVX2(rows, groups int, x *float32, ldx int, acc *float32, lda int, h *float32, zs *float32, rs *float32, ldh int)
//
// The gates of GRUStep0: x per group z r h (96 bytes), acc z r (64
// bytes); zs = σ(xz+az), rs = σ(xr+ar)·h, with h, zs, rs [rows, ldh].
TEXT ·gruGates0AVX2(SB), NOSPLIT, $0-80
	MOVQ rows+0(FP), R8
	MOVQ groups+8(FP), R9
	SHLQ $5, R9
	MOVQ x+16(FP), SI
	MOVQ ldx+24(FP), R10
	SHLQ $2, R10
	MOVQ acc+32(FP), DI
	MOVQ lda+40(FP), R11
	SHLQ $2, R11
	MOVQ h+48(FP), DX
	MOVQ zs+56(FP), BX
	MOVQ rs+64(FP), CX
	MOVQ ldh+72(FP), R13
	SHLQ $2, R13
	TESTQ R8, R8
	JEQ done
	TESTQ R9, R9
	JEQ done
	LOADCELLCONSTS
row:
	XORQ R12, R12
	MOVQ SI, AX
group:
	VMOVUPS (AX), Y0
	VADDPS (DI)(R12*2), Y0, Y0
	SIGV(Y0, Y1, Y2)
	VMOVUPS Y0, (BX)(R12*1)
	VMOVUPS 32(AX), Y3
	VADDPS 32(DI)(R12*2), Y3, Y3
	SIGV(Y3, Y4, Y5)
	VMULPS (DX)(R12*1), Y3, Y3
	VMOVUPS Y3, (CX)(R12*1)
	ADDQ $96, AX
	ADDQ $32, R12
	CMPQ R12, R9
	JLT group
	ADDQ R10, SI
	ADDQ R11, DI
	ADDQ R13, DX
	ADDQ R13, BX
	ADDQ R13, CX
	DECQ R8
	JNZ row
done:
	VZEROUPPER
	RET

// func gruCand0AVX2(rows, groups int, x *float32, ldx int, acc *float32, lda int, zs *float32, h *float32, ldh int)
//
// The candidate of GRUStep0: n = tanh(xh + acc), h = n + zs·(h − n), x per
// group z r h (96 bytes), acc [rows, lda] one gate, zs and h [rows, ldh].
TEXT ·gruCand0AVX2(SB), NOSPLIT, $0-72
	MOVQ rows+0(FP), R8
	MOVQ groups+8(FP), R9
	SHLQ $5, R9
	MOVQ x+16(FP), SI
	MOVQ ldx+24(FP), R10
	SHLQ $2, R10
	MOVQ acc+32(FP), DI
	MOVQ lda+40(FP), R11
	SHLQ $2, R11
	MOVQ zs+48(FP), BX
	MOVQ h+56(FP), DX
	MOVQ ldh+64(FP), R13
	SHLQ $2, R13
	TESTQ R8, R8
	JEQ done
	TESTQ R9, R9
	JEQ done
	LOADCELLCONSTS
row:
	XORQ R12, R12
	MOVQ SI, AX
group:
	VMOVUPS 64(AX), Y0
	VADDPS (DI)(R12*1), Y0, Y0
	TANHV(Y0, Y1, Y2)
	VMOVUPS (DX)(R12*1), Y3
	VSUBPS Y0, Y3, Y3
	VFMADD231PS (BX)(R12*1), Y3, Y0
	VMOVUPS Y0, (DX)(R12*1)
	ADDQ $96, AX
	ADDQ $32, R12
	CMPQ R12, R9
	JLT group
	ADDQ R10, SI
	ADDQ R11, DI
	ADDQ R13, BX
	ADDQ R13, DX
	DECQ R8
	JNZ row
done:
	VZEROUPPER
	RET

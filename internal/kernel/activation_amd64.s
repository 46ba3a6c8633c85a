//go:build amd64 && !purego

#include "textflag.h"

// Vectorised float32 sigmoid and tanh (AVX2 + FMA), 8 lanes at a time, with
// the same Cephes expf reduction and polynomial as exp32 in activation_fast.go.

DATA expi127<>+0(SB)/4, $0x0000007f
DATA expi127<>+4(SB)/4, $0x0000007f
DATA expi127<>+8(SB)/4, $0x0000007f
DATA expi127<>+12(SB)/4, $0x0000007f
DATA expi127<>+16(SB)/4, $0x0000007f
DATA expi127<>+20(SB)/4, $0x0000007f
DATA expi127<>+24(SB)/4, $0x0000007f
DATA expi127<>+28(SB)/4, $0x0000007f
GLOBL expi127<>(SB), RODATA|NOPTR, $32
DATA expsign<>+0(SB)/4, $0x80000000
DATA expsign<>+4(SB)/4, $0x80000000
DATA expsign<>+8(SB)/4, $0x80000000
DATA expsign<>+12(SB)/4, $0x80000000
DATA expsign<>+16(SB)/4, $0x80000000
DATA expsign<>+20(SB)/4, $0x80000000
DATA expsign<>+24(SB)/4, $0x80000000
DATA expsign<>+28(SB)/4, $0x80000000
GLOBL expsign<>(SB), RODATA|NOPTR, $32
DATA expc<>+0(SB)/4, $0x42b0999a
DATA expc<>+4(SB)/4, $0xc2ae999a
DATA expc<>+8(SB)/4, $0x3fb8aa3b
DATA expc<>+12(SB)/4, $0x3f000000
DATA expc<>+16(SB)/4, $0x3f318000
DATA expc<>+20(SB)/4, $0xb95e8083
DATA expc<>+24(SB)/4, $0x3f800000
DATA expc<>+28(SB)/4, $0x39506967
DATA expc<>+32(SB)/4, $0x3ab743ce
DATA expc<>+36(SB)/4, $0x3c088908
DATA expc<>+40(SB)/4, $0x3d2aa9c1
DATA expc<>+44(SB)/4, $0x3e2aaaaa
DATA expc<>+48(SB)/4, $0x3f000000
GLOBL expc<>(SB), RODATA|NOPTR, $52

#define LOADCONSTS \
	VBROADCASTSS expc<>+0(SB), Y15 \
	VBROADCASTSS expc<>+4(SB), Y14 \
	VBROADCASTSS expc<>+8(SB), Y13 \
	VBROADCASTSS expc<>+12(SB), Y12 \
	VBROADCASTSS expc<>+16(SB), Y11 \
	VBROADCASTSS expc<>+20(SB), Y10 \
	VBROADCASTSS expc<>+24(SB), Y9 \
	VBROADCASTSS expc<>+28(SB), Y3 \
	VBROADCASTSS expc<>+32(SB), Y4 \
	VBROADCASTSS expc<>+36(SB), Y5 \
	VBROADCASTSS expc<>+40(SB), Y6 \
	VBROADCASTSS expc<>+44(SB), Y7 \
	VBROADCASTSS expc<>+48(SB), Y8

// EXP8 replaces Y0 with exp(Y0); Y1 and Y2 are clobbered.
#define EXP8 \
	VMINPS Y0, Y15, Y0 \
	VMAXPS Y0, Y14, Y0 \
	VMOVAPS Y12, Y1 \
	VFMADD231PS Y0, Y13, Y1 \
	VROUNDPS $1, Y1, Y1 \
	VFNMADD231PS Y1, Y11, Y0 \
	VFNMADD231PS Y1, Y10, Y0 \
	VMOVAPS Y3, Y2 \
	VFMADD213PS Y4, Y0, Y2 \
	VFMADD213PS Y5, Y0, Y2 \
	VFMADD213PS Y6, Y0, Y2 \
	VFMADD213PS Y7, Y0, Y2 \
	VFMADD213PS Y8, Y0, Y2 \
	VMULPS Y0, Y2, Y2 \
	VFMADD213PS Y0, Y0, Y2 \
	VADDPS Y9, Y2, Y2 \
	VCVTTPS2DQ Y1, Y1 \
	VPADDD expi127<>(SB), Y1, Y1 \
	VPSLLD $23, Y1, Y1 \
	VMULPS Y1, Y2, Y0

// func sigmoidAVX2(x *float32, n int): x[i] = 1/(1+exp(−x[i])) for the first n&^7.
TEXT ·sigmoidAVX2(SB), NOSPLIT, $0-16
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	SHRQ $3, CX
	JEQ done
	LOADCONSTS
loop:
	VMOVUPS (SI), Y0
	VXORPS expsign<>(SB), Y0, Y0
	EXP8
	VADDPS Y9, Y0, Y0
	VDIVPS Y0, Y9, Y0
	VMOVUPS Y0, (SI)
	ADDQ $32, SI
	DECQ CX
	JNZ loop
done:
	VZEROUPPER
	RET

// func tanhAVX2(x *float32, n int): x[i] = 1 − 2/(exp(2x[i])+1) for the first n&^7.
TEXT ·tanhAVX2(SB), NOSPLIT, $0-16
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	SHRQ $3, CX
	JEQ done
	LOADCONSTS
loop:
	VMOVUPS (SI), Y0
	VADDPS Y0, Y0, Y0
	EXP8
	VADDPS Y9, Y0, Y0
	VADDPS Y9, Y9, Y1
	VDIVPS Y0, Y1, Y1
	VSUBPS Y1, Y9, Y0
	VMOVUPS Y0, (SI)
	ADDQ $32, SI
	DECQ CX
	JNZ loop
done:
	VZEROUPPER
	RET


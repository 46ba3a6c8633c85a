//go:build !noavx512

package kernel

// avx512Built is false under the noavx512 build tag, which keeps the
// AVX-512 kernels unused (the AVX2 ones run instead) on any CPU.
const avx512Built = true

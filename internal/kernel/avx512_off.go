//go:build noavx512

package kernel

const avx512Built = false

//go:build amd64 && !purego

package kernel

//go:noescape
func sigmoidAVX2(x *float32, n int)

//go:noescape
func tanhAVX2(x *float32, n int)

func sigmoidVec(x []float32) int {
	n := len(x) &^ 7
	if !useAsm || n == 0 {
		return 0
	}
	sigmoidAVX2(&x[0], n)
	return n
}

func tanhVec(x []float32) int {
	n := len(x) &^ 7
	if !useAsm || n == 0 {
		return 0
	}
	tanhAVX2(&x[0], n)
	return n
}

package kernel

// LSTMForward32 is LSTMForward for float32 with the fast gate functions
// Sigmoid32 and Tanh32: the same contract and gate order (i, o, f, c),
// results within 1e-6 of LSTMForward, several times quicker. The inference
// engine uses it for float32 LSTMs with default activations.
//
// Args:
//
//	z     [batch, 4H] pre-activations, overwritten with the activated gates.
//	cPrev [batch, H] cell state of the previous step.
//	c, h  [batch, H] the new cell and hidden state.
func LSTMForward32(z, cPrev, c, h []float32, batch, hidden int) {
	for b := 0; b < batch; b++ {
		zr := z[b*4*hidden : (b+1)*4*hidden]
		SigmoidSlice32(zr[:3*hidden]) // i, o, f
		TanhSlice32(zr[3*hidden:])    // c
		zi, zo, zf, zc := zr[:hidden], zr[hidden:2*hidden], zr[2*hidden:3*hidden], zr[3*hidden:4*hidden]
		cp := cPrev[b*hidden : (b+1)*hidden]
		cr := c[b*hidden : (b+1)*hidden]
		hr := h[b*hidden : (b+1)*hidden]
		zo, zf, zc, cp, cr, hr = zo[:len(zi)], zf[:len(zi)], zc[:len(zi)], cp[:len(zi)], cr[:len(zi)], hr[:len(zi)]
		for j := range zi {
			cn := zf[j]*cp[j] + zi[j]*zc[j]
			cr[j] = cn
			hr[j] = cn
		}
		TanhSlice32(hr)
		for j := range hr {
			hr[j] *= zo[j]
		}
	}
}

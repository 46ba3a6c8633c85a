package kernel

import "math"

// Sigmoid is the logistic function 1/(1+e^−x), computed in float64.
func Sigmoid[T Float](x T) T {
	return T(1 / (1 + math.Exp(-float64(x))))
}

// Tanh is the hyperbolic tangent, computed in float64.
func Tanh[T Float](x T) T {
	return T(math.Tanh(float64(x)))
}

// LSTMForward applies the gate nonlinearities of one LSTM time step with the
// default activations (sigmoid for the gates, tanh for the cell input and the
// output), in ONNX gate order i, o, f, c.
//
// Args:
//
//	z     [batch, 4H] pre-activations x·Wᵀ + h·Rᵀ + Wb + Rb, row stride 4H;
//	      overwritten with the activated gates i, o, f, g so that a backward
//	      pass can reuse them.
//	cPrev [batch, H] cell state of the previous step.
//	c, h  [batch, H] the new cell and hidden state (may alias nothing else).
//
// float32 slices go to LSTMForward32, the vectorised kernel (within 1e-6 of
// the float64 gate functions); other types use the float64 math below.
func LSTMForward[T Float](z, cPrev, c, h []T, batch, hidden int) {
	if z32, ok := any(z).([]float32); ok {
		LSTMForward32(z32, any(cPrev).([]float32), any(c).([]float32), any(h).([]float32), batch, hidden)
		return
	}
	for b := 0; b < batch; b++ {
		zr := z[b*4*hidden : (b+1)*4*hidden]
		zi, zo, zf, zc := zr[:hidden], zr[hidden:2*hidden], zr[2*hidden:3*hidden], zr[3*hidden:]
		cp := cPrev[b*hidden : (b+1)*hidden]
		cr := c[b*hidden : (b+1)*hidden]
		hr := h[b*hidden : (b+1)*hidden]
		for j := 0; j < hidden; j++ {
			ig := Sigmoid(zi[j])
			og := Sigmoid(zo[j])
			fg := Sigmoid(zf[j])
			gg := Tanh(zc[j])
			zi[j], zo[j], zf[j], zc[j] = ig, og, fg, gg
			cn := fg*cp[j] + ig*gg
			cr[j] = cn
			hr[j] = og * Tanh(cn)
		}
	}
}

// LSTMBackward is the adjoint of LSTMForward for one time step.
//
// Args:
//
//	gates [batch, 4H] the activated gates i, o, f, g that LSTMForward left in z.
//	cPrev, c [batch, H] the previous and new cell states of the step.
//	dh    [batch, H] ∂L/∂h(t), all paths (output and next step) summed.
//	dc    [batch, H] ∂L/∂c(t) from the next step; on return ∂L/∂c(t−1).
//	dz    [batch, 4H] written with ∂L/∂z, the pre-activation gradient.
//
// float32 slices take tanh(c) from TanhSlice32, the function LSTMForward32
// applied to the same cell state; other types use float64 math.
func LSTMBackward[T Float](gates, cPrev, c, dh, dc, dz []T, batch, hidden int) {
	if g32, ok := any(gates).([]float32); ok {
		lstmBackward32(g32, any(cPrev).([]float32), any(c).([]float32), any(dh).([]float32),
			any(dc).([]float32), any(dz).([]float32), batch, hidden)
		return
	}
	for b := 0; b < batch; b++ {
		g := gates[b*4*hidden : (b+1)*4*hidden]
		d := dz[b*4*hidden : (b+1)*4*hidden]
		cp := cPrev[b*hidden : (b+1)*hidden]
		cr := c[b*hidden : (b+1)*hidden]
		dhr := dh[b*hidden : (b+1)*hidden]
		dcr := dc[b*hidden : (b+1)*hidden]
		for j := 0; j < hidden; j++ {
			ig, og, fg, gg := g[j], g[hidden+j], g[2*hidden+j], g[3*hidden+j]
			tc := Tanh(cr[j])
			dct := dcr[j] + dhr[j]*og*(1-tc*tc)
			d[j] = dct * gg * ig * (1 - ig)
			d[hidden+j] = dhr[j] * tc * og * (1 - og)
			d[2*hidden+j] = dct * cp[j] * fg * (1 - fg)
			d[3*hidden+j] = dct * ig * (1 - gg*gg)
			dcr[j] = dct * fg
		}
	}
}

// lstmBackward32 is LSTMBackward for float32 with vectorised tanh(c).
func lstmBackward32(gates, cPrev, c, dh, dc, dz []float32, batch, hidden int) {
	tc := make([]float32, hidden)
	for b := 0; b < batch; b++ {
		g := gates[b*4*hidden : (b+1)*4*hidden]
		d := dz[b*4*hidden : (b+1)*4*hidden]
		cp := cPrev[b*hidden : (b+1)*hidden]
		dhr := dh[b*hidden : (b+1)*hidden]
		dcr := dc[b*hidden : (b+1)*hidden]
		copy(tc, c[b*hidden:(b+1)*hidden])
		TanhSlice32(tc)
		for j := 0; j < hidden; j++ {
			ig, og, fg, gg := g[j], g[hidden+j], g[2*hidden+j], g[3*hidden+j]
			t := tc[j]
			dct := dcr[j] + dhr[j]*og*(1-t*t)
			d[j] = dct * gg * ig * (1 - ig)
			d[hidden+j] = dhr[j] * t * og * (1 - og)
			d[2*hidden+j] = dct * cp[j] * fg * (1 - fg)
			d[3*hidden+j] = dct * ig * (1 - gg*gg)
			dcr[j] = dct * fg
		}
	}
}

#!/usr/bin/env python3
"""Run the ONNX checker on model files.

    check.py MODEL.onnx [MODEL.onnx ...]

Each model is loaded and passed to onnx.checker.check_model(model,
full_check=True), which also runs strict shape inference. Prints one line
per model; exits 1 if any model fails, 2 on a usage error.
"""

import sys

import onnx


def main(argv):
    if not argv:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    failed = 0
    for path in argv:
        try:
            model = onnx.load(path)
            onnx.checker.check_model(model, full_check=True)
        except Exception as e:  # the checker raises several exception types
            failed += 1
            print(f"FAIL {path}: {type(e).__name__}: {e}")
        else:
            print(f"ok   {path}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

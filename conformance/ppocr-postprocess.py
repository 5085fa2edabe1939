#!/usr/bin/python3
"""PaddleOCR's post-processing as PaddleOCR writes it (OpenCV, pyclipper and numpy, following
ppocr/postprocess/db_postprocess.py, tools/infer/predict_det.py, predict_system.py and rec_postprocess.py),
the reference that Tessera's own DB post-processing and CTC decoding are tested against.

  ppocr-postprocess.py db MAP.npy IMAGE_WIDTH IMAGE_HEIGHT
      MAP.npy: the detector's probabilities [H, W] (float32). Prints the boxes after DBPostProcess,
      filter_tag_det_res and sorted_boxes as JSON: [{"box": [[x, y] x 4], "score": s}, ...].
  ppocr-postprocess.py ctc PROBS.npy KEYS.txt
      PROBS.npy: the recogniser's output [N, T, C]. Prints CTCLabelDecode's result as JSON:
      [{"text": t, "confidence": c}, ...].
"""
import json
import sys

import cv2
import numpy as np
import pyclipper

THRESH, BOX_THRESH, UNCLIP_RATIO, MAX_CANDIDATES, MIN_SIZE = 0.3, 0.6, 1.5, 1000, 3


def get_mini_boxes(contour):
    bounding_box = cv2.minAreaRect(contour)
    points = sorted(list(cv2.boxPoints(bounding_box)), key=lambda x: x[0])
    index_1, index_4 = (0, 1) if points[1][1] > points[0][1] else (1, 0)
    index_2, index_3 = (2, 3) if points[3][1] > points[2][1] else (3, 2)
    box = [points[index_1], points[index_2], points[index_3], points[index_4]]
    return box, min(bounding_box[1])


def box_score_fast(bitmap, _box):
    h, w = bitmap.shape[:2]
    box = _box.copy()
    xmin = np.clip(np.floor(box[:, 0].min()).astype("int32"), 0, w - 1)
    xmax = np.clip(np.ceil(box[:, 0].max()).astype("int32"), 0, w - 1)
    ymin = np.clip(np.floor(box[:, 1].min()).astype("int32"), 0, h - 1)
    ymax = np.clip(np.ceil(box[:, 1].max()).astype("int32"), 0, h - 1)
    mask = np.zeros((ymax - ymin + 1, xmax - xmin + 1), dtype=np.uint8)
    box[:, 0] = box[:, 0] - xmin
    box[:, 1] = box[:, 1] - ymin
    cv2.fillPoly(mask, box.reshape(1, -1, 2).astype("int32"), 1)
    return cv2.mean(bitmap[ymin : ymax + 1, xmin : xmax + 1], mask)[0]


def unclip(box):
    # shapely's Polygon.area and .length in PaddleOCR; the same sums here.
    x, y = box[:, 0].astype(np.float64), box[:, 1].astype(np.float64)
    area = abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2
    length = np.sum(np.hypot(np.roll(x, -1) - x, np.roll(y, -1) - y))
    distance = area * UNCLIP_RATIO / length
    offset = pyclipper.PyclipperOffset()
    offset.AddPath(box, pyclipper.JT_ROUND, pyclipper.ET_CLOSEDPOLYGON)
    return np.array(offset.Execute(distance))


def boxes_from_bitmap(pred, bitmap, dest_width, dest_height):
    height, width = bitmap.shape
    outs = cv2.findContours((bitmap * 255).astype(np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    contours = outs[0] if len(outs) == 2 else outs[1]
    boxes, scores = [], []
    for contour in contours[:MAX_CANDIDATES]:
        points, sside = get_mini_boxes(contour)
        if sside < MIN_SIZE:
            continue
        points = np.array(points)
        score = box_score_fast(pred, points.reshape(-1, 2))
        if BOX_THRESH > score:
            continue
        box = unclip(points).reshape(-1, 1, 2)
        box, sside = get_mini_boxes(box)
        if sside < MIN_SIZE + 2:
            continue
        box = np.array(box)
        box[:, 0] = np.clip(np.round(box[:, 0] / width * dest_width), 0, dest_width)
        box[:, 1] = np.clip(np.round(box[:, 1] / height * dest_height), 0, dest_height)
        boxes.append(box.astype("int32"))
        scores.append(score)
    return boxes, scores


def filter_tag_det_res(boxes, scores, width, height):
    kept = []
    for box, score in zip(boxes, scores):
        box = box.astype(np.float64)
        box[:, 0] = np.array([int(min(max(x, 0), width - 1)) for x in box[:, 0]])
        box[:, 1] = np.array([int(min(max(y, 0), height - 1)) for y in box[:, 1]])
        if int(np.linalg.norm(box[0] - box[1])) <= 3 or int(np.linalg.norm(box[0] - box[3])) <= 3:
            continue
        kept.append((box, score))
    return kept


def sorted_boxes(kept):
    kept = sorted(kept, key=lambda b: (b[0][0][1], b[0][0][0]))
    for i in range(len(kept) - 1):
        for j in range(i, -1, -1):
            if abs(kept[j + 1][0][0][1] - kept[j][0][0][1]) < 10 and kept[j + 1][0][0][0] < kept[j][0][0][0]:
                kept[j], kept[j + 1] = kept[j + 1], kept[j]
            else:
                break
    return kept


def db(map_file, image_width, image_height):
    pred = np.load(map_file).astype(np.float32)
    boxes, scores = boxes_from_bitmap(pred, pred > THRESH, image_width, image_height)
    kept = sorted_boxes(filter_tag_det_res(boxes, scores, image_width, image_height))
    return [{"box": box.tolist(), "score": float(score)} for box, score in kept]


def ctc(probs_file, keys_file):
    probs = np.load(probs_file)
    with open(keys_file, "rb") as f:
        keys = [line.decode("utf-8").strip("\n").strip("\r\n") for line in f.readlines()]
    characters = ["blank"] + keys + [" "]
    indices, best = probs.argmax(axis=2), probs.max(axis=2)
    result = []
    for index, prob in zip(indices, best):
        selection = np.ones(len(index), dtype=bool)
        selection[1:] = index[1:] != index[:-1]
        selection &= index != 0
        text = "".join(characters[i] for i in index[selection])
        confidence = float(np.mean(prob[selection])) if selection.any() else 0.0
        result.append({"text": text, "confidence": confidence})
    return result


if __name__ == "__main__":
    if sys.argv[1:2] == ["db"] and len(sys.argv) == 5:
        out = db(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif sys.argv[1:2] == ["ctc"] and len(sys.argv) == 4:
        out = ctc(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
    json.dump(out, sys.stdout, ensure_ascii=False)

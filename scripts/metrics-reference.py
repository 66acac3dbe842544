#!/usr/bin/env python3
"""Write test/fixtures/metrics/reference.json: seeded random cases with scikit-learn's metrics.

test/unit/metrics.test.mjs compares src/core/metrics against these values with a 1e-9
tolerance. Regenerate with `/usr/bin/python3 scripts/metrics-reference.py` (needs numpy
and scikit-learn, e.g. Debian's python3-sklearn). Inputs are rounded before the metrics
are computed, so the stored inputs give exactly the stored outputs.
"""
import json
import os
import sys

import numpy as np
import sklearn
from sklearn.metrics import (
    accuracy_score,
    classification_report,
    confusion_matrix,
    hamming_loss,
    log_loss,
    multilabel_confusion_matrix,
    precision_recall_fscore_support,
)
from sklearn.preprocessing import MultiLabelBinarizer

SEED = 20240607
ECE_BINS = 15
OUT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "metrics", "reference.json"))


def softmax(logits):
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def expected_calibration_error(probs, gold, bins):
    """ECE of Guo et al. (2017): bins (i/M, (i+1)/M] on max-probability confidence, the first bin also contains 0."""
    confidence = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == gold).astype(float)
    edges = [i / bins for i in range(bins + 1)]
    total = 0.0
    for i in range(bins):
        lower, upper = edges[i], edges[i + 1]
        in_bin = (confidence > lower) & (confidence <= upper)
        if i == 0:
            in_bin |= confidence == 0.0
        count = int(in_bin.sum())
        if count == 0:
            continue
        total += count / len(gold) * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return float(total)


def single_label_case(name, gold, probs, label_names):
    k = len(label_names)
    labels = list(range(k))
    pred = probs.argmax(axis=1)
    precision, recall, f1, support = precision_recall_fscore_support(gold, pred, labels=labels, zero_division=0)
    report = classification_report(gold, pred, labels=labels, target_names=label_names, output_dict=True, zero_division=0)
    averages = {}
    for average in ("macro", "weighted"):
        p, r, f, _ = precision_recall_fscore_support(gold, pred, labels=labels, average=average, zero_division=0)
        row = report[f"{average} avg"]
        # classification_report and precision_recall_fscore_support must agree, or the fixture is wrong.
        assert abs(row["f1-score"] - f) < 1e-12, (name, average, "f1")
        assert abs(row["precision"] - p) < 1e-12, (name, average, "precision")
        assert abs(row["recall"] - r) < 1e-12, (name, average, "recall")
        averages[average] = {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(row["support"])}
    return {
        "name": name,
        "labelNames": label_names,
        "gold": [int(x) for x in gold],
        "probs": probs.tolist(),
        "expected": {
            "pred": [int(x) for x in pred],
            "accuracy": float(accuracy_score(gold, pred)),
            "perClass": [
                {"label": label_names[i], "precision": float(precision[i]), "recall": float(recall[i]), "f1": float(f1[i]), "support": int(support[i])}
                for i in labels
            ],
            "macro": averages["macro"],
            "weighted": averages["weighted"],
            "confusion": confusion_matrix(gold, pred, labels=labels).tolist(),
            "logLoss": float(log_loss(gold, probs, labels=labels)),
            "ece": expected_calibration_error(probs, gold, ECE_BINS),
        },
    }


def multilabel_case(name, gold_sets, probs, label_names, threshold):
    k = len(label_names)
    binarizer = MultiLabelBinarizer(classes=list(range(k)))
    gold = binarizer.fit_transform(gold_sets)
    pred_matrix = (probs >= threshold).astype(int)
    pred_sets = [[int(j) for j in np.flatnonzero(row)] for row in pred_matrix]
    precision, recall, f1, support = precision_recall_fscore_support(gold, pred_matrix, zero_division=0)
    averages = {}
    for average in ("micro", "macro", "weighted"):
        p, r, f, _ = precision_recall_fscore_support(gold, pred_matrix, average=average, zero_division=0)
        averages[average] = {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(gold.sum())}
    return {
        "name": name,
        "labelNames": label_names,
        "threshold": threshold,
        "gold": [[int(j) for j in labels] for labels in gold_sets],
        "probs": probs.tolist(),
        "expected": {
            "pred": pred_sets,
            "perLabel": [
                {"label": label_names[i], "precision": float(precision[i]), "recall": float(recall[i]), "f1": float(f1[i]), "support": int(support[i])}
                for i in range(k)
            ],
            "micro": averages["micro"],
            "macro": averages["macro"],
            "weighted": averages["weighted"],
            "subsetAccuracy": float(accuracy_score(gold, pred_matrix)),
            "hammingLoss": float(hamming_loss(gold, pred_matrix)),
            "confusion": multilabel_confusion_matrix(gold, pred_matrix).tolist(),
        },
    }


def main():
    rng = np.random.default_rng(SEED)
    cases = []

    # Binary: logits loosely tied to the gold label, so accuracy is well above chance but not 1.
    n = 200
    gold = rng.integers(0, 2, size=n)
    logits = rng.normal(size=(n, 2))
    logits[np.arange(n), gold] += 1.0
    probs = np.round(softmax(logits), 6)
    probs[:, 1] = np.round(1.0 - probs[:, 0], 6)
    cases.append(single_label_case("binary", gold, probs, ["negative", "positive"]))

    # Five classes; class 4 is never predicted (its logit is pushed down), so its
    # precision is a zero division and sklearn reports 0 for it.
    n = 300
    gold = rng.integers(0, 5, size=n)
    logits = rng.normal(size=(n, 5))
    logits[np.arange(n), gold] += 1.2
    logits[:, 4] -= 10.0
    probs = np.round(softmax(logits), 6)
    probs[:, 0] = np.round(1.0 - probs[:, 1:].sum(axis=1), 6)
    cases.append(single_label_case("five-class-one-never-predicted", gold, probs, ["1 star", "2 stars", "3 stars", "4 stars", "5 stars"]))

    # Four classes where class 3 has neither support nor predictions: every ratio is 0/0.
    n = 60
    gold = rng.integers(0, 3, size=n)
    logits = rng.normal(size=(n, 4))
    logits[np.arange(n), gold] += 0.8
    logits[:, 3] -= 10.0
    probs = np.round(softmax(logits), 6)
    probs[:, 0] = np.round(1.0 - probs[:, 1:].sum(axis=1), 6)
    cases.append(single_label_case("four-class-one-absent", gold, probs, ["a", "b", "c", "d"]))

    # 28 labels as in GoEmotions; label 27 never occurs in gold, label 26 is never predicted,
    # and some rows have no gold label at all.
    k = 28
    n = 120
    gold_matrix = rng.random((n, k)) < 0.08
    gold_matrix[:, 27] = False
    gold_matrix[:5, :] = False
    noise = rng.random((n, k))
    probs = np.where(gold_matrix, 0.35 + 0.6 * noise, 0.6 * noise ** 3)
    probs[:, 26] = np.minimum(probs[:, 26], 0.49)
    probs = np.round(probs, 3)
    gold_sets = [[int(j) for j in np.flatnonzero(row)] for row in gold_matrix]
    cases.append(multilabel_case("multilabel-28", gold_sets, probs, [f"emotion{i}" for i in range(k)], 0.5))

    document = {
        "generator": "scripts/metrics-reference.py",
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "seed": SEED,
        "eceBins": ECE_BINS,
        "cases": cases,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as handle:
        json.dump(document, handle, separators=(",", ":"))
        handle.write("\n")
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes, sklearn {sklearn.__version__})", file=sys.stderr)


if __name__ == "__main__":
    main()

"""Evaluation figures and the training report: JSON plus PNG plots (curves and confusion matrix)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def confusion(y_true: np.ndarray, y_pred: np.ndarray, k: int) -> np.ndarray:
    m = np.zeros((k, k), dtype=np.int64)
    np.add.at(m, (y_true, y_pred), 1)
    return m


def metrics(y_true: np.ndarray, y_pred: np.ndarray, labels: tuple[str, ...]) -> dict:
    """Frame accuracy, per-class precision/recall/accuracy and the confusion matrix (rows = truth)."""
    k = len(labels)
    m = confusion(y_true, y_pred, k)
    per_class = {}
    for i, lab in enumerate(labels):
        support = int(m[i].sum())
        predicted = int(m[:, i].sum())
        per_class[lab] = {
            "support": support,
            "precision": round(m[i, i] / predicted, 4) if predicted else None,
            "recall": round(m[i, i] / support, 4) if support else None,  # = this class's frame accuracy
        }
    n = int(m.sum())
    return {
        "frames": n,
        "accuracy": round(float(np.trace(m)) / n, 4) if n else None,
        "per_class": per_class,
        "confusion": m.tolist(),
    }


def write(out_dir: Path, report: dict) -> Path:
    path = out_dir / "report.json"
    path.write_text(json.dumps(report, indent=1) + "\n")
    _plots(out_dir, report)
    return path


def _plots(out_dir: Path, report: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    hist = report.get("history", {})
    if hist.get("loss"):
        fig, axes = plt.subplots(1, 2, figsize=(10, 4))
        for ax, key in zip(axes, ("loss", "accuracy")):
            ax.plot(hist[key], label=f"train {key}")
            if hist.get(f"val_{key}"):
                ax.plot(hist[f"val_{key}"], label=f"validation {key}")
            for boundary in hist.get("phase_starts", [])[1:]:
                ax.axvline(boundary - 0.5, color="grey", ls=":")
            ax.set_xlabel("epoch")
            ax.set_title(key)
            ax.legend()
        fig.tight_layout()
        fig.savefig(out_dir / "curves.png", dpi=100)
        plt.close(fig)
    labels = report["labels"]
    test = report["evaluation"].get("test") or report["evaluation"].get("out_of_fold")
    if test and test["frames"]:
        m = np.array(test["confusion"], dtype=float)
        norm = m / np.maximum(m.sum(axis=1, keepdims=True), 1)
        fig, ax = plt.subplots(figsize=(1.2 * len(labels) + 2, 1.1 * len(labels) + 1.5))
        ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
        for i in range(len(labels)):
            for j in range(len(labels)):
                ax.text(j, i, f"{int(m[i, j])}\n{norm[i, j]:.0%}", ha="center", va="center", fontsize=8,
                        color="black" if norm[i, j] < 0.6 else "white")
        ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
        ax.set_yticks(range(len(labels)), labels)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(f"held-out frames, accuracy {test['accuracy']:.1%}")
        fig.tight_layout()
        fig.savefig(out_dir / "confusion.png", dpi=100)
        plt.close(fig)


def table(report: dict) -> str:
    """Per-class frame accuracy on the train and held-out splits, side by side (Markdown)."""
    ev = report["evaluation"]
    parts = [p for p in ("train", "out_of_fold", "test") if ev.get(p)]
    head = "| class | " + " | ".join(f"{p} acc (frames) | {p} precision" for p in parts) + " |"
    lines = [head, "|" + "---|" * (1 + 2 * len(parts))]

    def pct(v):
        return "–" if v is None else f"{v:.1%}"

    for lab in report["labels"]:
        cells = []
        for p in parts:
            c = ev[p]["per_class"][lab]
            cells += [f"{pct(c['recall'])} ({c['support']})", pct(c["precision"])]
        lines.append(f"| {lab} | " + " | ".join(cells) + " |")
    lines.append("| **all** | " + " | ".join(f"**{pct(ev[p]['accuracy'])}** ({ev[p]['frames']}) | " for p in parts) + "|")
    return "\n".join(lines)

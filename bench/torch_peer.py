#!/usr/bin/env python3
"""Time the knowledge-distillation training step of the three students in PyTorch.

This is the reference peer for the TensorFlow.js benchmarks. The models, the loss
and the optimizer mirror what the tfjs students compute, so samples per second
can be compared at the same batch size, sequence length and thread count.
Inputs are random token ids from a fixed seed, and the teacher logits and
features are random too, because only the cost of a step is measured.

Prints one JSON line per student to stdout.
"""

import argparse
import json
import os
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence

PAD_ID = 0
TEACHER_FEATURE_DIM = 768
ALPHA = 0.5
TEMPERATURE = 2.0
FEATURE_WEIGHT = 0.1
LEARNING_RATE = 1e-3
CNN_KERNEL_SIZES = (3, 4, 5)
STUDENTS = ("bag", "cnn", "bilstm")


class BagStudent(nn.Module):
    """Mean of the token embeddings over the non-padding positions (fastText-like).

    NOTE: token ids only. The tfjs bag student with student.ngrams >= 2 also embeds
    hashed n-gram buckets, so its embedding table and inputs are larger than here.
    """

    def __init__(self, vocab_size, num_classes, dropout, embedding_dim=64, sparse=False):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=PAD_ID, sparse=sparse)
        self.dropout = nn.Dropout(dropout)
        self.output = nn.Linear(embedding_dim, num_classes)
        self.feature_dim = embedding_dim

    def forward(self, ids, lengths):
        mask = (ids != PAD_ID).unsqueeze(-1).to(torch.float32)
        summed = (self.embedding(ids) * mask).sum(dim=1)
        # clamp keeps an all-padding row at a zero vector instead of NaN.
        features = summed / mask.sum(dim=1).clamp(min=1.0)
        return self.output(self.dropout(features)), features


class CnnStudent(nn.Module):
    """Kim (2014) CNN: parallel convolutions of widths 3, 4, 5, max-pooled over time."""

    def __init__(self, vocab_size, num_classes, embedding_dim=128, filters=128):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        self.convs = nn.ModuleList(nn.Conv1d(embedding_dim, filters, k) for k in CNN_KERNEL_SIZES)
        self.dropout = nn.Dropout(0.5)
        self.feature_dim = filters * len(CNN_KERNEL_SIZES)
        self.output = nn.Linear(self.feature_dim, num_classes)

    def forward(self, ids, lengths):
        # Conv1d expects (batch, channels, time).
        embedded = self.embedding(ids).transpose(1, 2)
        pooled = [F.relu(conv(embedded)).amax(dim=2) for conv in self.convs]
        features = torch.cat(pooled, dim=1)
        return self.output(self.dropout(features)), features


class BiLstmStudent(nn.Module):
    """Tang et al. (2019) BiLSTM: final forward and backward states, then a ReLU dense layer."""

    def __init__(self, vocab_size, num_classes, dropout, embedding_dim=128, hidden=128, dense=256):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        self.lstm = nn.LSTM(embedding_dim, hidden, num_layers=1, batch_first=True, bidirectional=True)
        self.dense = nn.Linear(2 * hidden, dense)
        self.dropout = nn.Dropout(dropout)
        self.output = nn.Linear(dense, num_classes)
        self.feature_dim = dense

    def forward(self, ids, lengths):
        # Packing makes each direction stop at the sequence's real last token, not at the padding.
        packed = pack_padded_sequence(self.embedding(ids), lengths, batch_first=True, enforce_sorted=False)
        _, (final_hidden, _) = self.lstm(packed)
        # final_hidden is (directions, batch, hidden), already in the input order.
        both = torch.cat([final_hidden[0], final_hidden[1]], dim=1)
        features = F.relu(self.dense(both))
        return self.output(self.dropout(features)), features


def build_student(kind, vocab_size, num_classes, dropout, sparse_embedding=False):
    if kind == "bag":
        return BagStudent(vocab_size, num_classes, dropout, sparse=sparse_embedding)
    if kind == "cnn":
        return CnnStudent(vocab_size, num_classes)
    return BiLstmStudent(vocab_size, num_classes, dropout)


def distillation_loss(logits, features, projection, gold, teacher_logits, teacher_features):
    """Compute (1−α)·CE + α·T²·KL(teacher ‖ student) + β·MSE(projected features, teacher features)."""
    hard = F.cross_entropy(logits, gold)
    student_log_probs = F.log_softmax(logits / TEMPERATURE, dim=1)
    teacher_probs = F.softmax(teacher_logits / TEMPERATURE, dim=1)
    soft = F.kl_div(student_log_probs, teacher_probs, reduction="batchmean")
    aligned = F.mse_loss(projection(features), teacher_features)
    return (1 - ALPHA) * hard + ALPHA * TEMPERATURE**2 * soft + FEATURE_WEIGHT * aligned


def read_lengths(path):
    """Read one positive token count per line. Blank lines are skipped."""
    lengths = []
    with open(path, encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            text = line.strip()
            if not text:
                continue
            try:
                value = int(text)
            except ValueError:
                sys.exit(f"{path}:{line_number}: invalid token count {text!r}; expected one integer per line.")
            if value < 1:
                sys.exit(f"{path}:{line_number}: invalid token count {value}; counts must be at least 1.")
            lengths.append(value)
    if not lengths:
        sys.exit(f"{path}: no token counts found; expected one integer per line.")
    return lengths


def make_batches(count, args, length_pool, generator):
    """Build `count` random batches before timing starts, so data generation is not timed.

    With a length pool, rows take consecutive counts from it (wrapping around),
    capped at --seq, and each batch is padded to its own longest row, as dynamic
    padding does. Without one, every row is --seq tokens long.
    """
    batches = []
    cursor = 0
    for _ in range(count):
        if length_pool is None:
            lengths = torch.full((args.batch,), args.seq, dtype=torch.int64)
        else:
            picked = [length_pool[(cursor + i) % len(length_pool)] for i in range(args.batch)]
            cursor += args.batch
            lengths = torch.tensor([min(n, args.seq) for n in picked], dtype=torch.int64)
        width = int(lengths.max())
        # The widest CNN kernel needs at least 5 positions, so short batches get more padding.
        width = max(width, max(CNN_KERNEL_SIZES))
        ids = torch.randint(1, args.vocab, (args.batch, width), generator=generator)
        positions = torch.arange(width).unsqueeze(0)
        ids = ids.masked_fill(positions >= lengths.unsqueeze(1), PAD_ID)
        gold = torch.randint(0, args.classes, (args.batch,), generator=generator)
        teacher_logits = torch.randn(args.batch, args.classes, generator=generator)
        teacher_features = torch.randn(args.batch, TEACHER_FEATURE_DIM, generator=generator)
        batches.append((ids, lengths, gold, teacher_logits, teacher_features))
    return batches


def time_student(kind, args, length_pool):
    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    sparse = args.sparse_embedding and kind == "bag"
    model = build_student(kind, args.vocab, args.classes, args.dropout, sparse_embedding=sparse)
    projection = nn.Linear(model.feature_dim, TEACHER_FEATURE_DIM)
    batches = make_batches(args.warmup + args.steps, args, length_pool, generator)

    if args.inference:
        model.eval()

        def step(batch):
            ids, lengths = batch[0], batch[1]
            with torch.no_grad():
                model(ids, lengths)

    else:
        model.train()
        if sparse:
            # Lazy Adam on the embedding rows of the batch, as the tfjs lazy Adam does.
            dense_parameters = [p for name, p in model.named_parameters() if name != "embedding.weight"]
            optimizers = [
                torch.optim.SparseAdam([model.embedding.weight], lr=LEARNING_RATE),
                torch.optim.Adam(dense_parameters + list(projection.parameters()), lr=LEARNING_RATE),
            ]
        else:
            optimizers = [torch.optim.Adam(list(model.parameters()) + list(projection.parameters()), lr=LEARNING_RATE)]

        def step(batch):
            ids, lengths, gold, teacher_logits, teacher_features = batch
            for optimizer in optimizers:
                optimizer.zero_grad(set_to_none=True)
            logits, features = model(ids, lengths)
            loss = distillation_loss(logits, features, projection, gold, teacher_logits, teacher_features)
            loss.backward()
            for optimizer in optimizers:
                optimizer.step()

    for batch in batches[: args.warmup]:
        step(batch)

    durations_ms = []
    for batch in batches[args.warmup :]:
        start = time.perf_counter()
        step(batch)
        durations_ms.append((time.perf_counter() - start) * 1000.0)

    total_s = sum(durations_ms) / 1000.0
    timed_widths = [int(b[0].shape[1]) for b in batches[args.warmup :]]
    timed_tokens = [int(b[1].sum()) for b in batches[args.warmup :]]
    return {
        "peer": "pytorch",
        "student": kind,
        "mode": "inference" if args.inference else "train",
        "threads": torch.get_num_threads(),
        "batch": args.batch,
        "seq": args.seq,
        "lengths": args.lengths,
        "mean_padded_seq": round(statistics.mean(timed_widths), 2),
        "mean_tokens_per_row": round(sum(timed_tokens) / (args.batch * args.steps), 2),
        "steps": args.steps,
        "warmup": args.warmup,
        "samples_per_s": round(args.batch * args.steps / total_s, 1),
        "ms_per_step_median": round(statistics.median(durations_ms), 3),
        "ms_per_step_min": round(min(durations_ms), 3),
        "ms_per_step_max": round(max(durations_ms), 3),
        "sparse_embedding": sparse,
        "torch": torch.__version__,
    }


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Time the PyTorch equivalent of the tfjs students' distillation training step (CPU)."
    )
    parser.add_argument("--student", choices=STUDENTS + ("all",), default="all", help="Student to time (default: all).")
    parser.add_argument(
        "--batch", type=int, default=None, help="Rows per step (default: 64 for training, 256 with --inference)."
    )
    parser.add_argument("--seq", type=int, default=64, help="Maximum tokens per row (default: 64).")
    parser.add_argument("--vocab", type=int, default=20000, help="Vocabulary size, padding id 0 included (default: 20000).")
    parser.add_argument("--classes", type=int, default=3, help="Number of classes (default: 3).")
    parser.add_argument("--steps", type=int, default=20, help="Timed steps per student (default: 20).")
    parser.add_argument("--warmup", type=int, default=3, help="Untimed steps before timing starts (default: 3).")
    parser.add_argument(
        "--threads", type=int, default=None, help="Intra-op CPU threads (default: every core this process may use)."
    )
    parser.add_argument(
        "--dropout",
        type=float,
        default=0.2,
        help="Dropout rate of the bag and BiLSTM students; the CNN always uses 0.5 (default: 0.2).",
    )
    parser.add_argument(
        "--lengths",
        metavar="FILE",
        help="File with one token count per line; rows take real lengths from it in order instead of --seq.",
    )
    parser.add_argument("--inference", action="store_true", help="Time forward passes only (eval mode, no gradients).")
    parser.add_argument(
        "--sparse-embedding",
        action="store_true",
        help="Bag student only: sparse embedding gradients and SparseAdam for the table (lazy Adam), Adam for the rest.",
    )
    parser.add_argument("--seed", type=int, default=1234, help="Seed for weights and random inputs (default: 1234).")
    args = parser.parse_args(argv)

    if args.batch is None:
        args.batch = 256 if args.inference else 64
    for name in ("batch", "seq", "steps", "classes"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} is {getattr(args, name)}; it must be at least 1.")
    if args.vocab < 2:
        parser.error(f"--vocab is {args.vocab}; it must be at least 2 because id 0 is padding.")
    if args.warmup < 0:
        parser.error(f"--warmup is {args.warmup}; it must be 0 or more.")
    if not 0.0 <= args.dropout < 1.0:
        parser.error(f"--dropout is {args.dropout}; it must be in [0, 1).")
    if args.threads is None:
        args.threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if args.threads < 1:
        parser.error(f"--threads is {args.threads}; it must be at least 1.")
    return args


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    length_pool = read_lengths(args.lengths) if args.lengths else None
    kinds = STUDENTS if args.student == "all" else (args.student,)
    for kind in kinds:
        print(json.dumps(time_student(kind, args, length_pool)), flush=True)


if __name__ == "__main__":
    main()

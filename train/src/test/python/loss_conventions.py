#!/usr/bin/python3
"""PyTorch float64 references for the three contrastive-loss reductions of ContrastiveLoss.

Run from the repository root with the Debian interpreter that has torch 1.13:

    /usr/bin/python3 train/src/test/python/loss_conventions.py

It writes one safetensors file per case into train/src/test/resources/loss-conventions/ (the
Java tests read them from the classpath; they never run Python). The formulas are written here
from the upstream sources, not imported from them:

* paper: Eq. 1 of the IRT paper,
    L = (1/B) [ S(batch, batch, no self-pairs) + w * S(batch, memory) ],
    S = sum over positive pairs of (1 - s) + sum over negative pairs of max(0, s - beta).
* pml: pytorch-metric-learning 1.3.2 ContrastiveLoss(pos_margin=1, neg_margin=beta,
  distance=CosineSimilarity()) with its default AvgNonZeroReducer, called as jhgan00's IRT
  engine calls it: criterion(emb, labels) + w * criterion(emb, labels, ref_emb=memory,
  ref_labels=memory_labels). One call: all pairs (self-pairs removed only without ref_emb),
  CosineSimilarity normalizes both sides, per-pair losses relu(1 - s) and relu(s - beta), each
  family averaged over its entries > 0 (0 if none), the two added; zero outright when there are
  at most one positive and at most one negative pair (GenericPairLoss.compute_loss).
* xbm: research-xbm ret_benchmark/losses/contrastive_loss.py, called as its trainer does:
  loss(batch, batch) + w * loss(batch, memory). One call: (1/B) sum_i [ sum over same-label j
  with s_ij < 1 - 1e-5 of (1 - s_ij) + sum over other-label j with s_ij > beta of s_ij ].

Each file holds `raw` [B, D] (descriptors before L2 normalization), `labels`, `memory` [K, D]
(unit rows, no gradient) and `memory_labels` (K may be 0), and for each reduction R and each of
`batch` (batch term only) and `memory` (batch + memory): `loss.R.X` and `grad_raw.R.X`, the
gradient of that loss with respect to `raw`. Metadata: beta, memory_weight, enqueue, about.
"""
import json
import os
import struct

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "resources", "loss-conventions")
XBM_EPSILON = 1e-5
REDUCTIONS = ("paper", "pml", "xbm")


# ---- the three reductions ----------------------------------------------------------------------

def paper_sum(emb, labels, ref, ref_labels, same_set):
    sim = emb @ ref.t()
    same = labels[:, None] == ref_labels[None, :]
    pos = same.clone()
    if same_set:
        pos.fill_diagonal_(False)
    neg = ~same
    return (1 - sim)[pos].sum() + torch.relu(sim - BETA)[neg].sum()


def paper(emb, labels, memory, memory_labels, weight):
    total = paper_sum(emb, labels, emb, labels, True)
    if memory is not None:
        total = total + weight * paper_sum(emb, labels, memory, memory_labels, False)
    return total / emb.shape[0]


def average_of_non_zero(losses, emb):
    kept = losses[losses > 0]
    return kept.mean() if kept.numel() > 0 else (emb * 0).sum()


def pml_call(emb, labels, ref=None, ref_labels=None):
    same_set = ref is None
    if same_set:
        ref, ref_labels = emb, labels
    same = labels[:, None] == ref_labels[None, :]
    pos = same.clone()
    if same_set:
        pos.fill_diagonal_(False)
    neg = ~same
    a1, p = torch.where(pos)
    a2, n = torch.where(neg)
    if len(a1) <= 1 and len(a2) <= 1:
        return (emb * 0).sum()
    sim = F.normalize(emb, dim=1) @ F.normalize(ref, dim=1).t()
    zero = (emb * 0).sum()
    pos_term = average_of_non_zero(torch.relu(1.0 - sim[a1, p]), emb) if len(a1) > 0 else zero
    neg_term = average_of_non_zero(torch.relu(sim[a2, n] - BETA), emb) if len(a2) > 0 else zero
    return pos_term + neg_term


def pml(emb, labels, memory, memory_labels, weight):
    loss = pml_call(emb, labels)
    if memory is not None:
        loss = loss + weight * pml_call(emb, labels, memory, memory_labels)
    return loss


def xbm_call(emb, labels, ref, ref_labels):
    sim = emb @ ref.t()
    same = labels[:, None] == ref_labels[None, :]
    pos = same & (sim < 1 - XBM_EPSILON)
    neg = ~same & (sim > BETA)
    return ((1 - sim)[pos].sum() + sim[neg].sum()) / emb.shape[0]


def xbm_call_per_anchor(emb, labels, ref, ref_labels):
    """The same term anchor by anchor, as upstream loops; a cross-check of xbm_call."""
    total = 0.0
    for i in range(emb.shape[0]):
        s = emb[i] @ ref.t()
        same = ref_labels == labels[i]
        pos = s[same]
        pos = pos[pos < 1 - XBM_EPSILON]
        neg = s[~same]
        neg = neg[neg > BETA]
        total = total + (1 - pos).sum() + neg.sum()
    return total / emb.shape[0]


def xbm(emb, labels, memory, memory_labels, weight):
    loss = xbm_call(emb, labels, emb, labels)
    check = xbm_call_per_anchor(emb, labels, emb, labels)
    if memory is not None:
        loss = loss + weight * xbm_call(emb, labels, memory, memory_labels)
        check = check + weight * xbm_call_per_anchor(emb, labels, memory, memory_labels)
    assert abs(float(loss) - float(check)) < 1e-13, (float(loss), float(check))
    return loss


FUNCTIONS = {"paper": paper, "pml": pml, "xbm": xbm}


# ---- inputs --------------------------------------------------------------------------------------

def clustered(gen, labels, dim, spread, shared):
    """Raw descriptors near per-class centres that share a common direction (so some negatives
    are above beta and some below)."""
    common = torch.randn(dim, generator=gen)
    classes = sorted(set(labels.tolist()))
    centres = {c: shared * common + torch.randn(dim, generator=gen) for c in classes}
    return torch.stack([centres[int(c)] + spread * torch.randn(dim, generator=gen) for c in labels])


def dyadic_unit_rows(gen, count, dim, near=None):
    """Integer vectors whose squared norm is 32^2, so their L2-normalized rows (k/32) and every
    dot product between them are exact in float32 and float64: each threshold (s vs beta, a loss
    vs 0, s vs 1 - 1e-5) is decided identically by any summation order."""
    rows = []
    while len(rows) < count:
        base = near[len(rows)] if near is not None else torch.randn(dim, generator=gen)
        base = base / base.norm()
        head = torch.round(32 * (base[:-1] + 0.15 * torch.randn(dim - 1, generator=gen)))
        rest = 1024 - int((head ** 2).sum())
        if rest < 0:
            continue
        root = int(round(rest ** 0.5))
        if root * root != rest:
            continue
        sign = 1 if float(base[-1]) >= 0 else -1
        rows.append(torch.cat([head, torch.tensor([float(sign * root)])]))
    return torch.stack(rows)


def case_inputs(name, gen):
    dim = 8
    if name == "batch_only":
        labels = torch.tensor([0, 0, 0, 1, 1, 2, 2, 3, 3, 4])
        raw = clustered(gen, labels, dim, 0.8, 1.0)
        return raw, labels, None, None, 1.0, "after", \
            "10 descriptors of 5 classes (label duplicates), no memory; some negative pair losses are 0"
    if name in ("memory_after", "memory_weighted"):
        labels = torch.tensor([0, 0, 1, 1, 2, 2, 5, 6])
        memory_labels = torch.tensor([0, 1, 1, 2, 3, 3, 4, 5, 7, 7, 0, 8])
        both = clustered(gen, torch.cat([labels, memory_labels]), dim, 0.8, 1.0)
        raw, memory = both[:8], F.normalize(both[8:], dim=1)
        weight = 1.0 if name == "memory_after" else 0.25
        return raw, labels, memory, memory_labels, weight, "after", \
            "8 descriptors against a memory of 12 past ones (memory enqueued after the loss), weight %g" % weight
    if name == "memory_before":
        labels = torch.tensor([0, 0, 1, 1, 2, 2, 3, 3])
        centres = clustered(gen, torch.cat([labels, torch.tensor([0, 1, 4, 4, 2, 5])]), dim, 0.6, 1.0)
        rows = dyadic_unit_rows(gen, 14, dim, near=centres)
        rows[1] = rows[0]  # an exact duplicate image in the batch (same label)
        raw = rows[:8] * 0.5  # squared norm 256: normalization is exact
        past = rows[8:] / 32
        memory = torch.cat([past, raw / raw.norm(dim=1, keepdim=True)])
        memory_labels = torch.tensor([0, 1, 4, 4, 2, 5] + labels.tolist())
        return raw, labels, memory, memory_labels, 1.0, "before", \
            "8 dyadic descriptors (two identical) against a memory of 6 past ones plus the batch's own " \
            "copies (enqueued before the loss); every similarity is exact"
    if name == "no_positives":
        labels = torch.tensor([0, 1, 2, 3, 4, 5])
        memory_labels = torch.tensor([6, 7, 8, 9, 10])
        both = clustered(gen, torch.cat([labels, memory_labels]), dim, 0.5, 1.5)
        return both[:6], labels, F.normalize(both[6:], dim=1), memory_labels, 1.0, "after", \
            "6 descriptors of 6 classes against 5 memory entries of other classes: no positive pair"
    if name == "tiny":
        labels = torch.tensor([0, 1])
        both = clustered(gen, torch.tensor([0, 1, 0]), dim, 0.3, 2.0)
        return both[:2], labels, F.normalize(both[2:], dim=1), torch.tensor([0]), 1.0, "after", \
            "2 descriptors of 2 classes and 1 memory entry: the memory term has one positive and one " \
            "negative pair, which pytorch-metric-learning scores 0"
    raise ValueError(name)


CASES = ("batch_only", "memory_after", "memory_weighted", "memory_before", "no_positives", "tiny")


# ---- safetensors ---------------------------------------------------------------------------------

def write_safetensors(path, tensors, metadata):
    header = {"__metadata__": metadata}
    blobs, offset = [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous()
        if t.dtype == torch.float64:
            dtype, data = "F64", t.numpy().astype("<f8").tobytes()
        elif t.dtype == torch.int64:
            dtype, data = "I64", t.numpy().astype("<i8").tobytes()
        else:
            raise TypeError(name)
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":"), sort_keys=True).encode()
    text += b" " * (-len(text) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


# ---- main ----------------------------------------------------------------------------------------

BETA = 0.5


def main():
    os.makedirs(OUT, exist_ok=True)
    gen = torch.Generator().manual_seed(20261201)
    for name in CASES:
        raw, labels, memory, memory_labels, weight, enqueue, about = case_inputs(name, gen)
        tensors = {"raw": raw, "labels": labels,
                   "memory": memory if memory is not None else torch.zeros(0, raw.shape[1]),
                   "memory_labels": memory_labels if memory_labels is not None else torch.zeros(0, dtype=torch.int64)}
        variants = {"batch": (None, None)}
        if memory is not None:
            variants["memory"] = (memory, memory_labels)
        for reduction in REDUCTIONS:
            for variant, (mem, mem_labels) in variants.items():
                x = raw.clone().requires_grad_(True)
                loss = FUNCTIONS[reduction](F.normalize(x, dim=1), labels, mem, mem_labels, weight)
                loss.backward()
                tensors["loss.%s.%s" % (reduction, variant)] = loss.detach().reshape(1)
                tensors["grad_raw.%s.%s" % (reduction, variant)] = x.grad
        check_general_position(name, raw, labels, memory)
        meta = {"beta": repr(BETA), "memory_weight": repr(weight), "enqueue": enqueue, "about": about,
                "xbm_epsilon": repr(XBM_EPSILON), "torch": torch.__version__}
        path = os.path.join(OUT, name + ".safetensors")
        write_safetensors(path, tensors, meta)
        summary = ", ".join("%s %.6f" % (k[5:], float(v)) for k, v in sorted(tensors.items()) if k.startswith("loss."))
        print("%s: %s" % (name, summary))


def check_general_position(name, raw, labels, memory):
    """No similarity may sit within float32 rounding of a threshold unless it is exact (the
    dyadic case), or the float32 test could legitimately select other pairs than the reference."""
    emb = F.normalize(raw, dim=1)
    refs = emb if memory is None else torch.cat([emb, memory])
    sim = emb @ refs.t()
    exact = name == "memory_before"
    near_one = (sim - 1).abs() < 1e-6  # self-pairs, duplicates and the batch's own copies
    for threshold, candidates in ((BETA, sim.flatten()), (1 - XBM_EPSILON, sim[~near_one])):
        gap = (candidates - threshold).abs().min().item()
        assert gap > 1e-4, "%s: a similarity lies %.3g from %g" % (name, gap, threshold)
    if exact:
        scaled = sim * 1024
        assert torch.equal(scaled, torch.round(scaled)), name


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Writes the mini retrieval-SfM-120k index of the sfm120k training tests (issue 15, item 5):
the dict cirtorch's TuplesDataset reads, {"train": {...}, "val": {...}}, each with cids (image
names), cluster (one id per image), qidxs and pidxs (query-positive pairs), written by
pickle.dump as the real retrieval-SfM-120k.pkl is. The tests generate the images themselves,
under ims/ as cirtorch's cid2filename places them. Run from the repository root:

    /usr/bin/python3 scripts/make-sfm-fixture.py

Outputs are small and committed; tests never need Python. Everything is fixed (no randomness),
so a rerun writes the same bytes.
"""
import os
import pickle

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUTS = [os.path.join(ROOT, "train/src/test/resources/sfm-mini"), os.path.join(ROOT, "cli/src/test/resources/sfm-mini")]


def split(first_cluster, clusters, per_cluster, salt):
    """clusters x per_cluster images; within each cluster, image i queries image i + 1 (and the last the first)."""
    cids, cluster, qidxs, pidxs = [], [], [], []
    for c in range(clusters):
        base = len(cids)
        for i in range(per_cluster):
            # Names like the real ones (hex, longer than the 6 characters cid2filename splits on).
            cids.append("%08x%04x" % ((first_cluster + c) * 7919 + salt, i * 31 + 5))
            cluster.append(first_cluster + c)
        for i in range(per_cluster):
            qidxs.append(base + i)
            pidxs.append(base + (i + 1) % per_cluster)
    return {"cids": cids, "cluster": cluster, "qidxs": qidxs, "pidxs": pidxs}


def main():
    db = {"train": split(0, 5, 6, 11), "val": split(100, 3, 4, 13)}
    for out in OUTS:
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "retrieval-SfM-120k.pkl"), "wb") as f:
            pickle.dump(db, f)
    # The same index with numpy arrays for the integer lists, at protocol 2: the reader takes both.
    arrays = {k: {f: (np.array(v, dtype=np.int64) if f != "cids" else v) for f, v in s.items()} for k, s in db.items()}
    with open(os.path.join(OUTS[0], "retrieval-SfM-120k-numpy-p2.pkl"), "wb") as f:
        pickle.dump(arrays, f, protocol=2)
    # What the Java test compares with: the train split as plain text, one image per line.
    with open(os.path.join(OUTS[0], "train-split.txt"), "w") as f:
        for i, (cid, c) in enumerate(zip(db["train"]["cids"], db["train"]["cluster"])):
            f.write("%s %d\n" % (cid, c))
        f.write("pairs " + " ".join("%d:%d" % qp for qp in zip(db["train"]["qidxs"], db["train"]["pidxs"])) + "\n")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Writes the test resources of the restricted unpickler, PyTorch checkpoints and revisitop ground
truth (issue 15), with real torch.save and pickle.dump. Run from the repository root with a
Python that has torch and numpy (here: /usr/bin/python3, Debian's torch 1.13):

    /usr/bin/python3 scripts/make-pickle-fixtures.py

Outputs are small and committed; tests never need Python. Seeds are fixed, so a rerun writes the
same values (zip timestamps aside).
"""
import collections
import json
import os
import pickle
import struct

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TENSOR = os.path.join(ROOT, "tensor/src/test/resources/pickle")
EVAL = os.path.join(ROOT, "eval/src/test/resources/revisitop")
CLI = os.path.join(ROOT, "cli/src/test/resources/roxford-mini")


def write_safetensors(path, tensors):
    """The safetensors format, written by hand (the package is not installed here)."""
    header, blobs, offset = {}, [], 0
    names = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64"}
    for name, t in tensors.items():
        t = t.contiguous()
        data = t.numpy().tobytes()
        header[name] = {"dtype": names[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def vit_state(distilled=False, dim=16, depth=1, patch=8, img=32, heads=2, classes=10):
    """A small ViT's state dict under timm's names, random values (scaled as trained weights are)."""
    g = torch.Generator().manual_seed(15 + distilled)
    r = lambda *s: torch.randn(*s, generator=g) * 0.2
    prefix = 2 if distilled else 1
    sd = collections.OrderedDict()
    sd["cls_token"] = r(1, 1, dim)
    if distilled:
        sd["dist_token"] = r(1, 1, dim)
    sd["pos_embed"] = r(1, prefix + (img // patch) ** 2, dim)
    sd["patch_embed.proj.weight"] = r(dim, 3, patch, patch)
    sd["patch_embed.proj.bias"] = r(dim)
    for i in range(depth):
        b = "blocks.%d." % i
        sd[b + "norm1.weight"] = 1 + r(dim)
        sd[b + "norm1.bias"] = r(dim)
        sd[b + "attn.qkv.weight"] = r(3 * dim, dim)
        sd[b + "attn.qkv.bias"] = r(3 * dim)
        sd[b + "attn.proj.weight"] = r(dim, dim)
        sd[b + "attn.proj.bias"] = r(dim)
        sd[b + "norm2.weight"] = 1 + r(dim)
        sd[b + "norm2.bias"] = r(dim)
        sd[b + "mlp.fc1.weight"] = r(4 * dim, dim)
        sd[b + "mlp.fc1.bias"] = r(4 * dim)
        sd[b + "mlp.fc2.weight"] = r(dim, 4 * dim)
        sd[b + "mlp.fc2.bias"] = r(dim)
    sd["norm.weight"] = 1 + r(dim)
    sd["norm.bias"] = r(dim)
    sd["head.weight"] = r(classes, dim)
    sd["head.bias"] = r(classes)
    if distilled:
        sd["head_dist.weight"] = r(classes, dim)
        sd["head_dist.bias"] = r(classes)
    return sd


def checkpoints():
    os.makedirs(TENSOR, exist_ok=True)
    expected = collections.OrderedDict()
    sd = vit_state()
    for tag, dtype in (("f32", torch.float32), ("f16", torch.float16), ("bf16", torch.bfloat16)):
        cast = collections.OrderedDict((k, v.to(dtype)) for k, v in sd.items())
        torch.save(cast, os.path.join(TENSOR, "vit_%s.pth" % tag))
        for k, v in cast.items():
            expected["%s.%s" % (tag, k)] = v.float()  # float16/bfloat16 widen to float32 exactly
    # DeiT's releases: {"model": state_dict}; the distilled ones add dist_token and head_dist.
    torch.save({"model": sd}, os.path.join(TENSOR, "vit_model_f32.pth"))
    dist = vit_state(distilled=True)
    torch.save({"model": dist}, os.path.join(TENSOR, "deit_distilled_model.pth"))
    for k, v in dist.items():
        expected["distilled." + k] = v
    # Views: a transpose, a slice at an offset sharing the storage of another tensor, F64, I64,
    # and nn.Parameter values (pickled through _rebuild_parameter).
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6) / 7
    views = collections.OrderedDict()
    views["transposed"] = base.t()
    views["sliced"] = base[1:3, 2:5]
    views["whole"] = base
    views["double"] = torch.linspace(-1, 1, 5, dtype=torch.float64)
    views["long"] = torch.tensor([3, -1, 1 << 40], dtype=torch.int64)
    views["param"] = torch.nn.Parameter(torch.tensor([[1.5, -2.25]]))
    views["empty"] = torch.zeros(0, 3)
    torch.save(views, os.path.join(TENSOR, "views.pth"))
    for k, v in views.items():
        expected["views." + k] = v.detach()
    # A real module's state_dict() carries _metadata (module versions), pickled by BUILD on the OrderedDict.
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.LayerNorm(2))
    torch.save({"model": module.state_dict()}, os.path.join(TENSOR, "module_state_dict.pth"))
    for k, v in module.state_dict().items():
        expected["module." + k] = v
    write_safetensors(os.path.join(TENSOR, "expected.safetensors"), expected)
    # A NaN among the weights, which loading refuses by name.
    bad = collections.OrderedDict(sd)
    bad["norm.bias"] = sd["norm.bias"].clone()
    bad["norm.bias"][3] = float("nan")
    torch.save(bad, os.path.join(TENSOR, "vit_nonfinite.pth"))
    # The pre-1.6 format (a bare pickle stream), which irtj refuses by name.
    torch.save({"w": torch.ones(2)}, os.path.join(TENSOR, "legacy.pth"), _use_new_zipfile_serialization=False)


def plain_data():
    """Plain values and numpy arrays at protocols 2, 4 and 5, for the unpickler's own tests."""
    value = {
        "ints": [0, 1, -1, 255, 256, 65535, 65536, 2**31 - 1, -2**31, 2**40, -2**40, 2**63 - 1, -2**63],
        "floats": [1.5, -0.0, 1e300, float("inf")],
        "str": "h\u00e9llo \u2603",
        "bytes": b"\x00\xff\x7f",
        "tuple": (1, (2, 3), ()),
        "nested": [[1], {"a": None}, True, False],
        7: "int key",
        (1, "t"): "tuple key",
        "set": {1, 2},
        "frozen": frozenset([3]),
        "od": collections.OrderedDict([("z", 1), ("a", 2)]),
        "i64": np.array([[1, -2, 3], [4, 5, 2**40]], dtype=np.int64),
        "u8": np.array([0, 255], dtype=np.uint8),
        "i32be": np.array([1, -2], dtype=">i4"),
        "f32": np.array([0.5, -1.25], dtype=np.float32),
        "f64": np.array([1.0 / 3, 2.5]),
        "f16": np.array([1.0, 65504.0], dtype=np.float16),
        "b": np.array([True, False, True]),
        "scalar": np.float64(2.75),
        "iscalar": np.int64(-9),
        "empty": np.array([], dtype=np.int64),
    }
    for protocol in (2, 4, 5):
        with open(os.path.join(TENSOR, "plain_p%d.pkl" % protocol), "wb") as f:
            pickle.dump(value, f, protocol=protocol)


def gnd(n_db, queries, seed):
    """revisitop's gnd_*.pkl layout: imlist, qimlist and per query easy/hard/junk int arrays and a float box."""
    rng = np.random.RandomState(seed)
    imlist = ["img_%02d" % i for i in range(n_db)]
    qimlist, entries = [], []
    for q in range(queries):
        perm = rng.permutation(n_db)
        easy, hard, junk = np.sort(perm[:2]), np.sort(perm[2:4]), np.sort(perm[4:5])
        if q == 1:
            hard = np.array([], dtype=np.int64)  # an empty array, as some queries have
        qimlist.append(imlist[int(perm[0])])
        entries.append({"bbx": np.array([4.0 + q, 6.5, 40.25, 44.0 + q]), "easy": easy, "hard": hard, "junk": junk})
    return {"gnd": entries, "imlist": imlist, "qimlist": qimlist}


def as_json(cfg, dataset):
    out = {"dataset": dataset, "imlist": cfg["imlist"], "qimlist": cfg["qimlist"], "gnd": []}
    for g in cfg["gnd"]:
        out["gnd"].append({k: [float(x) if k == "bbx" else int(x) for x in g[k]] for k in ("easy", "hard", "junk", "bbx")})
    return out


def ground_truth():
    os.makedirs(EVAL, exist_ok=True)
    cfg = gnd(20, 4, seed=5)
    for protocol in (2, 4, 5):
        with open(os.path.join(EVAL, "gnd_mini_p%d.pkl" % protocol), "wb") as f:
            pickle.dump(cfg, f, protocol=protocol)
    with open(os.path.join(EVAL, "gnd_mini.json"), "w") as f:
        json.dump(as_json(cfg, "mini"), f, indent=1)
    # The CLI's mini layout: a dozen database images, three queries among them.
    os.makedirs(CLI, exist_ok=True)
    mini = gnd(12, 3, seed=7)
    with open(os.path.join(CLI, "gnd_roxford5k.pkl"), "wb") as f:
        pickle.dump(mini, f, protocol=2)


if __name__ == "__main__":
    checkpoints()
    plain_data()
    ground_truth()
    print("wrote", TENSOR, EVAL, CLI)

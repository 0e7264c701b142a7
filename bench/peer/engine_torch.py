"""PyTorch peer for `attune bench engine`: the same reference model, shapes, optimizer and thread count.

Reads one JSON object of settings from argv[1] and prints one JSON object of timings on stdout.
Keep this model identical to bench/engine-model.ts (same layers, same order, same loss).
"""
import json
import math
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class CrossAttention(nn.Module):
    """Pre-LayerNorm'd queries attend to the other stream's (already normalized) tokens."""

    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(d, d)
        self.k = nn.Linear(d, d)
        self.v = nn.Linear(d, d)
        self.o = nn.Linear(d, d)

    def forward(self, x, ctx):  # x [B, Tq, D], ctx [B, Tk, D]
        b, tq, d = x.shape
        tk = ctx.shape[1]
        h = self.heads
        q = self.q(x).view(b, tq, h, d // h).transpose(1, 2)  # [B, H, Tq, dh]
        k = self.k(ctx).view(b, tk, h, d // h).transpose(1, 2)
        v = self.v(ctx).view(b, tk, h, d // h).transpose(1, 2)
        att = torch.softmax(q @ k.transpose(-1, -2) * (1.0 / math.sqrt(d // h)), dim=-1)  # [B, H, Tq, Tk]
        y = (att @ v).transpose(1, 2).reshape(b, tq, d)
        return self.o(y)


class Ffn(nn.Module):
    def __init__(self, d, mult):
        super().__init__()
        self.up = nn.Linear(d, mult * d)
        self.down = nn.Linear(mult * d, d)

    def forward(self, x):
        return self.down(F.gelu(self.up(x)))  # exact (erf) GELU, as in the ONNX graph


class Block(nn.Module):
    def __init__(self, d, heads, mult):
        super().__init__()
        self.ln_a, self.ln_v = nn.LayerNorm(d), nn.LayerNorm(d)
        self.a_from_v, self.v_from_a = CrossAttention(d, heads), CrossAttention(d, heads)
        self.ln_a_ffn, self.ln_v_ffn = nn.LayerNorm(d), nn.LayerNorm(d)
        self.ffn_a, self.ffn_v = Ffn(d, mult), Ffn(d, mult)

    def forward(self, a, v):
        na, nv = self.ln_a(a), self.ln_v(v)
        a, v = a + self.a_from_v(na, nv), v + self.v_from_a(nv, na)
        a = a + self.ffn_a(self.ln_a_ffn(a))
        v = v + self.ffn_v(self.ln_v_ffn(v))
        return a, v


class Model(nn.Module):
    def __init__(self, c):
        super().__init__()
        d = c["dim"]
        self.video_in = nn.Linear(c["video_dim"], d)
        self.audio_in = nn.Linear(c["audio_dim"], d)
        self.blocks = nn.ModuleList([Block(d, c["heads"], c["ffn_mult"]) for _ in range(c["blocks"])])
        self.video_out = nn.Linear(d, c["embed_dim"])
        self.audio_out = nn.Linear(d, c["embed_dim"])
        self.log_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))

    def embed(self, video, audio):
        v, a = self.video_in(video), self.audio_in(audio)
        for blk in self.blocks:
            a, v = blk(a, v)
        ev = F.normalize(self.video_out(v.mean(1)), dim=-1)
        ea = F.normalize(self.audio_out(a.mean(1)), dim=-1)
        return ev, ea

    def loss(self, video, audio):
        ev, ea = self.embed(video, audio)
        logits = ev @ ea.t() * self.log_scale.exp()  # [B, B]
        target = torch.arange(logits.shape[0])
        return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target))


def timed(fn, warmup, iters):
    """Wall-clock ms of each call, and the mean CPU ms (all threads) per call."""
    for _ in range(warmup):
        fn()
    times = []
    cpu0 = time.process_time()
    for _ in range(iters):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return times, (time.process_time() - cpu0) * 1000 / iters


def main():
    s = json.loads(sys.argv[1])
    torch.set_num_threads(s["threads"])
    torch.manual_seed(0)
    c = s["model"]
    b = c["batch"]
    model = Model(c)
    video = torch.randn(b, c["video_tokens"], c["video_dim"])
    audio = torch.randn(b, c["audio_tokens"], c["audio_dim"])
    opt = torch.optim.AdamW(model.parameters(), lr=s["lr"], weight_decay=s["weight_decay"], betas=(0.9, 0.999), eps=1e-8)
    losses = []

    def train_step():
        opt.zero_grad(set_to_none=True)
        loss = model.loss(video, audio)
        loss.backward()
        opt.step()
        losses.append(loss.item())

    def infer():
        with torch.no_grad():
            model.embed(video, audio)

    train_samples, train_cpu_ms = timed(train_step, s["warmup"], s["iters"])
    infer_samples, infer_cpu_ms = timed(infer, s["warmup"], s["iters"])
    n = s["sgemm_n"]
    x, y = torch.randn(n, n), torch.randn(n, n)
    mm_ms = min(timed(lambda: torch.mm(x, y), 2, 5)[0])
    print(json.dumps({
        "torch_version": torch.__version__,
        "threads": torch.get_num_threads(),
        "train_samples": train_samples,
        "infer_samples": infer_samples,
        "train_cpu_ms": train_cpu_ms,
        "infer_cpu_ms": infer_cpu_ms,
        "sgemm_gflops": 2 * n ** 3 / (mm_ms * 1e6),
        "params": sum(p.numel() for p in model.parameters()),
        "first_loss": losses[0],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    main()

"""PyTorch twin for `attune bench v2a`: the v2a flow network of src/models/v2a (network.ts, conditions.ts; the
blocks of src/nn), the same shapes and parameter count, sampled with the same Euler + CFG loop (sampler.ts).

Reads one JSON object of settings from argv[1] (bench/v2a.ts writes it: sizes, RoPE positions, steps, rounds,
threads) and prints one JSON object on stdout: parameter count, wall and CPU seconds per run for each steps setting.
With "check" (a JSON file of Attune's parameters, one batch of inputs and Attune's velocity for them; the test
test/bench/v2a_twin.test.ts writes it) it loads those weights instead and prints how far its velocity is from Attune's.
Weights are freshly initialized as Attune's are (Xavier-uniform linears, zero adaLN-zero modulations): the time does
not depend on their values. Keep this network identical to network.ts; its docs name every layer.

  x_t [B, Ta, M] -> Conv(k7), SiLU, Linear                                   -> a [B, Ta, D]
  visual [B, Tv, P] -> Linear, SiLU, Linear | learned empty                  -> v [B, Tv, D]
  motion [B, Ts, P] -> Linear, SiLU, Conv(k), SiLU, Linear | learned empty   -> s [B, Ts, D]
  text [B, L] -> Embedding | learned empty                                   -> w [B, L, D]
  c = MLP(timestep(t)) + MLP(Linear(mean v) + Linear(masked mean w))         -> [B, D]
  ca = c + Linear(nearest-exact(s -> Ta))                                    -> [B, Ta, D]
  joint blocks (adaLN-zero per stream, QK-RMSNorm, RoPE on a and v, one attention over [a | v | w]),
  audio-only DiT blocks on a (conditioned on ca), final adaLN(a; c) -> Linear -> velocity [B, Ta, M]
"""
import json
import math
import re
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

MASK_VALUE = -1e9  # src/nn/masks.ts
LN_EPS = 1e-6  # the parameter-free LayerNorm that adaLN modulates
RMS_EPS = 1e-6


def linear(d_in, d_out, zero=False):
    """Attune's linear init: Xavier-uniform weight (zeros for adaLN-zero projections), zero bias."""
    m = nn.Linear(d_in, d_out)
    (nn.init.zeros_ if zero else nn.init.xavier_uniform_)(m.weight)
    nn.init.zeros_(m.bias)
    return m


def modulate(x, shift, scale):
    return x * (1 + scale) + shift


def bare_norm(x):
    return F.layer_norm(x, (x.shape[-1],), eps=LN_EPS)


class RmsNorm(nn.Module):
    """x / sqrt(mean(x^2) + eps) * scale over the last axis (QK-norm on each head)."""

    def __init__(self, d):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(d))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + RMS_EPS) * self.scale


class Mlp(nn.Module):
    def __init__(self, d_in, hidden, d_out, act):
        super().__init__()
        self.fc1, self.fc2, self.act = linear(d_in, hidden), linear(hidden, d_out), act

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Modulation(nn.Module):
    """SiLU(cond) -> Linear -> `chunks` D-wide vectors; a global cond [B, D] gives [B, 1, D] each."""

    def __init__(self, d, chunks, zero=True):
        super().__init__()
        self.proj, self.chunks = linear(d, chunks * d, zero), chunks

    def forward(self, cond):
        m = self.proj(F.silu(cond))
        if m.dim() == 2:
            m = m.unsqueeze(1)
        return m.chunk(self.chunks, -1)


def rope(x, cos, sin):
    """Half-split ("NeoX") rotary embedding of x [B, H, T, dh] by tables [T, dh/2] (src/nn/positions.ts applyRope)."""
    x1, x2 = x.chunk(2, -1)
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], -1)


def rope_tables(positions, head_dim, theta=10000.0):
    pos = torch.tensor(positions, dtype=torch.float64)[:, None]  # [T, 1]
    freqs = theta ** (-2 * torch.arange(head_dim // 2, dtype=torch.float64) / head_dim)  # [dh/2]
    angles = pos * freqs  # [T, dh/2]
    return angles.cos().float(), angles.sin().float()


class HeadProjection(nn.Module):
    """One stream's fused q/k/v projection and QK-RMSNorm: x [B, T, D] -> q, k, v [B, H, T, dh] (q scaled, RoPE'd)."""

    def __init__(self, d, heads):
        super().__init__()
        self.heads, self.dh = heads, d // heads
        self.qkv = linear(d, 3 * d)
        self.q_norm, self.k_norm = RmsNorm(self.dh), RmsNorm(self.dh)

    def forward(self, x, tables):
        b, t, _ = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.heads, self.dh).permute(2, 0, 3, 1, 4)  # 3 x [B, H, T, dh]
        q, k = self.q_norm(q), self.k_norm(k)
        if tables is not None:
            q, k = rope(q, *tables), rope(k, *tables)
        return q * (1 / math.sqrt(self.dh)), k, v


def attend(q, k, v, mask=None):
    """Softmax attention on split heads -> [B, T, H * dh] (heads merged)."""
    scores = q @ k.transpose(-1, -2)  # [B, H, Tq, Tk]
    if mask is not None:
        scores = scores + mask
    out = scores.softmax(-1) @ v  # [B, H, Tq, dh]
    return out.transpose(1, 2).flatten(2)


class JointBlock(nn.Module):
    """MMAudio's JointBlock (src/nn/joint.ts): per-stream adaLN-zero, ONE attention over the concatenated streams,
    gated residuals, per-stream MLPs. Pre-only streams (the last block's visual and text) feed the attention and keep
    their output projection's parameters, as Attune's graph does, but have no MLP and are returned unchanged."""

    def __init__(self, d, heads, mlp_ratio, pre_only):
        super().__init__()
        n = len(pre_only)
        self.pre_only = pre_only
        self.mod = nn.ModuleList(Modulation(d, 6) for _ in range(n))
        self.proj = nn.ModuleList(HeadProjection(d, heads) for _ in range(n))
        self.out = nn.ModuleList(linear(d, d) for _ in range(n))
        self.mlp = nn.ModuleDict({str(i): Mlp(d, round(mlp_ratio * d), d, F.gelu) for i in range(n) if not pre_only[i]})

    def forward(self, streams, conds, tables, mask):
        mods = [m(c) for m, c in zip(self.mod, conds)]
        qkv = [p(modulate(bare_norm(s), m[0], m[1]), r) for p, s, m, r in zip(self.proj, streams, mods, tables)]
        q, k, v = (torch.cat(parts, 2) for parts in zip(*qkv))  # [B, H, sum T, dh]
        att = attend(q, k, v, mask).split([s.shape[1] for s in streams], 1)
        outs = []
        for i, s in enumerate(streams):
            if self.pre_only[i]:
                outs.append(s)  # Attune's graph drops this stream's (dead) output projection too
                continue
            _, _, gate_a, shift_m, scale_m, gate_m = mods[i]
            h = s + self.out[i](att[i]) * gate_a
            outs.append(h + self.mlp[str(i)](modulate(bare_norm(h), shift_m, scale_m)) * gate_m)
        return outs


class DitBlock(nn.Module):
    """adaLN-zero self-attention block (src/nn/blocks.ts ditBlock) with QK-RMSNorm and RoPE."""

    def __init__(self, d, heads, mlp_ratio):
        super().__init__()
        self.mod, self.proj, self.out = Modulation(d, 6), HeadProjection(d, heads), linear(d, d)
        self.mlp = Mlp(d, round(mlp_ratio * d), d, F.gelu)

    def forward(self, x, cond, tables):
        shift_a, scale_a, gate_a, shift_m, scale_m, gate_m = self.mod(cond)
        h = x + self.out(attend(*self.proj(modulate(bare_norm(x), shift_a, scale_a), tables))) * gate_a
        return h + self.mlp(modulate(bare_norm(h), shift_m, scale_m)) * gate_m


class TimeConv(nn.Module):
    """'same' 1-D convolution over time on channels-last sequences: [B, T, C] -> [B, T, out]."""

    def __init__(self, c_in, c_out, kernel):
        super().__init__()
        self.conv = nn.Conv1d(c_in, c_out, kernel, padding=kernel // 2)  # odd kernels: 'same'
        nn.init.zeros_(self.conv.bias)

    def forward(self, x):
        return self.conv(x.transpose(1, 2)).transpose(1, 2)


PIXEL_HIDDEN = 32  # conditions.ts PIXEL_HIDDEN
PATCH = 5  # conditions.ts PATCH


def or_empty(x, empty, drop):
    """x where drop = 0, the learned empty [1, 1, D] where drop = 1; drop [B]."""
    w = drop.view(-1, 1, 1)
    return x * (1 - w) + empty * w


class V2aFlow(nn.Module):
    def __init__(self, m, seq, rope_positions):
        super().__init__()
        d, mels, pixels = m["dim"], m["mels"], m["pixels"]
        if m["visual_encoder"] not in ("linear", "pixels", "patches"):
            raise ValueError(f"visual encoder {m['visual_encoder']!r}: expected 'linear', 'pixels' or 'patches'")
        self.visual_encoder = m["visual_encoder"]
        self.pixel_features = self.visual_encoder != "linear"
        local = 3 * PATCH * PATCH if self.visual_encoder == "patches" else 3
        self.sync_features = m["sync_features"]
        self.audio_conv, self.audio_proj = TimeConv(mels, d, 7), linear(d, d)
        self.visual_in, self.visual_out = linear(pixels, d), linear(d, d)
        if self.pixel_features:  # conditions.ts pixelFeatures: per-pixel colour MLP, max- and mean-pooled
            self.visual_pixels_color, self.visual_pixels_proj = linear(local, PIXEL_HIDDEN), linear(2 * PIXEL_HIDDEN, d)
        self.sync_in, self.sync_conv, self.sync_out = linear(pixels, d), TimeConv(d, d, m["sync_kernel"]), linear(d, d)
        self.embedding = nn.Embedding(m["vocab"], d)
        empty = lambda: nn.Parameter(torch.randn(1, 1, d) * 0.02)  # noqa: E731
        self.visual_empty, self.sync_empty, self.text_empty = empty(), empty(), empty()
        self.cond_visual, self.cond_text = linear(d, d), linear(d, d)
        self.cond_time = Mlp(256, d, d, F.silu)
        self.cond_pooled = Mlp(d, d, d, F.silu)
        self.sync_to_cond = linear(d, d)
        n = m["joint_blocks"]
        self.joint = nn.ModuleList(
            JointBlock(d, m["heads"], m["mlp_ratio"], [False, i == n - 1, i == n - 1]) for i in range(n)
        )
        self.audio = nn.ModuleList(DitBlock(d, m["heads"], m["mlp_ratio"]) for _ in range(m["audio_blocks"]))
        self.final_mod, self.final_proj = Modulation(d, 2, zero=False), linear(d, mels)
        # sync frame picked for each audio frame: floor((j + 0.5) * Ts / Ta) (PyTorch's nearest-exact)
        ta, ts = seq["latent"], seq["sync"]
        self.register_buffer("sync_index", torch.tensor([min(ts - 1, (2 * j + 1) * ts // (2 * ta)) for j in range(ta)]))
        dh = d // m["heads"]
        self.rope_audio = rope_tables(rope_positions["audio"], dh)
        self.rope_visual = rope_tables(rope_positions["visual"], dh)
        half = 128  # timestep embedding of width 256
        self.register_buffer("freqs", torch.exp(-math.log(10000) * torch.arange(half) / half)[None])  # [1, 128]

    def pixel_inputs(self, visual):
        """conditions.ts: each pixel's colour ('pixels') or its PATCH x PATCH neighbourhood ('patches', zero outside
        the frame; taps in dy-major, dx, channel order as Attune's concat of shifted slices)."""
        b, tv, p = visual.shape
        if self.visual_encoder == "pixels":
            return visual.view(b, tv, -1, 3)  # [B, Tv, S*S, 3]
        side, r = round(math.sqrt(p // 3)), PATCH // 2
        img = F.pad(visual.view(b, tv, side, side, 3), (0, 0, r, r, r, r))  # [B, Tv, S+2r, S+2r, 3]
        taps = [img[:, :, dy : dy + side, dx : dx + side] for dy in range(PATCH) for dx in range(PATCH)]
        return torch.cat(taps, -1).view(b, tv, side * side, PATCH * PATCH * 3)  # [B, Tv, S*S, 75]

    def forward(self, xt, t, visual, motion, text, text_valid, drop_video, drop_text):
        a = self.audio_proj(F.silu(self.audio_conv(xt)))  # [B, Ta, D]
        h = F.silu(self.visual_in(visual))  # [B, Tv, D]
        if self.pixel_features:
            c = F.silu(self.visual_pixels_color(self.pixel_inputs(visual)))  # [B, Tv, S*S, H]
            h = h + F.silu(self.visual_pixels_proj(torch.cat([c.amax(2), c.mean(2)], -1)))  # [B, Tv, D]
        v = or_empty(self.visual_out(h), self.visual_empty, drop_video)  # [B, Tv, D]
        s = self.sync_out(F.silu(self.sync_conv(F.silu(self.sync_in(motion)))))
        s = or_empty(s, self.sync_empty, drop_video)  # [B, Ts, D]
        w = or_empty(self.embedding(text), self.text_empty, drop_text)  # [B, L, D]
        dt = drop_text[:, None]
        valid = text_valid * (1 - dt) + dt  # [B, L]: every empty token is valid
        text_mean = (w * valid[..., None]).sum(1) / valid.sum(1, keepdim=True).clamp(min=1)  # [B, D]
        pooled = self.cond_visual(v.mean(1)) + self.cond_text(text_mean)  # [B, D]
        args = t[:, None] * self.freqs  # [B, 128]
        c = self.cond_time(torch.cat([args.cos(), args.sin()], -1)) + self.cond_pooled(pooled)  # [B, D]
        ca = c[:, None] + self.sync_to_cond(s[:, self.sync_index]) if self.sync_features else c  # [B, Ta, D]
        keys = torch.cat([torch.ones(a.shape[0], a.shape[1] + v.shape[1]), valid], 1)  # [B, Ta + Tv + L]
        mask = ((keys - 1) * -MASK_VALUE)[:, None, None]  # [B, 1, 1, Ta + Tv + L]
        for blk in self.joint:
            a, v, w = blk([a, v, w], [ca, c, c], [self.rope_audio, self.rope_visual, None], mask)
        for blk in self.audio:
            a = blk(a, ca, self.rope_audio)  # [B, Ta, D]
        shift, scale = self.final_mod(c)
        return self.final_proj(modulate(bare_norm(a), shift, scale))  # [B, Ta, M]


# torch parameter name -> Attune's ParamStore name (src/models/v2a/network.ts scopes), first match wins
ATTUNE_NAMES = [
    (r"audio_conv\.conv\.", "audio_in.conv."),
    (r"audio_proj\.", "audio_in.proj."),
    (r"visual_pixels_(color|proj)\.", r"visual.pixels.\1."),
    (r"(visual|sync)_(in|out|empty)", r"\1.\2"),
    (r"sync_conv\.conv\.", "sync.conv."),
    (r"embedding\.weight", "text.embedding"),
    (r"text_empty", "text.empty"),
    (r"cond_(visual|text|time|pooled)\.", r"cond.\1."),
    (r"sync_to_cond\.", "sync.to_cond."),
    (r"joint\.(\d+)\.mod\.(\d+)\.proj\.", r"joint\1.s\2.mod."),
    (r"joint\.(\d+)\.proj\.(\d+)\.", r"joint\1.attn.s\2."),
    (r"joint\.(\d+)\.out\.(\d+)\.", r"joint\1.attn.s\2.out."),
    (r"joint\.(\d+)\.mlp\.(\d+)\.", r"joint\1.s\2.mlp."),
    (r"audio\.(\d+)\.mod\.proj\.", r"audio\1.mod."),
    (r"audio\.(\d+)\.proj\.", r"audio\1.attn."),
    (r"audio\.(\d+)\.out\.", r"audio\1.attn.out."),
    (r"audio\.(\d+)\.mlp\.", r"audio\1.mlp."),
    (r"final_mod\.proj\.", "final.mod."),
    (r"final_proj\.", "final.proj."),
]


def attune_name(name):
    for pattern, repl in ATTUNE_NAMES:
        renamed, n = re.subn("^" + pattern, repl, name)
        if n:
            return renamed
    raise KeyError(f"no Attune name for {name}")


def load_attune(model, params):
    """Copies Attune's parameters {name: {shape, data}} in; Attune's linear weights are [in, out], torch's [out, in]."""
    linears = {f"{n}.weight" for n, mod in model.named_modules() if isinstance(mod, nn.Linear)}
    used = set()
    with torch.no_grad():
        for name, p in model.named_parameters():
            src = params[attune_name(name)]
            value = torch.tensor(src["data"], dtype=torch.float32).view(src["shape"])
            p.copy_(value.t() if name in linears else value)
            used.add(attune_name(name))
    missing = sorted(set(params) - used)
    if missing:
        raise KeyError(f"Attune parameters the twin lacks: {missing}")


def check(model, path):
    """Attune's weights and inputs in, the largest difference from Attune's velocity out."""
    with open(path) as f:
        ref = json.load(f)
    load_attune(model, ref["params"])
    feeds = {k: torch.tensor(v["data"]).view(v["shape"]) for k, v in ref["feeds"].items()}
    feeds["text"] = feeds["text"].long()
    with torch.inference_mode():
        velocity = model(**feeds).flatten()
    expected = torch.tensor(ref["velocity"])
    return {"max_abs_diff": (velocity - expected).abs().max().item(), "max_abs_ref": expected.abs().max().item()}


def sample(model, conds, steps, cfg, shape):
    """Euler over t = k / steps from Gaussian noise, CFG with the conditioned half and the unconditioned half of ONE
    batch of 2 per step (sampler.ts)."""
    x = torch.randn(shape)  # [1, Ta, M]
    dt = 1 / steps
    for k in range(steps):
        v = model(torch.cat([x, x]), torch.full((2,), k / steps), **conds)  # [2, Ta, M]
        x = x + dt * (cfg * v[:1] + (1 - cfg) * v[1:])
    return x


def blas_library():
    """The BLAS shared library this process loaded (Debian's python3-torch takes whatever libblas.so.3 the system's
    alternatives or LD_LIBRARY_PATH give it: the reference BLAS is ~50x slower than OpenBLAS)."""
    with open("/proc/self/maps") as maps:
        libs = {line.split()[-1] for line in maps if "blas" in line.rsplit("/", 1)[-1]}
    return sorted(libs)[0] if libs else "unknown"


def sgemm_gflops(n=512):
    a = torch.randn(n, n)
    torch.mm(a, a)
    t0 = time.perf_counter()
    torch.mm(a, a)
    return 2 * n**3 / ((time.perf_counter() - t0) * 1e9)


def main():
    s = json.loads(sys.argv[1])
    torch.set_num_threads(s["threads"])
    torch.manual_seed(0)
    m, seq = s["model"], s["seq"]
    model = V2aFlow(m, seq, s["rope"]).eval()
    if "check" in s:
        print(json.dumps({"params": sum(p.numel() for p in model.parameters()), **check(model, s["check"])}))
        return
    b = 2  # conditioned + unconditioned
    conds = {
        "visual": torch.rand(b, seq["visual"], m["pixels"]),
        "motion": torch.rand(b, seq["sync"], m["pixels"]) - 0.5,
        "text": torch.zeros(b, seq["text"], dtype=torch.long),
        "text_valid": torch.zeros(b, seq["text"]),
        "drop_video": torch.tensor([0.0, 1.0]),  # the item has video; the unconditioned half drops it
        "drop_text": torch.tensor([1.0, 1.0]),  # and no text (as the bench's Attune item)
    }
    shape = (1, seq["latent"], m["mels"])
    runs = {}
    with torch.inference_mode():
        sample(model, conds, s["warmup_steps"], s["cfg"], shape)
        for steps in s["steps"]:
            wall, cpu = [], []
            for _ in range(s["runs"]):
                c0, t0 = time.process_time(), time.perf_counter()
                x = sample(model, conds, steps, s["cfg"], shape)
                wall.append(time.perf_counter() - t0)
                cpu.append(time.process_time() - c0)
                if not torch.isfinite(x).all():
                    raise RuntimeError(f"non-finite latent after {steps} steps")
            runs[str(steps)] = {"wall": wall, "cpu": cpu}
    print(json.dumps({
        "torch_version": torch.__version__,
        "threads": torch.get_num_threads(),
        "params": sum(p.numel() for p in model.parameters()),
        "runs": runs,
        "blas": blas_library(),
        "sgemm_gflops": sgemm_gflops(),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    main()

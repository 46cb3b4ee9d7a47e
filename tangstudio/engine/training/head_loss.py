"""The output head and its cross-entropy in one pass over chunks of scored rows (issue 24 part 2).

The head and its loss are most of a training step on the CPU (docs/long_poems.md): the B×T×V logits,
their softmax and their backward. `head_loss` computes the same summed cross-entropy as
`F.cross_entropy(h @ W.T + b, targets, ignore_index=PAD, reduction="sum")`, but

- only for the rows whose target is scored: padding, titles and keywords are read by the network but
  never predicted, so their logits are never formed;
- a chunk of rows at a time, with the gradient (softmax − one-hot) taken in the same pass and turned
  into dL/dh, dL/dW and dL/db at once, so no B×T×V tensor is ever kept: memory is chunk × V
  whatever the batch's length;
- optionally with the three matmuls in bf16 (`bf16=True`: CPUs with avx512_bf16 or AMX, and GPUs),
  while the log-sum-exp, the loss and every accumulated gradient stay in fp32.

Backward only scales the stored gradients by the incoming one: the loss is linear in its output, so
nothing is recomputed. Without grad mode (evaluation) only the loss is computed.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from tangstudio.engine.corpus.vocab import PAD

DEFAULT_CHUNK = 4096  # rows per chunk of the matmuls: 4,096 × V 8,725 × 2 bytes = 71 MB in bf16
SOFTMAX_ROWS = 1024  # rows per fp32 softmax slice under bf16: 1,024 × 8,725 × 4 bytes = 36 MB


def _softmax_grad_(z: Tensor, bias: Tensor | None, targets: Tensor) -> Tensor:
    """Turn logits z [n, V] (fp32) into dL/dz = softmax − one-hot in place; return the summed nats.

    nats = log-sum-exp − z_t, the log-sum-exp read off the row's largest logit j as z_j − log p_j
    (p_j ≥ 1/V never underflows): one softmax pass and no log-sum-exp pass."""
    if bias is not None:
        z += bias
    top = z.argmax(dim=1, keepdim=True)
    z_top, z_target = z.gather(1, top), z.gather(1, targets[:, None])
    torch.ops.aten._softmax.out(z, 1, False, out=z)  # in place: no fresh n × V pages
    nats = (z_top - z.gather(1, top).log() - z_target).sum()
    z[torch.arange(z.shape[0], device=z.device), targets] -= 1.0
    return nats


class _HeadLoss(torch.autograd.Function):
    @staticmethod
    def forward(
        ctx: Any,
        h: Tensor,
        weight: Tensor,
        bias: Tensor | None,
        targets: Tensor,
        chunk: int,
        bf16: bool,
        grads: bool,
    ) -> Tensor:
        mm_dtype = torch.bfloat16 if bf16 else torch.float32
        w = weight.detach().to(mm_dtype)
        hd = h.detach()
        rows_n, vocab = hd.shape[0], weight.shape[0]
        grad_h = torch.empty_like(hd)
        grad_w = torch.zeros(weight.shape, dtype=torch.float32, device=weight.device)
        grad_b = torch.zeros(vocab, dtype=torch.float32, device=weight.device)
        nats = torch.zeros((), dtype=torch.float32, device=h.device)
        # One chunk × V buffer for every chunk (fresh ones would be fresh pages each time): the
        # logits, then in place their gradient. With bf16 matmuls the softmax runs in fp32 on
        # slices of SOFTMAX_ROWS rows, copied out and back, so fp32 costs a slice, not a chunk.
        size = min(chunk, rows_n)
        z_mm = torch.empty(size, vocab, dtype=mm_dtype, device=h.device)
        z_f32 = torch.empty(min(size, SOFTMAX_ROWS), vocab, device=h.device) if bf16 else None
        b = bias.detach().float() if bias is not None else None
        for start in range(0, rows_n, chunk):
            hc = hd[start : start + chunk].to(mm_dtype)
            tc = targets[start : start + chunk]
            n = hc.shape[0]
            zc = z_mm[:n]
            torch.mm(hc, w.T, out=zc)
            step = SOFTMAX_ROWS if z_f32 is not None else n
            for s0 in range(0, n, step):
                z = zc[s0 : s0 + step]
                if z_f32 is not None:
                    z = z_f32[: z.shape[0]]
                    z.copy_(zc[s0 : s0 + step])
                nats += _softmax_grad_(z, b, tc[s0 : s0 + step])
                if not grads:  # evaluation: the loss alone
                    continue
                grad_b += z.sum(0)
                if z_f32 is not None:
                    zc[s0 : s0 + step].copy_(z)
            if grads:
                grad_h[start : start + n] = (zc @ w).to(grad_h.dtype)
                grad_w += (zc.T @ hc).float()
        ctx.save_for_backward(grad_h, grad_w.to(weight.dtype), grad_b.to(weight.dtype))
        ctx.has_bias = bias is not None
        return nats

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> tuple[Tensor | None, ...]:
        grad_h, grad_w, grad_b = ctx.saved_tensors
        grad_bias = grad_b * grad_out if ctx.has_bias else None
        return grad_h * grad_out, grad_w * grad_out, grad_bias, None, None, None, None


def head_loss(
    features: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    targets: Tensor,
    chunk: int = DEFAULT_CHUNK,
    bf16: bool = False,
    scored: Tensor | None = None,
) -> tuple[Tensor, int]:
    """(summed nats over the scored targets, how many were scored) for features [..., H] and targets [...].

    `weight` [V, H] and `bias` [V] are the head's last linear map (models' `head_inputs`).
    `scored`, the flat indices of the targets that are not PAD, may come with the batch (`Batch.to`
    finds them on the CPU); otherwise they are found here, which on a GPU waits for it.
    """
    flat_t = targets.reshape(-1)
    keep = (flat_t != PAD).nonzero().squeeze(1) if scored is None else scored
    h = features.reshape(-1, features.shape[-1]).index_select(0, keep)
    t = flat_t.index_select(0, keep)
    if h.shape[0] == 0:
        return features.sum() * 0.0, 0
    # torch's Function.apply has no annotations (and untyped_calls_exclude cannot name a subclass's).
    grads = torch.is_grad_enabled() and (features.requires_grad or weight.requires_grad)
    nats: Tensor = _HeadLoss.apply(h, weight, bias, t, max(1, chunk), bf16, grads)  # type: ignore[no-untyped-call]
    return nats, int(keep.numel())

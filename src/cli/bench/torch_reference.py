#!/usr/bin/env python3
"""The PyTorch reference for `reward-lab bench --compare-torch`.

Runs the same workloads as src/core/benchWorkloads.ts, so the ratio comes from one run on one
machine: the paper's MLP (2048 -> 1024 -> 512 -> 1, ReLU, nn.Linear's default init), Adam with
PyTorch defaults, fp32 (TF32 off: the engine computes in fp32), rows gathered from a
device-resident table of 4,096 embeddings, no loss readback per step and one synchronisation per
timed run. BT: a batch of B pairs forwards 2B rows in one call, loss softplus(-(r_w - r_l)).
CLF: a batch of B responses, BCE with logits. Scoring: the forward pass over device-resident
8,192-row chunks, scores copied back to the host.

Prints one JSON object on stdout: {"torch": version, "device": name, "threads": n, "results": [...],
"e2e": {...} or null}, with results shaped like the engine's Measurement (host "pytorch") and e2e
like its EndToEnd (time to result, and the result's BoN-500 improvement and Spearman).
"""
import argparse
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

DIM, HIDDEN = 2048, (1024, 512)
SHARED_RESPONSES = 10  # responses per prompt in the shared-responses workloads


def mlp(device):
    layers, sizes = [], (DIM, *HIDDEN, 1)
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers).to(device)


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def summarize(backend, workload, unit, rates):
    s = sorted(rates)
    return {"host": "pytorch", "backend": backend, "workload": workload, "unit": unit,
            "median": s[len(s) // 2], "min": s[0], "max": s[-1], "runs": rates}


def shared_pairs(pairs, per_prompt, g):
    """per_prompt distinct pairs per prompt of SHARED_RESPONSES responses (benchWorkloads.ts)."""
    k = SHARED_RESPONSES
    candidates = torch.combinations(torch.arange(k), 2)
    prompts = -(-pairs // per_prompt)
    picks = torch.stack([torch.randperm(len(candidates), generator=g)[:per_prompt] for _ in range(prompts)])
    chosen = candidates[picks.reshape(-1)][:pairs]
    base = (torch.arange(pairs) // per_prompt) * k
    return prompts * k, base + chosen[:, 0], base + chosen[:, 1]


def time_training(device, objective, batch, steps, runs, pairs_per_prompt=None):
    g = torch.Generator(device="cpu").manual_seed(0)
    pairs = max(batch, 2048)
    if pairs_per_prompt is None:
        # Every pair has two responses of its own, as in src/core/benchWorkloads.ts: raw
        # throughput, with no response shared by two pairs.
        rows_total, winners, losers = 2 * pairs, 2 * torch.arange(pairs), 2 * torch.arange(pairs) + 1
    else:
        rows_total, winners, losers = shared_pairs(pairs, pairs_per_prompt, g)
    table = torch.randn(rows_total, DIM, generator=g).to(device)
    winners, losers = winners.to(device), losers.to(device)
    model = mlp(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8)

    def step():
        if pairs_per_prompt is None:
            rows = torch.randint(2 * pairs, (batch,), generator=g).to(device)
        else:  # a random subset of the 2P symmetrised rows, as the paper samples its batches
            rows = torch.randperm(2 * pairs, generator=g)[:batch].to(device)
        p = rows // 2
        if objective == "bt-mlp":
            ids = torch.cat([winners[p], losers[p]])
            r = model(table[ids]).squeeze(1)
            loss = F.softplus(-(r[:batch] - r[batch:])).mean()
        else:
            is_winner = (rows % 2) == 0
            ids = torch.where(is_winner, winners[p], losers[p])
            loss = F.binary_cross_entropy_with_logits(model(table[ids]).squeeze(1), is_winner.float())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss

    step()
    sync(device)
    per_step_pairs = batch if objective == "bt-mlp" else batch / 2
    rates = []
    for _ in range(runs):
        t0 = time.perf_counter()
        for _ in range(steps):
            loss = step()
        loss.item()  # one synchronisation per timed run
        rates.append(steps * per_step_pairs / (time.perf_counter() - t0))
    shared = "" if pairs_per_prompt is None else f", {pairs_per_prompt} pairs/prompt"
    return summarize(device.type, f"train {objective} batch {batch}{shared}", "pairs/s", rates)


@torch.no_grad()
def time_scoring(device, rows, chunk, runs):
    g = torch.Generator(device="cpu").manual_seed(1)
    x = torch.randn(chunk, DIM, generator=g).to(device)
    model = mlp(device)
    chunks = -(-rows // chunk)

    def one_pass():
        outs = [model(x).squeeze(1) for _ in range(chunks)]
        for o in outs:
            o.cpu()

    one_pass()
    sync(device)
    rates = []
    for _ in range(runs):
        t0 = time.perf_counter()
        one_pass()
        rates.append(chunks * chunk / (time.perf_counter() - t0))
    return summarize(device.type, "score (forward, device-resident rows)", "rows/s", rates)


def end_to_end(device, train_prompts=10_000, test_prompts=2_000, pool_rows=4096):
    """Time to result for the paper's default experiment, one seed, on synthetic data of the
    published size built like src/core/benchDataset.ts (rows drawn from a pool, copied on read):
    10k same-prompt pairs labelled by the engine's default annotator (beta = 10, s = 1), BT on the
    2P symmetrised rows, 80/20 row split, 30 epochs of ceil(rows/batch) random batches of 10,240,
    early stopping with patience 3, then 1,000,000 test rows scored in 8,192-row chunks uploaded
    from host memory. The quality of the result (the engine's headline metrics) is computed after
    the clock stops, so that "equal quality" can be checked beside the times."""
    t_start = time.perf_counter()
    g = torch.Generator().manual_seed(2)
    pool = torch.randn(pool_rows, DIM, generator=g)
    direction = torch.randn(DIM, generator=g) / DIM ** 0.5
    pool_reward = pool @ direction

    def pool_row(rows):
        return ((rows * 2654435761) % (1 << 32)) >> 20 & (pool_rows - 1)

    # One random pair per train prompt (10 responses each), labelled as the engine's default
    # annotator does (method.md §2): a wins with probability sigmoid(beta (r_a - r_b) / s).
    prompts = torch.arange(train_prompts)
    a = torch.randint(10, (train_prompts,), generator=g)
    b = (a + 1 + torch.randint(9, (train_prompts,), generator=g)) % 10
    ra, rb = prompts * 10 + a, prompts * 10 + b
    noise = 0.3 * torch.randn(train_prompts * 10, generator=g)
    reward = pool_reward[pool_row(torch.arange(train_prompts * 10))] + noise
    a_wins = torch.rand(train_prompts, generator=g) < torch.sigmoid(10.0 * (reward[ra] - reward[rb]))
    winners, losers = torch.where(a_wins, ra, rb), torch.where(a_wins, rb, ra)
    # Gather the annotated rows once (the engine does the same), on the device.
    ids = torch.cat([winners, losers])
    table = pool[pool_row(ids)].to(device)
    w_idx, l_idx = torch.arange(train_prompts, device=device), torch.arange(train_prompts, 2 * train_prompts, device=device)
    # 2P symmetrised rows: row 2p is (w, l) labelled 1, row 2p+1 is (l, w) labelled 0.
    rows = 2 * train_prompts
    perm = torch.randperm(rows, generator=g)
    n_val = -(-rows // 5)
    val, train = perm[:n_val].to(device), perm[n_val:].to(device)
    model = mlp(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
    batch, steps = 10_240, -(-(rows - n_val) // 10_240)

    def loss_of(r):
        p, first_wins = r // 2, (r % 2) == 0
        x1 = torch.where(first_wins, w_idx[p], l_idx[p])
        x2 = torch.where(first_wins, l_idx[p], w_idx[p])
        out = model(table[torch.cat([x1, x2])]).squeeze(1)
        return F.binary_cross_entropy_with_logits(out[: len(r)] - out[len(r):], first_wins.float())

    val_losses, epochs = [], 0
    for _ in range(30):
        epochs += 1
        for _ in range(steps):
            pick = train[torch.randperm(len(train), device=device)[:batch]]
            loss = loss_of(pick)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        with torch.no_grad():
            val_losses.append(loss_of(val).item())
        if len(val_losses) > 3 and all(val_losses[-1] > v for v in val_losses[-4:-1]):
            break
    sync(device)
    t_trained = time.perf_counter()
    test_rows, chunk = test_prompts * 500, 8192
    scores = torch.empty(test_rows)
    with torch.no_grad():
        for start in range(0, test_rows, chunk):
            r = torch.arange(start, min(test_rows, start + chunk))
            x = pool[pool_row(r)].to(device)  # the host-side copy stands in for the file read
            scores[start:start + len(r)] = model(x).squeeze(1).cpu()
    t_done = time.perf_counter()
    # Golden test rewards built like the engine's (benchDataset.ts): the pool row's reward plus noise.
    golden = (pool_reward[pool_row(torch.arange(test_rows))] + 0.3 * torch.randn(test_rows, generator=g)).view(test_prompts, 500)
    scores = scores.view(test_prompts, 500)
    picks = golden.gather(1, scores.argmax(1, keepdim=True)).squeeze(1)
    return {"host": "pytorch", "backend": device.type, "seconds": t_done - t_start, "trainSeconds": t_trained - t_start,
            "scoreSeconds": t_done - t_trained, "epochsRun": epochs, "stoppedEarly": epochs < 30, "testRows": test_rows,
            "improvement": (picks - golden.mean(1)).mean().item(), "spearman": mean_spearman(scores, golden)}


def average_ranks(x):
    """Ranks 1..L along each row, tied values sharing their average rank (method.md §5)."""
    rows, length = x.shape
    ordered, order = x.sort(dim=1)
    starts = torch.ones_like(ordered, dtype=torch.bool)
    starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    # A number per run of equal values, unique across rows.
    run = (starts.cumsum(1) - 1 + torch.arange(rows).unsqueeze(1) * length).flatten()
    ordinal = torch.arange(1, length + 1, dtype=torch.float64).repeat(rows)
    total = torch.zeros(rows * length, dtype=torch.float64).index_add_(0, run, ordinal)
    count = torch.zeros(rows * length, dtype=torch.float64).index_add_(0, run, torch.ones_like(ordinal))
    ranks = torch.empty(rows, length, dtype=torch.float64)
    ranks.scatter_(1, order, (total / count.clamp(min=1))[run].view(rows, length))
    return ranks


def mean_spearman(a, b):
    """Mean over rows of the rank correlation of a and b, rows where it is undefined left out."""
    ra, rb = average_ranks(a), average_ranks(b)
    ra, rb = ra - ra.mean(1, keepdim=True), rb - rb.mean(1, keepdim=True)
    rho = (ra * rb).sum(1) / (ra.norm(dim=1) * rb.norm(dim=1))
    return rho[~rho.isnan()].mean().item()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    ap.add_argument("--batches", default="512,10240")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--steps", type=int, default=0, help="steps per timed run (0: by device)")
    ap.add_argument("--score-rows", type=int, default=0, help="rows per timed scoring run (0: by device)")
    ap.add_argument("--threads", type=int, default=os.cpu_count(),
                    help="CPU threads (default: every core; Debian's torch would otherwise take 1 here)")
    ap.add_argument("--e2e", action="store_true", help="also time the paper's default experiment end to end")
    ap.add_argument("--pairs-per-prompt", type=int, default=None,
                    help="also time training on prompts of 10 responses with this many pairs each")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        sys.exit("torch reference: --device cuda asked for, but torch sees no CUDA device")
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    gpu = device.type == "cuda"
    steps = args.steps or (50 if gpu else 4)
    score_rows = args.score_rows or (1_048_576 if gpu else 65_536)
    results = []
    for objective in ("bt-mlp", "clf-mlp"):
        for batch in (int(b) for b in args.batches.split(",")):
            for shared in (None,) if args.pairs_per_prompt is None else (None, args.pairs_per_prompt):
                results.append(time_training(device, objective, batch, steps, args.runs, shared))
                print(json.dumps(results[-1]), file=sys.stderr)
    results.append(time_scoring(device, score_rows, 8192, args.runs))
    e2e = end_to_end(device) if args.e2e else None
    name = torch.cuda.get_device_name(device) if gpu else "cpu"
    print(json.dumps({"torch": torch.__version__, "device": name, "threads": torch.get_num_threads(), "results": results, "e2e": e2e}))


if __name__ == "__main__":
    main()

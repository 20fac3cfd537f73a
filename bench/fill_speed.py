"""Speed of the hole fillers: `python bench/fill_speed.py [--sizes 1000x1000 3000x4000] [--repeat 5]`.

Builds a synthetic forward-rendered view (textured background at depth 5, random foreground boxes at depth 1..2)
with ~5 % disocclusion holes beside the right edges of the boxes plus a border band, then times each method
(best of --repeat) at each size and prints a table with seconds per megapixel and the load average before and
after (the machine may be shared); ``learned`` is ``--fill learned``, ``background+hint`` and ``learned+hint`` get
the parallax hint ``(1, 0)`` as ``Scene.render`` passes it. Torch threads: torch's default unless --threads; on a
machine shared with other busy processes use --threads 1 (two threads then spin on each other's barriers).
"""

from __future__ import annotations

import argparse
import os
import time

import torch

from viewshift.render.fill import fill_holes


def make_view(height: int, width: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A view ``(1, 3, H, W)`` image, ``(1, 1, H, W)`` depth, ``(1, 1, H, W)`` holes covering ~5 % of the pixels."""
    gen = torch.Generator().manual_seed(seed)
    image = torch.rand(1, 3, height, width, generator=gen)
    depth = torch.full((1, 1, height, width), 5.0)
    holes = torch.zeros(1, 1, height, width, dtype=torch.bool)
    scale = width / 1000
    n_boxes = 22
    for _ in range(n_boxes):
        h = int(torch.randint(int(40 * scale), int(300 * scale), (1,), generator=gen))
        w = int(torch.randint(int(30 * scale), int(200 * scale), (1,), generator=gen))
        y = int(torch.randint(0, height - h, (1,), generator=gen))
        x = int(torch.randint(0, width - w - int(40 * scale), (1,), generator=gen))
        band = max(1, int(scale * float(torch.randint(3, 40, (1,), generator=gen))))
        depth[..., y : y + h, x : x + w] = 1.0 + float(torch.rand(1, generator=gen))
        holes[..., y : y + h, x : x + w] = False
        holes[..., y : y + h, x + w : x + w + band] = True
    holes[..., :, width - int(10 * scale) :] = True
    return image, depth, holes


def best_ms(fn, repeat: int) -> tuple[float, float]:
    """Best wall-clock and best process-CPU milliseconds of ``fn()`` over ``repeat`` runs (after one warm-up).

    CPU time (summed over threads) is the steadier number on a shared machine; wall time is what a user sees.
    """
    fn()
    wall = cpu = float("inf")
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall = min(wall, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
    return wall * 1000, cpu * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["1000x1000", "3000x4000"], help="HxW sizes")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--methods", nargs="+", default=["background", "background+hint", "realism", "telea"])
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    load = os.getloadavg()[0]
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"load average {load:.1f} on {os.cpu_count()} cores"
    )
    print(
        "| size | holes | method | wall ms (best) | CPU ms (best) | wall s/MP |\n| --- | --- | --- | --- | --- | --- |"
    )
    for size in args.sizes:
        height, width = (int(v) for v in size.split("x"))
        image, depth, holes = make_view(height, width)
        frac = holes.float().mean().item()
        for method in args.methods:
            if method.endswith("+hint"):
                fn = lambda i=image, d=depth, h=holes, m=method[:-5]: fill_holes(i, d, h, m, direction=(1, 0))  # noqa: E731
            elif method == "realism":
                from viewshift.render.realism import match_realism

                filled, _ = fill_holes(image, depth, holes, "background", direction=(1, 0))
                fn = lambda f=filled, h=holes: match_realism(f, h, seed=0)  # noqa: E731
            else:
                fn = lambda i=image, d=depth, h=holes, m=method: fill_holes(i, d, h, m)  # noqa: E731
            repeat = args.repeat if method != "telea" or height * width <= 2e6 else 1
            wall, cpu = best_ms(fn, repeat)
            per_mp = wall / 1000 / (height * width / 1e6)
            print(f"| {height}x{width} | {frac:.1%} | {method} | {wall:.1f} | {cpu:.1f} | {per_mp:.3f} |", flush=True)
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()

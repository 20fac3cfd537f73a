"""Standard deviation and mean of every convolution's output, fresh vs shipped ``small`` network, on the batch of
overfit.py (round-3 diagnosis).

    python experiments/depth/builtin_round3/activations.py
"""

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from overfit import one_batch  # noqa: E402

from viewshift.depth.network import DepthNet, depth_preset  # noqa: E402

SHIPPED = Path(__file__).resolve().parents[3] / "viewshift" / "depth" / "weights" / "builtin_depth.pt"


def conv_stats(net: torch.nn.Module, images: torch.Tensor) -> list[tuple[str, float, float]]:
    """``(name, std, mean)`` of every convolution's output for one forward pass."""
    stats = []

    def hook(name):
        return lambda _m, _i, o: stats.append((name, float(o.detach().std()), float(o.detach().mean())))

    convs = [(n, m) for n, m in net.named_modules() if isinstance(m, torch.nn.Conv2d)]
    handles = [m.register_forward_hook(hook(n)) for n, m in convs]
    with torch.no_grad():
        net(images)
    for h in handles:
        h.remove()
    return stats


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    images = one_batch()["target"]
    for name in ("fresh", "shipped"):
        net = DepthNet(depth_preset("small"))
        if name == "shipped":
            net.load_state_dict(torch.load(SHIPPED, weights_only=True)["state_dict"])
        print(name)
        for layer, std, mean in conv_stats(net, images):
            print(f"  {layer:28s} std {std:.4f} mean {mean:+.4f}")


if __name__ == "__main__":
    main()

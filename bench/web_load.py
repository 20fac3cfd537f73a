"""Bounded load test of `viewshift serve` on 127.0.0.1: concurrent renders of a small photo.

Starts the server in a subprocess on a free port of 127.0.0.1, uploads a small photo (the bundled example scaled to
``--side`` px) with the built-in depth, warms up, then sends ``--rounds`` rounds of ``--concurrency`` simultaneous
render requests (each a different move), plus a few bad requests (not an image, a malformed parameter, an unknown
id) in every round. It reports errors, latency percentiles and the server's resident memory (VmRSS sampled every
50 ms, and the peak VmHWM) after each round, then stops the server. Every loop is bounded in count and time; only
127.0.0.1 is contacted.

    python bench/web_load.py                      # 3 rounds × 50 concurrent renders of a 320 px photo
    python bench/web_load.py --concurrency 20 --rounds 2 --side 640

Prints a markdown table (docs/web.md quotes it).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

EXAMPLE = Path(__file__).resolve().parents[1] / "viewshift" / "examples" / "leuven.jpg"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_mib(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


class MemorySampler(threading.Thread):
    """Samples the server's VmRSS every 50 ms while running."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.samples, self.stop = pid, [], threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.samples.append(_rss_mib(self.pid))
            time.sleep(0.05)


def _photo_bytes(side: int) -> bytes:
    im = Image.open(EXAMPLE).convert("RGB")
    im.thumbnail((side, side))
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=90)
    return buf.getvalue()


async def _round(client: httpx.AsyncClient, ident: str, n: int, round_no: int) -> tuple[list[float], list[str]]:
    rng = np.random.default_rng(round_no)
    latencies: list[float] = []
    errors: list[str] = []

    async def render(i: int) -> None:
        params = {"right": f"{rng.uniform(-0.2, 0.2):.4f}", "yaw": f"{rng.uniform(-3, 3):.3f}"}
        t0 = time.perf_counter()
        try:
            r = await client.get(f"/api/uploads/{ident}/view.png", params=params)
            if r.status_code != 200 or r.content[:4] != b"\x89PNG":
                errors.append(f"render {i}: HTTP {r.status_code} {r.text[:80]}")
        except httpx.HTTPError as exc:
            errors.append(f"render {i}: {type(exc).__name__}")
        latencies.append(time.perf_counter() - t0)

    async def bad(kind: str) -> None:
        expected = {"not-image": 400, "bad-param": 422, "unknown-id": 404}[kind]
        if kind == "not-image":
            r = await client.post("/api/uploads", content=b"<svg/>")
        elif kind == "bad-param":
            r = await client.get(f"/api/uploads/{ident}/view.png", params={"right": "abc"})
        else:
            r = await client.get("/api/uploads/no-such-id-000/view.png")
        if r.status_code != expected:
            errors.append(f"{kind}: HTTP {r.status_code}, expected {expected}")

    await asyncio.gather(*(render(i) for i in range(n)), *(bad(k) for k in ("not-image", "bad-param", "unknown-id")))
    return latencies, errors


async def _main(args: argparse.Namespace) -> int:
    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "viewshift.cli", "serve", "--host", "127.0.0.1", "--port", str(port), "-q"]
    server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=args.timeout) as client:
            for _ in range(600):  # up to 60 s for the server to come up
                try:
                    if (await client.get("/api/config")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            else:
                print("the server did not start", file=sys.stderr)
                return 1
            reply = (await client.post("/api/uploads?name=load.jpg", content=_photo_bytes(args.side))).json()
            ident = reply["id"]
            t0 = time.perf_counter()
            assert (await client.get(f"/api/uploads/{ident}/view.png")).status_code == 200  # depth + kernels
            warm = time.perf_counter() - t0
            base_rss = _rss_mib(server.pid)
            print(
                f"server pid {server.pid}, photo {reply['width']}×{reply['height']}, first view (depth + warm-up) "
                f"{warm:.2f} s, RSS after warm-up {base_rss:.0f} MiB"
            )
            print()
            print("| round | renders | errors | p50 (s) | p95 (s) | max (s) | throughput (renders/s) | RSS max (MiB) |")
            print("|---|---|---|---|---|---|---|---|")
            all_lat, all_err = [], []
            for k in range(1, args.rounds + 1):
                sampler = MemorySampler(server.pid)
                sampler.start()
                t0 = time.perf_counter()
                lat, err = await _round(client, ident, args.concurrency, k)
                wall = time.perf_counter() - t0
                sampler.stop.set()
                sampler.join()
                all_lat += lat
                all_err += err
                q = np.quantile(lat, [0.5, 0.95])
                print(
                    f"| {k} | {len(lat)} | {len(err)} | {q[0]:.2f} | {q[1]:.2f} | {max(lat):.2f} | "
                    f"{len(lat) / wall:.1f} | {max(sampler.samples):.0f} |"
                )
            q = np.quantile(all_lat, [0.5, 0.95])
            print()
            print(
                f"all: {len(all_lat)} renders, {len(all_err)} errors, p50 {q[0]:.2f} s, p95 {q[1]:.2f} s, "
                f"mean {statistics.mean(all_lat):.2f} s; server peak RSS (VmHWM) {_rss_mib(server.pid, 'VmHWM'):.0f}"
                f" MiB, after {_rss_mib(server.pid):.0f} MiB; load average {os.getloadavg()[0]:.1f} on "
                f"{os.cpu_count()} cores"
            )
            for e in all_err[:10]:
                print("error:", e)
            alive = (await client.get("/api/config")).status_code == 200
            print(f"server still answering: {alive}")
            return 0 if not all_err and alive else 1
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--concurrency", type=int, default=50, help="simultaneous renders per round (default: 50)")
    p.add_argument("--rounds", type=int, default=3, help="rounds (default: 3)")
    p.add_argument("--side", type=int, default=320, help="longer side of the photo in px (default: 320)")
    p.add_argument("--timeout", type=float, default=120.0, help="per-request timeout in s (default: 120)")
    args = p.parse_args()
    if not (1 <= args.concurrency <= 200 and 1 <= args.rounds <= 10):
        p.error("keep the load bounded: concurrency 1..200, rounds 1..10")
    return asyncio.run(_main(args))


if __name__ == "__main__":
    sys.exit(main())

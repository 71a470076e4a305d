"""Tiny synthetic image tasks for tests that check models really learn."""

import torch


def shapes(n: int, size: int = 32, seed: int = 0) -> torch.Tensor:
    """n images in [-1, 1]: a two-colour gradient background with two coloured rectangles.

    The gradient matters for CycleGAN: instance norm erases an image's flat
    colour, so flat backgrounds would leave nothing to reconstruct.
    """
    g = torch.Generator().manual_seed(seed)
    images = torch.empty(n, 3, size, size)
    ramp = torch.linspace(0, 1, size)
    for i in range(n):
        c0, c1 = torch.rand(3, 1, 1, generator=g), torch.rand(3, 1, 1, generator=g)
        t = ramp.view(1, size, 1) if torch.rand(1, generator=g) < 0.5 else ramp.view(1, 1, size)
        img = (c0 * (1 - t) + c1 * t).expand(3, size, size).clone()
        for _ in range(2):
            x0, y0 = torch.randint(0, size - 8, (2,), generator=g).tolist()
            w, h = torch.randint(6, size // 2, (2,), generator=g).tolist()
            img[:, y0 : y0 + h, x0 : x0 + w] = torch.rand(3, 1, 1, generator=g)
        images[i] = img * 2 - 1
    return images


def inverted(images: torch.Tensor) -> torch.Tensor:
    return -images

import functools

import numpy as np
import pytest
import torch
from PIL import Image

from training_core.convert.translator import TranslateOptions, Translator
from training_core.data.transforms import to_tensor
from training_core.models.networks import define_G


def _photo(w, h, seed=0):
    """Smooth structure plus a coarse texture, like a photo (pixel noise would be unlike any photo)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w] / max(w, h)
    base = np.stack([np.sin(6 * xx + 1), np.cos(5 * yy), np.sin(4 * (xx + yy))], -1) * 0.4 + 0.5
    texture = np.kron(rng.normal(0, 0.06, (h // 8 + 1, w // 8 + 1, 3)), np.ones((8, 8, 1)))[:h, :w]
    return Image.fromarray((np.clip(base + texture, 0, 1) * 255).astype(np.uint8))


def _net(kind="resnet_2blocks", norm="instance", seed=0):
    torch.manual_seed(seed)
    net = define_G(3, 3, 8, kind, norm)
    if norm == "batch":  # non-trivial running statistics
        net.train()
        with torch.no_grad():
            for _ in range(3):
                net(torch.rand(2, 3, 64, 64) * 2 - 1)
    return net.eval()


@functools.lru_cache(maxsize=1)
def _trained_resnet():
    """A 6-block ResNet (CycleGAN's quick preset, 8 channels) taught a colour remap for 40 steps: its
    output follows the photo, unlike a fresh network's near-flat grey."""
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    net = define_G(3, 3, 8, "resnet_6blocks", "instance")
    source = to_tensor(_photo(512, 512, seed=3))[None]
    optimizer = torch.optim.Adam(net.parameters(), 2e-3)
    for _ in range(40):
        y, x = rng.integers(0, 512 - 128, 2)
        crop = source[:, :, y : y + 128, x : x + 128]
        target = torch.stack([crop[:, 2], crop[:, 0] * 0.5, -crop[:, 1]], 1)
        loss = (net(crop) - target).abs().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return net.eval()


def _grey_levels(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per-value difference in 8-bit grey levels ([-1, 1] spans 255 of them)."""
    return (a - b).abs() * 127.5


@pytest.mark.parametrize("size", [(1, 1), (7, 13), (33, 65), (300, 17), (64, 64)])
@pytest.mark.parametrize("kind,multiple", [("resnet_1blocks", 4), ("unet_32", 32)])
def test_any_size_comes_back_at_its_size(size, kind, multiple):
    t = Translator(_net(kind, "batch" if "unet" in kind else "instance"), multiple)
    out = t.translate(_photo(*size))
    assert out.size == size and out.mode == "RGB"


def test_untiled_translation_equals_the_network_on_a_padded_input():
    net = _net()
    x = to_tensor(_photo(40, 24))[None]
    got = Translator(net, 4, options=TranslateOptions(tile=512)).translate_tensor(x)
    with torch.no_grad():
        assert torch.allclose(got, net(x), atol=1e-5)  # 40x24 needs no padding for a ResNet


def test_tiles_blend_to_the_untiled_result_without_seams():
    # Running statistics: tiles differ from the whole only where their borders see less context.
    net, photo = _net(norm="batch"), _photo(300, 220)
    x = to_tensor(photo)[None]
    whole = Translator(net, 4, options=TranslateOptions(tile=1024, norm="running")).translate_tensor(x)
    tiled_translator = Translator(net, 4, options=TranslateOptions(tile=128, norm="running"))
    tiled = tiled_translator.translate_tensor(x)
    assert tiled.shape == whole.shape
    diff = (tiled - whole).abs()
    assert diff.mean() < 1e-3 and diff.max() < 0.02
    # No seam: the step between neighbouring columns is no larger at tile borders than anywhere.
    steps = (tiled[..., 1:] - tiled[..., :-1]).abs().mean(dim=(0, 1, 2))
    reference = (whole[..., 1:] - whole[..., :-1]).abs().mean(dim=(0, 1, 2))
    assert (steps - reference).abs().max() < 5e-3


def test_tiled_and_untiled_outputs_of_a_trained_model_agree_within_the_stated_tolerance():
    """The translator's promise, in the default mode (each image's own statistics), on a photo whose
    sides are off the network's stride grid: within 4 grey levels everywhere, 0.05 on average."""
    net = _trained_resnet()
    x = to_tensor(_photo(389, 293))[None]
    whole = Translator(net, 4, options=TranslateOptions(tile=4096)).translate_tensor(x)
    assert whole.std(dim=(2, 3)).min() > 0.04  # every channel follows the photo (a fresh network: under 0.01)
    tiled = Translator(net, 4, options=TranslateOptions(tile=128)).translate_tensor(x)
    levels = _grey_levels(tiled, whole)
    assert levels.max() < 4 and levels.mean() < 0.05, (levels.max(), levels.mean())
    # No soft band along an overlap: no column or row is off by more than half a level on average.
    assert levels.mean(dim=(0, 1, 2)).max() < 0.5 and levels.mean(dim=(0, 1, 3)).max() < 0.5


class _TileMean(torch.nn.Module):
    """A "network" whose output is its whole input's mean: overlapping tiles of a gradient disagree."""

    def forward(self, x):
        return x.mean(dim=(1, 2, 3), keepdim=True).expand(-1, 3, -1, -1).clone()


def _blend_of_tile_means(width=256):
    """Tiles of 128 px over a horizontal gradient, each translated to its own mean, blended."""
    ramp = torch.linspace(-1, 1, width)
    x = ramp.expand(1, 3, 128, width).clone()
    translator = Translator(_TileMean(), 4, options=TranslateOptions(tile=128))
    return translator.translate_tensor(x)[0, 0, 0], ramp


def test_overlapping_tiles_cross_fade_continuously_without_a_step():
    """Feathered, not averaged: across each overlap the value moves from one tile's to the next's in
    small steps. A flat average, or a tile whose start is not ramped, jumps half-way at once."""
    row, ramp = _blend_of_tile_means()
    tile_means = [ramp[start : start + 128].mean() for start in (0, 64, 128)]  # the tiles start 64 px apart
    disagreement = tile_means[1] - tile_means[0]
    assert disagreement > 0.4  # the tiles do disagree
    steps = (row[1:] - row[:-1]).abs()
    assert steps.max() < disagreement / 10, steps.max()
    assert torch.all(row[1:] >= row[:-1] - 1e-6)  # from each tile's value to the next's, monotonically
    assert row[-1] == pytest.approx(float(tile_means[-1]), abs=1e-5)


def test_the_image_edges_take_the_outer_tiles_at_full_weight():
    """The first tile's start and the last tile's end are not ramped down: there is no neighbour to
    blend with, so the edge pixels are the outer tiles' own values, neither faded nor black."""
    row, ramp = _blend_of_tile_means()
    assert row[:8].tolist() == pytest.approx([float(ramp[:128].mean())] * 8, abs=1e-5)
    assert row[-8:].tolist() == pytest.approx([float(ramp[-128:].mean())] * 8, abs=1e-5)


def _shared_and_own_errors(net, x):
    whole = Translator(net, 4, options=TranslateOptions(tile=4096)).translate_tensor(x)
    shared = Translator(net, 4, options=TranslateOptions(tile=192)).translate_tensor(x)
    own = Translator(net, 4, options=TranslateOptions(tile=192))
    own._capture_stats = lambda image: None  # each tile normalised by itself: the naive way
    own = own.translate_tensor(x)
    return (shared - whole).abs().mean(), (own - whole).abs().mean()


def test_instance_norm_tiles_share_statistics_so_colours_match_the_whole():
    """Measured: tiles with the whole image's statistics are far closer than tiles with their own."""
    shared_error, own_error = _shared_and_own_errors(_net(norm="instance"), to_tensor(_photo(384, 288))[None])
    assert shared_error < 0.6 * own_error, (shared_error, own_error)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["astronaut.png", "coffee.png", "chelsea.png"])
def test_shared_statistics_on_real_photos(name):
    from pathlib import Path

    path = Path(__file__).resolve().parents[3] / "shared" / "photos" / name
    if not path.exists():
        pytest.skip(f"{path} is not here (real photos live in ../shared/photos)")
    photo = Image.open(path).convert("RGB").resize((384, 288))
    shared_error, own_error = _shared_and_own_errors(_net(norm="instance"), to_tensor(photo)[None])
    assert shared_error < 0.75 * own_error, (shared_error, own_error)


def test_out_of_memory_retries_with_smaller_tiles(monkeypatch):
    net = _net()
    t = Translator(net, 4, options=TranslateOptions(tile=256))
    real_forward = t.net.forward
    calls = []

    def forward(x):
        calls.append(x.shape[-2] * x.shape[-1])
        if x.shape[-2] * x.shape[-1] > 130 * 130:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 1.00 GiB")
        return real_forward(x)

    monkeypatch.setattr(t.net, "forward", forward)
    out = t.translate(_photo(250, 200))
    assert out.size == (250, 200)
    assert t.tile == 128 and max(calls) > 130 * 130  # it tried big first, then went smaller


def test_out_of_memory_measuring_the_whole_images_statistics_measures_a_smaller_copy(monkeypatch):
    """Tiles were asked for, and the whole image's statistics pass does not fit: the statistics come
    from a copy of about one tile's size, and the tiles keep their size."""
    t = Translator(_net(), 4, options=TranslateOptions(tile=128))
    real_forward = t.net.forward
    areas = []

    def forward(x):
        areas.append(x.shape[-2] * x.shape[-1])
        if x.shape[-2] * x.shape[-1] > 200 * 200:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 1.00 GiB")
        return real_forward(x)

    monkeypatch.setattr(t.net, "forward", forward)
    assert t.translate(_photo(300, 220)).size == (300, 220)
    whole = areas.index(300 * 220)  # after a small probe of the memory each pixel takes
    assert areas[whole + 1] <= 132 * 132  # then a copy of one tile's area
    assert t.tile == 128 and max(areas[whole + 2 :]) == 128 * 128


def test_out_of_memory_at_the_smallest_tile_is_raised():
    t = Translator(_net(), 4, options=TranslateOptions(tile=128))
    t.net.forward = lambda x: (_ for _ in ()).throw(torch.OutOfMemoryError("out of memory"))
    with pytest.raises(torch.OutOfMemoryError):
        t.translate(_photo(40, 40))


def test_model_scale_works_at_the_training_resolution_and_returns_full_size():
    net = _net()
    seen = []
    t = Translator(net, 4, options=TranslateOptions(scale="model"), train_size=64)
    real = t.net.forward
    t.net.forward = lambda x: (seen.append(tuple(x.shape[-2:])), real(x))[1]
    assert t.translate(_photo(400, 200)).size == (400, 200)
    assert seen == [(64, 128)]  # the shorter side brought to the training size
    assert Translator(net, 4, options=TranslateOptions(scale=0.5)).translate(_photo(80, 40)).size == (80, 40)


def test_norm_modes_differ_for_batch_norm_and_image_mode_is_the_default():
    net, x = _net(norm="batch"), to_tensor(_photo(64, 64))[None]
    image = Translator(net, 4).translate_tensor(x)
    running = Translator(net, 4, options=TranslateOptions(norm="running")).translate_tensor(x)
    assert not torch.allclose(image, running, atol=1e-3)
    with torch.no_grad():
        assert torch.allclose(running, net.eval()(x), atol=1e-5)  # running = PyTorch's eval mode


def test_automatic_tile_size_is_a_usable_multiple():
    t = Translator(_net("unet_64", "batch"), 64)
    assert t.tile % 64 == 0 and 128 <= t.tile <= 4096
    assert "automatic" in t.describe()


def test_image_statistics_are_pytorchs_instance_norm_and_batch_norm_at_batch_size_one():
    """The fast inference norm gives what the training-time layers give, in fp32 and (within bf16) in bf16."""
    from torch import nn

    from training_core.models.inference_norm import StatNorm

    torch.manual_seed(0)
    x = torch.randn(1, 16, 24, 20) * 3 + 1
    batch = nn.BatchNorm2d(16)
    with torch.no_grad():
        batch.weight.uniform_(0.5, 2)
        batch.bias.uniform_(-1, 1)
    for layer in (nn.InstanceNorm2d(16), batch.train()):
        expected = layer(x).detach()
        got = StatNorm(layer, use_running=False)(x)
        torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            low = StatNorm(layer, use_running=False)(x.bfloat16().contiguous(memory_format=torch.channels_last))
        assert low.dtype == torch.bfloat16
        assert (low.float() - expected).abs().max() < 0.05  # bf16 keeps 8 bits of a value up to about 5
    torch.testing.assert_close(StatNorm(batch.eval(), use_running=True)(x), batch(x).detach(), atol=1e-5, rtol=1e-5)


def test_captured_statistics_are_held_for_later_inputs():
    from torch import nn

    from training_core.models.inference_norm import StatNorm

    norm = StatNorm(nn.InstanceNorm2d(4), use_running=False)
    whole = torch.randn(1, 4, 16, 16) * 2 + 3
    norm.capture = True
    captured = norm(whole)
    norm.capture = False
    torch.testing.assert_close(captured, nn.functional.instance_norm(whole), atol=1e-5, rtol=1e-5)
    part = whole[:, :, :8, :8]  # a tile: normalised with the whole image's statistics, not its own
    mean, var = whole.mean(dim=(2, 3), keepdim=True), whole.var(dim=(2, 3), unbiased=False, keepdim=True)
    torch.testing.assert_close(norm(part), (part - mean) / torch.sqrt(var + 1e-5), atol=1e-5, rtol=1e-5)


def test_reflection_padding_stays_in_bf16_under_autocast_and_copies_values_exactly():
    from training_core.models.networks import ReflectionPad2d

    x = torch.randn(1, 4, 8, 8).bfloat16()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        padded = ReflectionPad2d(2)(x)
    assert padded.dtype == torch.bfloat16  # PyTorch's own pad would hand back float32 here
    assert torch.equal(padded.float(), torch.nn.functional.pad(x.float(), (2, 2, 2, 2), mode="reflect"))


@pytest.mark.parametrize("norm", ["instance", "batch"])
def test_tiles_in_batches_give_what_tiles_one_at_a_time_give(norm):
    x = to_tensor(_photo(384, 288))[None]
    alone = Translator(_net(norm=norm), 4, options=TranslateOptions(tile=128))
    assert alone.tiles_per_run == 1  # the CPU's choice: it gains nothing from batches
    batched = Translator(_net(norm=norm), 4, options=TranslateOptions(tile=128))
    batched.tiles_per_run = 8  # as on a GPU; 20 tiles: batches of 8, 8 and 4
    sizes = []
    real = batched.net.forward
    batched.net.forward = lambda t: (sizes.append(t.shape[0]), real(t))[1]
    assert torch.allclose(batched.translate_tensor(x), alone.translate_tensor(x), atol=1e-5)
    assert sizes[2:] == [8, 8, 4]  # after the memory probe and the statistics pass


def test_out_of_memory_with_a_batch_of_tiles_retries_one_tile_at_a_time_first():
    t = Translator(_net(), 4, options=TranslateOptions(tile=128))
    t.tiles_per_run = 4
    real = t.net.forward

    def forward(x):
        if x.shape[0] > 1:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 1.00 GiB")
        return real(x)

    t.net.forward = forward
    assert t.translate(_photo(300, 200)).size == (300, 200)
    assert t.tiles_per_run == 1 and t.tile == 128  # the tiles kept their size

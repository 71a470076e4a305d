import os
import pickle

import pytest
import torch
from reference_nets import ResnetGenerator, UnetGenerator, get_norm_layer, randomize

from training_core.convert.model_file import ModelFileError, load_generators
from training_core.library_import import import_reference
from training_core.models.inference_norm import inference_copy
from training_core.models.reference_import import ReferenceImportError
from training_core.store import ModelLibrary


def _save(net, path, extra=None):
    state = net.state_dict()
    state.update(extra or {})
    torch.save(state, path)
    return path


def _old_instance_norm_entries(net):
    """Files from reference releases before PyTorch 0.4 hold running stats for instance-norm layers."""
    extra = {}
    for name, module in net.named_modules():
        if isinstance(module, torch.nn.InstanceNorm2d):
            extra[f"{name}.running_mean"] = torch.zeros(module.num_features)
            extra[f"{name}.running_var"] = torch.ones(module.num_features)
    assert extra
    return extra


@pytest.mark.parametrize(
    "make,netG,norm,old_file",
    [
        (lambda n: ResnetGenerator(3, 3, 8, get_norm_layer(n), n_blocks=9), "resnet_9blocks", "instance", False),
        (lambda n: ResnetGenerator(3, 3, 8, get_norm_layer(n), n_blocks=9), "resnet_9blocks", "instance", True),
        (
            lambda n: ResnetGenerator(3, 3, 8, get_norm_layer(n), use_dropout=True, n_blocks=6),
            "resnet_6blocks",
            "batch",
            False,
        ),
        (lambda n: UnetGenerator(3, 3, 8, 8, get_norm_layer(n), use_dropout=True), "unet_256", "batch", False),
        (lambda n: UnetGenerator(3, 3, 7, 8, get_norm_layer(n)), "unet_128", "instance", False),
        (lambda n: UnetGenerator(3, 3, 7, 8, get_norm_layer(n)), "unet_128", "instance", True),
    ],
)
def test_reference_generators_import_and_translate_identically(tmp_path, make, netG, norm, old_file):
    original = randomize(make(norm)).eval()
    path = _save(original, tmp_path / "latest_net_G.pth", _old_instance_norm_entries(original) if old_file else None)
    entry = import_reference([path], "imported", ModelLibrary())
    assert entry.record.model["netG"] == netG and entry.record.model["norm"] == norm
    assert entry.record.model["ngf"] == 8 and entry.state == "finished"
    config, generators = load_generators(entry.weights_path)
    size = 256 if netG == "unet_256" else 128
    x = torch.rand(1, 3, size, size) * 2 - 1
    with torch.no_grad():
        expected = original(x)
        # Eval mode in both: the reference's own way of comparing (running statistics).
        got = inference_copy(generators["AtoB"], "running")(x)
    assert torch.allclose(got, expected, atol=1e-5)


def test_cyclegan_pair_imports_both_directions(tmp_path):
    g_a = randomize(ResnetGenerator(3, 3, 8, get_norm_layer("instance"), n_blocks=2), seed=1)
    g_b = randomize(ResnetGenerator(3, 3, 8, get_norm_layer("instance"), n_blocks=2), seed=2)
    paths = [_save(g_a, tmp_path / "latest_net_G_A.pth"), _save(g_b, tmp_path / "latest_net_G_B.pth")]
    entry = import_reference(paths, "horse2zebra", ModelLibrary())
    assert entry.record.family == "cyclegan"
    _, generators = load_generators(entry.weights_path)
    x = torch.rand(1, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        assert torch.allclose(generators["BtoA"](x), g_b(x), atol=1e-5)


def test_data_parallel_prefix_is_accepted(tmp_path):
    net = randomize(ResnetGenerator(3, 3, 4, get_norm_layer("instance"), n_blocks=1))
    torch.save({f"module.{k}": v for k, v in net.state_dict().items()}, tmp_path / "g.pth")
    assert import_reference([tmp_path / "g.pth"], "dp", ModelLibrary()).record.model["netG"] == "resnet_1blocks"


class _Booby:
    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("protocol", [2, pickle.HIGHEST_PROTOCOL])
def test_a_pickle_that_runs_code_is_refused_and_nothing_runs(tmp_path, protocol):
    marker = tmp_path / "pwned"
    trap = _Booby()
    trap.marker = marker
    with open(tmp_path / "latest_net_G.pth", "wb") as f:
        pickle.dump({"model.1.weight": trap}, f, protocol=protocol)
    with pytest.raises(ReferenceImportError, match="refused: it contains objects other than tensors"):
        import_reference([tmp_path / "latest_net_G.pth"], "trap", ModelLibrary())
    assert not marker.exists()
    assert ModelLibrary().list() == []


@pytest.mark.parametrize(
    "content,message",
    [
        (b"not a checkpoint at all", "is not a PyTorch checkpoint"),
        ({"weight": torch.zeros(3)}, "neither a ResNet nor a U-Net"),
        ({}, "does not hold a generator"),
    ],
)
def test_files_that_are_not_generators_are_refused(tmp_path, content, message):
    path = tmp_path / "x.pth"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        torch.save(content, path)
    with pytest.raises(ReferenceImportError, match=message):
        import_reference([path], "x", ModelLibrary())


def test_a_discriminator_is_not_mistaken_for_a_generator(tmp_path):
    from training_core.models.networks import define_D

    path = _save(define_D(6, 8, "basic"), tmp_path / "latest_net_D.pth")
    with pytest.raises(ReferenceImportError, match="discriminator"):
        import_reference([path], "d", ModelLibrary())


def test_shapes_that_do_not_fit_are_refused(tmp_path):
    net = randomize(ResnetGenerator(3, 3, 8, get_norm_layer("instance"), n_blocks=2))
    state = net.state_dict()
    state["model.10.conv_block.1.weight"] = torch.zeros(5, 5, 3, 3)  # a tampered layer
    torch.save(state, tmp_path / "bad.pth")
    with pytest.raises(ReferenceImportError, match="do not fit"):  # found before the network is built
        import_reference([tmp_path / "bad.pth"], "bad", ModelLibrary())


def test_weights_claiming_a_huge_or_inconsistent_network_are_refused_before_it_is_built(tmp_path):
    """Checked on the meta device first: a crafted file cannot make the app allocate without bound."""
    from training_core.models.reference_import import ReferenceImportError, load_reference_generator

    state = randomize(ResnetGenerator(3, 3, 8, get_norm_layer("instance"), n_blocks=2)).state_dict()
    block = {k[len("model.10.") :]: v for k, v in state.items() if k.startswith("model.10.")}
    many = dict(state)
    for i in range(100, 200):  # 100 more residual blocks of the same tiny size
        many.update({f"model.{i}.{k}": v for k, v in block.items()})
    torch.save(many, tmp_path / "many.pth")
    with pytest.raises(ReferenceImportError, match="will not build"):
        load_reference_generator(tmp_path / "many.pth")
    padded = dict(state, **{"model.1.weight": torch.zeros(8, 3, 7, 7), "model.1.extra": torch.zeros(10)})
    torch.save(padded, tmp_path / "padded.pth")
    with pytest.raises(ReferenceImportError, match="do not fit: that network has"):
        load_reference_generator(tmp_path / "padded.pth")


def _fifo(path):
    os.mkfifo(path)


def _sparse(size):
    def make(path):
        with open(path, "wb") as f:  # nothing on the disk
            f.truncate(size)

    return make


@pytest.mark.skipif(os.name != "posix", reason="POSIX pipes and links")
@pytest.mark.parametrize(
    "make,message",
    [
        (_fifo, "x.pth is a named pipe, not a weights file"),
        (lambda p: p.mkdir(), "x.pth is a folder, not a weights file"),
        (lambda p: p.symlink_to("/dev/zero"), "x.pth is a character device, not a weights file"),
        (lambda p: p.symlink_to(p.parent / "gone.pth"), "x.pth cannot be read: it is a link to"),
        (lambda p: None, "x.pth cannot be read: no such file"),
        (_sparse(9 * 10**9), "x.pth is 9.0 GB, larger than any generator"),
    ],
)
def test_an_import_of_a_file_that_is_no_weights_file_says_so_at_once(tmp_path, make, message):
    """`mkfifo x.pth; gan-studio-models import x.pth --name x` once waited forever: a real process, a deadline."""
    import subprocess
    import sys

    make(tmp_path / "x.pth")
    code = "import sys; from training_core.cli_models import models_main; sys.exit(models_main(sys.argv[1:]))"
    env = {**os.environ, "GAN_STUDIO_HOME": str(tmp_path / "home")}
    done = subprocess.run(
        [sys.executable, "-c", code, "import", str(tmp_path / "x.pth"), "--name", "x"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "home" / "models").exists() or not list((tmp_path / "home" / "models").iterdir())


def _weights_as(kind):
    def make(path):
        path.unlink()
        if kind == "folder":
            path.mkdir()
        elif kind == "pipe":
            os.mkfifo(path)
        elif kind == "dangling link":
            path.symlink_to(path.parent / "moved-away.safetensors")
        elif kind == "device":
            path.symlink_to("/dev/zero")

    return make


@pytest.mark.skipif(os.name != "posix", reason="POSIX pipes and links")
@pytest.mark.parametrize(
    "kind,said",
    [
        ("folder", "is a folder, not a weights file"),
        ("pipe", "is a named pipe, not a weights file"),
        ("dangling link", "is a link to"),
        ("device", "is a character device, not a weights file"),
    ],
)
def test_a_weights_file_that_is_no_file_is_told_as_what_it_is(tmp_path, kind, said):
    """Each was reported as "no trained weights yet"; a pipe would have blocked the conversion."""
    path = tmp_path / "g.pth"
    _save(ResnetGenerator(3, 3, 8, get_norm_layer("instance"), n_blocks=2), path)
    entry = import_reference([path], "m", ModelLibrary())
    _weights_as(kind)(entry.weights_path)
    with pytest.raises(ModelFileError, match=said) as caught:
        load_generators(entry.weights_path)
    assert "no trained weights" not in str(caught.value)
    assert said in ModelLibrary().get("m").weights_problem
    entry.weights_path.unlink() if kind != "folder" else entry.weights_path.rmdir()
    assert "no trained weights yet" in ModelLibrary().get("m").weights_problem
    with pytest.raises(ModelFileError, match="no trained weights yet"):
        load_generators(entry.weights_path)


def test_a_weights_file_linked_from_elsewhere_still_loads(tmp_path):
    path = tmp_path / "g.pth"
    _save(ResnetGenerator(3, 3, 8, get_norm_layer("instance"), n_blocks=2), path)
    entry = import_reference([path], "m", ModelLibrary())
    moved = tmp_path / "elsewhere.safetensors"
    os.replace(entry.weights_path, moved)
    entry.weights_path.symlink_to(moved)
    assert ModelLibrary().get("m").weights_problem == ""
    assert set(load_generators(entry.weights_path)[1]) == {"AtoB"}


@pytest.mark.parametrize(
    "config,said",
    [
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"family": "pix2pix", "netG": {"a": [1]}}', "netG must be str"),
    ],
)
def test_tampered_nested_metadata_in_a_generator_file_is_refused_plainly(tmp_path, config, said):
    from safetensors.torch import save_file

    path = tmp_path / "generator.safetensors"
    save_file({"AtoB.w": torch.zeros(1)}, str(path), {"format": "gan-studio-generator", "config": config})
    with pytest.raises(ModelFileError, match=said):
        load_generators(path)

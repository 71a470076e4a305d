"""One process of a two-process DDP run for test_distributed.py (torch.multiprocessing spawns it)."""

import os

import torch


def train(
    rank: int, world: int, port: int, home: str, data: str, name: str, overrides: dict, out: str, resume: bool = False
) -> None:
    os.environ.update(
        RANK=str(rank),
        WORLD_SIZE=str(world),
        LOCAL_RANK=str(rank),
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
        GAN_STUDIO_HOME=home,
    )
    torch.set_num_threads(1)
    from training_core.data.discover import discover
    from training_core.store import ModelLibrary
    from training_core.train.trainer import Trainer

    library = ModelLibrary()
    if resume:
        trainer = Trainer.reopen(name, library=library, iterations=overrides["iterations"], device="cpu")
    else:
        trainer = Trainer.create(discover(data), name, overrides=overrides, library=library, device="cpu")
    result = trainer.run()
    weights = {n: trainer.model.plain(n).state_dict() for n in trainer.model.nets}
    torch.save({"weights": weights, "iteration": result.iteration}, os.path.join(out, f"{name}-rank{rank}.pt"))

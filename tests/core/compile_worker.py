"""The compiled half of test_compile.py, in a process of its own: inductor's compiled kernels, worker
threads and caches then never live in the test process that goes on to run the Qt tests."""

import logging

import torch


def train_compiled(index: int, data: str, models: str, settings: dict, out: str) -> None:
    del index  # torch.multiprocessing.spawn's process number: there is one
    from training_core.data.discover import discover
    from training_core.store import ModelLibrary
    from training_core.train.events import Finished
    from training_core.train.trainer import Trainer

    messages: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: messages.append(record.getMessage())
    logger = logging.getLogger("training_core")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    library = ModelLibrary(models)
    compiled = Trainer.create(
        discover(data), "compiled", overrides=dict(settings, compile=True), library=library, device="cpu"
    )
    finished = isinstance(compiled.run(), Finished)
    resumed = Trainer.reopen("compiled", library=library, iterations=settings["iterations"] + 1, device="cpu")
    resumed_finished = isinstance(resumed.run(), Finished)
    torch.save(
        {
            "finished": finished,
            "compiled": compiled.model.compiled,
            "nets": compiled.model.state_dict()["nets"],
            "messages": messages,
            "resumed_finished": resumed_finished,
            "resumed_iterations": library.get("compiled").record.iterations,
        },
        out,
    )

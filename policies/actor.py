"""The actor network: its shape in one place, so training builds it and run time rebuilds it from a
checkpoint without importing the trainer."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import torch

from policies.checkpoint import CheckpointError, check_contract, load_checkpoint
from policies.contract import PolicyContract

CONTRACT_FILE = "bessemer_contract.json"
"""Name of the contract inside a TorchScript export (and the ONNX metadata key)."""
DEFAULT_HIDDEN = (256, 128, 128)

if TYPE_CHECKING:
    from rsl_rl.models import MLPModel


def mlp_config(hidden: tuple[int, ...], init_std: float | None = None) -> dict:
    """rsl_rl's model configuration; `init_std` makes it a stochastic (actor) model."""
    cfg = {"class_name": "MLPModel", "hidden_dims": list(hidden), "activation": "elu", "obs_normalization": True}
    if init_std is not None:
        cfg["distribution_cfg"] = {"class_name": "GaussianDistribution", "init_std": init_std}
    return cfg


def actor_from_checkpoint(path: Path, contract: PolicyContract) -> MLPModel:
    """The trained actor of a checkpoint, after checking it was trained under `contract`.

    rsl_rl is imported here, not above: it pulls in tensordict and torch's compiler (2 s), which a
    process running an exported policy never needs."""
    data = load_checkpoint(path)
    check_contract(path, data["contract"], contract)
    from rsl_rl.models import MLPModel
    from tensordict import TensorDict

    train_config = data.get("train_config", {})
    cfg = mlp_config(tuple(train_config.get("actor_hidden", DEFAULT_HIDDEN)), train_config.get("init_std", 1.0))
    cfg.pop("class_name")
    obs = TensorDict({"policy": torch.zeros(1, contract.obs_size)}, batch_size=[1])
    actor = MLPModel(obs, {"actor": ["policy"]}, "actor", contract.action_size, **cfg)
    try:
        actor.load_state_dict(data["algorithm"]["actor_state_dict"])
    except (KeyError, RuntimeError) as e:
        raise CheckpointError(f"{path} holds no actor this Bessemer can build ({str(e).splitlines()[0]})") from None
    return actor.eval()

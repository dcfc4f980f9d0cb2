"""Export a trained actor to TorchScript and ONNX, each file carrying its policy contract.

The deployable part of a checkpoint is the actor with its observation normalizer (the critic and
optimizer stay behind). The contract (joint order, default pose, scales, gains, dt, observation
layout) and its hash travel inside the file: TorchScript as an extra file, ONNX as metadata, so a
runtime checks a policy against its robot without any side file.
"""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path

import torch
from rsl_rl.models import MLPModel

from policies.actor import CONTRACT_FILE, actor_from_checkpoint
from policies.checkpoint import load_checkpoint
from policies.contract import PolicyContract


def contract_metadata(contract: PolicyContract, source: str) -> str:
    return json.dumps({"contract": contract.as_dict(), "contract_hash": contract.hash(), "source": source})


def export_policy(checkpoint: Path, out: Path, contract: PolicyContract | None = None) -> tuple[Path, Path]:
    """Write `out`.pt (TorchScript) and `out`.onnx from a training checkpoint, under the robot's
    contract with the checkpoint's own choices (its gait); return both paths.
    Both are written beside their final names first and moved there only once both exist, so a
    failure leaves neither (and any earlier pair untouched)."""
    contract = (contract or PolicyContract()).with_choices_of(load_checkpoint(checkpoint)["contract"])
    actor = actor_from_checkpoint(checkpoint, contract)
    meta = contract_metadata(contract, checkpoint.name)
    out.parent.mkdir(parents=True, exist_ok=True)
    script = torch.jit.script(actor.as_jit())
    final = (out.with_suffix(".pt"), out.with_suffix(".onnx"))
    partial = tuple(p.with_name(f".{p.name}.partial") for p in final)
    try:
        torch.jit.save(script, str(partial[0]), _extra_files={CONTRACT_FILE: meta})
        _export_onnx(actor, partial[1], meta)
        for tmp, path in zip(partial, final):
            tmp.replace(path)
    finally:
        for tmp in partial:
            tmp.unlink(missing_ok=True)
    return final


def _export_onnx(actor: MLPModel, path: Path, meta: str) -> None:
    import onnx

    module = actor.as_onnx(verbose=False).eval()
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        program = torch.onnx.export(module, module.get_dummy_inputs(), input_names=module.input_names,
                                    output_names=module.output_names, opset_version=18,
                                    dynamic_shapes=({0: torch.export.Dim("batch")},), dynamo=True, verbose=False)
    model = program.model_proto
    entry = model.metadata_props.add()
    entry.key, entry.value = CONTRACT_FILE, meta
    onnx.save(model, str(path))

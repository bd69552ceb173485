"""What every trainer of the kit does after training (SFT, the reward model, RL): save the model with its
loss curve and run record, then wait for every process and hand the memory back."""
from __future__ import annotations

from pathlib import Path

from ..run_folder import write_json


def save_trained(trainer, out_dir, device: str | None = None) -> None:
    """Save a trained TRL trainer's model (every process takes part), and from process 0 its tokenizer,
    its loss curve (`loss_curve.json`) and `run_info.json`, into `out_dir`."""
    from ..device import get_policy

    out_dir = Path(out_dir)
    trainer.save_model(str(out_dir))
    if trainer.is_world_process_zero():
        trainer.processing_class.save_pretrained(str(out_dir))
        losses = [{"step": h["step"], "loss": h["loss"]} for h in trainer.state.log_history if "loss" in h]
        write_json(out_dir / "loss_curve.json", losses, indent=None)
        write_run_info(out_dir, trainer, get_policy(device))


def write_run_info(out_dir, trainer, policy) -> None:
    """`run_info.json` beside a trained model: the device policy and the world size the trainer saw."""
    info = {"device": policy.describe(), "kind": policy.kind, "world_size": trainer.args.world_size,
            "trainer_flags": {k: getattr(trainer.args, k) for k in ("use_cpu", "bf16", "fp16")},
            "global_steps": trainer.state.global_step}
    write_json(Path(out_dir) / "run_info.json", info)


def finish_training() -> None:
    """After a trainer's last write (and `del trainer`): wait for every process, so none reads a
    half-saved model, then collect the trainer and hand its GPU memory back."""
    from ..distributed import barrier
    from ..models import free_memory

    barrier()
    free_memory()

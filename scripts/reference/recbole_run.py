#!/usr/bin/env python3
"""Runs RecBole 1.2.1 on MovieLens-100K with its default SASRec / BERT4Rec settings (leave-one-out by
time, full ranking), for the same-session speed comparison in scripts/bench-recbole.sh.
Usage: recbole_run.py MODEL DATA_DIR [EPOCHS]   (DATA_DIR holds ml-100k/ml-100k.inter)."""
import json, sys, time
import torch
from recbole.quick_start import run_recbole

_load = torch.load  # RecBole 1.2.1 reloads its own checkpoint, which PyTorch >= 2.6 refuses by default
torch.load = lambda *a, **k: _load(*a, **{**k, "weights_only": False})

model, data_dir = sys.argv[1], sys.argv[2]
epochs = int(sys.argv[3]) if len(sys.argv) > 3 else 5
config = {
    "data_path": data_dir, "epochs": epochs, "seed": 1, "show_progress": False, "stopping_step": 10,
    "load_col": {"inter": ["user_id", "item_id", "timestamp"]},
    "eval_args": {"split": {"LS": "valid_and_test"}, "order": "TO", "mode": "full", "group_by": "user"},
    "metrics": ["Hit", "NDCG", "MRR"], "topk": [10], "valid_metric": "NDCG@10",
    "train_neg_sample_args": None, "loss_type": "CE", "worker": 0, "checkpoint_dir": "/tmp/recbole-saved",
}
start = time.time()
result = run_recbole(model=model, dataset="ml-100k", config_dict=config)
print(json.dumps({"model": model, "epochs": epochs, "wall_s": round(time.time() - start, 1),
                  "best_valid": {k: float(v) for k, v in result["best_valid_result"].items()},
                  "test": {k: float(v) for k, v in result["test_result"].items()}}))

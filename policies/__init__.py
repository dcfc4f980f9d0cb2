"""Policy contract, training and runtime inference: arrives with the training issue."""

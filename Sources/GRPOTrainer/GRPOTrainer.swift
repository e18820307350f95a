// GRPOTrainer module.

"""Fine-tuning: configs, data, LoRA/QLoRA training and merge/GGUF export."""

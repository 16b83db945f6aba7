//! (model inference; being written)

//! Augmentations (being written)

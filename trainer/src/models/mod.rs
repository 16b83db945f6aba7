//! Models (being written)

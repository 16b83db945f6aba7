//! (front end; being written)

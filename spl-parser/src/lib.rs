//! SPL parser.

//! The session time zone (spec §18.1): parsing `UTC`, `+08:00`, IANA names, and converting
//! between instants and wall-clock time.

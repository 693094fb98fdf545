//! JSONPath as used by SPL (spec §6.6): `$`, `.key`, `[n]`, `["quoted key"]`, `.0`.

//! Which library functions will not run on the hosted SLS service: the functions this
//! implementation adds (extensions), and the SLS SQL functions whose public documentation marks
//! them as not supported in SPL (the "Supported in SPL: ×" column of the SQL function pages).
//!
//! `spl check --profile logtail|consumer|transform` (and compiling under those profiles) warns
//! with W0004 for each call of one of them; the CLI profile accepts them silently. Functions
//! whose SPL support the public docs leave open are not listed.

/// Why a function is not portable to the hosted service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Not an SLS function: an extension of this implementation.
    Extension,
    /// An SLS SQL function that the public docs mark as unavailable in SPL.
    NotInSpl,
}

impl Reason {
    /// The reason as shown in the warning.
    pub fn text(self) -> &'static str {
        match self {
            Reason::Extension => "an extension of this implementation (spl extension)",
            Reason::NotInSpl => "not available in SPL per the SLS documentation",
        }
    }
}

/// Function name → why it is not portable. Sorted by name.
const TABLE: &[(&str, Reason)] = &[
    ("concat_ws", Reason::Extension),
    ("cosine_similarity", Reason::NotInSpl),
    ("hamming_distance", Reason::Extension),
    ("ip_prefix", Reason::NotInSpl),
    ("ip_subnet_max", Reason::NotInSpl),
    ("ip_subnet_min", Reason::NotInSpl),
    ("ip_subnet_range", Reason::NotInSpl),
    ("ip_to_city", Reason::NotInSpl),
    ("ip_to_city_geo", Reason::NotInSpl),
    ("ip_to_country", Reason::NotInSpl),
    ("ip_to_country_code", Reason::NotInSpl),
    ("ip_to_domain", Reason::NotInSpl),
    ("ip_to_geo", Reason::NotInSpl),
    ("ip_to_provider", Reason::NotInSpl),
    ("ip_to_province", Reason::NotInSpl),
    ("is_prefix_subnet_of", Reason::NotInSpl),
    ("is_subnet_of", Reason::NotInSpl),
    ("levenshtein_distance", Reason::NotInSpl),
    ("normalize", Reason::NotInSpl),
    ("position", Reason::NotInSpl),
    ("regexp_count", Reason::Extension),
    ("starts_with", Reason::Extension),
];

/// Why the function `name` (lower case, a library name or alias) will not run on the hosted
/// service; `None` when nothing says so.
pub fn reason(name: &str) -> Option<Reason> {
    let canonical = super::lookup(name).map_or(name, |f| f.name);
    TABLE
        .binary_search_by(|(n, _)| n.cmp(&canonical))
        .ok()
        .map(|i| TABLE[i].1)
}

/// Every listed function with its reason.
pub fn all() -> &'static [(&'static str, Reason)] {
    TABLE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_and_names_real_functions() {
        assert!(
            TABLE.windows(2).all(|w| w[0].0 < w[1].0),
            "keep TABLE sorted"
        );
        for (name, _) in TABLE {
            let f = super::super::lookup(name).unwrap_or_else(|| panic!("{name} is no function"));
            assert_eq!(f.name, *name, "list {name} under its library name");
        }
    }

    #[test]
    fn functions_documented_as_extensions_are_listed() {
        // A summary that calls its function an extension must be backed by the table.
        for f in super::super::all() {
            let says = f.summary.contains("Extension") || f.summary.contains("unsupported in SLS");
            if says {
                assert!(
                    reason(f.name).is_some(),
                    "{} says it is an extension",
                    f.name
                );
            }
        }
    }

    #[test]
    fn lookups() {
        assert_eq!(reason("ip_to_country"), Some(Reason::NotInSpl));
        assert_eq!(reason("starts_with"), Some(Reason::Extension));
        assert_eq!(reason("strpos"), None);
        assert_eq!(reason("no_such_function"), None);
    }
}

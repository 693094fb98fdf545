//! Date/time format strings: MySQL-style (`%Y-%m-%d %H:%i:%s`) and Joda (`yyyy-MM-dd`) patterns.

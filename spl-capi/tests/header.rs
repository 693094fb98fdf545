//! The checked-in C header `include/spl.h` is what cbindgen generates from the sources now
//! (`SPL_UPDATE_HEADER=1` rewrites it), and it compiles with the system C compiler.
use std::path::Path;
use std::process::Command;

fn generate() -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(dir.join("src/status.rs"))
        .with_src(dir.join("src/abi.rs"))
        .generate()
        .expect("cbindgen generates the header");
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).expect("UTF-8 header")
}

#[test]
fn header_is_up_to_date() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("include/spl.h");
    let fresh = generate();
    if std::env::var_os("SPL_UPDATE_HEADER").is_some() {
        std::fs::write(&path, &fresh).expect("write include/spl.h");
        return;
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == fresh,
        "include/spl.h is stale: run SPL_UPDATE_HEADER=1 cargo test -p spl-capi --test header"
    );
    for f in [
        "spl_version",
        "spl_last_error",
        "spl_status_name",
        "spl_options_default",
        "spl_compile",
        "spl_pipeline_free",
        "spl_pipeline_output_count",
        "spl_pipeline_output_name",
        "spl_pipeline_metrics",
        "spl_process",
        "spl_result_group_count",
        "spl_result_group_info",
        "spl_result_group_tag",
        "spl_result_export",
        "spl_result_metrics",
        "spl_result_free",
        "spl_string_free",
    ] {
        let declared = fresh
            .lines()
            .any(|l| !l.trim_start().starts_with("//") && l.contains(&format!("{f}(")));
        assert!(declared, "{f} missing from the header");
    }
}

#[test]
fn header_compiles_as_c_and_cpp() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = std::env::temp_dir().join(format!("spl-header-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let src = tmp.join("h.c");
    std::fs::write(
        &src,
        "#include \"spl.h\"\nint main(void) { SplOptions o; (void)o; return SPL_OK; }\n",
    )
    .unwrap();
    for (lang, std) in [("c", "-std=c99"), ("c++", "-std=c++11")] {
        let out = Command::new("cc")
            .args(["-x", lang, std, "-Wall", "-Werror", "-fsyntax-only", "-I"])
            .arg(dir.join("include"))
            .arg(&src)
            .output()
            .expect("run cc");
        assert!(
            out.status.success(),
            "{lang}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let _ = std::fs::remove_dir_all(&tmp);
}

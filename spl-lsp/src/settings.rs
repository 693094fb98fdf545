//! What the server is configured with: the deployment profile, a sample log file and a MaxMind
//! database for the geolocation functions (as `spl check --geoip`), from the
//! client (`initializationOptions`, `workspace/didChangeConfiguration` under `spl`) or else from
//! the nearest `spl.toml` above the document; and the field names of that sample.
use std::path::{Path, PathBuf};

use spl_engine::codec::{first_non_blank_line, Decoder, InputFormat, LINE_FIELD};
use spl_engine::pipeline::Profile;

/// How much of a sample file is read for its field names.
const SAMPLE_BYTES: u64 = 1 << 20;

/// Settings sent by the client; unset values fall back to `spl.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientSettings {
    pub profile: Option<String>,
    /// Absolute, or relative to the workspace root.
    pub sample: Option<String>,
    /// The MaxMind database file (`--geoip`); absolute, or relative to the workspace root.
    pub geoip: Option<String>,
}

impl ClientSettings {
    /// From `{"profile": …, "sample": …, "geoip": …}` or `{"spl": {…}}`; other keys and types
    /// are ignored.
    pub fn from_json(v: &serde_json::Value) -> ClientSettings {
        let v = v.get("spl").unwrap_or(v);
        let s = |k: &str| {
            v.get(k)
                .and_then(|x| x.as_str())
                .filter(|x| !x.trim().is_empty())
                .map(str::to_string)
        };
        ClientSettings {
            profile: s("profile"),
            sample: s("sample"),
            geoip: s("geoip"),
        }
    }
}

/// `spl.toml`: `profile = "logtail"`, `sample = "logs/sample.jsonl"`, `geoip =
/// "GeoLite2-City.mmdb"` (paths relative to the file).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ProjectFile {
    profile: Option<String>,
    sample: Option<String>,
    geoip: Option<String>,
}

/// The settings that apply to one document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effective {
    pub profile: Profile,
    pub sample: Option<PathBuf>,
    pub geoip: Option<PathBuf>,
    /// Problems found on the way (bad `spl.toml`, unknown profile), for the client's log.
    pub warnings: Vec<String>,
}

/// Resolves the settings of a document at `doc` (a file path, when the document is a file).
pub fn effective(client: &ClientSettings, root: Option<&Path>, doc: Option<&Path>) -> Effective {
    let mut warnings = Vec::new();
    let project = doc
        .and_then(|d| d.parent())
        .and_then(find_project_file)
        .or_else(|| root.and_then(find_project_file));
    let mut file = ProjectFile::default();
    let mut file_dir = None;
    if let Some(path) = project {
        match std::fs::read_to_string(&path)
            .map_err(|e| e.to_string())
            .and_then(|t| toml::from_str::<ProjectFile>(&t).map_err(|e| e.to_string()))
        {
            Ok(f) => {
                file = f;
                file_dir = path.parent().map(Path::to_path_buf);
            }
            Err(e) => warnings.push(format!("{}: {}", path.display(), e.trim())),
        }
    }
    let profile_name = client.profile.clone().or(file.profile);
    let profile = match profile_name.as_deref() {
        None => Profile::Cli,
        Some(name) => Profile::parse(name).unwrap_or_else(|| {
            warnings.push(format!("unknown profile `{name}`; using `cli`"));
            Profile::Cli
        }),
    };
    let path = |client: &Option<String>, file: Option<String>| match (client, file) {
        (Some(s), _) => Some(resolve(root, s)),
        (None, Some(s)) => Some(resolve(file_dir.as_deref(), &s)),
        (None, None) => None,
    };
    Effective {
        profile,
        sample: path(&client.sample, file.sample),
        geoip: path(&client.geoip, file.geoip),
        warnings,
    }
}

fn resolve(base: Option<&Path>, p: &str) -> PathBuf {
    let path = PathBuf::from(p);
    match base {
        Some(b) if path.is_relative() => b.join(path),
        _ => path,
    }
}

fn find_project_file(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .map(|d| d.join("spl.toml"))
        .find(|p| p.is_file())
}

/// The field names of a sample log file as `spl run` would decode it (JSON lines, raw lines as
/// `content`, or `.csv` with a header), from its first megabyte.
pub fn sample_fields(path: &Path) -> Result<Vec<String>, String> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(SAMPLE_BYTES).read_to_end(&mut bytes))
        .map_err(|e| format!("cannot read sample {}: {e}", path.display()))?;
    if bytes.len() as u64 == SAMPLE_BYTES {
        let end = memrchr_newline(&bytes).map_or(0, |i| i + 1);
        bytes.truncate(end);
    }
    let Some(first) = first_non_blank_line(&bytes) else {
        return Ok(Vec::new());
    };
    let csv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let (decoder, rest) = if csv {
        let mut d = Decoder::new(InputFormat::Csv);
        d.set_header(first.text)
            .map_err(|e| format!("sample {}: {e}", path.display()))?;
        (d, &bytes[first.end..])
    } else {
        (Decoder::new(InputFormat::detect(first.text)), &bytes[..])
    };
    let decoded = decoder.decode(rest, 1);
    let mut names: Vec<String> = decoded
        .batch
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .filter(|n| n != LINE_FIELD)
        .collect();
    if let Some(h) = decoder.header() {
        for n in h {
            if !names.contains(n) {
                names.push(n.clone());
            }
        }
    }
    Ok(names)
}

fn memrchr_newline(b: &[u8]) -> Option<usize> {
    b.iter().rposition(|&c| c == b'\n')
}

//! Configuration of the Mobile IPv4 suite: one typed model ([`Config`]) read from either of two
//! forms.
//!
//! - The router form, the vendor's `ip mobile ...` lines that network engineers know
//!   ([`parse_ios`]; seed 002 and the slides of seed 001). `examples/home-agent.ios`.
//! - TOML, the native form ([`parse_toml`], written back by [`to_toml`]).
//!   `examples/home-agent.toml` documents every key.
//!
//! [`load`] reads a file, picks the form (`.ios` or `--format ios`: router form; otherwise
//! TOML), validates and returns warnings, including one when a file holding keys is readable
//! by group or others.
//!
//! Both forms are validated the same way (host ranges in order and not overlapping, no
//! duplicate security association for one address and SPI, every access list referenced is
//! defined, lifetimes 1–65535, replay windows ≥ 1, virtual networks defined) and every error
//! names the file and line, with a hint.
//!
//! The agents' per-registration lookups run on an index built at load time:
//! [`Config::host_group_for`], [`Config::host_by_nai`], [`Config::mobile_node_sa`],
//! [`Config::foreign_agent_sa`], [`Config::home_agent_sa`], [`Config::visitor_sa`],
//! [`Config::permits`]. Security associations hold ready-made
//! [`mip_security::SecurityAssociation`]s, keyed hash states prepared once.
//!
//! Without `router mobile` (TOML `mobile_ip = true`) Mobile IP is off: nothing is served,
//! whatever else is configured, as on the router.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
mod index;
mod ios;
mod model;
mod toml_form;
mod validate;

use std::fmt;
use std::path::Path;
use std::str::FromStr;

pub use error::{ConfigError, Loc, Warning};
pub use index::MobileNodeId;
pub use ios::{parse_ios, parse_ios_with_warnings};
pub use model::{
    mask_len, mask_of, nai_eq, nai_key, AccessList, AclAction, AclId, AclRule, AddressPool,
    AddressRange, Config, Encapsulations, ForeignAgent, ForeignService, HomeAddress, HomeAgent,
    HomeLocation, HostGroup, Interface, InterfaceAddress, Irdp, KeyFormat, NaiHost, Peer, Prefix,
    Redundancy, ReplaySetting, SaParams, SaSource, SaTarget, SecurityAssociation,
    DEFAULT_IRDP_MAX_ADVERT_INTERVAL, DEFAULT_LIFETIME_SECS, DEFAULT_MAX_BINDINGS,
    DEFAULT_REG_WAIT_SECS, DEFAULT_REPLAY_WINDOW_SECS, INFINITE_LIFETIME, MIN_SPI,
};
pub use toml_form::{parse_toml, parse_toml_with_warnings, to_toml};

/// The two forms of a configuration file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// TOML, the native form.
    Toml,
    /// The router form (`ip mobile ...` lines).
    Ios,
}

impl Format {
    /// The form for a path: `.ios` is the router form, anything else TOML.
    #[must_use]
    pub fn for_path(path: &Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("ios") => Format::Ios,
            _ => Format::Toml,
        }
    }
}

impl FromStr for Format {
    type Err = String;

    /// `toml` or `ios` (case-insensitive).
    fn from_str(s: &str) -> Result<Format, String> {
        match s.to_ascii_lowercase().as_str() {
            "toml" => Ok(Format::Toml),
            "ios" => Ok(Format::Ios),
            _ => Err(format!(
                "unknown configuration format '{s}' (expected toml or ios)"
            )),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Toml => "toml",
            Format::Ios => "ios",
        })
    }
}

/// A loaded configuration.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The configuration, validated and indexed.
    pub config: Config,
    /// The form it was read in.
    pub format: Format,
    /// Things worth telling the operator (never errors).
    pub warnings: Vec<Warning>,
}

/// Parses `text` in `format`, returning the warnings too.
///
/// # Errors
/// As [`parse_ios`] or [`parse_toml`].
pub fn parse(
    text: &str,
    file_name: &str,
    format: Format,
) -> Result<(Config, Vec<Warning>), ConfigError> {
    match format {
        Format::Ios => parse_ios_with_warnings(text, file_name),
        Format::Toml => parse_toml_with_warnings(text, file_name),
    }
}

/// Reads, parses and validates the file at `path`. The form is `format` if given, else the
/// router form for a `.ios` file name and TOML otherwise.
///
/// Warns when the file holds a key and its mode lets group or others read it.
///
/// # Errors
/// The file cannot be read (or is not UTF-8), or the configuration is invalid.
pub fn load(path: &Path, format: Option<Format>) -> Result<Loaded, ConfigError> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path)
        .map_err(|e| ConfigError::new(&file, None, format!("cannot read the file: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let loc = Loc::of_offset(
            &String::from_utf8_lossy(&e.as_bytes()[..e.utf8_error().valid_up_to()]),
            e.utf8_error().valid_up_to(),
        );
        ConfigError::new(&file, Some(loc), "the file is not valid UTF-8")
            .with_hint("save it as UTF-8 (plain ASCII is fine)")
    })?;
    let format = format.unwrap_or_else(|| Format::for_path(path));
    let (config, mut warnings) = parse(&text, &file, format)?;
    if let Some(w) = permission_warning(path, &config) {
        warnings.push(w);
    }
    Ok(Loaded {
        config,
        format,
        warnings,
    })
}

/// A warning when `path` holds keys and group or others may read it.
fn permission_warning(path: &Path, config: &Config) -> Option<Warning> {
    use std::os::unix::fs::PermissionsExt;
    if config.security_associations.is_empty() {
        return None;
    }
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    (mode & 0o044 != 0).then(|| {
        Warning::new(
            &path.display().to_string(),
            None,
            format!(
                "the file holds {} secret key(s) and is readable by {} (mode {mode:04o}); run \
                 'chmod 600 {}'",
                config.security_associations.len(),
                match (mode & 0o040 != 0, mode & 0o004 != 0) {
                    (true, true) => "group and others",
                    (true, false) => "its group",
                    _ => "others",
                },
                path.display()
            ),
        )
    })
}

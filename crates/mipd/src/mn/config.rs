//! The mobile node's configuration file: the TOML form of [`MobileNodeConfig`] (see
//! `mip_mn::config`; `examples/lab/mn.toml`), read whole and validated.
//!
//! A static co-located care-of address with a gateway is used where it belongs: on the link
//! where its gateway answers (the daemon identifies links by ARP-probing the home agent and that
//! gateway, RFC 4436's detection of network attachment). The core is therefore run in its
//! "dynamic" mode — the daemon reports the address once the link is identified, as a DHCP
//! client would — so that the node never registers a co-located address on a link where it
//! does not work (a foreign agent's link before its advertisement arrives, the home link).

use std::net::Ipv4Addr;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use mip_mn::{ColocatedMode, MobileNodeConfig};

/// A static co-located care-of address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaticColocated {
    /// Its interface.
    pub interface: String,
    /// The address.
    pub address: Ipv4Addr,
    /// Its prefix length.
    pub prefix_len: u8,
    /// The link's router: probed to recognise the link. Without one the address is offered
    /// on every link of the interface.
    pub gateway: Option<Ipv4Addr>,
}

/// A loaded configuration.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// What the core runs with.
    pub core: MobileNodeConfig,
    /// The static co-located address the daemon reports, if any.
    pub colocated: Option<StaticColocated>,
    /// Warnings for the log.
    pub warnings: Vec<String>,
}

/// Reads and checks `path`. The error names the file and the key.
///
/// # Errors
/// The file cannot be read, is not TOML of the expected form, or does not validate.
pub fn load(path: &Path) -> Result<Loaded, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let mut warnings = Vec::new();
    if let Ok(m) = std::fs::metadata(path) {
        if m.permissions().mode() & 0o077 != 0 {
            warnings.push(format!(
                "{} holds a key and is readable by others (mode {:o}): chmod 600 it",
                path.display(),
                m.permissions().mode() & 0o777
            ));
        }
    }
    parse(&text, &path.display().to_string()).map(|mut l| {
        warnings.append(&mut l.warnings);
        l.warnings = warnings;
        l
    })
}

/// Parses configuration text (`name` is the file, for messages).
///
/// # Errors
/// As [`load`].
pub fn parse(text: &str, name: &str) -> Result<Loaded, String> {
    let cfg: MobileNodeConfig = toml::from_str(text).map_err(|e| {
        let msg = e.to_string();
        format!("{name}: {}", msg.trim_end())
    })?;
    cfg.validate()
        .map_err(|e| format!("{name}: {}: {}", e.field, e.message))?;
    let mut warnings = Vec::new();
    let mut core = cfg.clone();
    let colocated = match &cfg.colocated {
        ColocatedMode::Static {
            address,
            gateway,
            interface,
        } => {
            let interface = interface
                .clone()
                .or_else(|| cfg.interfaces.first().cloned())
                .unwrap_or_default();
            core.colocated = ColocatedMode::Dynamic;
            if gateway.is_none() {
                warnings.push(format!(
                    "{name}: colocated.gateway is not set: the co-located care-of address {address} \
                     is offered on every link of {interface} and no default route is set for it"
                ));
            }
            Some(StaticColocated {
                interface,
                address: address.address(),
                prefix_len: address.len(),
                gateway: *gateway,
            })
        }
        ColocatedMode::Dynamic => {
            warnings.push(format!(
                "{name}: colocated.mode = \"dynamic\": this daemon runs no DHCP client, so no \
                 co-located care-of address will be found; use mode = \"static\""
            ));
            None
        }
        ColocatedMode::Off => None,
    };
    Ok(Loaded {
        core,
        colocated,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LAB: &str = include_str!("../../../../examples/lab/mn.toml");

    #[test]
    fn the_lab_file_loads() {
        let l = parse(LAB, "mn.toml").unwrap();
        assert_eq!(l.core.home_address, Ipv4Addr::new(10, 10, 0, 10));
        assert_eq!(l.core.colocated, ColocatedMode::Dynamic);
        assert_eq!(
            l.colocated,
            Some(StaticColocated {
                interface: "mn0".into(),
                address: Ipv4Addr::new(10, 40, 0, 10),
                prefix_len: 24,
                gateway: Some(Ipv4Addr::new(10, 40, 0, 1)),
            })
        );
    }

    #[test]
    fn errors_name_the_file_and_the_key() {
        let bad = LAB.replace("lifetime = 600", "lifetime = 0");
        let e = parse(&bad, "x.toml").unwrap_err();
        assert!(e.starts_with("x.toml: lifetime:"), "{e}");
        let bad = format!("{LAB}\nfrobnicate = 1\n");
        let e = parse(&bad, "x.toml").unwrap_err();
        assert!(e.contains("x.toml") && e.contains("frobnicate"), "{e}");
        let bad = LAB.replace("spi = 0x100", "spi = 0x10");
        let e = parse(&bad, "x.toml").unwrap_err();
        assert!(e.contains("security_association.spi"), "{e}");
        let e = parse("home_address = 5", "y.toml").unwrap_err();
        assert!(
            e.starts_with("y.toml:") && e.contains("home_address"),
            "{e}"
        );
    }
}

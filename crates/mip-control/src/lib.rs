//! The control protocol between `mipd` and `mipctl`.
//!
//! * Transport: a Unix stream socket (default `/run/mipd/control.sock`, mode 0660, its
//!   directory 0750: never world-accessible). One request per connection: the client
//!   writes one JSON object on one line ([`Request`]), the daemon answers with one JSON
//!   object on one line ([`Response`]) and closes. Requests are limited to
//!   [`MAX_REQUEST_BYTES`].
//! * Grammar: [`parse_command`] turns the words an operator types
//!   (`show ip mobile binding 10.0.0.1`, abbreviations like `sh ip mob bind` allowed when
//!   unambiguous) into a [`Request`], or a router-style error (`% Incomplete command.`,
//!   `% Invalid input detected at '^' marker.`, `% Ambiguous command`) listing what was
//!   expected. The console parses locally, so a typo never reaches the daemon.

pub mod convert;
pub mod views;

use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::Ipv4Addr;

/// Largest request the daemon reads.
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;
/// Default control socket path.
pub const DEFAULT_SOCKET: &str = "/run/mipd/control.sock";

/// Which security associations `show/clear ip mobile secure` addresses.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum PeerKind {
    Host,
    Visitor,
    ForeignAgent,
    HomeAgent,
}

impl PeerKind {
    /// The router keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            PeerKind::Host => "host",
            PeerKind::Visitor => "visitor",
            PeerKind::ForeignAgent => "foreign-agent",
            PeerKind::HomeAgent => "home-agent",
        }
    }
}

/// `show ip mobile binding [A | home-agent A | nai NAI [session-id ID] | summary]`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "snake_case", tag = "by")]
pub enum BindingFilter {
    All,
    Address {
        address: Ipv4Addr,
    },
    HomeAgent {
        address: Ipv4Addr,
    },
    Nai {
        nai: String,
        session_id: Option<String>,
    },
    Summary,
}

/// `show ip mobile host [A | group | counters [A]]`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "snake_case", tag = "by")]
pub enum HostFilter {
    All,
    Address { address: Ipv4Addr },
    Group,
    Counters { address: Option<Ipv4Addr> },
}

/// `clear ip mobile binding {all | A | nai NAI [session-id ID]}`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "snake_case", tag = "by")]
pub enum ClearBinding {
    All,
    Address {
        address: Ipv4Addr,
    },
    Nai {
        nai: String,
        session_id: Option<String>,
    },
}

/// `show ip mobile visitor [[pending] [A | summary] | nai NAI [session-id ID]]` (seed 000).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "snake_case", tag = "by")]
pub enum VisitorFilter {
    /// `show ip mobile visitor`: every visitor ([`views::VisitorList`]).
    All,
    /// `show ip mobile visitor A`: the visitor with that home address ([`views::VisitorList`]).
    Address { address: Ipv4Addr },
    /// `show ip mobile visitor nai NAI [session-id ID]` ([`views::VisitorList`]).
    Nai {
        nai: String,
        session_id: Option<String>,
    },
    /// `show ip mobile visitor summary` ([`views::VisitorSummary`]).
    Summary,
    /// `show ip mobile visitor pending [A]`: the pending registration table
    /// ([`views::PendingList`]).
    Pending { address: Option<Ipv4Addr> },
    /// `show ip mobile visitor pending summary` ([`views::PendingSummary`]).
    PendingSummary,
}

/// `clear ip mobile visitor [A | nai NAI [session-id ID] [A] | all]` (seed 000; no argument
/// means every visitor, as on the router).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "snake_case", tag = "by")]
pub enum ClearVisitor {
    All,
    Address {
        address: Ipv4Addr,
    },
    /// Every visitor with that NAI; only the one with `session_id` when given; only the one
    /// with home address `address` when given (seed 000: "IP address associated with the
    /// NAI").
    Nai {
        nai: String,
        session_id: Option<String>,
        #[serde(default)]
        address: Option<Ipv4Addr>,
    },
}

/// The target of `show/clear ip mobile secure KIND ...`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "snake_case", tag = "by")]
pub enum SecureTarget {
    All,
    Address { address: Ipv4Addr },
    Nai { nai: String },
}

/// A control request.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "snake_case", tag = "command")]
pub enum Request {
    /// `show ip mobile binding ...`
    ShowBinding { filter: BindingFilter },
    /// `show ip mobile host ...`
    ShowHost { filter: HostFilter },
    /// `show ip mobile secure KIND [A | nai NAI] [summary]`; keys are masked unless
    /// `show_keys` (mipctl `--show-keys`).
    ShowSecure {
        peer: PeerKind,
        target: SecureTarget,
        summary: bool,
        show_keys: bool,
    },
    /// `show ip mobile traffic`
    ShowTraffic,
    /// `show ip mobile violation`
    ShowViolation,
    /// `show ip mobile globals`
    ShowGlobals,
    /// `show ip mobile tunnel`
    ShowTunnel,
    /// `show ip mobile visitor ...` (foreign agent)
    ShowVisitor { filter: VisitorFilter },
    /// `show ip mobile node` (mobile node; product-defined, [`views::NodeView`])
    ShowNode,
    /// `show ip mobile dataplane` (every role; product-defined, [`views::DataplaneView`]):
    /// the data plane in use and its tunnel engine's counters.
    ShowDataplane,
    /// `clear ip mobile binding ...`
    ClearBinding { selector: ClearBinding },
    /// `clear ip mobile visitor ...` (foreign agent)
    ClearVisitor { selector: ClearVisitor },
    /// `clear ip mobile traffic [undo]`
    ClearTraffic { undo: bool },
    /// `clear ip mobile secure KIND {A | nai NAI | all} [load]`
    ClearSecure {
        peer: PeerKind,
        target: SecureTarget,
        load: bool,
    },
    /// Reload the configuration (as SIGHUP does).
    Reload,
}

/// The daemon's answer: `{"ok":true,"data":...}` or `{"ok":false,"error":"..."}`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Response {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Response {
    pub fn ok(data: serde_json::Value) -> Response {
        Response {
            ok: true,
            data: Some(data),
            error: None,
        }
    }
    pub fn error(msg: impl Into<String>) -> Response {
        Response {
            ok: false,
            data: None,
            error: Some(msg.into()),
        }
    }
}

/// Why a command line was refused, in the router's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandError {
    /// The words stop before the command is complete; `expected` lists what may follow.
    Incomplete { expected: Vec<String> },
    /// The word at `index` is not valid there; `expected` lists what would be.
    Invalid {
        index: usize,
        word: String,
        expected: Vec<String>,
    },
    /// The word at `index` abbreviates several keywords.
    Ambiguous {
        index: usize,
        word: String,
        candidates: Vec<String>,
    },
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommandError::Incomplete { expected } => {
                write!(f, "% Incomplete command.")?;
                if !expected.is_empty() {
                    write!(f, "\n  expected: {}", expected.join(" | "))?;
                }
                Ok(())
            }
            CommandError::Invalid { word, expected, .. } => {
                write!(f, "% Invalid input detected at '{word}'.")?;
                if !expected.is_empty() {
                    write!(f, "\n  expected: {}", expected.join(" | "))?;
                }
                Ok(())
            }
            CommandError::Ambiguous {
                word, candidates, ..
            } => {
                write!(
                    f,
                    "% Ambiguous command: \"{word}\" could be {}",
                    candidates.join(", ")
                )
            }
        }
    }
}

impl std::error::Error for CommandError {}

/// A cursor over the operator's words with router-style keyword matching.
struct Words<'a> {
    words: &'a [String],
    pos: usize,
}

impl<'a> Words<'a> {
    fn peek(&self) -> Option<&'a str> {
        self.words.get(self.pos).map(String::as_str)
    }

    fn done(&self) -> bool {
        self.pos >= self.words.len()
    }

    /// The next word must be one of `keywords` (a unique prefix is enough).
    fn keyword(&mut self, keywords: &[&'static str]) -> Result<&'static str, CommandError> {
        let expected = || keywords.iter().map(|k| k.to_string()).collect::<Vec<_>>();
        let Some(w) = self.peek() else {
            return Err(CommandError::Incomplete {
                expected: expected(),
            });
        };
        let lw = w.to_ascii_lowercase();
        if let Some(k) = keywords.iter().find(|k| **k == lw) {
            self.pos += 1;
            return Ok(k);
        }
        let hits: Vec<&'static str> = keywords
            .iter()
            .copied()
            .filter(|k| k.starts_with(&lw))
            .collect();
        match hits.len() {
            1 => {
                self.pos += 1;
                Ok(hits[0])
            }
            0 => Err(CommandError::Invalid {
                index: self.pos,
                word: w.to_string(),
                expected: expected(),
            }),
            _ => Err(CommandError::Ambiguous {
                index: self.pos,
                word: w.to_string(),
                candidates: hits.iter().map(|k| k.to_string()).collect(),
            }),
        }
    }

    /// An optional keyword: consumed when present and matching.
    fn optional(
        &mut self,
        keywords: &[&'static str],
    ) -> Result<Option<&'static str>, CommandError> {
        if self.done() {
            return Ok(None);
        }
        self.keyword(keywords).map(Some)
    }

    fn address(&mut self, what: &str) -> Result<Ipv4Addr, CommandError> {
        let Some(w) = self.peek() else {
            return Err(CommandError::Incomplete {
                expected: vec![what.to_string()],
            });
        };
        let a = w.parse().map_err(|_| CommandError::Invalid {
            index: self.pos,
            word: w.to_string(),
            expected: vec![what.to_string()],
        })?;
        self.pos += 1;
        Ok(a)
    }

    fn string(&mut self, what: &str) -> Result<String, CommandError> {
        let Some(w) = self.peek() else {
            return Err(CommandError::Incomplete {
                expected: vec![what.to_string()],
            });
        };
        self.pos += 1;
        Ok(w.to_string())
    }

    fn end(&self) -> Result<(), CommandError> {
        match self.peek() {
            None => Ok(()),
            Some(w) => Err(CommandError::Invalid {
                index: self.pos,
                word: w.to_string(),
                expected: vec!["<cr>".into()],
            }),
        }
    }

    /// `A` or `nai NAI [session-id ID]` or one of `extra` keywords.
    fn session_id(&mut self) -> Result<Option<String>, CommandError> {
        match self.optional(&["session-id"])? {
            Some(_) => Ok(Some(self.string("ID")?)),
            None => Ok(None),
        }
    }
}

fn peer_kind(w: &mut Words<'_>) -> Result<PeerKind, CommandError> {
    Ok(
        match w.keyword(&["host", "visitor", "foreign-agent", "home-agent"])? {
            "host" => PeerKind::Host,
            "visitor" => PeerKind::Visitor,
            "foreign-agent" => PeerKind::ForeignAgent,
            _ => PeerKind::HomeAgent,
        },
    )
}

fn next_is_address(w: &Words<'_>) -> bool {
    w.peek().is_some_and(|s| s.parse::<Ipv4Addr>().is_ok())
}

/// After `show ip mobile visitor`: `[[pending] [A | summary] | nai NAI [session-id ID]]`.
fn visitor_filter(w: &mut Words<'_>) -> Result<VisitorFilter, CommandError> {
    if w.done() {
        return Ok(VisitorFilter::All);
    }
    if next_is_address(w) {
        return Ok(VisitorFilter::Address {
            address: w.address("A.B.C.D")?,
        });
    }
    Ok(match w.keyword(&["pending", "summary", "nai"])? {
        "pending" => {
            if w.done() {
                VisitorFilter::Pending { address: None }
            } else if next_is_address(w) {
                VisitorFilter::Pending {
                    address: Some(w.address("A.B.C.D")?),
                }
            } else {
                // Only `summary` is a keyword here; an address is the other choice.
                match w.keyword(&["summary"]) {
                    Ok(_) => VisitorFilter::PendingSummary,
                    Err(CommandError::Invalid { index, word, .. }) => {
                        return Err(CommandError::Invalid {
                            index,
                            word,
                            expected: vec!["A.B.C.D".into(), "summary".into(), "<cr>".into()],
                        })
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        "summary" => VisitorFilter::Summary,
        _ => {
            let nai = w.string("NAI")?;
            VisitorFilter::Nai {
                nai,
                session_id: w.session_id()?,
            }
        }
    })
}

/// After `clear ip mobile visitor`: `[A | nai NAI [session-id ID] [A] | all]`; nothing means
/// every visitor (seed 000).
fn clear_visitor(w: &mut Words<'_>) -> Result<ClearVisitor, CommandError> {
    if w.done() {
        return Ok(ClearVisitor::All);
    }
    if next_is_address(w) {
        return Ok(ClearVisitor::Address {
            address: w.address("A.B.C.D")?,
        });
    }
    Ok(match w.keyword(&["all", "nai"])? {
        "all" => ClearVisitor::All,
        _ => {
            let nai = w.string("NAI")?;
            let session_id = if next_is_address(w) {
                None
            } else {
                w.session_id()?
            };
            let address = if w.done() {
                None
            } else {
                Some(w.address("A.B.C.D")?)
            };
            ClearVisitor::Nai {
                nai,
                session_id,
                address,
            }
        }
    })
}

/// Parse the words of a `show` or `clear` command (`show ip mobile binding`, ...).
/// `show_keys` is the console's `--show-keys` switch, carried into `ShowSecure`.
pub fn parse_command(words: &[String], show_keys: bool) -> Result<Request, CommandError> {
    let mut w = Words { words, pos: 0 };
    let verb = w.keyword(&["show", "clear"])?;
    w.keyword(&["ip"])?;
    w.keyword(&["mobile"])?;
    let req = if verb == "show" {
        match w.keyword(&[
            "binding",
            "host",
            "secure",
            "traffic",
            "violation",
            "globals",
            "tunnel",
            "visitor",
            "node",
            "dataplane",
        ])? {
            "binding" => {
                let filter = if w.done() {
                    BindingFilter::All
                } else if w.peek().is_some_and(|s| s.parse::<Ipv4Addr>().is_ok()) {
                    BindingFilter::Address {
                        address: w.address("A.B.C.D")?,
                    }
                } else {
                    match w.keyword(&["home-agent", "nai", "summary"])? {
                        "home-agent" => BindingFilter::HomeAgent {
                            address: w.address("A.B.C.D")?,
                        },
                        "nai" => {
                            let nai = w.string("NAI")?;
                            BindingFilter::Nai {
                                nai,
                                session_id: w.session_id()?,
                            }
                        }
                        _ => BindingFilter::Summary,
                    }
                };
                Request::ShowBinding { filter }
            }
            "host" => {
                let filter = if w.done() {
                    HostFilter::All
                } else if w.peek().is_some_and(|s| s.parse::<Ipv4Addr>().is_ok()) {
                    HostFilter::Address {
                        address: w.address("A.B.C.D")?,
                    }
                } else {
                    match w.keyword(&["group", "counters"])? {
                        "group" => HostFilter::Group,
                        _ => HostFilter::Counters {
                            address: if w.done() {
                                None
                            } else {
                                Some(w.address("A.B.C.D")?)
                            },
                        },
                    }
                };
                Request::ShowHost { filter }
            }
            "secure" => {
                let peer = peer_kind(&mut w)?;
                let mut target = SecureTarget::All;
                let mut summary = false;
                if w.peek().is_some_and(|s| s.parse::<Ipv4Addr>().is_ok()) {
                    target = SecureTarget::Address {
                        address: w.address("A.B.C.D")?,
                    };
                } else if let Some(k) = w.optional(&["nai", "summary"])? {
                    if k == "nai" {
                        target = SecureTarget::Nai {
                            nai: w.string("NAI")?,
                        };
                    } else {
                        summary = true;
                    }
                }
                if !summary && w.optional(&["summary"])?.is_some() {
                    summary = true;
                }
                Request::ShowSecure {
                    peer,
                    target,
                    summary,
                    show_keys,
                }
            }
            "visitor" => Request::ShowVisitor {
                filter: visitor_filter(&mut w)?,
            },
            "node" => Request::ShowNode,
            "dataplane" => Request::ShowDataplane,
            "traffic" => Request::ShowTraffic,
            "violation" => Request::ShowViolation,
            "globals" => Request::ShowGlobals,
            _ => Request::ShowTunnel,
        }
    } else {
        match w.keyword(&["binding", "traffic", "secure", "visitor"])? {
            "binding" => {
                let selector = if w.peek().is_some_and(|s| s.parse::<Ipv4Addr>().is_ok()) {
                    ClearBinding::Address {
                        address: w.address("A.B.C.D")?,
                    }
                } else {
                    match w.keyword(&["all", "nai"])? {
                        "all" => ClearBinding::All,
                        _ => {
                            let nai = w.string("NAI")?;
                            ClearBinding::Nai {
                                nai,
                                session_id: w.session_id()?,
                            }
                        }
                    }
                };
                Request::ClearBinding { selector }
            }
            "traffic" => Request::ClearTraffic {
                undo: w.optional(&["undo"])?.is_some(),
            },
            "visitor" => Request::ClearVisitor {
                selector: clear_visitor(&mut w)?,
            },
            _ => {
                let peer = peer_kind(&mut w)?;
                let target = if w.peek().is_some_and(|s| s.parse::<Ipv4Addr>().is_ok()) {
                    SecureTarget::Address {
                        address: w.address("A.B.C.D")?,
                    }
                } else {
                    match w.keyword(&["all", "nai"])? {
                        "all" => SecureTarget::All,
                        _ => SecureTarget::Nai {
                            nai: w.string("NAI")?,
                        },
                    }
                };
                Request::ClearSecure {
                    peer,
                    target,
                    load: w.optional(&["load"])?.is_some(),
                }
            }
        }
    };
    w.end()?;
    Ok(req)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Request, CommandError> {
        let words: Vec<String> = s.split_whitespace().map(String::from).collect();
        parse_command(&words, false)
    }

    #[test]
    fn binding_forms() {
        assert_eq!(
            p("show ip mobile binding").unwrap(),
            Request::ShowBinding {
                filter: BindingFilter::All
            }
        );
        assert_eq!(
            p("sh ip mob bind 10.0.0.1").unwrap(),
            Request::ShowBinding {
                filter: BindingFilter::Address {
                    address: "10.0.0.1".parse().unwrap()
                }
            }
        );
        assert_eq!(
            p("show ip mobile binding nai user@left.com session-id 42").unwrap(),
            Request::ShowBinding {
                filter: BindingFilter::Nai {
                    nai: "user@left.com".into(),
                    session_id: Some("42".into())
                }
            }
        );
        assert_eq!(
            p("show ip mobile binding summary").unwrap(),
            Request::ShowBinding {
                filter: BindingFilter::Summary
            }
        );
        assert_eq!(
            p("show ip mobile binding home-agent 66.0.0.5").unwrap(),
            Request::ShowBinding {
                filter: BindingFilter::HomeAgent {
                    address: "66.0.0.5".parse().unwrap()
                }
            }
        );
    }

    #[test]
    fn clear_forms() {
        assert_eq!(
            p("clear ip mobile binding all").unwrap(),
            Request::ClearBinding {
                selector: ClearBinding::All
            }
        );
        assert_eq!(
            p("clear ip mobile traffic undo").unwrap(),
            Request::ClearTraffic { undo: true }
        );
        assert_eq!(
            p("clear ip mobile traffic").unwrap(),
            Request::ClearTraffic { undo: false }
        );
        assert_eq!(
            p("clear ip mobile secure host 10.0.0.1 load").unwrap(),
            Request::ClearSecure {
                peer: PeerKind::Host,
                target: SecureTarget::Address {
                    address: "10.0.0.1".parse().unwrap()
                },
                load: true
            }
        );
    }

    #[test]
    fn secure_forms_and_show_keys() {
        let words: Vec<String> = "show ip mobile secure foreign-agent summary"
            .split(' ')
            .map(String::from)
            .collect();
        assert_eq!(
            parse_command(&words, true).unwrap(),
            Request::ShowSecure {
                peer: PeerKind::ForeignAgent,
                target: SecureTarget::All,
                summary: true,
                show_keys: true
            }
        );
        assert!(matches!(
            p("show ip mobile secure host 10.0.0.1 summary").unwrap(),
            Request::ShowSecure {
                summary: true,
                target: SecureTarget::Address { .. },
                ..
            }
        ));
    }

    #[test]
    fn router_style_errors() {
        let e = p("show ip mobile").unwrap_err();
        assert!(
            matches!(&e, CommandError::Incomplete { expected } if expected.contains(&"binding".to_string()))
        );
        assert!(e.to_string().starts_with("% Incomplete command."));
        let e = p("show ip mobile bindings").unwrap_err();
        assert!(matches!(e, CommandError::Invalid { index: 3, .. }), "{e:?}");
        let e = p("show ip mobile binding 10.0.0.1 extra").unwrap_err();
        assert!(matches!(e, CommandError::Invalid { index: 5, .. }));
        let e = p("clear ip mobile binding").unwrap_err();
        assert!(matches!(e, CommandError::Incomplete { .. }));
        let e = p("show ip mobile binding 10.0.0.300").unwrap_err();
        assert!(matches!(e, CommandError::Invalid { .. }), "{e:?}");
        // "s" abbreviates both show (verb level: show/clear → unique) ...
        assert!(p("s ip mobile traffic").is_ok());
        // ... but at the noun level "h" is host or... only host; "t" is traffic or tunnel.
        let e = p("show ip mobile t").unwrap_err();
        assert!(matches!(&e, CommandError::Ambiguous { candidates, .. } if candidates.len() == 2));
        assert!(matches!(
            p("").unwrap_err(),
            CommandError::Incomplete { .. }
        ));
    }

    #[test]
    fn visitor_forms() {
        let sv = |filter| Request::ShowVisitor { filter };
        assert_eq!(p("show ip mobile visitor").unwrap(), sv(VisitorFilter::All));
        assert_eq!(
            p("sh ip mob vis 20.0.0.1").unwrap(),
            sv(VisitorFilter::Address {
                address: "20.0.0.1".parse().unwrap()
            })
        );
        assert_eq!(
            p("show ip mobile visitor summary").unwrap(),
            sv(VisitorFilter::Summary)
        );
        assert_eq!(
            p("show ip mobile visitor pending").unwrap(),
            sv(VisitorFilter::Pending { address: None })
        );
        assert_eq!(
            p("show ip mobile visitor pend 20.0.0.1").unwrap(),
            sv(VisitorFilter::Pending {
                address: Some("20.0.0.1".parse().unwrap())
            })
        );
        assert_eq!(
            p("show ip mobile visitor pending sum").unwrap(),
            sv(VisitorFilter::PendingSummary)
        );
        assert_eq!(
            p("show ip mobile visitor nai user01@cisco.com session-id PDA").unwrap(),
            sv(VisitorFilter::Nai {
                nai: "user01@cisco.com".into(),
                session_id: Some("PDA".into())
            })
        );
        assert_eq!(
            p("show ip mobile visitor nai user01@cisco.com").unwrap(),
            sv(VisitorFilter::Nai {
                nai: "user01@cisco.com".into(),
                session_id: None
            })
        );
        assert_eq!(p("show ip mobile node").unwrap(), Request::ShowNode);
        assert_eq!(p("sh ip mob n").unwrap(), Request::ShowNode);
    }

    #[test]
    fn dataplane_forms() {
        for words in [
            "show ip mobile dataplane",
            "sh ip mob data",
            "sh ip mob d",
            "SHOW IP MOBILE DATAPLANE",
            "s i m dataplane",
        ] {
            assert_eq!(p(words).unwrap(), Request::ShowDataplane, "{words}");
        }
        let e = p("show ip mobile dataplane detail").unwrap_err();
        assert!(
            matches!(&e, CommandError::Invalid { index: 4, expected, .. } if expected == &["<cr>"]),
            "{e:?}"
        );
        let e = p("show ip mobile dataplane 10.0.0.1").unwrap_err();
        assert!(matches!(e, CommandError::Invalid { index: 4, .. }), "{e:?}");
        let e = p("show ip mobile dataplanes").unwrap_err();
        assert!(matches!(e, CommandError::Invalid { index: 3, .. }), "{e:?}");
        // Not a `clear` noun.
        let e = p("clear ip mobile dataplane").unwrap_err();
        assert!(matches!(e, CommandError::Invalid { index: 3, .. }), "{e:?}");
        // Listed among the nouns of an incomplete `show ip mobile`.
        let e = p("show ip mobile").unwrap_err();
        assert!(
            matches!(&e, CommandError::Incomplete { expected } if expected.contains(&"dataplane".to_string()))
        );
        assert_eq!(
            serde_json::to_string(&Request::ShowDataplane).unwrap(),
            r#"{"command":"show_dataplane"}"#
        );
    }

    #[test]
    fn clear_visitor_forms() {
        let cv = |selector| Request::ClearVisitor { selector };
        // No argument: every visitor (seed 000).
        assert_eq!(p("clear ip mobile visitor").unwrap(), cv(ClearVisitor::All));
        assert_eq!(
            p("clear ip mobile visitor all").unwrap(),
            cv(ClearVisitor::All)
        );
        assert_eq!(
            p("clear ip mobile visitor 172.21.58.16").unwrap(),
            cv(ClearVisitor::Address {
                address: "172.21.58.16".parse().unwrap()
            })
        );
        assert_eq!(
            p("clear ip mobile visitor nai u@r").unwrap(),
            cv(ClearVisitor::Nai {
                nai: "u@r".into(),
                session_id: None,
                address: None
            })
        );
        assert_eq!(
            p("clear ip mobile visitor nai u@r 10.0.0.1").unwrap(),
            cv(ClearVisitor::Nai {
                nai: "u@r".into(),
                session_id: None,
                address: Some("10.0.0.1".parse().unwrap())
            })
        );
        assert_eq!(
            p("clear ip mob vis nai u@r session-id PDA 10.0.0.1").unwrap(),
            cv(ClearVisitor::Nai {
                nai: "u@r".into(),
                session_id: Some("PDA".into()),
                address: Some("10.0.0.1".parse().unwrap())
            })
        );
        // An older client's request without `address` still reads.
        let r: Request = serde_json::from_str(
            r#"{"command":"clear_visitor","selector":{"by":"nai","nai":"u@r","session_id":null}}"#,
        )
        .unwrap();
        assert_eq!(
            r,
            cv(ClearVisitor::Nai {
                nai: "u@r".into(),
                session_id: None,
                address: None
            })
        );
    }

    #[test]
    fn visitor_and_node_errors() {
        let e = p("show ip mobile visitor nai").unwrap_err();
        assert!(matches!(&e, CommandError::Incomplete { expected } if expected == &["NAI"]));
        let e = p("show ip mobile visitor nai a@b session-id").unwrap_err();
        assert!(matches!(&e, CommandError::Incomplete { expected } if expected == &["ID"]));
        let e = p("show ip mobile visitor pending bogus").unwrap_err();
        assert!(
            matches!(&e, CommandError::Invalid { index: 5, expected, .. } if expected.len() == 3),
            "{e:?}"
        );
        let e = p("show ip mobile visitor pending 20.0.0.1 summary").unwrap_err();
        assert!(matches!(e, CommandError::Invalid { index: 6, .. }), "{e:?}");
        let e = p("show ip mobile visitor summary extra").unwrap_err();
        assert!(matches!(e, CommandError::Invalid { index: 5, .. }), "{e:?}");
        let e = p("show ip mobile visitor 20.0.0.400").unwrap_err();
        assert!(matches!(e, CommandError::Invalid { index: 4, .. }), "{e:?}");
        // "v" is violation or visitor; "vi" too; "vis" is visitor.
        let e = p("show ip mobile vi").unwrap_err();
        assert!(
            matches!(&e, CommandError::Ambiguous { candidates, .. }
                if candidates == &["violation", "visitor"]),
            "{e:?}"
        );
        let e = p("show ip mobile node now").unwrap_err();
        assert!(matches!(e, CommandError::Invalid { index: 4, .. }), "{e:?}");
        let e = p("clear ip mobile visitor nai").unwrap_err();
        assert!(matches!(e, CommandError::Incomplete { .. }));
        let e = p("clear ip mobile visitor nai u@r bogus").unwrap_err();
        assert!(matches!(e, CommandError::Invalid { index: 6, .. }), "{e:?}");
        let e = p("clear ip mobile visitor everything").unwrap_err();
        assert!(matches!(e, CommandError::Invalid { index: 4, .. }), "{e:?}");
        // The nouns of `clear` now include visitor.
        let e = p("clear ip mobile").unwrap_err();
        assert!(
            matches!(&e, CommandError::Incomplete { expected } if expected.contains(&"visitor".to_string()))
        );
    }

    #[test]
    fn requests_round_trip_as_json() {
        for r in [
            p("show ip mobile binding nai a@b session-id 7").unwrap(),
            p("clear ip mobile secure visitor nai x@y").unwrap(),
            p("show ip mobile host counters 10.0.0.2").unwrap(),
            p("show ip mobile visitor pending").unwrap(),
            p("show ip mobile visitor pending summary").unwrap(),
            p("show ip mobile visitor nai a@b session-id 7").unwrap(),
            p("clear ip mobile visitor nai a@b session-id 7 10.0.0.1").unwrap(),
            p("show ip mobile node").unwrap(),
            p("show ip mobile dataplane").unwrap(),
            Request::Reload,
        ] {
            let j = serde_json::to_string(&r).unwrap();
            assert!(!j.contains('\n'));
            assert_eq!(serde_json::from_str::<Request>(&j).unwrap(), r);
        }
        assert_eq!(
            serde_json::to_string(&p("show ip mobile visitor 20.0.0.1").unwrap()).unwrap(),
            r#"{"command":"show_visitor","filter":{"by":"address","address":"20.0.0.1"}}"#
        );
        assert_eq!(
            serde_json::to_string(&Request::ShowNode).unwrap(),
            r#"{"command":"show_node"}"#
        );
        let resp = Response::error("no such binding");
        let j = serde_json::to_string(&resp).unwrap();
        assert_eq!(j, r#"{"ok":false,"error":"no such binding"}"#);
    }
}

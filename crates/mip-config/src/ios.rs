//! The router form: `ip mobile ...` configuration lines (seed 002, the command reference;
//! slides of seed 001).
//!
//! Lexical rules:
//! - `!` at the start of a word begins a comment (to the end of the line); blank lines are
//!   ignored; keywords are case-insensitive; a pasted prompt (`(config)# `, `R1(config-if)# `)
//!   is dropped.
//! - A line continues the `ip mobile ...` command before it (slides wrap long lines) when it
//!   does not start with a command word and is indented or the command is still incomplete.
//!   `interface`, `aaa` and `network` start a new command unless the line is indented and the
//!   command before is incomplete.
//! - After `interface NAME`, interface commands (`ip address`, `ip irdp ...`,
//!   `ip mobile foreign-service ...`, `ip mobile prefix-length`,
//!   `ip mobile registration-lifetime N`) apply to that interface, indented or not; a global
//!   command, `exit` or `end` leaves the interface (as on the router).
//!
//! Numbers are decimal except SPIs, which are hexadecimal as on the router (`spi 100` is 0x100).

use std::net::Ipv4Addr;

use mip_security::{Algorithm, Key};

use crate::error::{ConfigError, Loc, Warning};
use crate::model::{
    mask_len, AclAction, AclId, AclRule, AddressRange, Config, Encapsulations, ForeignService,
    HomeAddress, HomeAgent, HomeLocation, HostGroup, InterfaceAddress, KeyFormat, NaiHost, Peer,
    Prefix, Redundancy, ReplaySetting, SaParams, SaSource, SaTarget, DEFAULT_REG_WAIT_SECS,
};
use crate::validate::{
    finish, is_standard_acl, nai_problem, spi_reserved_message, Origins, Parts, ACL_NUMBER_HINT,
    LIFETIME_HINT, SPI_HINT,
};

/// Parses the router form. `file_name` is used in messages only.
///
/// # Errors
/// The first error (by line), carrying any further ones in [`ConfigError::further`].
pub fn parse_ios(text: &str, file_name: &str) -> Result<Config, ConfigError> {
    parse_ios_with_warnings(text, file_name).map(|(c, _)| c)
}

/// [`parse_ios`], also returning the warnings (e.g. an access list that permits nothing).
///
/// # Errors
/// As [`parse_ios`].
pub fn parse_ios_with_warnings(
    text: &str,
    file_name: &str,
) -> Result<(Config, Vec<Warning>), ConfigError> {
    let mut p = Parser {
        file: file_name,
        parts: Parts::default(),
        origins: Origins::default(),
        current_if: None,
        errors: Vec::new(),
    };
    let lines = lex(text);
    let mut pending: Option<(Vec<Tok<'_>>, bool)> = None;
    for line in lines {
        if let Some((toks, _)) = &mut pending {
            if should_join(toks, &line) {
                toks.extend(line.toks);
                continue;
            }
        }
        if let Some((toks, _)) = pending.take() {
            p.command(&toks);
        }
        pending = Some((line.toks, line.indented));
    }
    if let Some((toks, _)) = pending.take() {
        p.command(&toks);
    }
    if let Some(e) = ConfigError::from_list(p.errors) {
        return Err(e);
    }
    finish(p.parts, p.origins, file_name)
}

#[derive(Clone, Copy, Debug)]
struct Tok<'a> {
    text: &'a str,
    line: usize,
}

impl Tok<'_> {
    fn is(&self, kw: &str) -> bool {
        self.text.eq_ignore_ascii_case(kw)
    }
}

struct SrcLine<'a> {
    indented: bool,
    toks: Vec<Tok<'a>>,
}

/// Lines to words, without comments, prompts or empty lines.
fn lex(text: &str) -> Vec<SrcLine<'_>> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let (body, had_prompt) = strip_prompt(raw);
        let indented = !had_prompt && body.starts_with(char::is_whitespace);
        let toks: Vec<Tok<'_>> = body
            .split_whitespace()
            .take_while(|w| !w.starts_with('!'))
            .map(|w| Tok {
                text: w,
                line: i + 1,
            })
            .collect();
        if !toks.is_empty() {
            out.push(SrcLine { indented, toks });
        }
    }
    out
}

/// Drops a pasted router prompt: `(config)# `, `Router(config-if)# `.
fn strip_prompt(line: &str) -> (&str, bool) {
    let t = line.trim_start();
    if let Some(end) = t.find(")#") {
        let head = &t[..end];
        if let Some(open) = head.find("(config") {
            if !head[..open].contains(char::is_whitespace) {
                return (&t[end + 2..], true);
            }
        }
    }
    (line, false)
}

/// Words that always start a command.
const COMMAND_WORDS: &[&str] = &[
    "ip",
    "no",
    "router",
    "access-list",
    "end",
    "exit",
    "standby",
    "radius-server",
    "tacacs-server",
    "redistribute",
    "hostname",
    "version",
    "service",
    "line",
    "enable",
    "username",
    "description",
    "shutdown",
    "default",
];

/// Command words that are also keywords inside `ip mobile` commands.
const AMBIGUOUS_WORDS: &[&str] = &["interface", "aaa", "network"];

fn is_ip_mobile(toks: &[Tok<'_>]) -> bool {
    let skip = usize::from(toks.first().is_some_and(|t| t.is("no")));
    toks.len() > skip + 1 && toks[skip].is("ip") && toks[skip + 1].is("mobile")
}

fn should_join(pending: &[Tok<'_>], next: &SrcLine<'_>) -> bool {
    if !is_ip_mobile(pending) {
        return false;
    }
    let Some(first) = next.toks.first() else {
        return false;
    };
    if COMMAND_WORDS.iter().any(|w| first.is(w)) {
        return false;
    }
    let incomplete = || matches!(parse_command(pending), Err(e) if e.incomplete);
    if AMBIGUOUS_WORDS.iter().any(|w| first.is(w)) {
        next.indented && incomplete()
    } else {
        next.indented || incomplete()
    }
}

/// An error in one command.
#[derive(Debug)]
struct CmdError {
    line: usize,
    message: String,
    hint: Option<String>,
    /// The command ended where more was needed (a wrapped line may complete it).
    incomplete: bool,
}

impl CmdError {
    fn new(line: usize, message: impl Into<String>, hint: impl Into<Option<String>>) -> CmdError {
        CmdError {
            line,
            message: message.into(),
            hint: hint.into(),
            incomplete: false,
        }
    }
}

type R<T> = Result<T, CmdError>;

const ROUTING_HINT: &str = "mipd runs no routing protocol: it installs the virtual networks and \
     mobile host routes in the kernel routing table; have your routing daemon redistribute them \
     (e.g. FRR 'redistribute kernel'). Remove this line";
const STANDBY_HINT: &str = "HSRP ('standby') is not part of mipd: keep the shared home-agent \
     address with VRRP (keepalived) and name the group in 'ip mobile home-agent redundancy GROUP' \
     (home agent redundancy, a later feature). Remove this line";
const AAA_HINT: &str = "retrieving security associations from AAA (RADIUS, TACACS+) is a later \
     feature of mipd with its own settings; configure local 'ip mobile secure' associations and \
     remove this line";
const NO_HINT: &str = "'no' is accepted for: router mobile, ip mobile home-agent [options], \
     ip mobile foreign-agent [options], and under an interface: ip irdp, \
     ip mobile foreign-service, ip mobile prefix-length, ip mobile registration-lifetime; \
     otherwise delete the line";
const TOP_HINT: &str = "mipd reads: router mobile, ip mobile ..., ip local pool, access-list, \
     interface NAME (with ip address, ip irdp ..., ip mobile foreign-service, \
     ip mobile prefix-length, ip mobile registration-lifetime), exit, end; '!' starts a comment";
const IF_HINT: &str = "put it under 'interface NAME' (e.g. 'interface eth1')";

const HA_KEYWORDS: &[&str] = &[
    "address",
    "broadcast",
    "care-of-access",
    "encapsulation",
    "lifetime",
    "redundancy",
    "replay",
    "reverse-tunnel-off",
    "roam-access",
    "simultaneous-bindings",
    "suppress-unreachable",
];
const HA_SYNTAX: &str = "ip mobile home-agent [address A] [broadcast] [care-of-access ACL] \
     [lifetime SECS] [replay SECS] [reverse-tunnel-off] [roam-access ACL] [suppress-unreachable] \
     [simultaneous-bindings N] [encapsulation ipip [gre] [minimal]] \
     [redundancy GROUP [virtual-network] [address A] [periodic-sync]]";
const IP_MOBILE_KEYWORDS: &[&str] = &[
    "foreign-agent",
    "foreign-service",
    "home-agent",
    "host",
    "network",
    "prefix-length",
    "registration-lifetime",
    "secure",
    "virtual-network",
];
const HOST_SYNTAX: &str =
    "ip mobile host LOWER [UPPER] {interface NAME | virtual-network NET MASK} \
     [aaa [load-sa]] [care-of-access ACL] [lifetime SECS]";
const NAI_HOST_SYNTAX: &str = "ip mobile host nai NAI address {A | pool local POOL} \
     {interface NAME | virtual-network NET MASK} [aaa [load-sa]] [care-of-access ACL] \
     [lifetime SECS]";
const SECURE_SYNTAX: &str = "ip mobile secure {host|visitor|foreign-agent|home-agent} \
     {LOWER [UPPER] | nai NAI} {spi SPI | inbound-spi SPI outbound-spi SPI} key {hex|ascii} KEY \
     [algorithm {md5 mode prefix-suffix | hmac-md5}] [replay {timestamp [within SECS] | nonce}]";
const FA_SYNTAX: &str = "ip mobile foreign-agent [care-of IF] [reg-wait SECS] [reverse-tunnel]";
const FS_SYNTAX: &str = "ip mobile foreign-service [home-access ACL] [limit N] \
     [registration-required] [reverse-tunnel [mandatory]]";
const ACL_SYNTAX: &str =
    "access-list N {permit|deny} {any | host A | A [WILDCARD]}  or  access-list N remark TEXT";

/// Cursor over the words of one command.
struct Cur<'t, 'a> {
    toks: &'t [Tok<'a>],
    pos: usize,
    cmd: &'static str,
    syntax: &'static str,
    /// Do not repeat unknown words in messages (they may be part of a key).
    secret: bool,
}

impl<'a> Cur<'_, 'a> {
    fn peek(&self) -> Option<Tok<'a>> {
        self.toks.get(self.pos).copied()
    }

    fn eat(&mut self, kw: &str) -> bool {
        if self.peek().is_some_and(|t| t.is(kw)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Line of the current word, or of the last one at the end.
    fn line(&self) -> usize {
        self.toks
            .get(self.pos)
            .or(self.toks.last())
            .map_or(0, |t| t.line)
    }

    fn incomplete(&self, expected: &str) -> CmdError {
        CmdError {
            line: self.line(),
            message: format!("incomplete command '{}': expected {expected}", self.cmd),
            hint: Some(format!("syntax: {}", self.syntax)),
            incomplete: true,
        }
    }

    fn next(&mut self, expected: &str) -> R<Tok<'a>> {
        let t = self.peek().ok_or_else(|| self.incomplete(expected))?;
        self.pos += 1;
        Ok(t)
    }

    /// The word in quotes, for messages. After a key, a word is shown only when it looks
    /// like a misspelt keyword (it may be the second half of a key with a space in it).
    fn shown(&self, t: Tok<'_>, expected: &[&str]) -> String {
        if self.secret && !expected.iter().any(|k| near(t.text, k)) {
            "(not shown: it may be part of the key)".to_owned()
        } else {
            format!("'{}'", t.text)
        }
    }

    fn unknown(&self, t: Tok<'_>, expected: &[&str]) -> CmdError {
        CmdError::new(
            t.line,
            format!(
                "unknown keyword {} in '{}'",
                self.shown(t, expected),
                self.cmd
            ),
            format!("expected one of: {}", expected.join(", ")),
        )
    }

    fn end(&self) -> R<()> {
        match self.peek() {
            None => Ok(()),
            Some(t) => Err(CmdError::new(
                t.line,
                format!(
                    "unexpected {} at the end of '{}'",
                    self.shown(t, &[]),
                    self.cmd
                ),
                format!("syntax: {}", self.syntax),
            )),
        }
    }

    fn addr(&mut self, what: &str) -> R<Ipv4Addr> {
        let t = self.next(what)?;
        parse_addr(t.text).ok_or_else(|| {
            CmdError::new(
                t.line,
                format!("bad address '{}' for {what} in '{}'", t.text, self.cmd),
                "an IPv4 address is written a.b.c.d, e.g. 10.0.0.1".to_owned(),
            )
        })
    }

    /// The next word if it is an address (an optional UPPER).
    fn opt_addr(&mut self) -> Option<Ipv4Addr> {
        let a = self.peek().and_then(|t| parse_addr(t.text))?;
        self.pos += 1;
        Some(a)
    }

    fn mask(&mut self, what: &str) -> R<u8> {
        let t = self.peek();
        let m = self.addr(what)?;
        mask_len(m).ok_or_else(|| {
            CmdError::new(
                t.map_or(self.line(), |t| t.line),
                format!(
                    "bad netmask {m} in '{}': the one bits are not contiguous",
                    self.cmd
                ),
                "a netmask is ones followed by zeros, e.g. 255.255.255.0 (/24)".to_owned(),
            )
        })
    }

    /// `NET MASK` with the host bits clear.
    fn network(&mut self) -> R<Prefix> {
        let line = self.line();
        let net = self.addr("the network address")?;
        let len = self.mask("the netmask")?;
        Prefix::new(net, len).ok_or_else(|| {
            let mask = Ipv4Addr::from(crate::model::mask_of(len));
            let fixed = Ipv4Addr::from(u32::from(net) & u32::from(mask));
            CmdError::new(
                line,
                format!("network {net} {mask} has host bits set in '{}'", self.cmd),
                format!("the network is {fixed}; write '{fixed} {mask}'"),
            )
        })
    }

    fn num(&mut self, what: &str, min: u64, max: u64, hint: &str) -> R<u64> {
        let t = self.next(what)?;
        match t.text.parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            Ok(n) => Err(CmdError::new(
                t.line,
                format!("{what} {n} is out of range in '{}'", self.cmd),
                hint.to_owned(),
            )),
            Err(_) => Err(CmdError::new(
                t.line,
                format!("bad number '{}' for {what} in '{}'", t.text, self.cmd),
                hint.to_owned(),
            )),
        }
    }

    fn lifetime(&mut self) -> R<u16> {
        Ok(self.num("lifetime", 1, 65535, LIFETIME_HINT)? as u16)
    }

    fn acl(&mut self, what: &str) -> R<AclId> {
        let t = self.peek();
        let n = self.num(what, 0, u64::from(u32::MAX), ACL_NUMBER_HINT)?;
        if !is_standard_acl(n as u32) {
            return Err(CmdError::new(
                t.map_or(self.line(), |t| t.line),
                format!("access list number {n} is not a standard IP list"),
                ACL_NUMBER_HINT.to_owned(),
            ));
        }
        Ok(n as AclId)
    }

    fn spi(&mut self, what: &str) -> R<u32> {
        let t = self.next(what)?;
        let digits = t
            .text
            .strip_prefix("0x")
            .or_else(|| t.text.strip_prefix("0X"))
            .unwrap_or(t.text);
        let spi = if digits.is_empty() || digits.len() > 8 {
            None
        } else {
            u32::from_str_radix(digits, 16).ok()
        };
        let Some(spi) = spi else {
            return Err(CmdError::new(
                t.line,
                format!("bad SPI '{}' in '{}'", t.text, self.cmd),
                SPI_HINT.to_owned(),
            ));
        };
        if spi < crate::model::MIN_SPI {
            return Err(CmdError::new(
                t.line,
                spi_reserved_message("SPI", spi),
                SPI_HINT.to_owned(),
            ));
        }
        Ok(spi)
    }

    fn word(&mut self, what: &str) -> R<Tok<'a>> {
        self.next(what)
    }
}

/// True when `word` is within two edits of `keyword` (case-insensitive).
fn near(word: &str, keyword: &str) -> bool {
    let a: Vec<char> = word.to_ascii_lowercase().chars().collect();
    let b: Vec<char> = keyword.chars().collect();
    if a.len().abs_diff(b.len()) > 2 {
        return false;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()] <= 2
}

fn parse_addr(s: &str) -> Option<Ipv4Addr> {
    // Ipv4Addr's parser takes exactly a.b.c.d with decimal octets.
    s.parse().ok()
}

fn cur<'t, 'a>(
    toks: &'t [Tok<'a>],
    pos: usize,
    cmd: &'static str,
    syntax: &'static str,
) -> Cur<'t, 'a> {
    Cur {
        toks,
        pos,
        cmd,
        syntax,
        secret: false,
    }
}

/// One parsed command.
enum Cmd {
    RouterMobile(bool),
    HomeAgent(Vec<(HaOpt, usize)>),
    NoHomeAgent(Vec<(&'static str, Option<Ipv4Addr>)>),
    VirtualNetwork(Prefix),
    Host(HostGroup),
    NaiHost(NaiHost),
    Secure(Box<SaParams>),
    LocalPool(String, AddressRange),
    ForeignAgent {
        opts: Vec<(FaOpt, usize)>,
        spelled_apart: bool,
    },
    NoForeignAgent(Vec<(&'static str, Option<String>)>),
    AclRule(AclId, AclRule),
    AclRemark(AclId, String),
    Interface(String),
    Exit,
    If(IfCmd),
}

enum HaOpt {
    Address(Ipv4Addr),
    Broadcast,
    CareOfAccess(AclId),
    Lifetime(u16),
    Replay(u32),
    ReverseTunnelOff,
    RoamAccess(AclId),
    SuppressUnreachable,
    SimultaneousBindings(u16),
    Encapsulation(Encapsulations),
    Redundancy(Redundancy),
}

impl HaOpt {
    fn key(&self) -> &'static str {
        match self {
            HaOpt::Address(_) => "address",
            HaOpt::Broadcast => "broadcast",
            HaOpt::CareOfAccess(_) => "care-of-access",
            HaOpt::Lifetime(_) => "lifetime",
            HaOpt::Replay(_) => "replay",
            HaOpt::ReverseTunnelOff => "reverse-tunnel-off",
            HaOpt::RoamAccess(_) => "roam-access",
            HaOpt::SuppressUnreachable => "suppress-unreachable",
            HaOpt::SimultaneousBindings(_) => "simultaneous-bindings",
            HaOpt::Encapsulation(_) => "encapsulation",
            HaOpt::Redundancy(_) => "redundancy",
        }
    }
}

enum FaOpt {
    CareOf(String),
    RegWait(u16),
    ReverseTunnel,
}

enum IfCmd {
    Address(InterfaceAddress),
    Irdp(bool),
    IrdpMax(u16),
    IrdpMin(u16),
    IrdpHold(u16),
    ForeignService(Option<ForeignService>),
    PrefixLength(bool),
    RegistrationLifetime(Option<u16>),
}

impl IfCmd {
    fn key(&self) -> &'static str {
        match self {
            IfCmd::Address(_) => "address",
            IfCmd::Irdp(_) => "irdp",
            IfCmd::IrdpMax(_) => "maxadvertinterval",
            IfCmd::IrdpMin(_) => "minadvertinterval",
            IfCmd::IrdpHold(_) => "holdtime",
            IfCmd::ForeignService(_) => "foreign-service",
            IfCmd::PrefixLength(_) => "prefix-length",
            IfCmd::RegistrationLifetime(_) => "registration-lifetime",
        }
    }

    fn name(&self) -> &'static str {
        match self {
            IfCmd::Address(_) => "ip address",
            IfCmd::Irdp(_) | IfCmd::IrdpMax(_) | IfCmd::IrdpMin(_) | IfCmd::IrdpHold(_) => {
                "ip irdp"
            }
            IfCmd::ForeignService(_) => "ip mobile foreign-service",
            IfCmd::PrefixLength(_) => "ip mobile prefix-length",
            IfCmd::RegistrationLifetime(_) => "ip mobile registration-lifetime",
        }
    }
}

/// Parses one command (its words may come from several lines).
fn parse_command(toks: &[Tok<'_>]) -> R<Cmd> {
    let Some(first) = toks.first() else {
        return Err(CmdError::new(0, "empty command", None));
    };
    let word = first.text.to_ascii_lowercase();
    match word.as_str() {
        "router" => {
            let mut c = cur(toks, 1, "router", "router mobile");
            let t = c.next("'mobile'")?;
            if t.is("mobile") {
                c.end()?;
                Ok(Cmd::RouterMobile(true))
            } else {
                Err(CmdError::new(
                    t.line,
                    format!(
                        "routing protocols are not part of mipd ('router {}')",
                        t.text
                    ),
                    ROUTING_HINT.to_owned(),
                ))
            }
        }
        "ip" => parse_ip(toks),
        "no" => parse_no(toks),
        "interface" => {
            let mut c = cur(toks, 1, "interface", "interface NAME");
            let name = c.word("the interface name")?;
            let mut full = name.text.to_owned();
            // `interface Ethernet 0` is `Ethernet0` on the router.
            while let Some(t) = c.peek() {
                if t.text.starts_with(|ch: char| ch.is_ascii_digit()) {
                    full.push_str(t.text);
                    c.pos += 1;
                } else {
                    return Err(CmdError::new(
                        t.line,
                        format!("unexpected '{}' after the interface name '{full}'", t.text),
                        "syntax: interface NAME (a Linux name such as eth1)".to_owned(),
                    ));
                }
            }
            Ok(Cmd::Interface(full))
        }
        "access-list" => parse_acl(toks),
        "end" | "exit" => {
            cur(
                toks,
                1,
                if word == "end" { "end" } else { "exit" },
                "end | exit",
            )
            .end()?;
            Ok(Cmd::Exit)
        }
        "standby" => Err(CmdError::new(
            first.line,
            "HSRP 'standby' is not supported",
            STANDBY_HINT.to_owned(),
        )),
        "aaa" | "radius-server" | "tacacs-server" => Err(CmdError::new(
            first.line,
            format!("'{}' (AAA) is not supported yet", first.text),
            AAA_HINT.to_owned(),
        )),
        "redistribute" | "network" => Err(CmdError::new(
            first.line,
            format!(
                "'{}' belongs to a routing protocol, which mipd does not run",
                first.text
            ),
            ROUTING_HINT.to_owned(),
        )),
        "shutdown" => Err(CmdError::new(
            first.line,
            "'shutdown' is not a mipd setting",
            "link state belongs to the system: 'ip link set dev IF down'".to_owned(),
        )),
        _ => Err(CmdError::new(
            first.line,
            format!("unknown command '{}'", first.text),
            TOP_HINT.to_owned(),
        )),
    }
}

fn parse_ip(toks: &[Tok<'_>]) -> R<Cmd> {
    let mut c = cur(toks, 1, "ip", TOP_HINT);
    let t = c.next("'mobile', 'local pool', 'address' or 'irdp'")?;
    match t.text.to_ascii_lowercase().as_str() {
        "mobile" => parse_ip_mobile(toks),
        "local" => {
            let mut c = cur(toks, 2, "ip local pool", "ip local pool NAME LOWER [UPPER]");
            let p = c.next("'pool'")?;
            if !p.is("pool") {
                return Err(c.unknown(p, &["pool"]));
            }
            let name = c.word("the pool name")?;
            let lower = c.addr("the first address")?;
            let upper = c.opt_addr().unwrap_or(lower);
            c.end()?;
            Ok(Cmd::LocalPool(
                name.text.to_owned(),
                AddressRange { lower, upper },
            ))
        }
        "address" => {
            let mut c = cur(toks, 2, "ip address", "ip address A MASK");
            if c.peek().is_some_and(|t| t.is("dhcp")) {
                return Err(CmdError::new(
                    t.line,
                    "'ip address dhcp' is not a mipd setting",
                    "leave the address to the system (omit 'ip address'); mipd then uses the \
                     interface's primary address"
                        .to_owned(),
                ));
            }
            let address = c.addr("the address")?;
            let prefix_len = c.mask("the netmask")?;
            if c.peek().is_some_and(|t| t.is("secondary")) {
                return Err(CmdError::new(
                    t.line,
                    "secondary addresses are not supported",
                    "give the address the agent uses on this link; other addresses belong to \
                     the system"
                        .to_owned(),
                ));
            }
            c.end()?;
            Ok(Cmd::If(IfCmd::Address(InterfaceAddress {
                address,
                prefix_len,
            })))
        }
        "irdp" => {
            let mut c = cur(
                toks,
                2,
                "ip irdp",
                "ip irdp [maxadvertinterval SECS | minadvertinterval SECS | holdtime SECS]",
            );
            let Some(k) = c.peek() else {
                return Ok(Cmd::If(IfCmd::Irdp(true)));
            };
            c.pos += 1;
            let cmd = match k.text.to_ascii_lowercase().as_str() {
                "maxadvertinterval" => {
                    IfCmd::IrdpMax(c.num("maxadvertinterval", 1, 1800, "1-1800 seconds")? as u16)
                }
                "minadvertinterval" => {
                    IfCmd::IrdpMin(c.num("minadvertinterval", 1, 1800, "1-1800 seconds")? as u16)
                }
                "holdtime" => IfCmd::IrdpHold(c.num("holdtime", 1, 9000, "1-9000 seconds")? as u16),
                _ => {
                    return Err(
                        c.unknown(k, &["holdtime", "maxadvertinterval", "minadvertinterval"])
                    )
                }
            };
            c.end()?;
            Ok(Cmd::If(cmd))
        }
        "access-list" => Err(CmdError::new(
            t.line,
            "named access lists are not supported",
            "use numbered standard lists: 'access-list N permit|deny ...'".to_owned(),
        )),
        "proxy-mobile" => Err(CmdError::new(
            t.line,
            "'ip proxy-mobile' (access point proxy Mobile IP) is not supported yet",
            "proxy Mobile IP for unmodified clients (seed 003) is a later feature of mipd"
                .to_owned(),
        )),
        "route" => Err(CmdError::new(
            t.line,
            "static routes are not a mipd setting",
            "routes belong to the system ('ip route add ...')".to_owned(),
        )),
        _ => Err(CmdError::new(
            t.line,
            format!("unknown command 'ip {}'", t.text),
            TOP_HINT.to_owned(),
        )),
    }
}

fn parse_ip_mobile(toks: &[Tok<'_>]) -> R<Cmd> {
    let mut c = cur(toks, 2, "ip mobile", TOP_HINT);
    let t = c.next("home-agent, virtual-network, host, secure, foreign-agent, ...")?;
    match t.text.to_ascii_lowercase().as_str() {
        "home-agent" => parse_home_agent(toks, 3).map(Cmd::HomeAgent),
        "virtual-network" | "network" => {
            let mut c = cur(
                toks,
                3,
                "ip mobile virtual-network",
                "ip mobile virtual-network NET MASK",
            );
            let net = c.network()?;
            c.end()?;
            Ok(Cmd::VirtualNetwork(net))
        }
        "host" => parse_host(toks),
        "secure" => parse_secure(toks),
        "foreign-agent" => parse_foreign_agent(toks, 3).map(|opts| Cmd::ForeignAgent {
            opts,
            spelled_apart: false,
        }),
        // Seed 002's example writes `ip mobile foreign agent care-of Ethernet0`.
        "foreign" if c.peek().is_some_and(|n| n.is("agent")) => {
            parse_foreign_agent(toks, 4).map(|opts| Cmd::ForeignAgent {
                opts,
                spelled_apart: true,
            })
        }
        "foreign-service" => {
            parse_foreign_service(toks, 3).map(|fs| Cmd::If(IfCmd::ForeignService(Some(fs))))
        }
        "prefix-length" => {
            cur(
                toks,
                3,
                "ip mobile prefix-length",
                "ip mobile prefix-length",
            )
            .end()?;
            Ok(Cmd::If(IfCmd::PrefixLength(true)))
        }
        "registration-lifetime" => {
            let mut c = cur(
                toks,
                3,
                "ip mobile registration-lifetime",
                "ip mobile registration-lifetime SECS",
            );
            let l = c.lifetime()?;
            c.end()?;
            Ok(Cmd::If(IfCmd::RegistrationLifetime(Some(l))))
        }
        "router" | "mobile-networks" => Err(CmdError::new(
            t.line,
            format!("'ip mobile {}' is not supported yet", t.text),
            "mobile routers and mobile networks (RFC 5177) are a later feature".to_owned(),
        )),
        "proxy-host" => Err(CmdError::new(
            t.line,
            "'ip mobile proxy-host' is not supported yet",
            "proxy Mobile IP for access points (seed 003) is a later feature".to_owned(),
        )),
        "radius" => Err(CmdError::new(
            t.line,
            "'ip mobile radius' is not supported yet",
            AAA_HINT.to_owned(),
        )),
        _ => Err(c.unknown(t, IP_MOBILE_KEYWORDS)),
    }
}

fn parse_home_agent(toks: &[Tok<'_>], start: usize) -> R<Vec<(HaOpt, usize)>> {
    let mut c = cur(toks, start, "ip mobile home-agent", HA_SYNTAX);
    let mut opts = Vec::new();
    while let Some(t) = c.peek() {
        c.pos += 1;
        let opt = match t.text.to_ascii_lowercase().as_str() {
            "address" => HaOpt::Address(c.addr("the home agent address")?),
            "broadcast" => HaOpt::Broadcast,
            "care-of-access" => HaOpt::CareOfAccess(c.acl("care-of-access")?),
            "lifetime" => HaOpt::Lifetime(c.lifetime()?),
            "replay" => HaOpt::Replay(c.num(
                "replay",
                1,
                65535,
                "the timestamp tolerance in seconds, 1-65535 (default 7)",
            )? as u32),
            "reverse-tunnel-off" => HaOpt::ReverseTunnelOff,
            "roam-access" => HaOpt::RoamAccess(c.acl("roam-access")?),
            "suppress-unreachable" => HaOpt::SuppressUnreachable,
            "simultaneous-bindings" => HaOpt::SimultaneousBindings(c.num(
                "simultaneous-bindings",
                1,
                255,
                "1-255 bindings per mobile node (1 = simultaneous bindings off; default 5)",
            )? as u16),
            "encapsulation" => {
                let mut e = Encapsulations {
                    gre: false,
                    minimal: false,
                };
                let mut any = false;
                while let Some(k) = c.peek() {
                    if k.is("ipip") || k.is("ip-in-ip") {
                    } else if k.is("gre") {
                        e.gre = true;
                    } else if k.is("minimal") {
                        e.minimal = true;
                    } else {
                        break;
                    }
                    any = true;
                    c.pos += 1;
                }
                if !any {
                    return match c.peek() {
                        None => Err(c.incomplete("ipip, gre or minimal")),
                        Some(k) => Err(c.unknown(k, &["gre", "ipip", "minimal"])),
                    };
                }
                HaOpt::Encapsulation(e)
            }
            "redundancy" => {
                let group = c.word("the redundancy group name")?;
                let mut r = Redundancy {
                    group: group.text.to_owned(),
                    virtual_network: false,
                    address: None,
                    periodic_sync: false,
                };
                loop {
                    if c.eat("virtual-network") {
                        r.virtual_network = true;
                    } else if c.eat("address") {
                        r.address = Some(c.addr("the redundancy address")?);
                    } else if c.eat("periodic-sync") {
                        r.periodic_sync = true;
                    } else {
                        break;
                    }
                }
                HaOpt::Redundancy(r)
            }
            _ => return Err(c.unknown(t, HA_KEYWORDS)),
        };
        opts.push((opt, t.line));
    }
    Ok(opts)
}

fn parse_location<'a>(c: &mut Cur<'_, 'a>) -> R<HomeLocation> {
    let t = c.next("interface NAME or virtual-network NET MASK")?;
    if t.is("interface") {
        let name = c.word("the interface name")?;
        Ok(HomeLocation::Interface(name.text.to_owned()))
    } else if t.is("virtual-network") {
        Ok(HomeLocation::VirtualNetwork(c.network()?))
    } else {
        Err(c.unknown(t, &["interface", "virtual-network"]))
    }
}

/// `[aaa [load-sa]] [care-of-access ACL] [lifetime N]`, any order.
fn parse_host_options(c: &mut Cur<'_, '_>) -> R<(SaSource, Option<AclId>, Option<u16>)> {
    let (mut source, mut acl, mut lifetime) = (SaSource::Local, None, None);
    while let Some(t) = c.peek() {
        c.pos += 1;
        if t.is("aaa") {
            source = if c.eat("load-sa") {
                SaSource::AaaLoadSa
            } else {
                SaSource::Aaa
            };
        } else if t.is("care-of-access") {
            acl = Some(c.acl("care-of-access")?);
        } else if t.is("lifetime") {
            lifetime = Some(c.lifetime()?);
        } else {
            return Err(c.unknown(t, &["aaa", "care-of-access", "lifetime"]));
        }
    }
    Ok((source, acl, lifetime))
}

fn nai_word(c: &mut Cur<'_, '_>) -> R<String> {
    let t = c.word("the NAI")?;
    if let Some(problem) = nai_problem(t.text) {
        return Err(CmdError::new(
            t.line,
            problem,
            "an NAI is user@realm (RFC 7542)".to_owned(),
        ));
    }
    Ok(t.text.to_owned())
}

fn parse_host(toks: &[Tok<'_>]) -> R<Cmd> {
    if toks.get(3).is_some_and(|t| t.is("nai")) {
        let mut c = cur(toks, 4, "ip mobile host nai", NAI_HOST_SYNTAX);
        let nai = nai_word(&mut c)?;
        let a = c.next("'address'")?;
        if !a.is("address") {
            return Err(c.unknown(a, &["address"]));
        }
        let address = if c.eat("pool") {
            let k = c.next("'local POOL'")?;
            if k.is("local") {
                HomeAddress::Pool(c.word("the pool name")?.text.to_owned())
            } else if k.is("dhcp-proxy") {
                return Err(CmdError::new(
                    k.line,
                    "home addresses from a DHCP server are not supported yet",
                    "use 'address pool local POOL' with 'ip local pool POOL LOWER UPPER', or a \
                     static 'address A'"
                        .to_owned(),
                ));
            } else {
                return Err(c.unknown(k, &["local"]));
            }
        } else {
            HomeAddress::Static(c.addr("the home address (or 'pool local POOL')")?)
        };
        let location = parse_location(&mut c)?;
        let (sa_source, care_of_access, lifetime) = parse_host_options(&mut c)?;
        return Ok(Cmd::NaiHost(NaiHost {
            nai,
            address,
            location,
            sa_source,
            care_of_access,
            lifetime,
        }));
    }
    let mut c = cur(toks, 3, "ip mobile host", HOST_SYNTAX);
    let lower = c.addr("the first home address")?;
    let upper = c.opt_addr().unwrap_or(lower);
    let location = parse_location(&mut c)?;
    let (sa_source, care_of_access, lifetime) = parse_host_options(&mut c)?;
    Ok(Cmd::Host(HostGroup {
        range: AddressRange { lower, upper },
        location,
        sa_source,
        care_of_access,
        lifetime,
    }))
}

fn parse_secure(toks: &[Tok<'_>]) -> R<Cmd> {
    let mut c = cur(toks, 3, "ip mobile secure", SECURE_SYNTAX);
    let k = c.next("host, visitor, foreign-agent or home-agent")?;
    let peer = match Peer::from_keyword(k.text) {
        Some(p) => p,
        None if k.is("proxy-host") => {
            return Err(CmdError::new(
                k.line,
                "'ip mobile secure proxy-host' is not supported yet",
                "proxy Mobile IP (seed 003) is a later feature".to_owned(),
            ))
        }
        None if k.is("aaa-server") || k.is("mn-aaa") => {
            return Err(CmdError::new(
                k.line,
                format!("'ip mobile secure {}' is not supported yet", k.text),
                AAA_HINT.to_owned(),
            ))
        }
        None => {
            return Err(c.unknown(k, &["foreign-agent", "home-agent", "host", "visitor"]));
        }
    };
    let target = if c.eat("nai") {
        SaTarget::Nai(nai_word(&mut c)?)
    } else {
        let lower = c.addr("the address (or 'nai NAI')")?;
        let upper = c.opt_addr().unwrap_or(lower);
        SaTarget::Range(AddressRange { lower, upper })
    };
    let s = c.next("spi SPI or inbound-spi SPI outbound-spi SPI")?;
    let (inbound_spi, outbound_spi) = if s.is("spi") {
        let spi = c.spi("the SPI (hexadecimal)")?;
        (spi, spi)
    } else if s.is("inbound-spi") {
        let i = c.spi("the inbound SPI (hexadecimal)")?;
        let o = c.next("'outbound-spi SPI'")?;
        if !o.is("outbound-spi") {
            return Err(c.unknown(o, &["outbound-spi"]));
        }
        (i, c.spi("the outbound SPI (hexadecimal)")?)
    } else if s.is("outbound-spi") {
        let o = c.spi("the outbound SPI (hexadecimal)")?;
        let i = c.next("'inbound-spi SPI'")?;
        if !i.is("inbound-spi") {
            return Err(c.unknown(i, &["inbound-spi"]));
        }
        (c.spi("the inbound SPI (hexadecimal)")?, o)
    } else {
        return Err(c.unknown(s, &["inbound-spi", "spi"]));
    };
    let kw = c.next("'key hex KEY' or 'key ascii KEY'")?;
    if !kw.is("key") {
        return Err(c.unknown(kw, &["key"]));
    }
    let f = c.next("'hex' or 'ascii'")?;
    c.secret = true;
    let (key, key_format) = if f.is("hex") {
        let v = c.word("the key (hex digits)")?;
        let key = Key::from_hex(v.text).map_err(|e| {
            CmdError::new(
                v.line,
                format!("bad hex key: {e}"),
                "a hex key is two digits per byte, no 0x prefix: 32 digits for a 128-bit key"
                    .to_owned(),
            )
        })?;
        (key, KeyFormat::Hex)
    } else if f.is("ascii") {
        let v = c.word("the key (text)")?;
        let key = Key::from_ascii(v.text).map_err(|e| {
            CmdError::new(
                v.line,
                format!("bad ASCII key: {e}"),
                "an ASCII key is one word of printable characters".to_owned(),
            )
        })?;
        (key, KeyFormat::Ascii)
    } else {
        return Err(c.unknown(f, &["ascii", "hex"]));
    };
    let mut algorithm = Algorithm::KeyedMd5PrefixSuffix;
    let mut replay = ReplaySetting::default();
    while let Some(t) = c.peek() {
        c.pos += 1;
        if t.is("algorithm") {
            let a = c.next("md5 or hmac-md5")?;
            if a.is("md5") {
                if c.eat("mode") {
                    let m = c.next("'prefix-suffix'")?;
                    if !m.is("prefix-suffix") {
                        return Err(c.unknown(m, &["prefix-suffix"]));
                    }
                }
                algorithm = Algorithm::KeyedMd5PrefixSuffix;
            } else if a.is("hmac-md5") {
                algorithm = Algorithm::HmacMd5;
            } else {
                return Err(c.unknown(a, &["hmac-md5", "md5"]));
            }
        } else if t.is("replay") {
            let r = c.next("'timestamp' or 'nonce'")?;
            if r.is("timestamp") {
                let window_secs = if c.eat("within") {
                    Some(c.num(
                        "within",
                        1,
                        65535,
                        "the timestamp tolerance in seconds, 1-65535 (default 7)",
                    )? as u32)
                } else {
                    None
                };
                replay = ReplaySetting::Timestamp { window_secs };
            } else if r.is("nonce") {
                replay = ReplaySetting::Nonce;
            } else {
                return Err(c.unknown(r, &["nonce", "timestamp"]));
            }
        } else {
            return Err(c.unknown(t, &["algorithm", "replay"]));
        }
    }
    Ok(Cmd::Secure(Box::new(SaParams {
        peer,
        target,
        inbound_spi,
        outbound_spi,
        algorithm,
        key,
        key_format,
        replay,
    })))
}

fn parse_foreign_agent(toks: &[Tok<'_>], start: usize) -> R<Vec<(FaOpt, usize)>> {
    let mut c = cur(toks, start, "ip mobile foreign-agent", FA_SYNTAX);
    let mut opts = Vec::new();
    while let Some(t) = c.peek() {
        c.pos += 1;
        let opt = if t.is("care-of") {
            FaOpt::CareOf(c.word("the care-of interface")?.text.to_owned())
        } else if t.is("reg-wait") {
            FaOpt::RegWait(c.num(
                "reg-wait",
                5,
                600,
                "the pending-registration timeout is 5-600 seconds (default 15)",
            )? as u16)
        } else if t.is("reverse-tunnel") {
            FaOpt::ReverseTunnel
        } else {
            return Err(c.unknown(t, &["care-of", "reg-wait", "reverse-tunnel"]));
        };
        opts.push((opt, t.line));
    }
    Ok(opts)
}

fn parse_foreign_service(toks: &[Tok<'_>], start: usize) -> R<ForeignService> {
    let mut c = cur(toks, start, "ip mobile foreign-service", FS_SYNTAX);
    let mut fs = ForeignService::default();
    while let Some(t) = c.peek() {
        c.pos += 1;
        if t.is("home-access") {
            fs.home_access = Some(c.acl("home-access")?);
        } else if t.is("limit") {
            fs.limit = Some(c.num("limit", 1, 1000, "1-1000 visitors")? as u16);
        } else if t.is("registration-required") {
            fs.registration_required = true;
        } else if t.is("reverse-tunnel") {
            fs.reverse_tunnel = true;
            if c.eat("mandatory") {
                fs.reverse_tunnel_mandatory = true;
            }
        } else {
            return Err(c.unknown(
                t,
                &[
                    "home-access",
                    "limit",
                    "registration-required",
                    "reverse-tunnel",
                ],
            ));
        }
    }
    Ok(fs)
}

fn parse_acl(toks: &[Tok<'_>]) -> R<Cmd> {
    let mut c = cur(toks, 1, "access-list", ACL_SYNTAX);
    let id = c.acl("the access list number")?;
    let a = c.next("permit, deny or remark")?;
    let action = if a.is("permit") {
        AclAction::Permit
    } else if a.is("deny") {
        AclAction::Deny
    } else if a.is("remark") {
        let text: Vec<&str> = toks[c.pos..].iter().map(|t| t.text).collect();
        if text.is_empty() {
            return Err(c.incomplete("the remark text"));
        }
        return Ok(Cmd::AclRemark(id, text.join(" ")));
    } else {
        return Err(c.unknown(a, &["deny", "permit", "remark"]));
    };
    let t = c.next("any, host A, or A [WILDCARD]")?;
    let rule = if t.is("any") {
        AclRule::new(action, Ipv4Addr::UNSPECIFIED, Ipv4Addr::BROADCAST)
    } else if t.is("host") {
        AclRule::new(action, c.addr("the host address")?, Ipv4Addr::UNSPECIFIED)
    } else {
        let address = parse_addr(t.text).ok_or_else(|| {
            CmdError::new(
                t.line,
                format!("bad address '{}' in 'access-list'", t.text),
                "expected any, host A, or A [WILDCARD] (e.g. 13.0.0.0 0.255.255.255)".to_owned(),
            )
        })?;
        let wildcard = c.opt_addr().unwrap_or(Ipv4Addr::UNSPECIFIED);
        AclRule::new(action, address, wildcard)
    };
    if let Some(extra) = c.peek() {
        return Err(CmdError::new(
            extra.line,
            format!("unexpected '{}' in 'access-list'", extra.text),
            "standard access lists match the source address only; 'log' and extended \
             matches are not supported"
                .to_owned(),
        ));
    }
    Ok(Cmd::AclRule(id, rule))
}

fn parse_no(toks: &[Tok<'_>]) -> R<Cmd> {
    let words: Vec<String> = toks.iter().map(|t| t.text.to_ascii_lowercase()).collect();
    let w = |i: usize| words.get(i).map_or("", String::as_str);
    let unsupported = || {
        let shown: Vec<&str> = toks.iter().take(4).map(|t| t.text).collect();
        CmdError::new(
            toks[0].line,
            format!(
                "the 'no' form of '{}' is not supported",
                shown[1..].join(" ")
            ),
            NO_HINT.to_owned(),
        )
    };
    match (w(1), w(2), w(3)) {
        ("", _, _) => Err(cur(toks, 1, "no", NO_HINT).incomplete("a command")),
        ("router", "mobile", _) if words.len() == 3 => Ok(Cmd::RouterMobile(false)),
        ("ip", "mobile", "home-agent") => {
            // Options with or without their values; each returns to its default.
            let mut opts = Vec::new();
            let mut c = cur(toks, 4, "no ip mobile home-agent", HA_SYNTAX);
            while let Some(t) = c.peek() {
                c.pos += 1;
                let Some(&key) = HA_KEYWORDS.iter().find(|k| t.is(k)) else {
                    return Err(c.unknown(t, HA_KEYWORDS));
                };
                let mut addr = None;
                // Skip the option's values, if given.
                while let Some(v) = c.peek() {
                    if HA_KEYWORDS.iter().any(|k| v.is(k)) {
                        break;
                    }
                    if key == "address" && addr.is_none() {
                        addr = parse_addr(v.text);
                    }
                    c.pos += 1;
                }
                opts.push((key, addr));
            }
            Ok(Cmd::NoHomeAgent(opts))
        }
        ("ip", "mobile", "foreign-agent") => {
            let mut opts = Vec::new();
            let mut c = cur(toks, 4, "no ip mobile foreign-agent", FA_SYNTAX);
            while let Some(t) = c.peek() {
                c.pos += 1;
                if t.is("care-of") {
                    opts.push((
                        "care-of",
                        Some(c.word("the care-of interface")?.text.to_owned()),
                    ));
                } else if t.is("reg-wait") {
                    if c.peek().is_some_and(|v| v.text.parse::<u64>().is_ok()) {
                        c.pos += 1;
                    }
                    opts.push(("reg-wait", None));
                } else if t.is("reverse-tunnel") {
                    opts.push(("reverse-tunnel", None));
                } else {
                    return Err(c.unknown(t, &["care-of", "reg-wait", "reverse-tunnel"]));
                }
            }
            Ok(Cmd::NoForeignAgent(opts))
        }
        ("ip", "irdp", "") => Ok(Cmd::If(IfCmd::Irdp(false))),
        ("ip", "mobile", "foreign-service") => Ok(Cmd::If(IfCmd::ForeignService(None))),
        ("ip", "mobile", "prefix-length") if words.len() == 4 => {
            Ok(Cmd::If(IfCmd::PrefixLength(false)))
        }
        ("ip", "mobile", "registration-lifetime") if words.len() <= 5 => {
            Ok(Cmd::If(IfCmd::RegistrationLifetime(None)))
        }
        ("shutdown", _, _) => Err(CmdError::new(
            toks[0].line,
            "'no shutdown' is not a mipd setting",
            "link state belongs to the system: 'ip link set dev IF up'".to_owned(),
        )),
        _ => Err(unsupported()),
    }
}

struct Parser<'f> {
    file: &'f str,
    parts: Parts,
    origins: Origins,
    current_if: Option<String>,
    errors: Vec<ConfigError>,
}

const MAX_ERRORS: usize = 100;

impl Parser<'_> {
    fn error(&mut self, line: usize, message: String, hint: Option<String>) {
        if self.errors.len() < MAX_ERRORS {
            let mut e = ConfigError::new(self.file, Some(Loc::line(line)), message);
            e.hint = hint;
            self.errors.push(e);
        }
    }

    fn command(&mut self, toks: &[Tok<'_>]) {
        let line = toks.first().map_or(0, |t| t.line);
        let loc = Loc::line(line);
        let cmd = match parse_command(toks) {
            Ok(cmd) => cmd,
            Err(e) => {
                // An interface command that failed still belongs to the interface.
                if !is_interface_command(toks) {
                    self.current_if = None;
                }
                self.error(e.line, e.message, e.hint);
                return;
            }
        };
        if let Cmd::If(ic) = cmd {
            self.interface_command(ic, loc);
            return;
        }
        self.current_if = None;
        let p = &mut self.parts;
        let o = &mut self.origins;
        match cmd {
            Cmd::RouterMobile(on) => {
                p.mobile_ip = on;
                o.mobile_ip = Some(loc);
            }
            Cmd::HomeAgent(opts) => {
                p.home_agent.enabled = true;
                o.home_agent.entry("enabled").or_insert(loc);
                for (opt, l) in opts {
                    o.home_agent.insert(opt.key(), Loc::line(l));
                    apply_ha(&mut p.home_agent, opt);
                }
            }
            Cmd::NoHomeAgent(opts) => {
                let d = HomeAgent::default();
                let ha = &mut p.home_agent;
                if opts.is_empty() {
                    *ha = HomeAgent::default();
                }
                for (key, addr) in opts {
                    match key {
                        "address" => match addr {
                            Some(a) => ha.addresses.retain(|x| *x != a),
                            None => ha.addresses.clear(),
                        },
                        "broadcast" => ha.broadcast = d.broadcast,
                        "care-of-access" => ha.care_of_access = None,
                        "lifetime" => ha.lifetime = d.lifetime,
                        "replay" => ha.replay_window_secs = d.replay_window_secs,
                        "reverse-tunnel-off" => ha.reverse_tunnel = true,
                        "roam-access" => ha.roam_access = None,
                        "suppress-unreachable" => ha.suppress_unreachable = false,
                        "simultaneous-bindings" => ha.max_bindings = d.max_bindings,
                        "encapsulation" => ha.encapsulations = d.encapsulations,
                        _ => ha.redundancy = None,
                    }
                    o.home_agent.remove(key);
                }
            }
            Cmd::VirtualNetwork(net) => {
                if !p.virtual_networks.contains(&net) {
                    p.virtual_networks.push(net);
                    o.virtual_networks.push(loc);
                }
            }
            Cmd::Host(g) => {
                p.host_groups.push(g);
                o.host_groups.push(loc);
            }
            Cmd::NaiHost(h) => {
                p.nai_hosts.push(h);
                o.nai_hosts.push(loc);
            }
            Cmd::Secure(sa) => {
                p.sas.push(*sa);
                o.sas.push(loc);
            }
            Cmd::LocalPool(name, range) => {
                o.pools.entry(name.clone()).or_insert(loc);
                p.address_pools.entry(name).or_default().ranges.push(range);
            }
            Cmd::ForeignAgent {
                opts,
                spelled_apart,
            } => {
                if spelled_apart {
                    o.warnings.push(Warning::new(
                        self.file,
                        Some(loc),
                        "'ip mobile foreign agent' read as 'ip mobile foreign-agent' (the \
                         spelling of seed 002's example); the router itself wants the hyphen",
                    ));
                }
                let fa = &mut p.foreign_agent;
                fa.enabled = true;
                o.foreign_agent.entry("enabled").or_insert(loc);
                for (opt, l) in opts {
                    let l = Loc::line(l);
                    match opt {
                        FaOpt::CareOf(name) => {
                            o.foreign_agent.entry("care-of").or_insert(l);
                            if !fa.care_of.contains(&name) {
                                fa.care_of.push(name);
                            }
                        }
                        FaOpt::RegWait(s) => {
                            o.foreign_agent.insert("reg-wait", l);
                            fa.reg_wait_secs = s;
                        }
                        FaOpt::ReverseTunnel => fa.reverse_tunnel = true,
                    }
                }
            }
            Cmd::NoForeignAgent(opts) => {
                let fa = &mut p.foreign_agent;
                if opts.is_empty() {
                    *fa = Default::default();
                }
                for (key, name) in opts {
                    match key {
                        "care-of" => fa.care_of.retain(|c| Some(c) != name.as_ref()),
                        "reg-wait" => fa.reg_wait_secs = DEFAULT_REG_WAIT_SECS,
                        _ => fa.reverse_tunnel = false,
                    }
                }
            }
            Cmd::AclRule(id, rule) => {
                o.access_lists.entry(id).or_insert(loc);
                o.acl_rules.entry(id).or_default().push(loc);
                p.access_lists.entry(id).or_default().rules.push(rule);
            }
            Cmd::AclRemark(id, text) => {
                o.access_lists.entry(id).or_insert(loc);
                p.access_lists.entry(id).or_default().remarks.push(text);
            }
            Cmd::Interface(name) => {
                o.interfaces.entry(name.clone()).or_insert(loc);
                p.interfaces.entry(name.clone()).or_default();
                self.current_if = Some(name);
            }
            Cmd::Exit | Cmd::If(_) => {}
        }
    }

    fn interface_command(&mut self, cmd: IfCmd, loc: Loc) {
        let Some(name) = self.current_if.clone() else {
            self.error(
                loc.line,
                format!("'{}' is an interface command", cmd.name()),
                Some(IF_HINT.to_owned()),
            );
            return;
        };
        self.origins
            .interface_items
            .insert((name.clone(), cmd.key()), loc);
        let iface = self.parts.interfaces.entry(name).or_default();
        match cmd {
            IfCmd::Address(a) => iface.address = Some(a),
            IfCmd::Irdp(on) => iface.irdp.enabled = on,
            IfCmd::IrdpMax(v) => iface.irdp.max_advert_interval = Some(v),
            IfCmd::IrdpMin(v) => iface.irdp.min_advert_interval = Some(v),
            IfCmd::IrdpHold(v) => iface.irdp.holdtime = Some(v),
            IfCmd::ForeignService(fs) => iface.foreign_service = fs,
            IfCmd::PrefixLength(on) => iface.prefix_length = on,
            IfCmd::RegistrationLifetime(l) => iface.registration_lifetime = l,
        }
    }
}

fn apply_ha(ha: &mut HomeAgent, opt: HaOpt) {
    match opt {
        HaOpt::Address(a) => {
            if !ha.addresses.contains(&a) {
                ha.addresses.push(a);
            }
        }
        HaOpt::Broadcast => ha.broadcast = true,
        HaOpt::CareOfAccess(acl) => ha.care_of_access = Some(acl),
        HaOpt::Lifetime(l) => ha.lifetime = l,
        HaOpt::Replay(r) => ha.replay_window_secs = r,
        HaOpt::ReverseTunnelOff => ha.reverse_tunnel = false,
        HaOpt::RoamAccess(acl) => ha.roam_access = Some(acl),
        HaOpt::SuppressUnreachable => ha.suppress_unreachable = true,
        HaOpt::SimultaneousBindings(n) => ha.max_bindings = n,
        HaOpt::Encapsulation(e) => ha.encapsulations = e,
        HaOpt::Redundancy(r) => ha.redundancy = Some(r),
    }
}

/// True for words that begin an interface command (`ip address`, `ip irdp`,
/// `ip mobile foreign-service|prefix-length|registration-lifetime`, and their `no` forms).
fn is_interface_command(toks: &[Tok<'_>]) -> bool {
    let skip = usize::from(toks.first().is_some_and(|t| t.is("no")));
    let w = |i: usize| toks.get(skip + i).map_or("", |t| t.text);
    let is = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    is(w(0), "ip")
        && (is(w(1), "address")
            || is(w(1), "irdp")
            || (is(w(1), "mobile")
                && ["foreign-service", "prefix-length", "registration-lifetime"]
                    .iter()
                    .any(|k| is(w(2), k))))
        || is(w(0), "standby")
}

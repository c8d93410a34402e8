//! The addressing plan: namespaces, links, interfaces, addresses and routes. Everything the
//! lab builds comes from the tables here; `mip-lab plan` prints them.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use serde::Serialize;

/// Every namespace the lab creates is named `mip-<id>-<node>`.
pub const PREFIX: &str = "mip-";

/// The nodes of the lab, one network namespace each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Node {
    /// Correspondent node: the far end of the TCP session.
    Cn,
    /// The router between every network.
    Rtr,
    /// Home agent.
    Ha,
    /// Foreign agent 1.
    Fa1,
    /// Foreign agent 2.
    Fa2,
    /// The switch: one bridge per service link (home, fa1, fa2, coloc).
    Sw,
    /// The mobile node: one interface, `mn0`.
    Mn,
}

impl Node {
    /// All nodes, in creation order.
    pub const ALL: [Node; 7] = [
        Node::Cn,
        Node::Rtr,
        Node::Ha,
        Node::Fa1,
        Node::Fa2,
        Node::Sw,
        Node::Mn,
    ];

    /// The short name used in namespace names.
    pub fn name(self) -> &'static str {
        match self {
            Node::Cn => "cn",
            Node::Rtr => "rtr",
            Node::Ha => "ha",
            Node::Fa1 => "fa1",
            Node::Fa2 => "fa2",
            Node::Sw => "sw",
            Node::Mn => "mn",
        }
    }

    /// Nodes that forward IPv4 (ip_forward=1).
    pub fn forwards(self) -> bool {
        matches!(self, Node::Rtr | Node::Ha | Node::Fa1 | Node::Fa2)
    }
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

/// Where the mobile node's link can be attached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Place {
    /// The home link (the home agent's service link, 10.10.0.0/24).
    Home,
    /// Foreign agent 1's visitor link (10.20.0.0/24).
    Fa1,
    /// Foreign agent 2's visitor link (10.30.0.0/24).
    Fa2,
    /// The network without a foreign agent (10.40.0.0/24): co-located care-of address.
    Coloc,
}

impl Place {
    /// All places.
    pub const ALL: [Place; 4] = [Place::Home, Place::Fa1, Place::Fa2, Place::Coloc];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Place::Home => "home",
            Place::Fa1 => "fa1",
            Place::Fa2 => "fa2",
            Place::Coloc => "coloc",
        }
    }

    /// The bridge in the `sw` namespace that is this link.
    pub fn bridge(self) -> &'static str {
        match self {
            Place::Home => "br-home",
            Place::Fa1 => "br-fa1",
            Place::Fa2 => "br-fa2",
            Place::Coloc => "br-coloc",
        }
    }

    /// The link's network.
    pub fn network(self) -> (Ipv4Addr, u8) {
        match self {
            Place::Home => (HOME_NET, 24),
            Place::Fa1 => (FA1_NET, 24),
            Place::Fa2 => (FA2_NET, 24),
            Place::Coloc => (COLOC_NET, 24),
        }
    }

    /// The router on the link the mobile node uses as its gateway there (home agent, foreign
    /// agent, or `rtr` on the co-located network).
    pub fn gateway(self) -> Ipv4Addr {
        match self {
            Place::Home => HA_HOME,
            Place::Fa1 => FA1_VISIT,
            Place::Fa2 => FA2_VISIT,
            Place::Coloc => RTR_COLOC,
        }
    }

    /// The node that owns the gateway address, and its interface on the link.
    pub fn gateway_node(self) -> (Node, &'static str) {
        match self {
            Place::Home => (Node::Ha, "ha-home"),
            Place::Fa1 => (Node::Fa1, "fa1-visit"),
            Place::Fa2 => (Node::Fa2, "fa2-visit"),
            Place::Coloc => (Node::Rtr, "r-coloc"),
        }
    }

    /// The care-of address a mobile node gets here (none at home).
    pub fn care_of(self) -> Option<Ipv4Addr> {
        match self {
            Place::Home => None,
            Place::Fa1 => Some(FA1_VISIT),
            Place::Fa2 => Some(FA2_VISIT),
            Place::Coloc => Some(MN_COLOC),
        }
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

impl FromStr for Place {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Place::ALL
            .into_iter()
            .find(|p| p.name() == s.trim())
            .ok_or_else(|| format!("unknown place {s:?} (expected home, fa1, fa2 or coloc)"))
    }
}

/// Parses `home,fa1,fa2,home`.
pub fn parse_moves(s: &str) -> Result<Vec<Place>, String> {
    let moves: Vec<Place> = s
        .split(',')
        .filter(|p| !p.trim().is_empty())
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    if moves.is_empty() {
        return Err("no moves given".into());
    }
    Ok(moves)
}

// --- Addresses -------------------------------------------------------------------------------
// Backbone: rtr is .1 on each /24, the other end .2.

/// cn ↔ rtr backbone.
pub const CN_NET: Ipv4Addr = Ipv4Addr::new(10, 0, 1, 0);
/// The correspondent node.
pub const CN: Ipv4Addr = Ipv4Addr::new(10, 0, 1, 2);
/// rtr on the cn link.
pub const RTR_CN: Ipv4Addr = Ipv4Addr::new(10, 0, 1, 1);
/// rtr ↔ ha backbone.
pub const HA_BB_NET: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 0);
/// rtr on the ha backbone.
pub const RTR_HA: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 1);
/// The home agent's backbone address.
pub const HA_BB: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 2);
/// rtr ↔ fa1 backbone.
pub const FA1_BB_NET: Ipv4Addr = Ipv4Addr::new(10, 0, 3, 0);
/// rtr on the fa1 backbone.
pub const RTR_FA1: Ipv4Addr = Ipv4Addr::new(10, 0, 3, 1);
/// Foreign agent 1's backbone address.
pub const FA1_BB: Ipv4Addr = Ipv4Addr::new(10, 0, 3, 2);
/// rtr ↔ fa2 backbone.
pub const FA2_BB_NET: Ipv4Addr = Ipv4Addr::new(10, 0, 4, 0);
/// rtr on the fa2 backbone.
pub const RTR_FA2: Ipv4Addr = Ipv4Addr::new(10, 0, 4, 1);
/// Foreign agent 2's backbone address.
pub const FA2_BB: Ipv4Addr = Ipv4Addr::new(10, 0, 4, 2);

/// The home network (home link).
pub const HOME_NET: Ipv4Addr = Ipv4Addr::new(10, 10, 0, 0);
/// The home agent's address on the home link: the address the mobile node registers with.
pub const HA_HOME: Ipv4Addr = Ipv4Addr::new(10, 10, 0, 1);
/// The mobile node's home address.
pub const MN_HOME: Ipv4Addr = Ipv4Addr::new(10, 10, 0, 10);
/// Foreign agent 1's visitor network.
pub const FA1_NET: Ipv4Addr = Ipv4Addr::new(10, 20, 0, 0);
/// Foreign agent 1 on its visitor link: its advertised care-of address.
pub const FA1_VISIT: Ipv4Addr = Ipv4Addr::new(10, 20, 0, 1);
/// Foreign agent 2's visitor network.
pub const FA2_NET: Ipv4Addr = Ipv4Addr::new(10, 30, 0, 0);
/// Foreign agent 2 on its visitor link: its advertised care-of address.
pub const FA2_VISIT: Ipv4Addr = Ipv4Addr::new(10, 30, 0, 1);
/// The network without a foreign agent.
pub const COLOC_NET: Ipv4Addr = Ipv4Addr::new(10, 40, 0, 0);
/// rtr on the co-located network: the mobile node's gateway there.
pub const RTR_COLOC: Ipv4Addr = Ipv4Addr::new(10, 40, 0, 1);
/// The mobile node's co-located care-of address (static; no DHCP).
pub const MN_COLOC: Ipv4Addr = Ipv4Addr::new(10, 40, 0, 10);

/// TCP port of the demo stream (receiver on the mobile node's home address).
pub const STREAM_PORT: u16 = 5001;
/// TCP/UDP port of the iperf3 server on the mobile node.
pub const IPERF_PORT: u16 = 5201;

/// One veth pair.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Link {
    /// What the link is.
    pub role: &'static str,
    /// One end: node and interface.
    pub a: (Node, &'static str),
    /// The address on end a, with prefix length (None: none, e.g. a bridge port).
    pub a_addr: Option<(Ipv4Addr, u8)>,
    /// The other end.
    pub b: (Node, &'static str),
    /// The address on end b.
    pub b_addr: Option<(Ipv4Addr, u8)>,
    /// For a bridge port (end b in `sw`): the bridge it is enslaved to at start.
    pub bridge: Option<&'static str>,
}

/// The mobile node's interface.
pub const MN_IF: &str = "mn0";
/// Its peer in `sw`: the port that changes bridge on a move.
pub const MN_PORT: &str = "p-mn";

/// Every veth pair of the lab.
pub const LINKS: [Link; 9] = [
    Link {
        role: "backbone cn-rtr",
        a: (Node::Cn, "cn0"),
        a_addr: Some((CN, 24)),
        b: (Node::Rtr, "r-cn"),
        b_addr: Some((RTR_CN, 24)),
        bridge: None,
    },
    Link {
        role: "backbone rtr-ha",
        a: (Node::Rtr, "r-ha"),
        a_addr: Some((RTR_HA, 24)),
        b: (Node::Ha, "ha-bb"),
        b_addr: Some((HA_BB, 24)),
        bridge: None,
    },
    Link {
        role: "backbone rtr-fa1",
        a: (Node::Rtr, "r-fa1"),
        a_addr: Some((RTR_FA1, 24)),
        b: (Node::Fa1, "fa1-bb"),
        b_addr: Some((FA1_BB, 24)),
        bridge: None,
    },
    Link {
        role: "backbone rtr-fa2",
        a: (Node::Rtr, "r-fa2"),
        a_addr: Some((RTR_FA2, 24)),
        b: (Node::Fa2, "fa2-bb"),
        b_addr: Some((FA2_BB, 24)),
        bridge: None,
    },
    Link {
        role: "home link (ha)",
        a: (Node::Ha, "ha-home"),
        a_addr: Some((HA_HOME, 24)),
        b: (Node::Sw, "p-ha"),
        b_addr: None,
        bridge: Some("br-home"),
    },
    Link {
        role: "fa1 visitor link",
        a: (Node::Fa1, "fa1-visit"),
        a_addr: Some((FA1_VISIT, 24)),
        b: (Node::Sw, "p-fa1"),
        b_addr: None,
        bridge: Some("br-fa1"),
    },
    Link {
        role: "fa2 visitor link",
        a: (Node::Fa2, "fa2-visit"),
        a_addr: Some((FA2_VISIT, 24)),
        b: (Node::Sw, "p-fa2"),
        b_addr: None,
        bridge: Some("br-fa2"),
    },
    Link {
        role: "co-located network (rtr, no foreign agent)",
        a: (Node::Rtr, "r-coloc"),
        a_addr: Some((RTR_COLOC, 24)),
        b: (Node::Sw, "p-rtr"),
        b_addr: None,
        bridge: Some("br-coloc"),
    },
    Link {
        role: "mobile node (moves between bridges)",
        a: (Node::Mn, MN_IF),
        a_addr: Some((MN_HOME, 24)),
        b: (Node::Sw, MN_PORT),
        b_addr: None,
        bridge: Some("br-home"),
    },
];

/// Static routes installed by `up` (besides the connected ones): (node, destination/len,
/// gateway).
pub const ROUTES: [(Node, &str, Ipv4Addr); 7] = [
    (Node::Cn, "default", RTR_CN),
    (Node::Ha, "default", RTR_HA),
    (Node::Fa1, "default", RTR_FA1),
    (Node::Fa2, "default", RTR_FA2),
    (Node::Rtr, "10.10.0.0/24", HA_BB),
    (Node::Rtr, "10.20.0.0/24", FA1_BB),
    (Node::Rtr, "10.30.0.0/24", FA2_BB),
];

/// One lab instance: the run id that prefixes its namespaces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lab {
    id: String,
}

impl Lab {
    /// A lab with this run id: 1-12 characters of `[a-z0-9]`.
    pub fn new(id: &str) -> Result<Lab, String> {
        let ok = !id.is_empty()
            && id.len() <= 12
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        if !ok {
            return Err(format!(
                "bad run id {id:?}: 1-12 characters, lowercase letters and digits"
            ));
        }
        Ok(Lab { id: id.to_string() })
    }

    /// The run id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The namespace of a node: `mip-<id>-<node>`.
    pub fn ns(&self, node: Node) -> String {
        format!("{PREFIX}{}-{}", self.id, node.name())
    }

    /// The prefix of every namespace of this run.
    pub fn ns_prefix(&self) -> String {
        format!("{PREFIX}{}-", self.id)
    }
}

/// Whether a namespace name looks like one of the lab's (`mip-<id>-<node>`), of any run.
pub fn is_lab_namespace(name: &str) -> bool {
    let Some(rest) = name.strip_prefix(PREFIX) else {
        return false;
    };
    let Some((id, node)) = rest.rsplit_once('-') else {
        return false;
    };
    Lab::new(id).is_ok() && Node::ALL.iter().any(|n| n.name() == node)
}

/// The plan as printable data (`mip-lab plan --json`, `up --json`).
#[derive(Serialize)]
pub struct PlanView {
    /// Run id.
    pub id: String,
    /// Namespace per node.
    pub namespaces: Vec<(Node, String)>,
    /// Every veth pair.
    pub links: Vec<LinkView>,
    /// Static routes.
    pub routes: Vec<RouteView>,
    /// The service links the mobile node can attach to.
    pub places: Vec<PlaceView>,
    /// Key addresses.
    pub addresses: Addresses,
}

/// A link in the plan view.
#[derive(Serialize)]
pub struct LinkView {
    role: &'static str,
    a: String,
    b: String,
    bridge: Option<&'static str>,
}

/// A route in the plan view.
#[derive(Serialize)]
pub struct RouteView {
    node: Node,
    destination: &'static str,
    gateway: Ipv4Addr,
}

/// A place in the plan view.
#[derive(Serialize)]
pub struct PlaceView {
    place: Place,
    bridge: &'static str,
    network: String,
    gateway: Ipv4Addr,
    care_of: Option<Ipv4Addr>,
}

/// Key addresses.
#[derive(Serialize)]
pub struct Addresses {
    cn: Ipv4Addr,
    home_agent: Ipv4Addr,
    home_agent_backbone: Ipv4Addr,
    mn_home: Ipv4Addr,
    fa1_care_of: Ipv4Addr,
    fa1_backbone: Ipv4Addr,
    fa2_care_of: Ipv4Addr,
    fa2_backbone: Ipv4Addr,
    mn_colocated: Ipv4Addr,
}

fn end(node: Node, ifname: &str, addr: Option<(Ipv4Addr, u8)>) -> String {
    match addr {
        Some((a, l)) => format!("{node}:{ifname} {a}/{l}"),
        None => format!("{node}:{ifname}"),
    }
}

impl PlanView {
    /// The plan of a lab.
    pub fn new(lab: &Lab) -> PlanView {
        PlanView {
            id: lab.id().to_string(),
            namespaces: Node::ALL.iter().map(|&n| (n, lab.ns(n))).collect(),
            links: LINKS
                .iter()
                .map(|l| LinkView {
                    role: l.role,
                    a: end(l.a.0, l.a.1, l.a_addr),
                    b: end(l.b.0, l.b.1, l.b_addr),
                    bridge: l.bridge,
                })
                .collect(),
            routes: ROUTES
                .iter()
                .map(|&(node, destination, gateway)| RouteView {
                    node,
                    destination,
                    gateway,
                })
                .collect(),
            places: Place::ALL
                .iter()
                .map(|&p| {
                    let (net, len) = p.network();
                    PlaceView {
                        place: p,
                        bridge: p.bridge(),
                        network: format!("{net}/{len}"),
                        gateway: p.gateway(),
                        care_of: p.care_of(),
                    }
                })
                .collect(),
            addresses: Addresses {
                cn: CN,
                home_agent: HA_HOME,
                home_agent_backbone: HA_BB,
                mn_home: MN_HOME,
                fa1_care_of: FA1_VISIT,
                fa1_backbone: FA1_BB,
                fa2_care_of: FA2_VISIT,
                fa2_backbone: FA2_BB,
                mn_colocated: MN_COLOC,
            },
        }
    }

    /// The plan as text.
    pub fn text(&self) -> String {
        let mut s = String::new();
        s.push_str(&format!(
            "mip-lab plan (run id {:?})\n\nnamespaces:\n",
            self.id
        ));
        for (n, ns) in &self.namespaces {
            s.push_str(&format!("  {n:<4} {ns}\n"));
        }
        s.push_str("\nlinks (veth pairs; sw:p-* are bridge ports):\n");
        for l in &self.links {
            let br = l.bridge.map(|b| format!("  [{b}]")).unwrap_or_default();
            s.push_str(&format!("  {:<26} <-> {:<22}{br}  {}\n", l.a, l.b, l.role));
        }
        s.push_str("\nstatic routes:\n");
        for r in &self.routes {
            s.push_str(&format!(
                "  {:<4} {:<14} via {}\n",
                r.node.name(),
                r.destination,
                r.gateway
            ));
        }
        s.push_str("\nplaces of the mobile node (sw:p-mn is enslaved to the place's bridge):\n");
        for p in &self.places {
            let coa = p
                .care_of
                .map(|a| format!("care-of {a}"))
                .unwrap_or_else(|| "at home: no care-of address".into());
            s.push_str(&format!(
                "  {:<6} {:<9} {:<13} gateway {:<10} {coa}\n",
                p.place.name(),
                p.bridge,
                p.network,
                p.gateway
            ));
        }
        s.push_str(&format!(
            "\nmobile node home address {MN_HOME}/24 on mn:{MN_IF}; home agent {HA_HOME} \
             (backbone {HA_BB}); demo stream cn -> {MN_HOME}:{STREAM_PORT}\n"
        ));
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let lab = Lab::new("t1").unwrap();
        assert_eq!(lab.ns(Node::Mn), "mip-t1-mn");
        assert!(is_lab_namespace("mip-t1-mn"));
        assert!(is_lab_namespace("mip-lab-rtr"));
        assert!(!is_lab_namespace("mip-t1-xx"));
        assert!(!is_lab_namespace("other-t1-mn"));
        assert!(Lab::new("Bad").is_err());
        assert!(Lab::new("").is_err());
        assert!(Lab::new("abcdefghijklm").is_err());
        // Interface names fit IFNAMSIZ.
        for l in LINKS {
            assert!(l.a.1.len() <= 15 && l.b.1.len() <= 15);
        }
    }

    #[test]
    fn moves_parse() {
        assert_eq!(
            parse_moves("home,fa1, fa2,coloc").unwrap(),
            vec![Place::Home, Place::Fa1, Place::Fa2, Place::Coloc]
        );
        assert!(parse_moves("home,mars").is_err());
        assert!(parse_moves("").is_err());
    }
}

//! Every configuration line of the seeds, verbatim (only the lost newlines of seed 002 put
//! back, and interface names where a test says so), parses to the expected model values.
//! Each test cites the seed and where in it the text is.

use std::net::Ipv4Addr;

use mip_config::{
    parse_ios, parse_ios_with_warnings, AclAction, AclRule, AddressRange, Config, HomeAddress,
    HomeLocation, KeyFormat, Peer, Prefix, ReplaySetting, SaSource, SaTarget, Warning,
};
use mip_security::{Algorithm, Key, ReplayProtection};

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

fn net(s: &str) -> Prefix {
    s.parse().unwrap()
}

fn ok(text: &str) -> (Config, Vec<Warning>) {
    parse_ios_with_warnings(text, "seed.ios").unwrap_or_else(|e| panic!("{e}"))
}

fn hex(s: &str) -> Key {
    Key::from_hex(s).unwrap()
}

/// Seed 002, "Home Agent Configuration Example", exactly as printed, with the newlines the
/// text lost put back (each `!` comment and command on its own line).
const SEED_002_HA_EXAMPLE: &str = "\
router mobile
!
! Define which hosts are permitted to roam
ip mobile home-agent broadcast roam-access 1
!
! Define a virtual network
ip mobile network 10.0.0.0 255.0.0.0
!
! Define which hosts are on the virtual network, and the care-of access list
ip mobile host 10.0.0.1 10.0.0.10 virtual-network 10.0.0.0 255.0.0.0 care-of-access 2
!
! Define which hosts are on Ethernet 1, with lifetime of one hour
ip mobile host 11.0.0.1 11.0.0.5 interface Ethernet1 lifetime 3600
!
! The next ten lines specify security associations for mobile hosts
! on virtual network 10.0.0.0
!
ip mobile secure host 10.0.0.1 spi 100 key hex 12345678123456781234567812345678
ip mobile secure host 10.0.0.2 spi 200 key hex 87654321876543218765432187654321
ip mobile secure host 10.0.0.3 spi 300 key hex 31323334353637383930313233343536
ip mobile secure host 10.0.0.4 spi 100 key hex 45678332353637383930313233343536
ip mobile secure host 10.0.0.5 spi 200 key hex 33343536313233343536373839303132
ip mobile secure host 10.0.0.6 spi 300 key hex 73839303313233343536313233343536
ip mobile secure host 10.0.0.7 spi 100 key hex 83930313233343536313233343536373
ip mobile secure host 10.0.0.8 spi 200 key hex 43536373839313233330313233343536
ip mobile secure host 10.0.0.9 spi 300 key hex 23334353631323334353637383930313
ip mobile secure host 10.0.0.10 spi 100 key hex 63738393132333435330313233343536
!
! The next five lines specify security associations for mobile hosts
! on Ethernet1
!
ip mobile secure host 11.0.0.1 spi 100 key hex 73839303313233343536313233343536
ip mobile secure host 11.0.0.2 spi 200 key hex 83930313233343536313233343536373
ip mobile secure host 11.0.0.3 spi 300 key hex 43536373839313233330313233343536
ip mobile secure host 11.0.0.4 spi 100 key hex 23334353631323334353637383930313
ip mobile secure host 11.0.0.5 spi 200 key hex 63738393132333435330313233343536
!
! Deny access for this host
access-list 1 deny 11.0.0.5
!
! Deny access to anyone on network 13.0.0.0 trying to register
access-list 2 deny 13.0.0.0
";

#[test]
fn seed_002_home_agent_example_parses() {
    let (c, warnings) = ok(SEED_002_HA_EXAMPLE);
    assert!(c.mobile_ip);
    assert!(c.home_agent_active());
    let ha = &c.home_agent;
    assert!(ha.broadcast);
    assert_eq!(ha.roam_access, Some(1));
    assert_eq!(ha.care_of_access, None);
    assert_eq!(ha.lifetime, 36000, "the router's default lifetime");
    assert!(ha.reverse_tunnel);
    assert_eq!(c.virtual_networks, vec![net("10.0.0.0/8")]);

    assert_eq!(c.host_groups.len(), 2);
    let g = &c.host_groups[0];
    assert_eq!(
        g.range,
        AddressRange {
            lower: ip("10.0.0.1"),
            upper: ip("10.0.0.10")
        }
    );
    assert_eq!(g.location, HomeLocation::VirtualNetwork(net("10.0.0.0/8")));
    assert_eq!(g.care_of_access, Some(2));
    assert_eq!(g.lifetime, None);
    assert_eq!(c.lifetime_for(g), 36000);
    let g = &c.host_groups[1];
    assert_eq!(g.location, HomeLocation::Interface("Ethernet1".into()));
    assert_eq!(g.lifetime, Some(3600));
    assert_eq!(c.lifetime_for(g), 3600);
    assert_eq!(g.sa_source, SaSource::Local);

    // Fifteen associations; SPIs are hexadecimal: `spi 100` is 0x100 = 256.
    assert_eq!(c.security_associations.len(), 15);
    let sa = c.mobile_node_sa(ip("10.0.0.1"), 0x100).unwrap();
    assert_eq!(sa.inbound_spi(), 256);
    assert_eq!(sa.outbound_spi(), 256);
    assert_eq!(sa.params().key, hex("12345678123456781234567812345678"));
    assert_eq!(sa.params().key_format, KeyFormat::Hex);
    assert_eq!(sa.algorithm(), Algorithm::KeyedMd5PrefixSuffix);
    assert_eq!(sa.replay(), ReplayProtection::Timestamp { window_secs: 7 });
    // Seed 002, `show ip mobile secure`: "SPI 300, MD5, Prefix-suffix, Timestamp +/- 7".
    let sa = c.mobile_node_sa(ip("10.0.0.3"), 0x300).unwrap();
    assert_eq!(
        sa.inbound().describe(),
        "MD5, Prefix-suffix, Timestamp +/- 7"
    );
    assert_eq!(sa.inbound().spi(), 0x300);
    let sa = c.mobile_node_sa(ip("11.0.0.5"), 0x200).unwrap();
    assert_eq!(sa.params().key, hex("63738393132333435330313233343536"));
    assert!(c.mobile_node_sa(ip("11.0.0.5"), 0x100).is_none());
    assert!(c.mobile_node_sa(ip("11.0.0.6"), 0x200).is_none());

    // Access lists exactly as written: without a wildcard an address is one host, and a
    // list ends with an implicit deny.
    let acl1 = &c.access_lists[&1];
    assert_eq!(
        acl1.rules,
        vec![AclRule::new(
            AclAction::Deny,
            ip("11.0.0.5"),
            Ipv4Addr::UNSPECIFIED
        )]
    );
    let acl2 = &c.access_lists[&2];
    assert_eq!(
        acl2.rules,
        vec![AclRule::new(
            AclAction::Deny,
            ip("13.0.0.0"),
            Ipv4Addr::UNSPECIFIED
        )]
    );
    assert!(!c.permits(1, ip("11.0.0.5")));
    assert!(!c.permits(1, ip("11.0.0.1")), "implicit deny");
    // ... which the lint points out, at the lines concerned.
    let text: Vec<String> = warnings.iter().map(ToString::to_string).collect();
    assert!(
        text.iter()
            .any(|w| w.starts_with("seed.ios:39:") && w.contains("permits no address")),
        "{text:#?}"
    );
    assert!(
        text.iter().any(|w| w.starts_with("seed.ios:42:")
            && w.contains("matches only the single address 13.0.0.0")
            && w.contains("13.0.0.0 0.255.255.255")),
        "{text:#?}"
    );
}

/// Seed 002, "Enabling Home Agent Services", steps 1-3 and 5-8, with values in place of the
/// placeholders (`ip mobile host lower [upper] virtual-network addr mask [aaa [load-sa]]`,
/// `ip mobile secure host addr {inbound-spi spi-in outbound-spi spi-out | spi spi} key hex
/// string`, `ip mobile secure foreign-agent addr ...`).
#[test]
fn seed_002_home_agent_steps() {
    let (c, _) = ok("\
router mobile
ip mobile home-agent
ip mobile virtual-network 10.0.0.0 255.0.0.0
ip mobile host 10.0.0.1 10.0.0.5 virtual-network 10.0.0.0 255.0.0.0 aaa load-sa
ip mobile host 10.0.0.6 virtual-network 10.0.0.0 255.0.0.0 aaa
ip mobile host 11.0.0.1 11.0.0.5 interface eth1
ip mobile secure host 11.0.0.1 inbound-spi 101 outbound-spi 102 key hex 00112233445566778899aabbccddeeff
ip mobile secure host 11.0.0.2 spi 1000 key hex 00112233445566778899aabbccddeeff
ip mobile secure foreign-agent 68.0.0.31 inbound-spi 300 outbound-spi 301 key hex 00112233445566778899aabbccddeeff
ip mobile secure foreign-agent 68.0.0.32 spi 400 key hex 00112233445566778899aabbccddeeff
");
    assert!(c.home_agent.enabled);
    assert_eq!(c.host_groups[0].sa_source, SaSource::AaaLoadSa);
    assert_eq!(c.host_groups[1].sa_source, SaSource::Aaa);
    assert_eq!(c.host_groups[1].range, AddressRange::single(ip("10.0.0.6")));
    assert_eq!(
        c.host_groups[2].location,
        HomeLocation::Interface("eth1".into())
    );
    let sa = c.mobile_node_sa(ip("11.0.0.1"), 0x101).unwrap();
    assert_eq!((sa.inbound_spi(), sa.outbound_spi()), (0x101, 0x102));
    assert_eq!(sa.inbound().spi(), 0x101);
    assert_eq!(sa.outbound().spi(), 0x102);
    assert!(
        c.mobile_node_sa(ip("11.0.0.1"), 0x102).is_none(),
        "looked up by inbound SPI"
    );
    assert_eq!(
        c.mobile_node_sa(ip("11.0.0.2"), 0x1000)
            .unwrap()
            .inbound_spi(),
        4096
    );
    let fa = c.foreign_agent_sa(ip("68.0.0.31")).unwrap();
    assert_eq!((fa.inbound_spi(), fa.outbound_spi()), (0x300, 0x301));
    assert_eq!(fa.peer(), Peer::ForeignAgent);
    assert_eq!(
        c.foreign_agent_sa(ip("68.0.0.32")).unwrap().inbound_spi(),
        0x400
    );
    assert!(c.foreign_agent_sa(ip("68.0.0.33")).is_none());
    assert!(
        c.home_agent_sa(ip("68.0.0.31")).is_none(),
        "other peer kind"
    );
}

/// Seed 002, "Home Agent Using AAA Server Example": the `ip mobile` lines parse; the AAA and
/// TACACS+ lines are refused with a hint, at their lines.
#[test]
fn seed_002_aaa_example() {
    let text = "\
aaa new-model
aaa authorization ipmobile tacacs+
!
ip mobile home-agent
ip mobile network 20.0.0.0 255.0.0.0
ip mobile host 20.0.0.1 20.0.0.3 virtual-network 20.0.0.0 255.0.0.0 aaa
!
tacacs-server host 1.2.3.4
tacacs-server key cisco
";
    let e = parse_ios(text, "aaa.ios").unwrap_err();
    let lines: Vec<_> = e.all().map(|e| e.line().unwrap()).collect();
    assert_eq!(lines, vec![1, 2, 8, 9]);
    assert!(e
        .all()
        .all(|e| e.hint.as_deref().unwrap().contains("later feature")));
    // Without them:
    let kept: String = text
        .lines()
        .filter(|l| l.starts_with("ip ") || l.starts_with('!'))
        .map(|l| format!("{l}\n"))
        .collect();
    let (c, warnings) = ok(&kept);
    assert!(c.home_agent.enabled);
    assert!(!c.mobile_ip);
    assert_eq!(c.virtual_networks, vec![net("20.0.0.0/8")]);
    assert_eq!(c.host_groups[0].sa_source, SaSource::Aaa);
    assert!(warnings.iter().any(|w| w.message.contains("router mobile")));
    assert!(warnings.iter().any(|w| w.message.contains("AAA")));
    // Seed 002, `aaa authorization ipmobile` example.
    let (c, _) = ok("ip mobile network 10.0.0.0 255.0.0.0\n\
         ip mobile host 10.0.0.1 10.0.0.5 virtual-network 10.0.0.0 255.0.0.0 aaa\n");
    assert_eq!(c.host_groups[0].sa_source, SaSource::Aaa);
}

/// Seed 002, "Foreign Agent Configuration Example" (Ethernet0/1 as eth0/eth1).
#[test]
fn seed_002_foreign_agent_example() {
    let (c, _) = ok("\
interface eth0
ip address 68.0.0.31 255.0.0.0
interface eth1
ip address 67.0.0.31 255.0.0.0
ip irdp
ip irdp maxadvertinterval 10
ip irdp minadvertinterval 7
ip mobile foreign-service
ip mobile registration-lifetime 3600
!
router mobile
!
ip mobile foreign-agent care-of eth0
");
    assert!(c.foreign_agent_active());
    assert!(!c.home_agent_active());
    assert_eq!(c.foreign_agent.care_of, vec!["eth0".to_owned()]);
    assert_eq!(c.foreign_agent.reg_wait_secs, 15);
    let e0 = &c.interfaces["eth0"];
    assert_eq!(e0.address.unwrap().to_string(), "68.0.0.31/8");
    assert!(!e0.irdp.enabled);
    assert!(e0.foreign_service.is_none());
    let e1 = &c.interfaces["eth1"];
    assert_eq!(e1.address.unwrap().to_string(), "67.0.0.31/8");
    assert_eq!(e1.address.unwrap().subnet(), net("67.0.0.0/8"));
    assert!(e1.irdp.enabled);
    assert_eq!(e1.irdp.max_advert_interval, Some(10));
    assert_eq!(e1.irdp.min_advert_interval, Some(7));
    assert_eq!(e1.irdp.holdtime(), 30, "default: three times the maximum");
    let fs = e1.foreign_service.unwrap();
    assert!(!fs.registration_required && fs.limit.is_none() && fs.home_access.is_none());
    assert_eq!(e1.registration_lifetime, Some(3600));
}

/// Seed 002, `ip mobile foreign-agent` command page: the example, spelt as printed
/// (`ip mobile foreign agent`, no hyphen) is read as `foreign-agent` with a warning.
#[test]
fn seed_002_foreign_agent_command_example() {
    let (c, warnings) = ok("\
ip mobile foreign agent care-of Ethernet0
interface Ethernet0
ip address 1.0.0.1 255.0.0.0
interface Ethernet1
ip mobile foreign-service
");
    assert!(c.foreign_agent.enabled);
    assert_eq!(c.foreign_agent.care_of, vec!["Ethernet0".to_owned()]);
    assert!(c.interfaces["Ethernet1"].foreign_service.is_some());
    assert_eq!(
        c.interfaces["Ethernet0"].address.unwrap().address,
        ip("1.0.0.1")
    );
    let w = warnings
        .iter()
        .find(|w| w.message.contains("foreign agent"))
        .unwrap();
    assert_eq!(w.loc.unwrap().line, 1);
    // The syntax line: `ip mobile foreign-agent [care-of interface | reg-wait secs]`.
    let (c, _) = ok("ip mobile foreign-agent care-of eth0 reg-wait 30\n\
                     ip mobile foreign-agent care-of eth2\n");
    assert_eq!(
        c.foreign_agent.care_of,
        vec!["eth0".to_owned(), "eth2".to_owned()]
    );
    assert_eq!(c.foreign_agent.reg_wait_secs, 30);
}

/// Seed 002, `ip mobile foreign-service` command page: `interface Ethernet 0` (with the
/// space) and `ip mobile foreign-service limit 100 registration-required`; and the syntax line
/// with every option.
#[test]
fn seed_002_foreign_service_example() {
    let (c, _) = ok("\
interface Ethernet 0
ip mobile foreign-service limit 100 registration-required
access-list 5 permit 66.0.0.0 0.255.255.255
interface eth3
 ip mobile foreign-service home-access 5 limit 7 registration-required reverse-tunnel mandatory
");
    let fs = c.interfaces["Ethernet0"].foreign_service.unwrap();
    assert_eq!(fs.limit, Some(100));
    assert!(fs.registration_required);
    assert!(!fs.reverse_tunnel);
    let fs = c.interfaces["eth3"].foreign_service.unwrap();
    assert_eq!(fs.home_access, Some(5));
    assert_eq!(fs.limit, Some(7));
    assert!(fs.reverse_tunnel && fs.reverse_tunnel_mandatory);
}

/// Seed 002, `ip mobile home-agent` command page: every option of the syntax line.
#[test]
fn seed_002_home_agent_syntax() {
    let (c, _) = ok("\
access-list 1 permit any
access-list 2 permit any
ip mobile home-agent broadcast care-of-access 2 lifetime 7200 replay 10 reverse-tunnel-off roam-access 1 suppress-unreachable
ip mobile secure host 10.0.0.1 spi 100 key hex 00112233445566778899aabbccddeeff
ip mobile secure foreign-agent 10.0.0.1 spi 100 key hex 00112233445566778899aabbccddeeff
");
    let ha = &c.home_agent;
    assert!(ha.enabled && ha.broadcast && ha.suppress_unreachable);
    assert!(!ha.reverse_tunnel);
    assert_eq!(ha.care_of_access, Some(2));
    assert_eq!(ha.roam_access, Some(1));
    assert_eq!(ha.lifetime, 7200);
    assert_eq!(ha.replay_window_secs, 10);
    // `replay 10` is the window of host associations that give none of their own; other
    // peers keep 7.
    assert_eq!(
        c.mobile_node_sa(ip("10.0.0.1"), 0x100).unwrap().replay(),
        ReplayProtection::Timestamp { window_secs: 10 }
    );
    assert_eq!(
        c.foreign_agent_sa(ip("10.0.0.1")).unwrap().replay(),
        ReplayProtection::Timestamp { window_secs: 7 }
    );
}

/// Seed 002, "Shutting Down Mobile IP": `no ip mobile home-agent`, `no ip mobile
/// foreign-agent`, `no router mobile`.
#[test]
fn seed_002_shutting_down() {
    let (c, _) = ok("\
router mobile
ip mobile home-agent lifetime 300 broadcast
ip mobile foreign-agent care-of eth0
no ip mobile home-agent
no ip mobile foreign-agent
no router mobile
");
    assert!(!c.mobile_ip);
    assert_eq!(c.home_agent, Default::default());
    assert_eq!(c.foreign_agent, Default::default());
    // The option forms reset just those options.
    let (c, _) = ok("\
ip mobile home-agent lifetime 300 broadcast
no ip mobile home-agent lifetime 300
");
    assert!(c.home_agent.enabled && c.home_agent.broadcast);
    assert_eq!(c.home_agent.lifetime, 36000);
}

/// Seed 001, slide "Configuration: HA" (lines 394-404), verbatim with its prompts: the slide's
/// key is cut short (`112233...`) and its `(config-if)#` lines have no `interface` before
/// them, so it is refused at those lines; completed, it parses.
#[test]
fn seed_001_ha_slide() {
    let slide = "\
(config)# router mobile
(config)# ip mobile home-agent lifetime 300

(config)# ip mobile host nai herbert@left.com
        address 10.20.2.100 interface fa0/1
(config)# ip mobile secure host
        nai herbert@left.com spi 100
        key hex 112233...

(config-if)# ip irdp !!! inside interface !!!
(config-if)# ip mobile prefix-length
";
    let e = parse_ios(slide, "slide.ios").unwrap_err();
    let got: Vec<(usize, &str)> = e
        .all()
        .map(|e| (e.line().unwrap(), e.message.as_str()))
        .collect();
    assert_eq!(got.len(), 3, "{e}");
    assert_eq!(got[0].0, 8);
    assert!(got[0].1.starts_with("bad hex key"), "{e}");
    assert!(
        !e.to_string().contains("112233"),
        "the key is not repeated: {e}"
    );
    assert_eq!(got[1], (10, "'ip irdp' is an interface command"));
    assert_eq!(
        got[2],
        (11, "'ip mobile prefix-length' is an interface command")
    );

    let completed = slide
        .replace("112233...", "112233445566778899aabbccddeeff00")
        .replace(
            "\n(config-if)# ip irdp",
            "\n(config)# interface eth1\n(config-if)# ip irdp",
        );
    let (c, warnings) = ok(&completed);
    assert!(c.home_agent_active());
    assert_eq!(c.home_agent.lifetime, 300);
    let h = c.host_by_nai("herbert@left.com").unwrap();
    assert_eq!(h.address, HomeAddress::Static(ip("10.20.2.100")));
    assert_eq!(h.location, HomeLocation::Interface("fa0/1".into()));
    let sa = c.mobile_node_sa("herbert@left.com", 0x100).unwrap();
    assert_eq!(sa.target(), &SaTarget::Nai("herbert@left.com".into()));
    assert_eq!(sa.params().key, hex("112233445566778899aabbccddeeff00"));
    let e1 = &c.interfaces["eth1"];
    assert!(e1.irdp.enabled && e1.prefix_length);
    // `fa0/1` cannot be a Linux interface name.
    assert!(warnings.iter().any(|w| w
        .message
        .contains("'fa0/1' cannot be a Linux interface name")));
}

/// Seed 001, slide "Configuration: HA Redundancy" (lines 410-437), verbatim: the HSRP and
/// EIGRP lines are refused with hints, at their lines.
const SEED_001_REDUNDANCY: &str = "\
interface FastEthernet0/0  !!! connected to other router
ip address 10.1.0.2 255.255.255.0
standby ip 10.1.0.1          !!! this will be MN's HA address
standby priority 102
standby name classlab
!
interface FastEthernet0/1  !!! connected with MN
ip address 10.20.2.1 255.255.255.0
ip irdp
!
router mobile
!
router eigrp 100
redistribute mobile  !!! to enter virtual networks in routing tables
network 10.0.0.0
!
ip mobile home-agent lifetime 300
ip mobile home-agent redundancy classlab virtual-network
ip mobile virtual-network 10.50.60.0 255.255.255.0
ip mobile host nai herbert@left.com address 10.50.60.100 virtual-network
                                     10.50.60.0 255.255.255.0
ip mobile secure host nai herbert@left.com spi 100 key hex
                                     11223344556677889900aabbccddeeff algorithm md5 mode prefix-suffix
ip mobile secure home-agent 10.1.0.3 spi 100 key hex
12345678901234567890123456789012 algorithm md5 mode prefix-suffix
";

#[test]
fn seed_001_redundancy_slide() {
    let e = parse_ios(SEED_001_REDUNDANCY, "slide.ios").unwrap_err();
    let lines: Vec<usize> = e.all().map(|e| e.line().unwrap()).collect();
    assert_eq!(lines, vec![3, 4, 5, 13, 14, 15], "{e}");
    for err in e.all().take(3) {
        assert!(err.hint.as_deref().unwrap().contains("VRRP"), "{err}");
    }
    for err in e.all().skip(3) {
        assert!(err.hint.as_deref().unwrap().contains("routing"), "{err}");
    }

    // The `ip mobile` lines (and the interfaces), with the refused lines taken out.
    let kept: String = SEED_001_REDUNDANCY
        .lines()
        .filter(|l| {
            !["standby", "router eigrp", "redistribute", "network"]
                .iter()
                .any(|p| l.starts_with(p))
        })
        .map(|l| format!("{l}\n"))
        .collect();
    let (c, _) = ok(&kept);
    assert!(c.home_agent_active());
    assert_eq!(c.home_agent.lifetime, 300);
    let r = c.home_agent.redundancy.as_ref().unwrap();
    assert_eq!(r.group, "classlab");
    assert!(r.virtual_network && r.address.is_none() && !r.periodic_sync);
    assert_eq!(c.virtual_networks, vec![net("10.50.60.0/24")]);
    // The wrapped lines are joined to the command they continue.
    let h = c.host_by_nai("herbert@left.com").unwrap();
    assert_eq!(h.address, HomeAddress::Static(ip("10.50.60.100")));
    assert_eq!(
        h.location,
        HomeLocation::VirtualNetwork(net("10.50.60.0/24"))
    );
    let sa = c.mobile_node_sa("herbert@left.com", 0x100).unwrap();
    assert_eq!(sa.params().key, hex("11223344556677889900aabbccddeeff"));
    assert_eq!(sa.algorithm(), Algorithm::KeyedMd5PrefixSuffix);
    let ha = c.home_agent_sa(ip("10.1.0.3")).unwrap();
    assert_eq!(ha.inbound_spi(), 0x100);
    assert_eq!(ha.params().key, hex("12345678901234567890123456789012"));
    assert_eq!(
        c.interfaces["FastEthernet0/1"].address.unwrap().to_string(),
        "10.20.2.1/24"
    );
    assert!(c.interfaces["FastEthernet0/1"].irdp.enabled);
}

/// Seed 001, slide "Configuration: HA Red. + FA" (lines 443-470).
#[test]
fn seed_001_redundancy_and_fa_slide() {
    let slide = "\
interface FastEthernet0/0
ip address 10.1.0.2 255.255.255.0
standby ip 10.1.0.1
standby priority 102
standby name classlab
interface FastEthernet0/1
ip address 10.20.2.1 255.255.255.0
ip irdp
ip mobile foreign-service
ip mobile prefix-length
!
router mobile
router eigrp 100
redistribute mobile
network 10.0.0.0
!
ip mobile home-agent lifetime 300
ip mobile home-agent redundancy classlab virtual-network
ip mobile virtual-network 10.50.60.0 255.255.255.0
ip mobile host nai herbert@left.com address 10.50.60.100 virtual-network
                                     10.50.60.0 255.255.255.0
ip mobile foreign-agent care-of FastEthernet0/1
ip mobile secure host nai herbert@left.com spi 100 key hex
                                     11223344556677889900aabbccddeeff algorithm md5 mode prefix-suffix
ip mobile secure home-agent 10.1.0.3 spi 100 key hex
                                     12345678901234567890123456789012 algorithm md5 mode prefix-suffix
";
    let e = parse_ios(slide, "slide.ios").unwrap_err();
    let lines: Vec<usize> = e.all().map(|e| e.line().unwrap()).collect();
    assert_eq!(lines, vec![3, 4, 5, 13, 14, 15], "{e}");
    // Interface names as Linux has them, refused lines out.
    let kept: String = slide
        .replace("FastEthernet0/0", "eth0")
        .replace("FastEthernet0/1", "eth1")
        .lines()
        .filter(|l| {
            !["standby", "router eigrp", "redistribute", "network"]
                .iter()
                .any(|p| l.starts_with(p))
        })
        .map(|l| format!("{l}\n"))
        .collect();
    let (c, warnings) = ok(&kept);
    assert!(c.home_agent_active() && c.foreign_agent_active());
    assert_eq!(c.foreign_agent.care_of, vec!["eth1".to_owned()]);
    let e1 = &c.interfaces["eth1"];
    assert!(e1.irdp.enabled && e1.prefix_length && e1.foreign_service.is_some());
    assert!(c.interfaces["eth0"].foreign_service.is_none());
    assert_eq!(c.security_associations.len(), 2);
    assert!(!warnings.iter().any(|w| w.message.contains("Linux")));
}

/// Seed 001, slide "Configuration: HA for AAA" (lines 502-511).
#[test]
fn seed_001_aaa_slide() {
    let slide = "\
aaa new-model
aaa authorization ipmobile default group radius

radius-server host 10.1.0.42
radius-server retransmit 3  !!! try 3 times
radius-server key MyKey

ip mobile host nai herbert@left.com address
                        10.20.2.100 interface fa0/1 aaa
";
    let e = parse_ios(slide, "aaa.ios").unwrap_err();
    let lines: Vec<usize> = e.all().map(|e| e.line().unwrap()).collect();
    assert_eq!(lines, vec![1, 2, 4, 5, 6]);
    assert!(!e.to_string().contains("MyKey"));
    let (c, _) = ok(&slide.lines().skip(7).collect::<Vec<_>>().join("\n"));
    let h = &c.nai_hosts[0];
    assert_eq!(h.nai, "herbert@left.com");
    assert_eq!(h.address, HomeAddress::Static(ip("10.20.2.100")));
    assert_eq!(h.sa_source, SaSource::Aaa);
}

/// Seed 001 (line 645) shows an access point's `ip proxy-mobile` commands (seed 003); they are
/// refused with a hint, not taken for router commands.
#[test]
fn seed_001_access_point_lines_refused() {
    let e = parse_ios(
        "ap1200(config)# ip proxy-mobile secure node 10.91.7.151 10.91.7.176 spi 102 key ascii 0987654\n",
        "ap.ios",
    )
    .unwrap_err();
    assert_eq!(e.line(), Some(1));
    assert!(e.hint.as_deref().unwrap().contains("seed 003"));
    assert!(!e.to_string().contains("0987654"));
}

/// Seed 000: NAI mobile nodes (`user01@cisco.com`, home address from the home agent), several
/// sessions per NAI, SPIs printed as `SPI 333 (decimal 819)` with `Timestamp +/-255`.
#[test]
fn seed_000_nai_hosts() {
    let (c, _) = ok("\
router mobile
ip mobile home-agent
ip mobile virtual-network 100.100.100.0 255.255.255.0
ip local pool sessions 100.100.100.10 100.100.100.20
ip local pool sessions 100.100.100.30
ip mobile host nai user01@cisco.com address pool local sessions virtual-network 100.100.100.0 255.255.255.0 lifetime 2000
ip mobile host nai user02@cisco.com address 100.100.100.19 virtual-network 100.100.100.0 255.255.255.0
ip mobile secure host nai user01@cisco.com spi 333 key hex 38a38987ad0a399cb80940835689da66 replay timestamp within 255
ip mobile secure host nai user01@cisco.com spi 334 key hex 34c7635a313038611dec8c16681b55e0 algorithm hmac-md5
ip mobile secure host nai user02@cisco.com spi 333 key ascii oldkey
");
    let h = c.host_by_nai("user01@cisco.com").unwrap();
    assert_eq!(h.address, HomeAddress::Pool("sessions".into()));
    assert_eq!(h.lifetime, Some(2000));
    assert_eq!(
        c.address_pools["sessions"].ranges,
        vec![
            AddressRange {
                lower: ip("100.100.100.10"),
                upper: ip("100.100.100.20")
            },
            AddressRange::single(ip("100.100.100.30"))
        ]
    );
    // The realm is case-insensitive, the user part is not.
    assert!(c.host_by_nai("user01@CISCO.com").is_some());
    assert!(c.host_by_nai("USER01@cisco.com").is_none());
    let sa = c.mobile_node_sa("user01@cisco.com", 819).unwrap();
    assert_eq!(sa.inbound_spi(), 0x333);
    assert_eq!(
        sa.params().replay,
        ReplaySetting::Timestamp {
            window_secs: Some(255)
        }
    );
    assert_eq!(
        sa.inbound().describe(),
        "MD5, Prefix-suffix, Timestamp +/-255"
    );
    let sa = c.mobile_node_sa("user01@cisco.com", 0x334).unwrap();
    assert_eq!(sa.algorithm(), Algorithm::HmacMd5);
    let sa = c.mobile_node_sa("user02@cisco.com", 0x333).unwrap();
    assert_eq!(sa.params().key_format, KeyFormat::Ascii);
    assert_eq!(sa.params().key.expose_secret(), b"oldkey");
    assert!(c.mobile_node_sa("user03@cisco.com", 0x333).is_none());
}

//! RFC 3024 §4 (reverse tunnelling at the foreign agent): T granted, 74, 75, 79.

mod common;

use common::*;
use mip_fa::{DataPlaneRequest, FaOptions};
use mip_wire::extension::Extension;

fn accept(lab: &mut Lab, req: &Req) -> Vec<DataPlaneRequest> {
    let t = relay(lab, req);
    lab.ha_sends(&ha_reply(&t.payload, 0, 600, None));
    lab.transmits();
    lab.dataplane()
}

#[test]
fn t_granted_installs_a_reverse_tunnel_to_the_home_agent() {
    let cfg = config_with_interface_lines("", " reverse-tunnel");
    let mut lab = Lab::new(&cfg);
    let mut req = Req::new(1);
    req.flags.t = true;
    let dp = accept(&mut lab, &req);
    match &dp[..] {
        [DataPlaneRequest::AddVisitor(r)] => {
            assert!(r.reverse_tunnel);
            assert_eq!((r.care_of_address, r.home_agent), (COA, HA));
        }
        other => panic!("{other:?}"),
    }
    let v = lab.fa.visitor(MN, lab.now).unwrap();
    assert!(v.reverse_tunnel);
    assert_eq!(v.routing_options, "T");
    assert_eq!(v.tunnel_source, COA);
    assert_eq!(v.tunnel_destination, HA);
}

#[test]
fn without_t_there_is_no_reverse_tunnel() {
    let cfg = config_with_interface_lines("", " reverse-tunnel");
    let mut lab = Lab::new(&cfg);
    let dp = accept(&mut lab, &Req::new(1));
    assert!(matches!(&dp[..], [DataPlaneRequest::AddVisitor(r)] if !r.reverse_tunnel));
}

#[test]
fn code_74_when_reverse_tunnelling_is_not_offered() {
    let mut lab = Lab::new(&config(""));
    let mut req = Req::new(1);
    req.flags.t = true;
    lab.expect_denial(&req.bytes(), 74);
    assert_eq!(lab.fa.counters().unsupported_reverse_tunnel, 1);
    // `ip mobile foreign-agent reverse-tunnel` offers it on every foreign-service link.
    let mut lab = Lab::new(&config("ip mobile foreign-agent reverse-tunnel\n"));
    relay(&mut lab, &req);
    // A deregistration is not refused for its T bit.
    let mut lab = Lab::new(&config(""));
    req.lifetime = 0;
    relay(&mut lab, &req);
}

#[test]
fn code_75_when_reverse_tunnelling_is_mandatory_and_t_is_clear() {
    let cfg = config_with_interface_lines("", " reverse-tunnel mandatory");
    let mut lab = Lab::new(&cfg);
    lab.expect_denial(&Req::new(1).bytes(), 75);
    let mut req = Req::new(2);
    req.flags.t = true;
    relay(&mut lab, &req);
    let mut dereg = Req::new(3);
    dereg.lifetime = 0;
    relay(&mut lab, &dereg);
    assert_eq!(lab.fa.counters().reverse_tunnel_mandatory, 1);
}

#[test]
fn code_79_for_the_encapsulating_delivery_style_unless_offered() {
    let cfg = config_with_interface_lines("", " reverse-tunnel");
    let mut req = Req::new(1);
    req.flags.t = true;
    req.after = vec![Extension::EncapsulatingDeliveryStyle];
    let mut lab = Lab::new(&cfg);
    lab.expect_denial(&req.bytes(), 79);
    assert_eq!(lab.fa.counters().unsupported_delivery_style, 1);
    let opts = FaOptions {
        encapsulating_delivery: true,
        ..FaOptions::default()
    };
    let mut lab = Lab::with_options(&cfg, opts);
    let t = relay(&mut lab, &req);
    // The extension is for the foreign agent: not relayed.
    let mut plain = req.clone();
    plain.after.clear();
    assert_eq!(t.payload, plain.bytes());
}

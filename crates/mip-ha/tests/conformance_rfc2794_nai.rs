//! RFC 2794 (Mobile Node NAI extension: home address 0.0.0.0, assignment by the home agent,
//! NAI echoed in the reply) and seed 000 (several sessions per NAI told apart by a session
//! identifier; renewals carry the same one; `clear ip mobile binding nai ... [session-id
//! ...]`). The session identifier travels in the NVSE defined in `mip_ha::session`.

mod common;

use common::*;
use mip_ha::session::session_id_extension;
use mip_ha::{BindingSelector, DataPlaneRequest as Dp, StoreOp};
use mip_wire::extension::Extension;

const NAI: &str = "herbert@left.com";

fn nai_sa() -> mip_security::SecurityAssociation {
    sa(0x100, NAI_KEY)
}

fn nai_req(t: u64, coa: &str, session: Option<&str>) -> Request {
    let mut r = Request::new(a("0.0.0.0"), a(coa), at(t), nai_sa());
    r.before.push(Extension::Nai(NAI.as_bytes().to_vec()));
    if let Some(s) = session {
        r.before.push(session_id_extension(s.as_bytes()));
    }
    r
}

#[test]
fn rfc2794_home_address_zero_gets_the_static_address_and_nai_is_echoed() {
    let mut ha = home_agent();
    let out = send(&mut ha, at(0), &nai_req(0, "70.0.0.2", None));
    assert_eq!(out.code(), 0);
    let r = out.reply();
    assert_eq!(r.home_address, a("10.20.2.100"));
    assert_eq!(r.extensions[0], Extension::Nai(NAI.as_bytes().to_vec()));
    assert!(reply_verifies(&out.transmit[0], &nai_sa(), None));
    assert!(out.dataplane.contains(&Dp::ProxyArp {
        address: a("10.20.2.100"),
        interface: "fa0/1".into(),
        enable: true
    }));
    let b = ha.bindings(at(0));
    assert_eq!(b[0].nai.as_deref(), Some(NAI));
    assert_eq!(b[0].session_id, None);
    // Renewal with home address 0.0.0.0 finds the same binding.
    let out = send(&mut ha, at(10), &nai_req(10, "70.0.0.2", None));
    assert_eq!(out.reply().home_address, a("10.20.2.100"));
    assert!(out.dataplane.is_empty());
    // Renewal naming the assigned address works too.
    let mut r = nai_req(20, "70.0.0.2", None);
    r.home = a("10.20.2.100");
    assert_eq!(send(&mut ha, at(20), &r).code(), 0);
    assert_eq!(ha.binding_count(), 1);
}

#[test]
fn seed000_sessions_of_one_nai_get_their_own_addresses_and_bindings() {
    let mut ha = home_agent();
    let pda = send(&mut ha, at(0), &nai_req(0, "70.0.0.2", Some("PDA")));
    let laptop = send(&mut ha, at(1), &nai_req(1, "70.0.0.3", Some("laptop")));
    assert_eq!(pda.reply().home_address, a("10.20.2.100"));
    assert_eq!(laptop.reply().home_address, a("10.20.2.101"));
    // The session identifier is echoed (after the NAI, before the MN-HA extension).
    assert_eq!(pda.reply().extensions[1], session_id_extension(b"PDA"));
    assert!(
        matches!(&pda.store[1], StoreOp::PutBinding(r) if r.session_id.as_deref() == Some("PDA"))
    );
    assert_eq!(ha.binding_count(), 2);
    assert_eq!(ha.bindings_of_nai(NAI, Some("laptop"), at(1)).len(), 1);
    assert_eq!(ha.bindings_of_nai(NAI, None, at(1)).len(), 2);
    // A renewal of PDA must carry PDA: with it, same address.
    let out = send(&mut ha, at(5), &nai_req(5, "70.0.0.2", Some("PDA")));
    assert_eq!(out.reply().home_address, a("10.20.2.100"));
    // A request naming PDA's address without the session identifier is another session: refused.
    let mut r = nai_req(6, "70.0.0.2", None);
    r.home = a("10.20.2.100");
    assert_eq!(send(&mut ha, at(6), &r).code(), 129);
    // A third session takes the last pool address; a fourth finds the pool empty: 130.
    assert_eq!(
        send(&mut ha, at(7), &nai_req(7, "70.0.0.4", Some("phone")))
            .reply()
            .home_address,
        a("10.20.2.102")
    );
    assert_eq!(
        send(&mut ha, at(8), &nai_req(8, "70.0.0.5", Some("watch"))).code(),
        130
    );
    assert_eq!(ha.counters().no_resource, 1);
}

#[test]
fn seed000_clear_binding_by_nai_and_session_id() {
    let mut ha = home_agent();
    send(&mut ha, at(0), &nai_req(0, "70.0.0.2", Some("PDA")));
    send(&mut ha, at(1), &nai_req(1, "70.0.0.3", Some("laptop")));
    let n = ha.clear_bindings(&BindingSelector::Nai {
        nai: NAI.into(),
        session_id: Some("PDA".into()),
    });
    assert_eq!(n, 1);
    assert_eq!(ha.bindings(at(1))[0].session_id.as_deref(), Some("laptop"));
    drain(&mut ha);
    // PDA's address is free again for the next session.
    let out = send(&mut ha, at(2), &nai_req(2, "70.0.0.6", Some("tablet")));
    assert_eq!(out.reply().home_address, a("10.20.2.100"));
    let n = ha.clear_bindings(&BindingSelector::Nai {
        nai: NAI.into(),
        session_id: None,
    });
    assert_eq!(n, 2);
    assert_eq!(ha.binding_count(), 0);
}

#[test]
fn rfc2794_deregistration_of_a_session() {
    let mut ha = home_agent();
    send(&mut ha, at(0), &nai_req(0, "70.0.0.2", Some("PDA")));
    let mut r = nai_req(1, "70.0.0.2", Some("PDA"));
    r.lifetime = 0;
    let out = send(&mut ha, at(1), &r);
    assert_eq!(out.code(), 0);
    assert_eq!(out.reply().home_address, a("10.20.2.100"));
    assert_eq!(ha.binding_count(), 0);
    // Deregistering a session that holds nothing is accepted.
    let mut r = nai_req(2, "70.0.0.2", Some("ghost"));
    r.lifetime = 0;
    assert_eq!(send(&mut ha, at(2), &r).code(), 0);
}

#[test]
fn rfc2794_unknown_nai_is_ignored_and_foreign_address_refused() {
    let mut ha = home_agent();
    let mut r = nai_req(0, "70.0.0.2", None);
    r.before[0] = Extension::Nai(b"stranger@left.com".to_vec());
    assert!(send(&mut ha, at(0), &r).silent());
    // Asking for an address that is not the NAI's.
    let mut r = nai_req(1, "70.0.0.2", None);
    r.home = a("11.0.0.1");
    assert_eq!(send(&mut ha, at(1), &r).code(), 129);
}

#[test]
fn session_identifier_malformed_is_134() {
    let mut ha = home_agent();
    let mut r = nai_req(0, "70.0.0.2", None);
    r.before.push(session_id_extension(&[b'x'; 25]));
    assert_eq!(send(&mut ha, at(0), &r).code(), 134);
}

//! A lab with its agents running, for callers that drive it themselves (the end-to-end tests
//! of `tests/mobile_ip.rs`): [`start`] builds the lab in Mobile IP mode and starts the agents;
//! the [`Session`] stops them and removes the lab when dropped.

use std::path::PathBuf;

use crate::agents::{self, AgentOpts, Agents, AgentsOutcome};
use crate::guard::LabGuard;
use crate::plan::{Lab, Node};
use crate::topology::{self, Mode};

/// A lab that is up, with its agents. Dropping it stops the agents, then removes the lab.
pub struct Session {
    /// The running agents (declared before the guard: they stop before the lab goes).
    pub agents: Agents,
    guard: LabGuard,
    /// The lab.
    pub lab: Lab,
}

impl Session {
    /// The namespace of `node`.
    pub fn ns(&self, node: Node) -> String {
        self.lab.ns(node)
    }

    /// The control socket of the agent in `node`.
    pub fn socket(&self, node: Node) -> PathBuf {
        self.agents.socket(node)
    }

    /// Leaves the lab up after the session (the agents are stopped all the same).
    pub fn keep(&mut self) {
        self.guard.disarm();
    }
}

/// Builds `lab` (Mobile IP mode, the mobile node at home) and starts the agents. An agent
/// that cannot start (no `mipd`, roles missing) is an error here.
pub fn start(lab: &Lab, opts: &AgentOpts) -> Result<Session, String> {
    let guard = LabGuard::new(lab);
    topology::up(lab, Mode::MobileIp)?;
    match agents::start_agents(lab, opts)? {
        AgentsOutcome::Started(agents) => Ok(Session {
            agents,
            guard,
            lab: lab.clone(),
        }),
        AgentsOutcome::Skipped(why) => Err(format!("agents not started: {why}")),
    }
}

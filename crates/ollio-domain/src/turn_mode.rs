//! What a message asks of the agent, as the "Mode" control beside the
//! message box picks it: build (change the app, make a version), plan
//! (read the project and write a plan) or ask (answer a question). Plan and
//! ask turns only read: they never write a file and make no version.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TurnMode {
    #[default]
    Build,
    Plan,
    Ask,
}

impl TurnMode {
    pub const ALL: [TurnMode; 3] = [Self::Build, Self::Plan, Self::Ask];

    /// The form value and the job's field: `build`, `plan`, `ask`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Build => "build",
            Self::Plan => "plan",
            Self::Ask => "ask",
        }
    }

    /// The name the Mode control shows.
    pub fn label(self) -> &'static str {
        match self {
            Self::Build => "Build",
            Self::Plan => "Plan",
            Self::Ask => "Ask",
        }
    }

    /// A form's value; no value is a build.
    pub fn parse(raw: Option<&str>) -> Result<Self, String> {
        match raw.map(str::trim).unwrap_or_default() {
            "" | "build" => Ok(Self::Build),
            "plan" => Ok(Self::Plan),
            "ask" => Ok(Self::Ask),
            other => Err(format!(
                "`{other}` is not a mode: choose Build, Plan or Ask."
            )),
        }
    }

    /// The role its model runs in (a build's may become `quick edit`).
    pub fn role(self) -> &'static str {
        match self {
            Self::Build => role::BUILD,
            Self::Plan => role::PLAN,
            Self::Ask => role::ASK,
        }
    }

    /// Whether the turn may only read the project.
    pub fn reads_only(self) -> bool {
        self != Self::Build
    }
}

/// Why a model ran a turn, as each assistant message shows it beside the
/// model's name.
pub mod role {
    /// The project's (or the default) model changed the app.
    pub const BUILD: &str = "build";
    /// A short follow-up went to the quick-edit model (`OLLIO_EDIT_MODEL`).
    pub const QUICK_EDIT: &str = "quick edit";
    /// The planning model wrote a plan; the chat shows it as a plan card.
    pub const PLAN: &str = "plan";
    /// A question about the project was answered.
    pub const ASK: &str = "ask";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_from_their_form_values() {
        for mode in TurnMode::ALL {
            assert_eq!(TurnMode::parse(Some(mode.as_str())), Ok(mode));
        }
        assert_eq!(TurnMode::parse(None), Ok(TurnMode::Build));
        assert_eq!(TurnMode::parse(Some("")), Ok(TurnMode::Build));
        assert!(TurnMode::parse(Some("deploy"))
            .unwrap_err()
            .contains("Build, Plan or Ask"));
        assert!(!TurnMode::Build.reads_only());
        assert!(TurnMode::Plan.reads_only() && TurnMode::Ask.reads_only());
        assert_eq!(serde_json::to_string(&TurnMode::Plan).unwrap(), "\"plan\"");
    }
}

//! The JSON that E2B's control plane and envd exchange, as serde types. The
//! client and the bundled `sandboxd` both use these, so they cannot drift
//! apart; E2B's official SDKs are the third party that keeps them honest.
//!
//! envd's messages are protobuf rendered as JSON: lowerCamelCase names,
//! `bytes` as base64, enums as their names, and 64-bit integers as strings
//! (which we also accept as numbers).

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

/// The port envd listens on inside an E2B sandbox, sent as `E2b-Sandbox-Port`.
pub const ENVD_PORT: u16 = 49983;
/// The envd version `sandboxd` reports. 0.5.7 is where SDKs start to use
/// `application/octet-stream` uploads, which `sandboxd` accepts too.
pub const ENVD_VERSION: &str = "0.5.7";

// ---- Control plane --------------------------------------------------------

/// `POST /sandboxes` and `POST /v2/sandboxes`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NewSandbox {
    #[serde(rename = "templateID")]
    pub template_id: String,
    /// Seconds until the sandbox is killed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u64>,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    #[serde(rename = "envVars", default)]
    pub env_vars: BTreeMap<String, String>,
}

/// The answer to a create or connect: what is needed to reach envd.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxCreated {
    #[serde(rename = "templateID", default)]
    pub template_id: String,
    #[serde(rename = "sandboxID")]
    pub sandbox_id: String,
    #[serde(rename = "clientID", default)]
    pub client_id: String,
    #[serde(rename = "envdVersion", default)]
    pub envd_version: String,
    #[serde(rename = "envdAccessToken", default)]
    pub envd_access_token: Option<String>,
    #[serde(default)]
    pub domain: Option<String>,
}

/// `GET /sandboxes/{id}` and the entries of `GET /v2/sandboxes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxDetail {
    #[serde(rename = "templateID", default)]
    pub template_id: String,
    #[serde(rename = "sandboxID")]
    pub sandbox_id: String,
    #[serde(rename = "clientID", default)]
    pub client_id: String,
    /// RFC 3339.
    #[serde(rename = "startedAt", default)]
    pub started_at: String,
    /// RFC 3339: when the sandbox will be killed unless extended.
    #[serde(rename = "endAt", default)]
    pub end_at: String,
    #[serde(rename = "envdVersion", default)]
    pub envd_version: String,
    #[serde(
        rename = "envdAccessToken",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub envd_access_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    #[serde(rename = "cpuCount", default)]
    pub cpu_count: u32,
    #[serde(rename = "memoryMB", default)]
    pub memory_mb: u64,
    #[serde(rename = "diskSizeMB", default)]
    pub disk_size_mb: u64,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// `running` or `paused`.
    #[serde(default)]
    pub state: String,
}

/// `POST /sandboxes/{id}/timeout` and `POST /sandboxes/{id}/connect`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct TimeoutBody {
    pub timeout: u64,
}

/// `GET /templates/{id}` and `POST /templates/{id}/build`: whether a
/// template's image is built. An Ollio extension: E2B cloud builds its
/// templates ahead of time with its CLI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateState {
    #[serde(rename = "templateID")]
    pub template_id: String,
    pub built: bool,
}

/// The body of a control-plane error.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiError {
    pub code: u16,
    pub message: String,
}

// ---- envd: files ----------------------------------------------------------

/// One entry of the `POST /files` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteInfo {
    pub name: String,
    /// `file` or `dir`.
    #[serde(rename = "type", default)]
    pub kind: String,
    pub path: String,
}

// ---- envd: filesystem.Filesystem -----------------------------------------

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum FileType {
    #[default]
    #[serde(rename = "FILE_TYPE_UNSPECIFIED")]
    Unspecified,
    #[serde(rename = "FILE_TYPE_FILE")]
    File,
    #[serde(rename = "FILE_TYPE_DIRECTORY")]
    Directory,
    #[serde(rename = "FILE_TYPE_SYMLINK")]
    Symlink,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EntryInfo {
    pub name: String,
    #[serde(rename = "type", default)]
    pub kind: FileType,
    pub path: String,
    #[serde(default, deserialize_with = "int_or_string")]
    pub size: u64,
    #[serde(default)]
    pub mode: u32,
    #[serde(default)]
    pub permissions: String,
    #[serde(default)]
    pub owner: String,
    #[serde(default)]
    pub group: String,
    /// RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symlink_target: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PathRequest {
    pub path: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListDirRequest {
    pub path: String,
    #[serde(default)]
    pub depth: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MoveRequest {
    pub source: String,
    pub destination: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EntryResponse {
    pub entry: EntryInfo,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ListDirResponse {
    #[serde(default)]
    pub entries: Vec<EntryInfo>,
}

/// The `{}` answer of calls that return nothing.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Empty {}

// ---- envd: process.Process ------------------------------------------------

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ProcessConfig {
    pub cmd: String,
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default)]
    pub envs: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StartRequest {
    pub process: ProcessConfig,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdin: Option<bool>,
    /// Run on a pseudo-terminal: output comes as [`DataEvent::Pty`], input
    /// goes as [`ProcessInput::Pty`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pty: Option<Pty>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pty {
    pub size: PtySize,
}

/// A terminal's size in character cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PtySize {
    pub rows: u32,
    pub cols: u32,
}

/// `process.Process/Update`: a running pty's new size.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UpdateRequest {
    pub process: ProcessSelector,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pty: Option<Pty>,
}

/// One message of the `Start` stream.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StartResponse {
    pub event: ProcessEvent,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ProcessEvent {
    Start { pid: u32 },
    Data(DataEvent),
    End(EndEvent),
    Keepalive {},
}

/// Output, base64 in JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DataEvent {
    Stdout(String),
    Stderr(String),
    Pty(String),
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndEvent {
    #[serde(default)]
    pub exit_code: i32,
    #[serde(default)]
    pub exited: bool,
    #[serde(default)]
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ProcessSelector {
    Pid(u32),
    Tag(String),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ProcessInput {
    Stdin(String),
    Pty(String),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SendInputRequest {
    pub process: ProcessSelector,
    pub input: ProcessInput,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Signal {
    #[serde(rename = "SIGNAL_SIGTERM")]
    Term,
    #[serde(rename = "SIGNAL_SIGKILL")]
    Kill,
}

impl Signal {
    pub fn number(self) -> i32 {
        match self {
            Self::Term => 15,
            Self::Kill => 9,
        }
    }
}

/// Protobuf JSON allows an enum as its name or its number.
impl<'de> Deserialize<'de> for Signal {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Name(String),
            Number(i64),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Name(name) if name == "SIGNAL_SIGTERM" => Ok(Self::Term),
            Raw::Name(name) if name == "SIGNAL_SIGKILL" => Ok(Self::Kill),
            Raw::Number(15) => Ok(Self::Term),
            Raw::Number(9) => Ok(Self::Kill),
            _ => Err(serde::de::Error::custom(
                "signal must be SIGNAL_SIGTERM or SIGNAL_SIGKILL",
            )),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SendSignalRequest {
    pub process: ProcessSelector,
    pub signal: Signal,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CloseStdinRequest {
    pub process: ProcessSelector,
}

/// The JSON body of a failed Connect unary call (and the `error` of a
/// stream's last envelope).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RpcError {
    pub code: String,
    #[serde(default)]
    pub message: String,
}

fn int_or_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Number(u64),
        Text(String),
    }
    match Raw::deserialize(deserializer)? {
        Raw::Number(number) => Ok(number),
        Raw::Text(text) => text.parse().map_err(serde::de::Error::custom),
    }
}

/// Formats unix milliseconds as RFC 3339 in UTC, as E2B's API does.
pub fn rfc3339(ms: i64) -> String {
    ollio_domain::calendar::format_rfc3339(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_events_read_as_envd_writes_them() {
        let start: StartResponse =
            serde_json::from_str(r#"{"event":{"start":{"pid":42}}}"#).unwrap();
        assert_eq!(start.event, ProcessEvent::Start { pid: 42 });
        let data: StartResponse =
            serde_json::from_str(r#"{"event":{"data":{"stdout":"aGk="}}}"#).unwrap();
        assert_eq!(
            data.event,
            ProcessEvent::Data(DataEvent::Stdout("aGk=".into()))
        );
        let end: StartResponse = serde_json::from_str(
            r#"{"event":{"end":{"exitCode":3,"exited":true,"status":"exit status 3"}}}"#,
        )
        .unwrap();
        let ProcessEvent::End(end) = end.event else {
            panic!("not an end event")
        };
        assert_eq!(end.exit_code, 3);
        let keepalive: StartResponse =
            serde_json::from_str(r#"{"event":{"keepalive":{}}}"#).unwrap();
        assert_eq!(keepalive.event, ProcessEvent::Keepalive {});
    }

    #[test]
    fn entry_sizes_may_be_strings_as_protobuf_json_writes_int64() {
        let entry: EntryInfo = serde_json::from_str(
            r#"{"name":"a","type":"FILE_TYPE_FILE","path":"/home/user/a","size":"12"}"#,
        )
        .unwrap();
        assert_eq!(entry.size, 12);
        assert_eq!(entry.kind, FileType::File);
    }

    #[test]
    fn signals_read_as_names_or_numbers() {
        let by_name: SendSignalRequest =
            serde_json::from_str(r#"{"process":{"pid":1},"signal":"SIGNAL_SIGKILL"}"#).unwrap();
        assert_eq!(by_name.signal, Signal::Kill);
        let by_number: SendSignalRequest =
            serde_json::from_str(r#"{"process":{"pid":1},"signal":15}"#).unwrap();
        assert_eq!(by_number.signal, Signal::Term);
    }
}

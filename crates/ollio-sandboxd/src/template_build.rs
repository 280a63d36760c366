//! What a template build does inside its build sandbox: the starter files
//! and support files written in, the install command run with its output
//! told line by line, and the room a build gets. `Registry::image` starts
//! the sandbox and keeps the result (`template_images`).

use super::{
    guest_link::GuestLink,
    template_images::{BuildError, BuildEvent, Progress},
    Limits,
};

/// Writes `template`'s files into a build sandbox and runs its install.
pub(crate) async fn install(
    template: &'static ollio_templates::Template,
    link: &GuestLink,
    progress: Progress<'_>,
) -> Result<(), BuildError> {
    use crate::guest_protocol::{Spawn, SpawnEvent};
    let files = |message: String| BuildError::Files {
        template: template.id.to_owned(),
        message,
    };
    let home = crate::guest::HOME;
    for file in template.files {
        link.write(&format!("{home}/{}", file.path), file.bytes)
            .await
            .map_err(|error| files(format!("writing {}: {error}", file.path)))?;
    }
    for file in template.support {
        let path = format!("{}/{}", ollio_templates::SUPPORT_DIR, file.path);
        link.write(&path, file.bytes)
            .await
            .map_err(|error| files(format!("writing {path}: {error}")))?;
    }
    let Some(command) = template.install else {
        return Ok(());
    };
    progress(BuildEvent::Output(format!("$ {command}")));
    let mut events = link
        .spawn(Spawn {
            cmd: "/bin/bash".into(),
            args: vec!["-l".into(), "-c".into(), command.into()],
            envs: [
                ("NPM_CONFIG_UPDATE_NOTIFIER", "false"),
                ("PIP_NO_INPUT", "1"),
            ]
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect(),
            cwd: Some(home.into()),
            stdin: false,
            cpu_seconds: None,
            pty: None,
        })
        .await
        .map_err(|error| files(format!("starting its install: {error}")))?;
    let mut tail: std::collections::VecDeque<String> = Default::default();
    let run = async {
        loop {
            match events.next().await {
                Ok(Some(
                    SpawnEvent::Stdout(data) | SpawnEvent::Stderr(data) | SpawnEvent::Pty(data),
                )) => {
                    use base64::Engine as _;
                    let bytes = base64::engine::general_purpose::STANDARD
                        .decode(data)
                        .unwrap_or_default();
                    let text = String::from_utf8_lossy(&bytes);
                    for line in text.lines().filter(|line| !line.trim().is_empty()) {
                        if tail.len() == 5 {
                            tail.pop_front();
                        }
                        tail.push_back(line.to_owned());
                        progress(BuildEvent::Output(line.to_owned()));
                    }
                }
                Ok(Some(SpawnEvent::Ended { exit_code, .. })) => return Ok(exit_code),
                Ok(Some(SpawnEvent::Failed(error))) => return Err(error.message),
                Ok(Some(SpawnEvent::Started { .. })) => {}
                Ok(None) => return Err("the sandbox ended".to_owned()),
                Err(error) => return Err(error.to_string()),
            }
        }
    };
    let ended = tokio::time::timeout(crate::template_images::BUILD_PATIENCE, run).await;
    match ended {
        Err(_) => Err(BuildError::TooLong {
            template: template.id.to_owned(),
            minutes: crate::template_images::BUILD_PATIENCE.as_secs() / 60,
        }),
        Ok(Err(message)) => Err(files(format!("its install: {message}"))),
        Ok(Ok(0)) => Ok(()),
        Ok(Ok(exit_code)) => Err(BuildError::Install {
            template: template.id.to_owned(),
            exit_code,
            tail: Vec::from(tail).join(" / "),
        }),
    }
}

/// A build installs packages: at least 2 GB of memory and 4 GB of disk,
/// whatever the sandboxes get.
pub(crate) fn build_limits(limits: Limits) -> Limits {
    Limits {
        memory_bytes: limits.memory_bytes.max(2 << 30),
        processes: limits.processes.max(512),
        cpus: limits.cpus.max(1.0),
        disk_bytes: limits.disk_bytes.max(4 << 30),
        output_bytes: limits.output_bytes.max(64 << 20),
    }
}

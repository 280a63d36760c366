//! A turn's steps on their way to the browser: recorded in order in
//! `message_events` (numbered per project), then a wake-up for the event
//! streams of that project. Streams always read from the database, so a
//! worker in another process is followed too, only a little later (the
//! streams also look every second).

use tokio::sync::{broadcast, mpsc};

use ollio_domain::{MessageId, ProjectId, TurnEvent};
use ollio_store::Store;

/// Output chunks that arrive together are stored as one event, up to this.
const OUTPUT_BATCH: usize = 8 * 1024;

/// Wakes a project's event streams when it has new events.
#[derive(Clone)]
pub struct EventHub {
    sender: broadcast::Sender<ProjectId>,
}

impl Default for EventHub {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(1024).0,
        }
    }
}

impl EventHub {
    pub fn notify(&self, project: &ProjectId) {
        let _ = self.sender.send(project.clone());
    }

    pub fn subscribe(&self) -> broadcast::Receiver<ProjectId> {
        self.sender.subscribe()
    }
}

/// Wakes `hub`'s streams for events other processes append, through
/// PostgreSQL's `LISTEN`, for as long as the hub lives; on SQLite there are
/// none, and nothing is started. A lost connection is made again; the
/// streams' own look once a second covers the gap.
pub fn follow_database(store: Store, hub: &EventHub) {
    let hub = hub.sender.downgrade();
    tokio::spawn(async move {
        loop {
            match store.event_notifications().await {
                Ok(None) => return,
                Ok(Some(mut notifications)) => loop {
                    let next = tokio::time::timeout(
                        std::time::Duration::from_secs(5),
                        notifications.next(),
                    );
                    let Some(sender) = hub.upgrade() else {
                        return;
                    };
                    drop(sender);
                    match next.await {
                        Ok(Ok(project)) => match hub.upgrade() {
                            Some(sender) => {
                                let _ = sender.send(project);
                            }
                            None => return,
                        },
                        // Quiet for a while: look whether the hub is still there.
                        Err(_) => {}
                        Ok(Err(error)) => {
                            tracing::warn!(%error, "listening for events failed");
                            break;
                        }
                    }
                },
                Err(error) => tracing::warn!(%error, "cannot listen for events"),
            }
            if hub.upgrade().is_none() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    });
}

/// Records `project`'s turn events for `message` until every sender is
/// gone; returns how many were stored. A failure to store is logged and
/// the event dropped: the turn itself goes on.
pub async fn record(
    store: Store,
    hub: EventHub,
    project: ProjectId,
    message: MessageId,
    mut events: mpsc::UnboundedReceiver<TurnEvent>,
) -> usize {
    let mut stored = 0;
    let mut pending: Option<TurnEvent> = None;
    loop {
        let event = match pending.take() {
            Some(event) => event,
            None => match events.recv().await {
                Some(event) => event,
                None => break,
            },
        };
        let event = match event {
            TurnEvent::Output { stderr, mut text } => {
                // Join what is already waiting from the same stream.
                while text.len() < OUTPUT_BATCH {
                    match events.try_recv() {
                        Ok(TurnEvent::Output {
                            stderr: same,
                            text: more,
                        }) if same == stderr => text.push_str(&more),
                        Ok(other) => {
                            pending = Some(other);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                TurnEvent::Output { stderr, text }
            }
            // Reasons come from errors, which may name services behind
            // the app; users read them.
            TurnEvent::Retrying { reason, wait_ms } => TurnEvent::Retrying {
                reason: ollio_domain::without_addresses(&reason),
                wait_ms,
            },
            TurnEvent::Failed { reason } => TurnEvent::Failed {
                reason: ollio_domain::without_addresses(&reason),
            },
            other => other,
        };
        let payload = match serde_json::to_string(&event) {
            Ok(payload) => payload,
            Err(error) => {
                tracing::error!(%error, "an event could not be encoded");
                continue;
            }
        };
        match store
            .append_event(&project, &message, event.kind(), &payload)
            .await
        {
            Ok(_) => {
                stored += 1;
                hub.notify(&project);
            }
            Err(error) => tracing::error!(%error, "an event could not be recorded"),
        }
    }
    stored
}

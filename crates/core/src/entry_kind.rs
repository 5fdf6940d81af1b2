//! Every kind of record entry this station writes, in one table: each writer names its
//! kind as an [`EntryKind`], never as a string, so a kind cannot be misspelt or invented
//! in one corner of the code. The tidy test checks that this table, the list in
//! `docs/record-format.md` and the console's subscription list (`sync.js`,
//! `FOLLOWED_KINDS`) agree: the docs name exactly these, the console follows only these.

macro_rules! entry_kinds {
    ($($variant:ident => $text:literal,)*) => {
        /// The kind of a record entry (its `kind` member).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum EntryKind {
            $($variant,)*
        }

        impl EntryKind {
            /// Every kind, in the table's order.
            pub const ALL: &'static [EntryKind] = &[$(EntryKind::$variant,)*];

            /// The kind as it appears in the record.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(EntryKind::$variant => $text,)*
                }
            }

            /// The kind named `text`, if this station writes it.
            pub fn parse(text: &str) -> Option<EntryKind> {
                match text {
                    $($text => Some(EntryKind::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

entry_kinds! {
    AlarmAcknowledged => "alarm.acknowledged",
    CallAnswered => "call.answered",
    CallAnswering => "call.answering",
    CallCancelled => "call.cancelled",
    CallDeclined => "call.declined",
    CallEnded => "call.ended",
    CallFailed => "call.failed",
    CallLeaving => "call.leaving",
    CallMissed => "call.missed",
    CallRecorded => "call.recorded",
    CallRecordedByPeer => "call.recorded_by_peer",
    CallRecordingStopped => "call.recording_stopped",
    CallRecordingDeleted => "call.recording_deleted",
    CallRecordingStoppedByPeer => "call.recording_stopped_by_peer",
    CallRefused => "call.refused",
    CallRinging => "call.ringing",
    CallStale => "call.stale",
    CallStarted => "call.started",
    CallSuperseded => "call.superseded",
    AlarmCleared => "alarm.cleared",
    AlarmEscalated => "alarm.escalated",
    AlarmNotification => "alarm.notification",
    AlarmRaised => "alarm.raised",
    AlarmUpdated => "alarm.updated",
    ConflictAcknowledged => "conflict.acknowledged",
    ConflictRaised => "conflict.raised",
    ConflictResolved => "conflict.resolved",
    LineAdded => "line.added",
    LineChanged => "line.changed",
    LineItemRefused => "line.item_refused",
    LineRemoved => "line.removed",
    LineState => "line.state",
    LineTaskFailed => "line.task_failed",
    Login => "login",
    LoginFailed => "login.failed",
    LoginLocked => "login.locked",
    Logout => "logout",
    MessageAcknowledged => "message.acknowledged",
    MessageAcknowledgedByPeer => "message.acknowledged_by_peer",
    MessageDelivered => "message.delivered",
    MessageDuplicate => "message.duplicate",
    MessageQueued => "message.queued",
    MessageReceived => "message.received",
    MessageSent => "message.sent",
    NoticeAcknowledged => "notice.acknowledged",
    NoticeAcknowledgedByPeer => "notice.acknowledged_by_peer",
    NoticeAmended => "notice.amended",
    NoticeCancelled => "notice.cancelled",
    NoticeExpired => "notice.expired",
    NoticeFiled => "notice.filed",
    NoticeReceived => "notice.received",
    PresenceReceived => "presence.received",
    PresenceSent => "presence.sent",
    ReceiptReceived => "receipt.received",
    ReceiptSent => "receipt.sent",
    StationCreated => "station.created",
    StationStarted => "station.started",
    StationStopped => "station.stopped",
    TokenCreated => "token.created",
    TokenRevoked => "token.revoked",
    UserAdded => "user.added",
    UserDisabled => "user.disabled",
    UserEnabled => "user.enabled",
    UserPasswordChanged => "user.password_changed",
    UserPasswordReset => "user.password_reset",
    UserRemoved => "user.removed",
    UserRoleChanged => "user.role_changed",
    WatchCheckAnswered => "watch_check.answered",
    WatchCheckMissed => "watch_check.missed",
    WatchCheckReceived => "watch_check.received",
    WatchCheckSent => "watch_check.sent",
}

impl std::fmt::Display for EntryKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_and_names_are_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for kind in EntryKind::ALL {
            assert_eq!(EntryKind::parse(kind.as_str()), Some(*kind));
            assert!(seen.insert(kind.as_str()), "{kind} twice");
        }
        assert_eq!(EntryKind::parse("record.checkpoint"), None);
    }
}

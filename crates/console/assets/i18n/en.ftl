# The console's English catalog (Fluent). Keep ru.ftl in step: same ids, same attributes.

app-title = hotline
station-label = Station
login-heading = Log in to the hotline console
login-user = User
login-password = Password
login-submit = Log in
login-failed = Wrong user or password.
login-expired = Your session has ended. Log in again; your unsent message is kept.
login-unreachable = The station does not answer. Check that it is running.
logout = Log out
logged-in-as = { $user } ({ $role })
on-watch = On watch: { $users }
on-watch-none = On watch: nobody else
role-operator = operator
role-supervisor = supervisor
role-auditor = auditor
language = Language
mute = Sound on
    .title = Alarm tones are on; press to mute
muted = MUTED
    .title = Alarm tones are muted; press to turn them back on
utc-clock = UTC
dtg-label =
    .title = Date-time group
unit-hours = h
unit-minutes = min
unit-seconds = s
dtg-months = JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC

console-disconnected = CONSOLE DISCONNECTED from the station — reconnecting. This is the console's own connection, not the line.
console-resynced = Console reconnected and resynchronised.

lines-heading = Lines
line-state-up = UP
line-state-connecting = CONNECTING
line-state-down = DOWN
line-peer = Line to { $peer }
line-in-state = for { $duration }
line-rtt = RTT { $rtt } ms
line-rtt-none = RTT —
line-undelivered = { $count ->
    [one] 1 message waiting
   *[other] { $count } messages waiting
  }
line-watch-none = Watch check: none yet
line-watch = Watch check { $time }, answered in { $seconds } s by { $user }
line-watch-pending = Watch check { $time }: waiting for an answer
line-watch-missed = Watch check { $time }: MISSED
line-presence = { $count ->
    [0] { $peer }: NOBODY on watch
    [one] { $peer }: 1 on watch
   *[other] { $peer }: { $count } on watch
}
line-presence-unknown = Far end on watch: not reported yet
line-figures = 24 h: { $answered }/{ $sent } checks answered in time ({ $missed } missed), p50 { $p50 } s, max { $max } s; FLASH acknowledged p50 { $flash } s
line-figures-none = 24 h: no watch checks yet
lines-none = This station has no lines.

conversation-heading = Conversation with { $peer }
conversation-none = Select a line.
pinned-heading = Needs your acknowledgment
log-empty = No messages on this line yet.
direction-out = { $from } → { $to }
direction-in = { $from } → { $to }
acknowledge = Acknowledge
    .title = Tell the far end that you have read this message
acknowledged-by = Acknowledged by { $user } at { $time }
state-queued = QUEUED
state-sent = SENT
state-delivered = DELIVERED
state-acknowledged = ACKNOWLEDGED
state-awaiting-ack = AWAITING YOUR ACK
time-created = Queued: { $time }
time-sent = Sent: { $time }
time-delivered = Delivered: { $time }
time-acknowledged = Acknowledged: { $time }
time-received = Received: { $time }
time-pending = —
author = by { $user }

precedence = Precedence
precedence-ROUTINE = ROUTINE
precedence-PRIORITY = PRIORITY
precedence-IMMEDIATE = IMMEDIATE
precedence-FLASH = FLASH
compose-heading = New message
compose-body = Message to { $peer }
compose-placeholder =
    .placeholder = Type the message. Ctrl+Enter sends.
message-language = Message language
send = Send
    .title = Send (Ctrl+Enter)
send-failed = Not sent: { $reason }
draft-kept = Draft kept.

alerts-heading = Alerts
alert-flash = FLASH message from { $peer }
alert-immediate = IMMEDIATE message from { $peer }
alert-line-down = Line to { $peer } is DOWN
alert-line-restored = (line is up again)
alert-critical = CRITICAL: { $message }
alert-warning = WARNING: { $message }
alert-watch-check = WATCH CHECK from { $peer }: answer by { $deadline }
alert-conflict = Conflict between notices: { $title }
alert-ack = Acknowledge

record-heading = Record
record-checkpoint = Latest checkpoint
record-origin = Log
record-size = Entries
record-root = Root hash
record-signed-by = Signed by { $name }
record-cosigned = Cosigned by { $name } at { $time }
record-not-cosigned = Not yet cosigned by the peer.
record-last-cosigned = Last cosigned: { $size } entries, by { $name } at { $time }
record-unavailable = Signed checkpoints are not available on this station yet.
record-export = Download the record export
record-refresh = Refresh

map-heading = Notices and conflicts
map-label =
    .aria-label = Map of notices; arrow keys pan, plus and minus zoom
map-zoom-in =
    .aria-label = Zoom in
    .title = Zoom in
map-zoom-out =
    .aria-label = Zoom out
    .title = Zoom out
map-reset = Reset view
draw-polygon = Draw area
    .title = Click points on the map; double-click or Enter to finish
draw-circle = Draw circle
    .title = Click the centre, then click the edge
draw-cancel = Cancel drawing
draw-finish = Finish area
draw-hint-polygon = Click to add corners (or arrows to move, Space to place); double-click or Enter to finish; Escape cancels.
draw-hint-circle = Click the centre, then the edge (or arrows and Space); Escape cancels.
legend-ours = Our notices
legend-theirs = Their notices
legend-conflict = Conflict
notice-form-heading = New notice
notice-kind = Kind
kind-air_operations = Air operations
kind-missile_test = Missile test
kind-naval_exercise = Naval exercise
kind-airspace_closure = Airspace closure
kind-ground_operations = Ground operations
kind-other = Other
notice-title = Title
notice-alt-min = Altitude from (m)
notice-alt-max = Altitude to (m)
notice-start = Start (UTC)
notice-end = End (UTC)
notice-remarks = Remarks
notice-json = Notice as filed (JSON)
notice-file = File notice
notice-discard = Discard
notice-filed = Notice filed.
notice-file-failed = Not filed: { $reason }
notices-unavailable = Notices and conflicts are not available on this station yet.
notices-ours = Our notices
notices-theirs = Their notices
conflicts = Conflicts
conflicts-none = No conflicts.
notices-none = None.
notice-radius = radius { $km } km
notice-alt = { $min }–{ $max } m
conflict-between = { $a } ⟷ { $b }

error-network = the station does not answer
error-unknown = { $message }

# Administration (supervisors only) and one's own password.
login-password-changed = Your password has been changed and all your sessions have ended. Log in with the new password.
nav-label =
    .aria-label = Pages
nav-console = Console
nav-admin = Administration
admin-heading = Administration
admin-refresh = Refresh
admin-users-heading = Users
admin-tokens-heading = API tokens
admin-lines-heading = Lines
admin-lines-hint = Lines are added and removed at once, without a restart. Read the safety number aloud with the peer's supervisor: it is the same at both ends. To pin another key, remove the line and add it again.
line-add-heading = Add a line
line-add-peer = Peer station
line-add-key = Peer's key
line-add-key-hint =
    .placeholder = the last line `hotline key` prints at the peer
line-add-addrs = Addresses
line-add-addrs-hint =
    .placeholder = HOST:PORT, primary first, separated by spaces
line-add = Add line
line-added = Line to { $peer } added; it is connecting. Safety number: { $number }
line-remove = Remove
line-remove-confirm = Remove the line to { $peer }? It closes at once and { $peer }'s connections are refused; its messages stay in the record.
line-removed = Line to { $peer } removed.
line-safety-number = Safety number: { $number }
admin-col-name = Name
admin-col-role = Role
admin-col-state = State
admin-col-last-login = Last login
admin-col-actions = Actions
admin-col-id = ID
admin-col-user = User
admin-col-label = Label
admin-col-created = Created
admin-col-expires = Expires
admin-col-peer = Peer
admin-col-addrs = Addresses
admin-col-key = Key
admin-loading = Loading…
admin-failed = Failed: { $reason }
admin-forbidden = Only supervisors can see this page.
admin-never = never
admin-none = None.
admin-you = (you)
admin-self-locked =
    .title = You cannot disable, demote or remove your own account; use “Change my password” for your password.
admin-role-of =
    .aria-label = Role of { $user }
user-state-active = active
user-state-disabled = DISABLED
user-add-heading = Add a user
user-add-name = Name
user-add-name-hint =
    .placeholder = letters, digits, . _ -
user-add-password = Password
user-add = Add user
user-added = User { $user } added.
user-disable = Disable
user-enable = Enable
user-reset-password = Reset password
user-remove = Remove
user-disabled = User { $user } disabled: their sessions, event streams and tokens have ended.
user-enabled = User { $user } enabled.
user-removed = User { $user } removed.
user-role-changed = { $user } is now { $role }.
user-password-reset = New password set for { $user }: their sessions and tokens have ended.
user-disable-confirm = Disable { $user }? Their sessions, open consoles and API tokens end at once.
user-remove-confirm = Remove { $user }? Their sessions, open consoles and API tokens end at once; what they did stays in the record.
user-reset-title = New password for { $user }
user-reset-explain = Their sessions and API tokens end at once; give them the new password.
token-create-heading = Create a token
token-label-hint =
    .placeholder = what it is for, e.g. duty laptop 2
token-days = Expires in (days)
token-days-hint =
    .placeholder = empty: until revoked
token-create = Create token
token-created-for = Token { $id } for { $user }:
token-secret-label = New token
token-secret-warning = Copy this token now: it will not be shown again.
token-copy = Copy
token-copied = Copied.
token-copy-failed = Select the token and copy it by hand.
token-secret-done = I have copied it
token-revoke = Revoke
token-revoked = Token { $id } revoked.
token-never = never
password-open = Change my password
password-heading = Change my password
password-explain = All your sessions end, this one too: you log in again with the new password.
password-current = Current password
password-new = New password
password-repeat = New password again
password-min-hint =
    .placeholder = at least 8 characters
password-submit = Change password
password-mismatch = The new passwords do not match.
password-too-short = The new password needs at least 8 characters.
password-wrong = The current password is wrong.
dialog-cancel = Cancel
dialog-ok = OK

# Calls (calls.js, ring.js)
calls-heading = Calls
calls-bar-heading = Call
calls-none = No calls yet.
call-button = CALL
call-button-label = Call { $peer }: every console logged in there rings
call-incoming = CALL from { $station } — { $operator }
call-answer = Answer
call-decline = Decline
call-hangup = Hang up
call-end-elsewhere = End call
call-ringing-out = Ringing { $peer }…
call-connecting = Connecting the call from { $peer }…
call-answered = On call with { $peer } (answered by { $user })
call-audio-connecting = audio connecting…
call-audio-connected = audio on
call-audio-far-silent = no audio from the far end: the path between the stations may be cut
call-audio-no-microphone = no microphone: the far end cannot hear you
call-audio-failed = no audio: { $reason }
call-elsewhere-in = Call from { $peer }: answered at another console of this station
call-elsewhere-out = { $user } is calling { $peer } from another console
call-elsewhere-answered = { $peer }: call in progress at another console ({ $user })
call-title-ringing = ☎ { $peer } IS CALLING
call-error-line_down = The line to { $peer } is down: the call cannot ring there. The attempt is in the record.
call-error-call_in_progress = A call is already ringing or in progress on the line to { $peer }.
call-error = The call could not be made: { $message }
call-error-action = The station refused: { $message }
call-dir-in = IN
call-dir-out = OUT
call-who = { $user } at { $station }
call-called-by = called by { $who }
call-answered-by = answered by { $who }
call-not-answered = not answered
call-state-ringing = ringing
call-state-answered = in progress
call-state-ended = ended
call-state-declined = declined
call-state-missed = missed
call-state-cancelled = cancelled
call-state-failed = failed
call-state-superseded = superseded
call-recording = Recording ({ $duration })
call-recording-cut-off = Recording ({ $duration }, cut off)
call-recording-label = Play this station's recording of the call
call-recording-stopped-here = Not recorded here any more: the recorder stopped ({ $why }).
call-recording-stopped-peer = { $peer } no longer records this call ({ $why }).
call-recording-deleted-retention = Recording ({ $duration }) deleted { $at }: its retention ran out
call-recording-deleted-by = Recording ({ $duration }) deleted { $at } { $why }
sound-enable = Click to enable sound
    .title = The browser keeps this console silent until you click in it: calls and alarms cannot be heard yet

## Station texts. Everything below is rendered by the station itself (crates/i18n), not
## by the browser: notice summaries, conflict alerts, alarms, watch checks, presence and
## escalation e-mail, for the record, the event stream, webhooks and e-mail. Ids start
## with "sys-"; they are listed in crates/i18n/src/ids.rs, and a test renders every one
## of them in both languages. Times arrive pre-formatted: $start is UTC
## ("2026-11-25 10:00Z") and $start_dtg the date-time group ("251000Z NOV 26").
## Numbers are written with a decimal point in every language.

sys-notice-summary = { $kind } “{ $title }”: { $area }, { $altitude }, { $start } – { $end } ({ $start_dtg } – { $end_dtg })
sys-area-circle = circle { $radius_km } km around { $center }
sys-area-polygon = polygon, { $vertices ->
        [one] { $vertices } vertex
       *[other] { $vertices } vertices
    }
sys-area-multipolygon = { $polygons ->
        [one] { $polygons } polygon
       *[other] { $polygons } polygons
    }, { $vertices ->
        [one] { $vertices } vertex
       *[other] { $vertices } vertices
    }
sys-altitude-band = { $min_m }–{ $max_m } m ({ $min_fl }–{ $max_fl })
sys-altitude-unlimited = SFC–UNL

sys-notice-filed = { $station } filed a notice: { $summary }
sys-notice-amended = { $station } amended a notice (version { $version }): { $summary }
sys-notice-cancelled = { $station } cancelled notice “{ $title }”.
sys-notice-expired = Notice “{ $title }” of { $station } expired at { $end } ({ $end_dtg }).
sys-notice-acknowledged = Notice “{ $title }” (version { $version }) acknowledged by { $by } at { $station }.

sys-conflict-raised = Conflict between “{ $a_title }” ({ $a_station }) and “{ $b_title }” ({ $b_station }): { $lateral_km ->
        [0] the areas overlap
       *[other] the areas are { $lateral_km } km apart
    }; { $vertical_m ->
        [0] the altitude bands overlap
       *[other] the altitude bands are { $vertical_m } m apart
    }; { $time_min ->
        [0] the time windows overlap
       *[other] the time windows are { $time_min } min apart
    }.
sys-conflict-resolved = Conflict resolved: “{ $a_title }” ({ $a_station }) and “{ $b_title }” ({ $b_station }) no longer conflict.

sys-severity-critical = CRITICAL
sys-severity-warning = WARNING
sys-severity-info = INFO
sys-alarm-line_down = The line to { $peer } has been down for { $seconds } s.
sys-alarm-watch_check_missed = { $side ->
        [here] We did not answer the watch check from { $peer } within { $minutes } min.
       *[peer] Nobody at { $peer } answered our watch check within { $minutes } min.
    }
sys-alarm-ack_overdue = { $side ->
        [here] { $count ->
            [1] { $precedence } message { $message_id } from { $peer } has waited { $minutes } min for our acknowledgment.
           *[other] { $count } { $precedence } messages from { $peer } have waited { $minutes } min or more for our acknowledgment (the oldest: { $message_id }).
        }
       *[peer] { $count ->
            [1] { $precedence } message { $message_id } to { $peer } is not acknowledged after { $minutes } min.
           *[other] { $count } { $precedence } messages to { $peer } are not acknowledged after { $minutes } min or more (the oldest: { $message_id }).
        }
    }
sys-alarm-peer_key_mismatch = { $peer } presented key { $presented }, not the pinned key { $pinned }: the connection was refused.
sys-alarm-record_fork = { $peer }'s record does not extend the record we cosigned: the record has forked.
sys-alarm-storage = Storage error: { $detail }
sys-alarm-low_disk = Low disk space: { $free_mb } MB free.
sys-alarm-nobody_on_watch = Nobody has been on watch at { $peer } for { $minutes } min.
sys-alarm-recording_stopped = A call recording on the line to { $peer } stopped before the call ended ({ $detail }): the rest of the call is not recorded here. Free the disk or fix it, then clear this alarm.
sys-alarm-peer_recording_stopped = { $peer } reports that its recording of a call on this line stopped before the call ended ({ $detail }): this station still records it, but from then only this side's recording exists. Tell { $peer }'s watch; clear this alarm once it is known.
sys-alarm-line_task_failed = The line to { $peer } stopped working inside this station ({ $detail }); the station restarted it. Report this to the station's engineers.
sys-alarm-cosignature_refused = { $peer } refused to cosign our record at size { $size }: { $reason }
sys-alarm-record_integrity = The record on this station's disk does not match its signed checkpoints: { $detail }
sys-alarm-acknowledged = Alarm acknowledged by { $by }: { $alarm }
sys-alarm-cleared = Alarm cleared by { $by }: { $alarm }
sys-alarm-cleared-auto = Alarm cleared, the cause has ended: { $alarm }

sys-watch-check-requested = Watch check sent to { $peer }: an operator there must answer within { $minutes } min.
sys-watch-check-received = Watch check from { $peer }: answer within { $minutes } min.
sys-watch-check-answered = Watch check answered by { $by } at { $station } in { $seconds } s.
sys-watch-check-missed = { $side ->
        [here] We did not answer the watch check from { $peer } within { $minutes } min.
       *[peer] { $peer } did not answer our watch check within { $minutes } min.
    }
sys-presence = { $peer }: { $count ->
        [0] nobody on watch
       *[other] { $count } on watch
    }

sys-escalation-subject = [{ $severity }] { $station }: { $alarm }
sys-escalation-body =
    Alarm at station { $station } ({ $severity }):
    { $alarm }

    Raised { $raised } ({ $raised_dtg }); not acknowledged after { $minutes } min.
    Acknowledge it in the console to stop the escalation: { $url }

//! Managing the station's accounts while it serves: users (add, change role, disable,
//! enable, remove, reset or change a password) and API tokens (create with a label and
//! an expiry, list, revoke). The HTTP API and the command line both call these, on the
//! station's `Core`, so every change and its record entry (naming who made it) land in
//! one transaction, and the record keeps its one writer.
//!
//! Ending a user's access (disable, remove, a new password) revokes its tokens and
//! deletes its sessions in that same transaction; the next request with either gets
//! 401, and its event streams end when they see the entry (`http::events`).

use hotline_store::{Role, StoreError, TokenInfo, UserInfo, UserRow};
use serde_json::json;

use crate::auth;
use crate::core::Core;
use crate::entry_kind::EntryKind;
use hotline_item::validate::valid_operator_name;

/// Longest token label.
#[allow(non_upper_case_globals)]
pub const token_label_chars_max: usize = 100;
/// Longest token lifetime one may ask for: ten years.
#[allow(non_upper_case_globals)]
pub const token_expires_in_s_max: i64 = 10 * 365 * 24 * 3600;

/// Why an account change was refused; each is one sentence an operator can act on.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    #[error("the current password is wrong")]
    WrongPassword,
    #[error("{0}")]
    Auth(#[from] auth::AuthError),
    #[error("station database: {0}")]
    Store(#[from] StoreError),
}

/// What a change to a user asks for; `None` leaves that part as it is.
#[derive(Debug, Default)]
pub struct UserChange {
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    pub password: Option<String>,
}

fn check_name(name: &str) -> Result<(), AccountError> {
    if valid_operator_name(name) {
        Ok(())
    } else {
        Err(AccountError::Invalid(format!(
            "user name {:?} is not allowed: use 1 to 64 of a-z, A-Z, 0-9, '-', '_' and '.'",
            name.chars().take(80).collect::<String>()
        )))
    }
}

/// Hashes on the password pool (argon2 takes tens of milliseconds by design, and must
/// not hold up the store's blocking threads).
async fn hash(password: String) -> Result<String, AccountError> {
    auth::hash_on_pool(password).await.map_err(AccountError::from)
}

pub async fn list_users(core: &Core) -> Result<Vec<UserInfo>, AccountError> {
    Ok(core.read(|tx| tx.users()).await?)
}

/// Adds `name` (or takes a removed user's name again); with `replace`, an existing user
/// gets the new role and password instead of a refusal.
pub async fn add_user(
    core: &Core,
    name: &str,
    role: Role,
    password: String,
    replace: bool,
    by: &str,
) -> Result<(), AccountError> {
    check_name(name)?;
    let phc = hash(password).await?;
    let (user, by_name) = (name.to_owned(), by.to_owned());
    let added = core
        .write(move |j| {
            let now = j.now_ms;
            match j.tx.user_row(&user)? {
                UserRow::Absent => {
                    j.tx.add_user(&user, role, &phc, now)?;
                }
                UserRow::Removed => {
                    j.tx.reinstate_user(&user, role, &phc, now)?;
                }
                UserRow::Live if replace => {
                    j.tx.set_password(&user, role, &phc)?;
                    j.tx.end_credentials(&user, now)?;
                }
                UserRow::Live => return Ok(false),
            }
            j.append(EntryKind::UserAdded, json!({"user": user, "role": role.as_str(), "by": by_name}))?;
            Ok(true)
        })
        .await?;
    if added {
        Ok(())
    } else {
        Err(AccountError::Conflict(format!("user {name:?} already exists on station {}", core.name)))
    }
}

/// Changes a user's role, disables or enables it, or resets its password. Disabling and
/// a new password end its sessions and tokens.
pub async fn change_user(core: &Core, name: &str, change: UserChange, by: &str) -> Result<UserInfo, AccountError> {
    if change.role.is_none() && change.disabled.is_none() && change.password.is_none() {
        return Err(AccountError::Invalid("nothing to change: give role, disabled or password".into()));
    }
    let phc = match change.password {
        Some(p) => Some(hash(p).await?),
        None => None,
    };
    let (user, by_name) = (name.to_owned(), by.to_owned());
    let (role, disabled) = (change.role, change.disabled);
    let info = core
        .write(move |j| {
            let now = j.now_ms;
            let Some(before) = j.tx.user_info(&user)? else { return Ok(None) };
            if let Some(role) = role.filter(|r| *r != before.role) {
                j.tx.set_role(&user, role)?;
                j.append(
                    EntryKind::UserRoleChanged,
                    json!({"user": user, "role": role.as_str(), "was": before.role.as_str(), "by": by_name}),
                )?;
            }
            if let Some(disabled) = disabled
                && j.tx.set_disabled(&user, disabled, now)?
            {
                let (tokens, sessions) = if disabled { j.tx.end_credentials(&user, now)? } else { (0, 0) };
                let kind = if disabled { EntryKind::UserDisabled } else { EntryKind::UserEnabled };
                j.append(
                    kind,
                    json!({"user": user, "by": by_name, "tokens_revoked": tokens, "sessions_ended": sessions}),
                )?;
            }
            if let Some(phc) = &phc {
                j.tx.set_password_hash(&user, phc)?;
                let (tokens, sessions) = j.tx.end_credentials(&user, now)?;
                j.append(
                    EntryKind::UserPasswordReset,
                    json!({"user": user, "by": by_name, "tokens_revoked": tokens, "sessions_ended": sessions}),
                )?;
            }
            j.tx.user_info(&user)
        })
        .await?;
    info.ok_or_else(|| AccountError::NotFound(format!("no user {name:?} on station {}", core.name)))
}

/// Removes a user: its tokens and sessions end; its name stays in the record.
pub async fn remove_user(core: &Core, name: &str, by: &str) -> Result<(), AccountError> {
    if name == by {
        return Err(AccountError::Conflict("a supervisor cannot remove their own account".into()));
    }
    let (user, by_name) = (name.to_owned(), by.to_owned());
    let removed = core
        .write(move |j| {
            let now = j.now_ms;
            if !j.tx.remove_user(&user, now)? {
                return Ok(false);
            }
            let (tokens, sessions) = j.tx.end_credentials(&user, now)?;
            j.append(
                EntryKind::UserRemoved,
                json!({"user": user, "by": by_name, "tokens_revoked": tokens, "sessions_ended": sessions}),
            )?;
            Ok(true)
        })
        .await?;
    if removed { Ok(()) } else { Err(AccountError::NotFound(format!("no user {name:?} on station {}", core.name))) }
}

/// Any user changes their own password, proving the current one; every other session and
/// token of theirs ends (a new password is what one sets after a laptop is lost).
pub async fn change_own_password(core: &Core, name: &str, current: String, new: String) -> Result<(), AccountError> {
    let wanted = name.to_owned();
    let user = core.read(move |tx| tx.user(&wanted)).await?;
    let Some(user) = user else { return Err(AccountError::NotFound(format!("no user {name:?}"))) };
    let verified = auth::verify_on_pool(current, Some(user.password_hash.clone())).await?;
    if !verified {
        return Err(AccountError::WrongPassword);
    }
    let new_phc = hash(new).await?;
    let user_name = name.to_owned();
    core.write(move |j| {
        j.tx.set_password_hash(&user_name, &new_phc)?;
        let (tokens, sessions) = j.tx.end_credentials(&user_name, j.now_ms)?;
        j.append(
            EntryKind::UserPasswordChanged,
            json!({"user": user_name, "by": user_name, "tokens_revoked": tokens, "sessions_ended": sessions}),
        )
    })
    .await?;
    Ok(())
}

pub async fn list_tokens(core: &Core, now_ms: i64) -> Result<Vec<TokenInfo>, AccountError> {
    Ok(core.read(move |tx| tx.tokens(now_ms)).await?)
}

/// Creates a token for `user`; returns its id and the secret (shown once).
pub async fn create_token(
    core: &Core,
    user: &str,
    label: Option<String>,
    expires_in_s: Option<i64>,
    by: &str,
) -> Result<(String, String), AccountError> {
    if let Some(l) = &label
        && (l.chars().count() > token_label_chars_max || l.chars().any(char::is_control))
    {
        return Err(AccountError::Invalid(format!(
            "a token label is at most {token_label_chars_max} characters, without control characters"
        )));
    }
    if let Some(s) = expires_in_s
        && !(1..=token_expires_in_s_max).contains(&s)
    {
        return Err(AccountError::Invalid(format!("expires_in_s must be 1 to {token_expires_in_s_max}")));
    }
    let (token, hash) = auth::new_secret()?;
    let id = uuid::Uuid::now_v7().to_string();
    let (u, by_name, token_id) = (user.to_owned(), by.to_owned(), id.clone());
    let created = core
        .write(move |j| {
            if j.tx.user(&u)?.is_none() {
                return Ok(false);
            }
            let expires_ms = expires_in_s.map(|s| j.now_ms + s * 1000);
            j.tx.add_token_with(&hash, &token_id, &u, label.as_deref(), expires_ms, j.now_ms)?;
            j.append(
                EntryKind::TokenCreated,
                json!({"user": u, "id": token_id, "label": label, "expires": expires_ms.map(crate::rfc3339), "by": by_name}),
            )?;
            Ok(true)
        })
        .await?;
    if created {
        Ok((id, token))
    } else {
        Err(AccountError::NotFound(format!(
            "no user {user:?} on station {} (or it is disabled); add one with `hotline user add`",
            core.name
        )))
    }
}

/// Revokes token `id`: the next request with it gets 401.
pub async fn revoke_token(core: &Core, id: &str, by: &str) -> Result<(), AccountError> {
    let (token_id, by_name) = (id.to_owned(), by.to_owned());
    let revoked = core
        .write(move |j| {
            let Some(user) = j.tx.revoke_token(&token_id, j.now_ms)? else { return Ok(false) };
            j.append(EntryKind::TokenRevoked, json!({"id": token_id, "user": user, "by": by_name}))?;
            Ok(true)
        })
        .await?;
    if revoked { Ok(()) } else { Err(AccountError::NotFound(format!("no live token {id}"))) }
}

//! Typed operations for the station's accounts: users (added, disabled, removed, their
//! role and password), API tokens (labelled, expiring, revocable) and console sessions.
//!
//! A removed user keeps its row, marked removed: its name is in the record for good, and
//! the row is what keeps a later user of the same name from inheriting its tokens. Ending
//! a user's credentials (disable, remove, a new password) revokes its tokens and deletes
//! its sessions in the same transaction as the record entry that says so.

use rusqlite::{OptionalExtension, params};

use crate::StoreError;
use crate::rows::Role;
use crate::tx::Tx;

/// A user as the administration pages list it (never the password hash).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserInfo {
    pub name: String,
    pub role: Role,
    pub created_ms: i64,
    pub disabled_ms: Option<i64>,
    pub last_login_ms: Option<i64>,
}

/// An API token as listed (its hash stays in the store; the secret was shown once).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenInfo {
    pub id: String,
    pub user: String,
    pub label: Option<String>,
    pub created_ms: i64,
    pub expires_ms: Option<i64>,
}

/// What a user row is: absent, live, or removed (its name kept).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserRow {
    Absent,
    Live,
    Removed,
}

fn role_of(name: &str, role: String) -> Result<Role, StoreError> {
    Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("user {name} has role {role:?}")))
}

impl Tx<'_> {
    /// Whether `name` has a row, and whether it was removed.
    pub fn user_row(&self, name: &str) -> Result<UserRow, StoreError> {
        let removed: Option<Option<i64>> =
            self.row("SELECT removed_ms FROM users WHERE name = ?1", [name], |r| r.get(0)).optional()?;
        Ok(match removed {
            None => UserRow::Absent,
            Some(None) => UserRow::Live,
            Some(Some(_)) => UserRow::Removed,
        })
    }

    /// A removed user's name taken again: a new role and password, nothing of the old one.
    pub fn reinstate_user(&self, name: &str, role: Role, password_hash: &str, now_ms: i64) -> Result<bool, StoreError> {
        let n = self.exec(
            "UPDATE users SET role = ?2, password_hash = ?3, created_ms = ?4, disabled_ms = NULL, removed_ms = NULL, \
             last_login_ms = NULL WHERE name = ?1 AND removed_ms IS NOT NULL",
            params![name, role.as_str(), password_hash, now_ms],
        )?;
        Ok(n == 1)
    }

    /// Every user not removed, by name.
    pub fn users(&self) -> Result<Vec<UserInfo>, StoreError> {
        let mut st = self.tx.prepare_cached(
            "SELECT name, role, created_ms, disabled_ms, last_login_ms FROM users WHERE removed_ms IS NULL ORDER BY name",
        )?;
        let rows = st
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (name, role, created_ms, disabled_ms, last_login_ms) = row?;
            let role = role_of(&name, role)?;
            out.push(UserInfo { name, role, created_ms, disabled_ms, last_login_ms });
        }
        Ok(out)
    }

    /// One user not removed (disabled ones included), for the administration pages.
    pub fn user_info(&self, name: &str) -> Result<Option<UserInfo>, StoreError> {
        Ok(self.users()?.into_iter().find(|u| u.name == name))
    }

    pub fn set_role(&self, name: &str, role: Role) -> Result<bool, StoreError> {
        let n = self
            .exec("UPDATE users SET role = ?2 WHERE name = ?1 AND removed_ms IS NULL", params![name, role.as_str()])?;
        Ok(n == 1)
    }

    /// Disables (or enables) a user; `false` if it is not there or already so.
    pub fn set_disabled(&self, name: &str, disabled: bool, now_ms: i64) -> Result<bool, StoreError> {
        let n = if disabled {
            self.exec(
                "UPDATE users SET disabled_ms = ?2 WHERE name = ?1 AND removed_ms IS NULL AND disabled_ms IS NULL",
                params![name, now_ms],
            )?
        } else {
            self.exec(
                "UPDATE users SET disabled_ms = NULL WHERE name = ?1 AND removed_ms IS NULL AND disabled_ms IS NOT NULL",
                [name],
            )?
        };
        Ok(n == 1)
    }

    /// Marks a user removed; `false` if there is no such live user.
    pub fn remove_user(&self, name: &str, now_ms: i64) -> Result<bool, StoreError> {
        let n = self
            .exec("UPDATE users SET removed_ms = ?2 WHERE name = ?1 AND removed_ms IS NULL", params![name, now_ms])?;
        Ok(n == 1)
    }

    /// A new password hash for a live user.
    pub fn set_password_hash(&self, name: &str, password_hash: &str) -> Result<bool, StoreError> {
        let n = self.exec(
            "UPDATE users SET password_hash = ?2 WHERE name = ?1 AND removed_ms IS NULL",
            params![name, password_hash],
        )?;
        Ok(n == 1)
    }

    /// Revokes every token of `name` and deletes its sessions; returns how many tokens and
    /// sessions ended.
    pub fn end_credentials(&self, name: &str, now_ms: i64) -> Result<(usize, usize), StoreError> {
        let tokens = self
            .exec("UPDATE tokens SET revoked_ms = ?2 WHERE user = ?1 AND revoked_ms IS NULL", params![name, now_ms])?;
        let sessions = self.exec("DELETE FROM sessions WHERE user = ?1", [name])?;
        Ok((tokens, sessions))
    }

    pub fn touch_login(&self, name: &str, now_ms: i64) -> Result<(), StoreError> {
        self.exec("UPDATE users SET last_login_ms = ?2 WHERE name = ?1", params![name, now_ms])?;
        Ok(())
    }

    /// A token with a public id, an optional label and an optional expiry.
    pub fn add_token_with(
        &self,
        hash: &[u8; 32],
        id: &str,
        user: &str,
        label: Option<&str>,
        expires_ms: Option<i64>,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO tokens (hash, id, user, label, expires_ms, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![&hash[..], id, user, label, expires_ms, now_ms],
        )?;
        Ok(())
    }

    /// Tokens neither revoked nor expired at `now_ms`, newest first.
    pub fn tokens(&self, now_ms: i64) -> Result<Vec<TokenInfo>, StoreError> {
        let mut st = self.tx.prepare_cached(
            "SELECT t.id, t.user, t.label, t.created_ms, t.expires_ms FROM tokens t JOIN users u ON u.name = t.user \
             WHERE t.revoked_ms IS NULL AND (t.expires_ms IS NULL OR t.expires_ms > ?1) AND u.removed_ms IS NULL \
             ORDER BY t.created_ms DESC, t.id",
        )?;
        let rows = st.query_map([now_ms], |r| {
            Ok(TokenInfo {
                id: r.get(0)?,
                user: r.get(1)?,
                label: r.get(2)?,
                created_ms: r.get(3)?,
                expires_ms: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Revokes token `id`; returns its user, or `None` if there is no such live token.
    pub fn revoke_token(&self, id: &str, now_ms: i64) -> Result<Option<String>, StoreError> {
        let user: Option<String> =
            self.row("SELECT user FROM tokens WHERE id = ?1 AND revoked_ms IS NULL", [id], |r| r.get(0)).optional()?;
        if user.is_some() {
            self.exec("UPDATE tokens SET revoked_ms = ?2 WHERE id = ?1", params![id, now_ms])?;
        }
        Ok(user)
    }

    /// The public id of the token with `hash` (to tell an event stream which one it is).
    pub fn token_id(&self, hash: &[u8; 32]) -> Result<Option<String>, StoreError> {
        Ok(self.row("SELECT id FROM tokens WHERE hash = ?1", [&hash[..]], |r| r.get(0)).optional()?)
    }
}

/// The role a row names, for the user query in `tx.rs`.
pub(crate) fn parse_role(name: &str, role: String) -> Result<Role, StoreError> {
    role_of(name, role)
}

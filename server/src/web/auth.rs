//! Who may do what: signed session cookies for people, an API key for clients.
//!
//! A person picks or creates a user on the `/users` page and gets the cookie
//! `recsys_session` = `<user id>.<hex HMAC-SHA256 of the id>` (HttpOnly, SameSite=Lax, Path=/).
//! A user's data and preferences are open to that user's session, or to a client presenting
//! `Authorization: Bearer <server.api_key>` (the scheme in any case) when a key is configured.
//! No credentials is 401; credentials that do not grant access (another user's session, a
//! wrong key, a tampered cookie) are 403. A wrong key or a tampered cookie is refused even when
//! the request also presents a valid credential: a request never gets through on one
//! credential while another it sent is wrong. Tags and keys are compared in constant time.
//!
//! There are no passwords: anyone may pick any user id, existing or new, so a session says
//! which user a browser picked, not who is at it. The signature keeps a browser to that one
//! user (it cannot edit its cookie into another's); the API key is the only credential.

use axum::http::header::{AUTHORIZATION, COOKIE, HOST, ORIGIN};
use axum::http::HeaderMap;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::error::{ApiError, ApiResult};

/// The name of the session cookie.
pub const SESSION_COOKIE: &str = "recsys_session";

type HmacSha256 = Hmac<Sha256>;

/// Whether `id` is a valid user id: 1 to 64 characters of `[A-Za-z0-9_.-]`.
pub fn valid_user_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// Checks a user id, with a message saying what a valid one is.
pub fn check_user_id(id: &str) -> ApiResult<()> {
    if valid_user_id(id) {
        Ok(())
    } else {
        Err(ApiError::BadRequest(
            "a user id is 1 to 64 characters of letters, digits, `_`, `.` and `-`".into(),
        ))
    }
}

fn mac(key: &[u8], user: &str) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(user.as_bytes());
    mac
}

/// The session cookie value for `user`: the id and its tag.
pub fn sign(key: &[u8], user: &str) -> String {
    let tag = mac(key, user).finalize().into_bytes();
    let mut value = String::with_capacity(user.len() + 1 + tag.len() * 2);
    value.push_str(user);
    value.push('.');
    for b in tag {
        value.push_str(&format!("{b:02x}"));
    }
    value
}

/// The user a session cookie value was signed for, when its tag is right.
pub fn verify(key: &[u8], value: &str) -> Option<String> {
    let (user, tag) = value.rsplit_once('.')?;
    if !valid_user_id(user) || tag.len() != 64 {
        return None;
    }
    let tag: Vec<u8> = (0..tag.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(tag.get(i..i + 2)?, 16).ok())
        .collect::<Option<_>>()?;
    mac(key, user)
        .verify_slice(&tag)
        .ok()
        .map(|()| user.to_string())
}

/// The `Set-Cookie` value that starts a session for `user`.
pub fn session_cookie(key: &[u8], user: &str) -> String {
    format!(
        "{SESSION_COOKIE}={}; HttpOnly; SameSite=Lax; Path=/",
        sign(key, user)
    )
}

/// The `Set-Cookie` value that ends the session.
pub fn clear_session_cookie() -> String {
    format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0")
}

/// The raw session cookie of a request, if it sent one.
fn session_value(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == SESSION_COOKIE && !value.is_empty()).then_some(value)
        })
}

/// Whether the request carries a session cookie (valid or not).
pub fn has_session_cookie(headers: &HeaderMap) -> bool {
    session_value(headers).is_some()
}

/// The user whose valid session cookie the request carries.
pub fn session_user(key: &[u8], headers: &HeaderMap) -> Option<String> {
    session_value(headers).and_then(|v| verify(key, v))
}

/// Whether a browser request comes from this site's own pages: true without an `Origin`
/// header (not a cross-site browser request), else when the origin's host is the `Host` the
/// request was sent to. Stops other sites from signing a visitor in or out (login CSRF); the
/// JSON endpoints need no check, as browsers do not send cross-site JSON without CORS, which
/// the server does not grant.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(ORIGIN) else {
        return true;
    };
    let host = headers.get(HOST).and_then(|h| h.to_str().ok());
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://"))
        .map(|(_, rest)| rest.trim_end_matches('/'));
    matches!((origin_host, host), (Some(o), Some(h)) if o.eq_ignore_ascii_case(h))
}

/// Equal bytes, in time that depends only on the lengths.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// The token of an `Authorization: Bearer <token>` value. The scheme matches in any case
/// (`bearer`, `BEARER`): HTTP authentication schemes are case-insensitive (RFC 9110, 11.1).
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// What the request presents as an API key: `None` without an `Authorization` header,
/// `Some(false)` for a wrong or unusable one, `Some(true)` for the configured key.
fn api_key_status(api_key: Option<&str>, headers: &HeaderMap) -> Option<bool> {
    let header = headers.get(AUTHORIZATION)?;
    let presented = header.to_str().ok().and_then(bearer_token);
    Some(match (api_key, presented) {
        (Some(key), Some(presented)) => constant_time_eq(key.as_bytes(), presented.as_bytes()),
        _ => false,
    })
}

/// The credentials a request presents, each of them valid.
struct Presented {
    /// It sent the configured API key.
    api_key: bool,
    /// The user its session cookie was signed for.
    session: Option<String>,
}

/// Checks every credential the request presents: a wrong or unusable `Authorization` header,
/// or a session cookie whose tag does not verify, is 403 whatever else the request sends.
fn presented(key: &[u8], api_key: Option<&str>, headers: &HeaderMap) -> ApiResult<Presented> {
    let api_key = match api_key_status(api_key, headers) {
        Some(false) => return Err(ApiError::Forbidden("the API key is not valid".into())),
        status => status == Some(true),
    };
    let session = match session_value(headers) {
        None => None,
        Some(value) => Some(verify(key, value).ok_or_else(|| {
            ApiError::Forbidden("the session cookie is not valid; sign in again on /users".into())
        })?),
    };
    Ok(Presented { api_key, session })
}

/// Allows the request to act for `user`: with that user's session or the API key.
pub fn authorize_user(
    key: &[u8],
    api_key: Option<&str>,
    headers: &HeaderMap,
    user: &str,
) -> ApiResult<()> {
    let presented = presented(key, api_key, headers)?;
    if presented.api_key {
        return Ok(());
    }
    match presented.session {
        Some(session) if session == user => Ok(()),
        Some(_) => Err(ApiError::Forbidden(format!(
            "this session belongs to another user, not `{user}`"
        ))),
        None => Err(ApiError::Unauthorized(format!(
            "sign in as `{user}` on /users, or send `Authorization: Bearer <api key>`"
        ))),
    }
}

/// Allows only clients presenting the API key.
pub fn authorize_api_key(key: &[u8], api_key: Option<&str>, headers: &HeaderMap) -> ApiResult<()> {
    let presented = presented(key, api_key, headers)?;
    if presented.api_key {
        Ok(())
    } else if presented.session.is_some() {
        Err(ApiError::Forbidden(
            "this needs the API key; sessions cannot do it".into(),
        ))
    } else {
        Err(ApiError::Unauthorized(
            "send `Authorization: Bearer <api key>`".into(),
        ))
    }
}

/// A key for signing sessions: `secret` when set, else 32 random bytes (sessions then end
/// when the process does).
pub fn session_key(secret: &str) -> Vec<u8> {
    if !secret.is_empty() {
        return secret.as_bytes().to_vec();
    }
    let mut key = vec![0u8; 32];
    let filled = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut key))
        .is_ok();
    if !filled {
        use std::hash::{BuildHasher, Hasher};
        for chunk in key.chunks_mut(8) {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u128(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos()),
            );
            chunk.copy_from_slice(&h.finish().to_le_bytes()[..chunk.len()]);
        }
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn user_ids() {
        assert!(valid_user_id("ann_1.b-2"));
        assert!(valid_user_id(&"a".repeat(64)));
        assert!(!valid_user_id(""));
        assert!(!valid_user_id(&"a".repeat(65)));
        assert!(!valid_user_id("ann smith"));
        assert!(!valid_user_id("<b>"));
    }

    #[test]
    fn signed_values_verify_and_tampered_ones_do_not() {
        let key = b"k3y";
        let value = sign(key, "ann.b");
        assert_eq!(verify(key, &value).as_deref(), Some("ann.b"));
        assert_eq!(verify(b"other", &value), None);
        let tampered = value.replacen("ann.b", "bob.b", 1);
        assert_eq!(verify(key, &tampered), None);
        let mut flipped = value.clone();
        let last = flipped.pop().unwrap();
        flipped.push(if last == '0' { '1' } else { '0' });
        assert_eq!(verify(key, &flipped), None);
        assert_eq!(verify(key, "ann"), None);
        assert_eq!(verify(key, "ann.zz"), None);
    }

    #[test]
    fn authorization_cases() {
        let key = b"secret";
        let headers = |pairs: &[(&str, String)]| {
            let mut h = HeaderMap::new();
            for (n, v) in pairs {
                h.append(
                    axum::http::HeaderName::from_bytes(n.as_bytes()).unwrap(),
                    HeaderValue::from_str(v).unwrap(),
                );
            }
            h
        };
        let none = headers(&[]);
        let err = authorize_user(key, Some("api"), &none, "ann").unwrap_err();
        assert!(matches!(err, ApiError::Unauthorized(_)));
        let ann = headers(&[(
            "cookie",
            format!("a=b; {SESSION_COOKIE}={}", sign(key, "ann")),
        )]);
        assert!(authorize_user(key, None, &ann, "ann").is_ok());
        let err = authorize_user(key, None, &ann, "bob").unwrap_err();
        assert!(matches!(err, ApiError::Forbidden(_)));
        let bearer = headers(&[("authorization", "Bearer api".into())]);
        assert!(authorize_user(key, Some("api"), &bearer, "bob").is_ok());
        let err = authorize_user(key, None, &bearer, "bob").unwrap_err();
        assert!(matches!(err, ApiError::Forbidden(_)));
        let wrong = headers(&[("authorization", "Bearer nope".into())]);
        let err = authorize_user(key, Some("api"), &wrong, "bob").unwrap_err();
        assert!(matches!(err, ApiError::Forbidden(_)));
        // A wrong credential is refused beside a valid one, either way round.
        let ann_cookie = format!("{SESSION_COOKIE}={}", sign(key, "ann"));
        let wrong_key_and_session = headers(&[
            ("authorization", "Bearer nope".into()),
            ("cookie", ann_cookie),
        ]);
        let err = authorize_user(key, Some("api"), &wrong_key_and_session, "ann").unwrap_err();
        assert!(matches!(err, ApiError::Forbidden(_)));
        let key_and_tampered = headers(&[
            ("authorization", "Bearer api".into()),
            (
                "cookie",
                format!("{SESSION_COOKIE}={}", sign(b"other", "ann")),
            ),
        ]);
        let err = authorize_user(key, Some("api"), &key_and_tampered, "ann").unwrap_err();
        assert!(matches!(err, ApiError::Forbidden(_)));
        let err = authorize_api_key(key, Some("api"), &key_and_tampered).unwrap_err();
        assert!(matches!(err, ApiError::Forbidden(_)));
    }

    #[test]
    fn the_bearer_scheme_matches_in_any_case() {
        for value in [
            "Bearer k",
            "bearer k",
            "BEARER k",
            "bEaReR   k ",
            " Bearer k",
        ] {
            assert_eq!(bearer_token(value), Some("k"), "{value:?}");
        }
        for value in ["Bearerk", "Basic k", "k", "Bearer", ""] {
            assert_eq!(bearer_token(value), None, "{value:?}");
        }
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, HeaderValue::from_static("bearer api"));
        assert!(authorize_user(b"s", Some("api"), &h, "ann").is_ok());
        assert!(authorize_api_key(b"s", Some("api"), &h).is_ok());
    }

    #[test]
    fn origins() {
        let mut h = HeaderMap::new();
        assert!(same_origin(&h));
        h.insert(HOST, HeaderValue::from_static("127.0.0.1:8080"));
        h.insert(ORIGIN, HeaderValue::from_static("http://127.0.0.1:8080"));
        assert!(same_origin(&h));
        h.insert(ORIGIN, HeaderValue::from_static("https://evil.example"));
        assert!(!same_origin(&h));
        h.insert(ORIGIN, HeaderValue::from_static("null"));
        assert!(!same_origin(&h));
    }

    #[test]
    fn random_keys_differ() {
        assert_ne!(session_key(""), session_key(""));
        assert_eq!(session_key("s"), b"s".to_vec());
    }
}
